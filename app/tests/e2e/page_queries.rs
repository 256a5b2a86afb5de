//! What a page is asked in its address is checked as the API checks it: a
//! value it cannot read is a 400 that names the field, never a silent
//! default or a 404; and a form's help fits what the form offers.

use modelrun_core::user::Role;
use reqwest::StatusCode;

use crate::support::*;

const VIEWER: (&str, &str) = ("vera@example.com", "vera-password-for-tests");

/// The page's text with the quotes the templates escape put back.
fn unescape(page: &str) -> String {
    page.replace("&#34;", "\"").replace("&#39;", "'")
}

pub async fn page_filters_refuse_what_they_cannot_read(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for (path, named) in [
        (
            "/compare?runs=1&runs=abc",
            "runs: \"abc\" is not a run number",
        ),
        ("/compare?runs=1,1", "runs: run 1 is listed twice"),
        (
            "/admin/audit?since=2026-02-30",
            "since: 2026-02-30 is not a day of the calendar",
        ),
        (
            "/admin/audit?since=2026-2-1",
            "since must be a day written YYYY-MM-DD",
        ),
        (
            "/runs?limit=abc",
            "limit must be a whole number from 1 to 200",
        ),
        (
            "/runs?limit=0",
            "limit must be a whole number from 1 to 200",
        ),
        ("/runs?cursor=zzz", "the cursor must be a run number"),
        (
            "/runs?before=1&cursor=2",
            "before (1) and cursor (2) name the same place in the list; give one",
        ),
        (
            "/admin/tasks?status=zzz",
            "status: must be queued, done or dead",
        ),
        (
            "/admin/tasks?state=zzz",
            "state: must be queued, done or dead",
        ),
    ] {
        let response = admin.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let page = unescape(&response.text().await.expect("body"));
        assert!(page.contains(named), "{path}: {page}");
    }
    // A NUL character (%00) in a name or filter, which PostgreSQL cannot
    // search for: a 400 that says so there, never a 500; SQLite finds nothing.
    let api = app.api(&app.token(ADMIN_EMAIL).await);
    for path in [
        "/runs?model=%00",
        "/runs?submitter=a%00b",
        "/runs?version=%00",
        "/models/%00",
        "/api/v1/runs?submitter=%00",
        "/api/v1/runs?model=a%00b",
        "/api/v1/models/%00/estimate",
    ] {
        let status = if path.starts_with("/api/") {
            api.get(path).send().await.expect("GET").status()
        } else {
            admin.get(path).await.status()
        };
        assert!(!status.is_server_error(), "{path}: {status}");
        if matches!(store, StoreKind::Postgres) {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        }
    }
    // What they can read still works, as the API reads it.
    for path in [
        "/runs?limit=5",
        "/runs?cursor=9",
        "/runs?before=9&cursor=9",
        "/admin/tasks?status=dead",
    ] {
        assert_eq!(admin.get(path).await.status(), StatusCode::OK, "{path}");
    }
}

pub async fn the_token_forms_help_fits_the_roles_offered(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    modelrun_app::bootstrap::create_user(&app.store, VIEWER.0, VIEWER.1, Role::Viewer)
        .await
        .expect("viewer");
    let viewer = app.signed_in(VIEWER.0, VIEWER.1).await;
    let page = unescape(&viewer.page("/account").await);
    assert!(
        page.contains("Your account is a viewer's, so its tokens are too"),
        "{page}"
    );
    assert!(!page.contains("A runner submits"), "{page}");
    let runner = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = runner.page("/account").await;
    assert!(
        page.contains("choose viewer for a script that only reads"),
        "{page}"
    );
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.page("/account").await;
    assert!(
        page.contains("choose more only for a script that needs it"),
        "{page}"
    );
}
