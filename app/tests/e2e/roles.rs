//! What each role is offered on the pages: nothing its role may not do,
//! so no button ends in a refusal; and the runs filter's days, which a
//! page and the API read as YYYY-MM-DD and refuse naming the field.

use modelrun_core::user::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

const VIEWER_EMAIL: &str = "vera@example.com";
const VIEWER_PASSWORD: &str = "vera-password-for-tests";
const SCIENTIST_EMAIL: &str = "sam@example.com";
const SCIENTIST_PASSWORD: &str = "sam-password-for-tests";

/// The pages of one finished run's world, as `who` sees them.
async fn pages(app: &TestApp, who: &Browser, run: i64) -> Vec<(String, String)> {
    let label = app.forecast_label().await;
    let mut seen = Vec::new();
    for path in [
        "/models".to_owned(),
        "/models/forecast".to_owned(),
        format!("/models/forecast/versions/{label}"),
        format!("/runs/{run}"),
        "/runs".to_owned(),
    ] {
        let page = who.page(&path).await;
        seen.push((path, page));
    }
    seen
}

/// Whether any of `pages` holds `text`, and where.
fn found<'a>(pages: &'a [(String, String)], text: &str) -> Option<&'a str> {
    pages
        .iter()
        .find(|(_, page)| page.contains(text))
        .map(|(path, _)| path.as_str())
}

pub async fn pages_offer_each_role_only_what_it_may_do(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    for (email, password, role) in [
        (VIEWER_EMAIL, VIEWER_PASSWORD, Role::Viewer),
        (SCIENTIST_EMAIL, SCIENTIST_PASSWORD, Role::Scientist),
    ] {
        modelrun_app::bootstrap::create_user(&app.store, email, password, role)
            .await
            .expect("user");
    }
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let run = api.submit_defaults("forecast").await["id"]
        .as_i64()
        .expect("run id");
    app.drain().await;

    let viewer = app.signed_in(VIEWER_EMAIL, VIEWER_PASSWORD).await;
    let seen = pages(&app, &viewer, run).await;
    for refused in [
        "/runs/new",
        ">Run again<",
        "/compare-production",
        "/cancel",
        "/retire",
        "/environment\"",
        "/secrets/",
        "/schedules/new",
        "href=\"/admin/",
    ] {
        assert_eq!(found(&seen, refused), None, "a viewer is offered {refused}");
    }
    let refused = viewer.get("/models/forecast/runs/new").await.status();
    assert_eq!(
        refused,
        StatusCode::FORBIDDEN,
        "the rule the pages ask is the handler's"
    );

    let runner = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let seen = pages(&app, &runner, run).await;
    for offered in ["href=\"/models/forecast/runs/new\"", ">Run again<"] {
        assert!(
            found(&seen, offered).is_some(),
            "a runner is offered {offered}"
        );
    }
    for refused in ["/retire", "href=\"/admin/"] {
        assert_eq!(found(&seen, refused), None, "a runner is offered {refused}");
    }

    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let seen = pages(&app, &admin, run).await;
    for offered in [
        "href=\"/models/forecast/runs/new\"",
        "href=\"/admin/users\"",
        "href=\"/admin/audit\"",
    ] {
        assert!(
            found(&seen, offered).is_some(),
            "an administrator is offered {offered}"
        );
    }
}

pub async fn a_day_the_runs_filter_cannot_read_is_named(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let runner = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    for (query, field, typed, said) in [
        (
            "from=12%2F01%2F2026",
            "from",
            "12/01/2026",
            "from must be a day written YYYY-MM-DD",
        ),
        (
            "from=2026-12-1",
            "from",
            "2026-12-1",
            "from must be a day written YYYY-MM-DD",
        ),
        (
            "to=2026-02-30",
            "to",
            "2026-02-30",
            "to: 2026-02-30 is not a day of the calendar",
        ),
    ] {
        let response = runner.get(&format!("/runs?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let page = response.text().await.expect("body");
        assert!(page.contains("id=\"filter-error\""), "{page}");
        assert!(page.contains(said), "{page}");
        assert!(
            page.contains(&format!("name=\"{field}\""))
                && page.contains(&format!("value=\"{typed}\"")),
            "what was typed stays in the form: {page}"
        );
        assert!(page.contains(" open>"), "the filters are open to mend it");
    }
    let page = runner.page("/runs?from=2026-11-01&to=2026-11-30").await;
    assert!(page.contains("value=\"2026-11-01\""), "{page}");
    assert!(page.contains("placeholder=\"YYYY-MM-DD\""), "{page}");
    assert!(!page.contains("type=\"date\""), "{page}");

    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let refused = api
        .get("/api/v1/runs?from=12%2F01%2F2026")
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("from must be a day written YYYY-MM-DD"),
        "{body}"
    );
    for (path, said) in [
        (
            "/api/v1/runs?from=2026-12-1",
            "from must be a day written YYYY-MM-DD",
        ),
        (
            "/api/v1/runs?to=2026-02-30",
            "to: 2026-02-30 is not a day of the calendar",
        ),
    ] {
        let refused = api.get(path).send().await.expect("GET");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = refused.json().await.expect("json");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(said),
            "{body}"
        );
    }
}
