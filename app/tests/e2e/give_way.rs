//! Starts give way to submits being answered (`modelrun_core::intake`): a
//! submit counts only once its request is signed in and read, and never
//! after its answer, whatever the answer.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::*;

pub async fn only_a_submit_being_answered_holds_starts(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    let intake = &app.components.intake;

    // A submit whose body is still coming (a slow upload, a stalled
    // client) holds nothing.
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stalled = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST /api/v1/models/forecast/runs HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"inputs\""
    );
    stalled.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(intake.count(), 0, "a body still coming holds starts");

    // Every answer ends the count: accepted, refused, not found.
    let run = crate::security::submit(&api).await;
    let refused = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {"growth_rate": "lots"}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = api
        .post("/api/v1/models/no-such-model/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(intake.count(), 0);

    // So the accepted run starts at once, the stalled request still open.
    app.drain().await;
    let events = api.get_json(&format!("/api/v1/runs/{run}")).await["events"].clone();
    let at = |status: &str| {
        let event = events
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["status"] == status)
            .unwrap_or_else(|| panic!("no {status} event: {events}"));
        chrono::DateTime::parse_from_rfc3339(event["at"].as_str().expect("at")).expect("a time")
    };
    let waited = (at("starting") - at("submitted"))
        .to_std()
        .expect("in order");
    assert!(
        waited < modelrun_worker::executor::GIVE_WAY,
        "{waited:?} from submitted to starting"
    );
    drop(stalled);
}
