//! What cannot be undone is asked about first, with or without script: a
//! destructive form posted without `confirmed=1` (a browser without
//! JavaScript) answers with a page that asks, and changes nothing until that
//! page's own form comes back with the field.

use reqwest::StatusCode;

use crate::security::{hidden, submit};
use crate::support::*;

pub async fn cancel_asks_on_a_page_before_stopping_a_run(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit(&api).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let run_page = format!("/runs/{id}");
    let cancel = format!("{run_page}/cancel");
    let csrf = hidden(&ann.page(&run_page).await, "_csrf");

    let asked = ann.post_form(&cancel, &[("_csrf", &csrf)]).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let page = asked.text().await.expect("body");
    assert!(
        page.contains(&format!("Cancel run #{id}? Work in progress is lost.")),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"{cancel}\"")), "{page}");
    assert_eq!(hidden(&page, "confirmed"), "1");
    assert_eq!(hidden(&page, "_csrf"), csrf);
    assert!(page.contains(">Cancel the run</button>"), "{page}");
    assert!(
        page.contains(&format!("<a href=\"{run_page}\">Keep it running</a>")),
        "{page}"
    );
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["status"], "queued", "nothing changes before the answer");

    // The question's URL opened again (a reload, a copied link) leads to
    // the thing's page, never to a bare 405.
    for (action, page) in [
        (cancel.as_str(), run_page.as_str()),
        (
            "/models/q2%20plan/secrets/KEY/delete",
            "/models/q2%20plan#secrets",
        ),
        ("/admin/users/5/disable", "/admin/users"),
        ("/admin/budgets/remove", "/admin/budgets"),
    ] {
        let opened = ann.get(action).await;
        assert_eq!(opened.status(), StatusCode::SEE_OTHER, "{action}");
        assert_eq!(location(&opened), page, "{action}");
    }
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["status"], "queued", "a GET changes nothing");

    // Anything but confirmed=1 is not a yes.
    let again = ann
        .post_form(&cancel, &[("_csrf", &csrf), ("confirmed", "0")])
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["status"], "queued");

    let done = ann
        .post_form(&cancel, &[("_csrf", &csrf), ("confirmed", "1")])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), run_page);
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert!(
        matches!(run["status"].as_str(), Some("cancelling" | "cancelled")),
        "{run}"
    );

    // The API is unaffected: one call cancels.
    let other = submit(&api).await;
    let cancelled = api
        .post(&format!("/api/v1/runs/{other}/cancel"))
        .send()
        .await
        .expect("POST");
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
}

/// Every other form that asks with `data-confirm` asks the same way: without
/// `confirmed=1` a page with the question, and nothing changed.
pub async fn every_destructive_form_asks_before_it_acts(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let id_of = |email: &'static str| {
        let store = app.store.clone();
        async move {
            let found = store.credentials(email).await.expect("query");
            found.expect("user").user.id
        }
    };
    let (ann, me) = (id_of(RUNNER_EMAIL).await, id_of(ADMIN_EMAIL).await);
    let token = app.token(ADMIN_EMAIL).await;
    let tokens = app.store.list_tokens(me).await.expect("tokens");
    let label = app.forecast_label().await;
    for (path, fields, question) in [
        (
            format!("/models/forecast/versions/{label}/retire"),
            vec![],
            format!("Retire version {label}? It will take no new runs."),
        ),
        (
            format!("/admin/users/{ann}/password"),
            vec![],
            format!("Reset the password of {RUNNER_EMAIL}? Their password stops working"),
        ),
        (
            format!("/admin/users/{ann}/disable"),
            vec![],
            format!("Disable the account of {RUNNER_EMAIL}? They cannot sign in"),
        ),
        (
            format!("/account/tokens/{}/revoke", tokens[0].id),
            vec![],
            "Revoke the token tests? Scripts using it stop working.".to_owned(),
        ),
        (
            "/admin/budgets/remove".to_owned(),
            vec![("user", "")],
            "Remove the budget for the team? Submissions are no longer warned".to_owned(),
        ),
    ] {
        let asked = admin.post_form(&path, &fields).await;
        assert_eq!(asked.status(), StatusCode::OK, "{path}");
        let page = asked.text().await.expect("body");
        assert!(page.contains(&question), "{path}: {page}");
        assert!(page.contains(&format!("action=\"{path}\"")), "{path}");
        assert_eq!(hidden(&page, "confirmed"), "1", "{path}");
        for (name, value) in &fields {
            assert_eq!(&hidden(&page, name), value, "{path} keeps {name}");
        }
    }
    // Nothing changed: Ann signs in with her password, the token works and
    // the version still takes runs.
    app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let models = app
        .api(&token)
        .get("/api/v1/models")
        .send()
        .await
        .expect("GET");
    assert_eq!(models.status(), StatusCode::OK);
    let model = admin.page("/models/forecast").await;
    assert!(
        model.contains(&format!("/versions/{label}/retire\"")),
        "still active"
    );
}
