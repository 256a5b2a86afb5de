//! Roles, own-only visibility, and tokens no higher than their owner.

use modelrun_core::config::RunVisibility;
use reqwest::StatusCode;
use serde_json::Value;

use super::{BOB_EMAIL, BOB_PASSWORD, add_bob, all_runs, hidden, submit};
use crate::support::*;

/// With own-only visibility, Bob gets 404 on Ann's run, its outputs and its
/// log, in the UI and the API alike; lists leave it out; admins see it.
/// With team-wide visibility (the default), Bob sees it.
pub async fn own_only_hides_other_peoples_runs(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| web.run_visibility = RunVisibility::Own).await;
    add_bob(&app).await;
    let ann_api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit(&ann_api).await;
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let paths = [
        format!("/runs/{id}"),
        format!("/runs/{id}/log"),
        format!("/runs/{id}/outputs/forecast.csv"),
    ];
    for path in &paths {
        assert_eq!(ann.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let bob = app.signed_in(BOB_EMAIL, BOB_PASSWORD).await;
    for path in &paths {
        assert_eq!(
            bob.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let cancel = bob.post_form(&format!("/runs/{id}/cancel"), &[]).await;
    assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    let runs = bob.page("/runs").await;
    assert!(
        !runs.contains(&format!("/runs/{id}\"")),
        "the list leaves it out"
    );
    assert!(
        !bob.page("/models/forecast")
            .await
            .contains(&format!("/runs/{id}\""))
    );

    let bob_api = app.api(&app.token(BOB_EMAIL).await);
    for path in [
        format!("/api/v1/runs/{id}"),
        format!("/api/v1/runs/{id}/log"),
        format!("/api/v1/runs/{id}/outputs/forecast.csv"),
    ] {
        let response = bob_api.get(&path).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let listed: Value = bob_api
        .get("/api/v1/runs")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["runs"].as_array().map(Vec::len), Some(0));

    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for path in &paths {
        assert_eq!(admin.get(path).await.status(), StatusCode::OK, "{path}");
    }

    let team = TestApp::spawn(store).await;
    add_bob(&team).await;
    let id = submit(&team.api(&team.token(RUNNER_EMAIL).await)).await;
    let bob = team.signed_in(BOB_EMAIL, BOB_PASSWORD).await;
    assert_eq!(
        bob.get(&format!("/runs/{id}")).await.status(),
        StatusCode::OK
    );
    // Seeing is not cancelling: only the submitter or an admin may.
    let cancel = bob.post_form(&format!("/runs/{id}/cancel"), &[]).await;
    assert_eq!(cancel.status(), StatusCode::FORBIDDEN);
}

/// Viewers see but do not submit; runners do not reach admin pages.
pub async fn roles_bound_what_people_do(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    modelrun_app::bootstrap::create_user(
        &app.store,
        "vera@example.com",
        "vera-password-for-tests",
        modelrun_core::user::Role::Viewer,
    )
    .await
    .expect("viewer");
    let vera = app
        .signed_in("vera@example.com", "vera-password-for-tests")
        .await;
    assert_eq!(vera.get("/models").await.status(), StatusCode::OK);
    assert_eq!(
        vera.get("/models/forecast/runs/new").await.status(),
        StatusCode::FORBIDDEN
    );
    let posted = vera
        .post_form("/models/forecast/runs/new", &[("growth_rate", "0.05")])
        .await;
    assert_eq!(posted.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.store
            .list_runs(&all_runs())
            .await
            .expect("runs")
            .items
            .len(),
        0
    );

    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    for path in [
        "/admin/users",
        "/admin/audit",
        "/admin/outbox",
        "/admin/tasks",
    ] {
        assert_eq!(
            ann.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let label = app.forecast_label().await;
    let retire = ann
        .post_form(&format!("/models/forecast/versions/{label}/retire"), &[])
        .await;
    assert_eq!(retire.status(), StatusCode::FORBIDDEN);
    let promote = ann
        .post_form("/admin/users/1/role", &[("role", "admin")])
        .await;
    assert_eq!(promote.status(), StatusCode::FORBIDDEN);

    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    submit(&app.api(&app.token(RUNNER_EMAIL).await)).await;
    let tasks = admin.page("/admin/tasks?state=queued").await;
    assert!(
        tasks.contains("<code>dispatch_run</code>"),
        "admins see the queue"
    );
    assert_eq!(
        admin.get("/admin/tasks?state=lost").await.status(),
        StatusCode::BAD_REQUEST
    );
    let retired = admin
        .post_form(
            &format!("/models/forecast/versions/{label}/retire"),
            &[("confirmed", "1")],
        )
        .await;
    assert_eq!(retired.status(), StatusCode::SEE_OTHER);
    let model = app
        .store
        .model("forecast")
        .await
        .expect("query")
        .expect("model");
    assert!(model.versions.iter().all(|v| !v.is_active()));
}

/// A runner may mint a viewer token but not an admin one; the token is
/// shown once, acts with its own role, and stops working when revoked.
pub async fn tokens_above_their_owners_role_cannot_be_minted(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = ann.page("/account").await;
    assert!(
        !page.contains("value=\"admin\""),
        "the form offers no higher role"
    );
    let refused = ann
        .post_form(
            "/account/tokens",
            &[
                ("name", "too much"),
                ("role", "admin"),
                ("expires_in_days", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("cannot have a higher role")
    );
    let bad_days = ann
        .post_form(
            "/account/tokens",
            &[("name", "x"), ("role", "viewer"), ("expires_in_days", "0")],
        )
        .await;
    assert_eq!(bad_days.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad_days
            .text()
            .await
            .expect("body")
            .contains("expires in days")
    );
    let owner = app
        .store
        .credentials(RUNNER_EMAIL)
        .await
        .expect("q")
        .expect("ann");
    assert!(
        app.store
            .list_tokens(owner.user.id)
            .await
            .expect("tokens")
            .is_empty()
    );

    let created = ann
        .post_form(
            "/account/tokens",
            &[
                ("name", "read only"),
                ("role", "viewer"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let page = created.text().await.expect("body");
    let start = page.find("id=\"new-token\">").expect("shown") + "id=\"new-token\">".len();
    let token = page[start..start + 51].to_owned();
    assert!(token.starts_with("mr_"), "{token}");
    assert!(
        !ann.page("/account").await.contains(&token),
        "shown only once"
    );
    let tokens = app.store.list_tokens(owner.user.id).await.expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].expires_at.is_some());

    let api = app.api(&token);
    assert_eq!(
        api.get("/api/v1/models")
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::OK
    );
    let submit = api
        .post("/api/v1/models/forecast/runs")
        .json(&serde_json::json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        submit.status(),
        StatusCode::FORBIDDEN,
        "a viewer token cannot submit"
    );

    let csrf = hidden(&ann.page("/account").await, "_csrf");
    let revoked = ann
        .post_form(
            &format!("/account/tokens/{}/revoke", tokens[0].id),
            &[("_csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    let after = api.get("/api/v1/models").send().await.expect("GET");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

/// An administrator's new token starts as a runner's, the least role that
/// acts: the form selects it, and a refused form keeps the role chosen.
pub async fn a_new_token_is_a_runner_unless_chosen(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.page("/account").await;
    assert!(
        page.contains("<option value=\"runner\" selected>"),
        "runner is selected: {page}"
    );
    assert!(
        page.contains("<option value=\"admin\">"),
        "admin is offered"
    );
    let refused = admin
        .post_form(
            "/account/tokens",
            &[
                ("name", "deploys"),
                ("role", "admin"),
                ("expires_in_days", "0"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let again = refused.text().await.expect("body");
    assert!(
        again.contains("<option value=\"admin\" selected>"),
        "the chosen role stays: {again}"
    );
}
