//! Cancelling what has ended: a run that succeeded or failed, or a sweep
//! whose runs all did, answers 409 saying so, through the API and the
//! page; a repeated cancel of what is cancelled answers as the first did.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::{hidden, submit};
use crate::support::*;

async fn cancel(api: &Api, path: &str) -> (StatusCode, Value) {
    let answer = api
        .post(&format!("{path}/cancel"))
        .send()
        .await
        .expect("POST");
    let status = answer.status();
    (status, answer.json().await.expect("json"))
}

/// Cancels `path`, expecting 409 with `message`.
async fn cancel_refused(api: &Api, path: &str, message: String) {
    let (status, body) = cancel(api, path).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["message"], message);
}

pub async fn cancelling_what_has_ended_says_so(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);

    let done = submit(&api).await;
    app.drain().await;
    let path = format!("/api/v1/runs/{done}");
    assert_eq!(api.get_json(&path).await["status"], "succeeded");
    let message = format!("Run {done} already finished (succeeded); nothing to cancel.");
    cancel_refused(&api, &path, message).await;
    assert_eq!(api.get_json(&path).await["status"], "succeeded");

    // The run page's form says the same, on a page, and changes nothing.
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let run_page = format!("/runs/{done}");
    let csrf = hidden(&ann.page(&run_page).await, "_csrf");
    let refused = ann
        .post_form(
            &format!("{run_page}/cancel"),
            &[("_csrf", &csrf), ("confirmed", "1")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.expect("body");
    assert!(
        page.contains("already finished (succeeded); nothing to cancel."),
        "{page}"
    );

    // Cancelled already is what was asked: the same answer again.
    let stopped = submit(&api).await;
    let path = format!("/api/v1/runs/{stopped}");
    let (status, body) = cancel(&api, &path).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    app.drain().await;
    let (status, body) = cancel(&api, &path).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "cancelled");

    let created = api
        .post("/api/v1/models/forecast/sweeps")
        .json(&json!({
            "inputs": {"horizon_months": 3},
            "vary": {"growth_rate": [0.02, 0.03]}
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let sweep: Value = created.json().await.expect("json");
    let id = sweep["id"].as_i64().expect("id");
    app.drain().await;
    let path = format!("/api/v1/sweeps/{id}");
    assert_eq!(api.get_json(&path).await["status"], "succeeded");
    let message = format!("Sweep {id} already ended (succeeded); nothing to cancel.");
    cancel_refused(&api, &path, message).await;
    assert!(api.get_json(&path).await["cancelled_at"].is_null());
}
