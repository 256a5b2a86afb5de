//! Every refusal of the API is JSON in its one error shape, naming what was
//! wrong: the path, the query, the body, its content type and the method,
//! refused by the HTTP layer before any handler runs. Pages keep answering
//! as pages.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

/// The JSON error of `response`, checked to have `status` and a message
/// that contains `needle`.
async fn json_error(response: Response, status: StatusCode, needle: &str) -> Value {
    let at = response.url().to_string();
    assert_eq!(response.status(), status, "{at}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{at}: {content_type}"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["status"], status.as_u16(), "{at}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{at}: {message}");
    body
}

pub async fn every_api_refusal_is_json_naming_what_was_wrong(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(ADMIN_EMAIL).await);
    let send =
        |request: reqwest::RequestBuilder| async move { request.send().await.expect("send") };

    let repeated = send(api.get("/api/v1/runs?limit=1&limit=2")).await;
    json_error(
        repeated,
        StatusCode::BAD_REQUEST,
        "limit is given more than once",
    )
    .await;
    let not_utf8 = send(api.get("/api/v1/runs/%FF")).await;
    json_error(
        not_utf8,
        StatusCode::BAD_REQUEST,
        "id in the path is not UTF-8",
    )
    .await;
    let not_utf8 = send(api.get("/api/v1/runs/1/outputs/a%C3")).await;
    json_error(not_utf8, StatusCode::BAD_REQUEST, "name in the path").await;
    let not_utf8 = send(api.delete("/api/v1/models/forecast/secrets/%FF")).await;
    json_error(not_utf8, StatusCode::BAD_REQUEST, "name in the path").await;

    let submit = "/api/v1/models/forecast/runs";
    let syntax = send(
        api.post(submit)
            .header("content-type", "application/json")
            .body("{\"inputs\": "),
    )
    .await;
    json_error(syntax, StatusCode::BAD_REQUEST, "JSON").await;
    // serde would read a struct from an array of its fields: `[null, null]`
    // once removed the team's budget.
    let array = send(api.put("/api/v1/budgets").json(&json!([null, null]))).await;
    json_error(
        array,
        StatusCode::UNPROCESSABLE_ENTITY,
        "must be a JSON object",
    )
    .await;
    let array = send(api.post(submit).json(&json!([{}]))).await;
    json_error(
        array,
        StatusCode::UNPROCESSABLE_ENTITY,
        "must be a JSON object",
    )
    .await;
    let wrong_type = send(api.post(submit).json(&json!({"inputs": {}, "version": 3}))).await;
    json_error(wrong_type, StatusCode::UNPROCESSABLE_ENTITY, "version").await;
    let unknown = send(
        api.post(submit)
            .json(&json!({"inputs": {}, "colour": "red"})),
    )
    .await;
    json_error(unknown, StatusCode::UNPROCESSABLE_ENTITY, "colour").await;
    let not_json = send(
        api.post(submit)
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    json_error(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "application/json",
    )
    .await;

    let method = send(api.delete("/api/v1/runs")).await;
    let allow = method
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    json_error(method, StatusCode::METHOD_NOT_ALLOWED, "DELETE").await;
    assert!(allow.contains("GET"), "Allow: {allow}");

    // A page's refusal stays a page.
    let page = send(app.browser().client.delete(app.url("/login"))).await;
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    let content_type = page
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        !content_type.starts_with("application/json"),
        "{content_type}"
    );
}
