//! Bad input at the edges: too large, path tricks, many at once.

use modelrun_core::run::RunFilter;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

pub async fn a_ten_megabyte_body_is_refused_and_leaves_nothing_behind(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let body = format!(
        "{{\"inputs\": {{\"start_month\": \"{}\"}}}}",
        "x".repeat(10 * 1024 * 1024)
    );
    // Like curl, announce the body and wait: the server refuses before it is sent.
    let headers = format!(
        "Authorization: Bearer {token}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
    );
    let refused = raw_post(
        &app.base,
        "/api/v1/models/forecast/runs",
        &headers,
        body.as_bytes(),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    assert!(
        refused.contains("the request body is larger than the limit of 262144 bytes"),
        "{refused}"
    );

    let signed_in = app
        .browser()
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)],
        )
        .await;
    let session = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let headers = format!(
        "Cookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n",
        session.split(';').next().unwrap_or_default()
    );
    let form = format!("start_month={}", "x".repeat(10 * 1024 * 1024));
    let refused = raw_post(
        &app.base,
        "/models/forecast/runs/new",
        &headers,
        form.as_bytes(),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    assert!(
        refused.contains("larger than the limit of 262144 bytes"),
        "{refused}"
    );
    let runs = app
        .store
        .list_runs(&RunFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert!(runs.items.is_empty());
    assert!(
        app.store
            .list_tasks(None, 10)
            .await
            .expect("tasks")
            .is_empty()
    );
}

pub async fn inputs_over_their_own_limit_are_refused(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| web.max_inputs_bytes = 100).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let refused = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = refused.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("at most 100 bytes are accepted"),
        "{message}"
    );
    assert!(
        app.store
            .list_tasks(None, 10)
            .await
            .expect("tasks")
            .is_empty()
    );
}

pub async fn output_names_cannot_reach_outside_their_run(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    for _ in 0..2 {
        api.post("/api/v1/models/forecast/runs")
            .json(&json!({"inputs": {}}))
            .send()
            .await
            .expect("POST");
    }
    app.drain().await;
    let installation = app.store.installation().await.expect("installation").id;
    let inputs_of_run_1 = app
        .dir
        .path()
        .join(format!("data/blobs/runs/{installation}/1/inputs.json"));
    assert!(
        inputs_of_run_1.exists(),
        "the file the attacks aim at exists"
    );
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let signed_in = app
        .browser()
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)],
        )
        .await;
    let session = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let cookie = format!(
        "Cookie: {}\r\n",
        session.split(';').next().unwrap_or_default()
    );
    for name in [
        "../inputs.json",
        "..%2Finputs.json",
        "%2E%2E/inputs.json",
        "%2e%2e%2finputs.json",
        "../../2/outputs/forecast.csv",
        "..%2F..%2F2%2Foutputs%2Fforecast.csv",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "..\\inputs.json",
        "forecast.csv%00",
        "./forecast.csv",
    ] {
        for (prefix, auth) in [
            ("/api/v1/runs/1/outputs/", &bearer),
            ("/runs/1/outputs/", &cookie),
        ] {
            // Sent byte for byte: no client tidies the dots away.
            let response = raw_get(&app.base, &format!("{prefix}{name}"), auth).await;
            let status = response
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            assert!(status.starts_with('4'), "{prefix}{name} answered {status}");
            assert!(
                !response.contains("start_month"),
                "{prefix}{name} leaked the inputs"
            );
        }
    }
    for (path, auth) in [
        ("/api/v1/runs/1/outputs/forecast.csv", &bearer),
        ("/runs/1/outputs/forecast.csv", &cookie),
    ] {
        let ok = raw_get(&app.base, path, auth).await;
        assert!(ok.starts_with("HTTP/1.1 200"), "{path}: {ok}");
    }
}

/// Fifty people submit at once while the worker is busy: every submission
/// is created, none sees a lock error.
pub async fn fifty_concurrent_submitters_all_get_their_run(store: StoreKind) {
    // One person submitting fifty at once is over the submit rate: lift it,
    // as this is about the store under contention.
    let app = TestApp::spawn_with(store, |web| {
        web.limits.submits_per_user.max = 1000;
    })
    .await;
    let token = app.token(RUNNER_EMAIL).await;
    let mut submitters = Vec::new();
    for i in 0..50 {
        let api = app.api(&token);
        submitters.push(tokio::spawn(async move {
            let response = api
                .post("/api/v1/models/forecast/runs")
                .json(&json!({"inputs": {"horizon_months": 1 + i % 12}}))
                .send()
                .await
                .expect("POST");
            response.status()
        }));
    }
    let worker = app.components.worker.clone();
    let busy = tokio::spawn(async move {
        for _ in 0..100 {
            worker.run_due().await.expect("worker");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    for submitter in submitters {
        assert_eq!(submitter.await.expect("submitter"), StatusCode::CREATED);
    }
    busy.await.expect("worker");
    app.drain().await;
    let runs = app
        .store
        .list_runs(&RunFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert_eq!(runs.items.len(), 50);
    assert!(
        runs.items
            .iter()
            .all(|run| run.status == modelrun_core::status::RunStatus::Succeeded)
    );
}

pub async fn a_log_download_stops_at_its_limit_with_a_note(store: StoreKind) {
    // 660 kB of log, more than two pages of the local executor's 256 KiB.
    let app = TestApp::spawn_with(store, |web| web.max_log_bytes = Some(300_000)).await;
    app.register_model(
        "chatty",
        r#"name = "chatty"
command = ["python3", "-c", "import sys; sys.stdout.write(''.join(f'line {i:05d}\\n' for i in range(60000)))"]
[inputs]
type = "object"
"#,
    )
    .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api.submit_defaults("chatty").await;
    app.drain().await;
    let id = created["id"].as_i64().expect("id");
    let run: Value = api
        .get(&format!("/api/v1/runs/{id}"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("run");
    assert_eq!(run["status"], "succeeded", "{run}");
    let log = api
        .get(&format!("/api/v1/runs/{id}/log"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("log");
    let (kept, note) = log.split_once("\n[modelrun: ").expect("a note at the cut");
    assert!(kept.len() <= 300_000, "{} bytes kept", kept.len());
    assert!(kept.len() > 299_000, "{} bytes kept", kept.len());
    assert!(kept.ends_with('\n'), "the cut falls after a whole line");
    assert!(kept.starts_with("line 00000\n"));
    assert!(note.starts_with("this download stops here"), "{note}");
}

/// Sends `head` and then `body` at once, as Python's `http.client` does,
/// without waiting for an answer in between; then reads the answer.
async fn send_whole(base: &str, head: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let head = format!("{head}Host: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream
        .write_all(body)
        .await
        .expect("the whole body is accepted");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("the answer arrives");
    String::from_utf8_lossy(&response).into_owned()
}

pub async fn an_oversized_body_sent_whole_gets_its_413(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let auth = format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n");
    // 2 MiB: eight times the limit, small enough to be read and dropped.
    let body = format!(
        "{{\"inputs\": {{\"start_month\": \"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let head = format!(
        "POST /api/v1/models/forecast/runs HTTP/1.1\r\n{auth}Content-Length: {}\r\n",
        body.len()
    );
    let refused = send_whole(&app.base, &head, body.as_bytes()).await;
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    assert!(
        refused.contains("the request body is larger than the limit of 262144 bytes"),
        "{refused}"
    );

    // A body far past what is worth reading is refused before it is sent.
    let head = format!(
        "POST /api/v1/models/forecast/runs HTTP/1.1\r\n{auth}Content-Length: {}\r\n",
        1u64 << 30
    );
    let refused = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        send_whole(&app.base, &head, b""),
    )
    .await
    .expect("answered without the body");
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
}
