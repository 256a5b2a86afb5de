//! What the log test does over the wire.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::json;

use crate::support::*;

/// Signs in (wrongly, then rightly), mints a token through the page, uses
/// it and a wrong one, runs a model and changes the password. Returns every
/// secret that went over the wire.
pub async fn exercise(store: StoreKind) -> Vec<String> {
    let app = TestApp::spawn(store).await;
    let browser = app.browser();
    let wrong = "wrong-password-for-the-log-test";
    let refused = browser
        .post_form("/login", &[("email", RUNNER_EMAIL), ("password", wrong)])
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let signed_in = browser
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = signed_in
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.split_once('='))
        .map(|(_, value)| value.to_owned())
        .expect("session cookie");
    let minted = browser
        .post_form(
            "/account/tokens",
            &[
                ("name", "log test"),
                ("role", "runner"),
                ("expires_in_days", ""),
            ],
        )
        .await;
    assert_eq!(minted.status(), StatusCode::CREATED);
    let page = minted.text().await.expect("body");
    let start = page.find("id=\"new-token\">").expect("token") + "id=\"new-token\">".len();
    let token = page[start..start + 51].to_owned();
    let api = app.api(&token);
    let created = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let bad_token = app.api("mr_not-a-real-token-for-the-log-test");
    assert_eq!(
        bad_token
            .get("/api/v1/runs")
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.drain().await;
    let new_password = "a new password for the log test";
    let changed = browser
        .post_form(
            "/account/password",
            &[
                ("current", RUNNER_PASSWORD),
                ("new", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    drop(app);
    [
        RUNNER_PASSWORD,
        ADMIN_PASSWORD,
        wrong,
        new_password,
        &token,
        &token[3..],
        "mr_not-a-real-token-for-the-log-test",
        &session,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}
