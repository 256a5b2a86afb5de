//! What an upload must be, on one machine: exactly what was announced
//! (its id, name, size and SHA-256), with a name a file system takes and
//! that shows what it is; and a form sent twice with its file makes one run.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::file_inputs::{PLAN_CSV, PLAN_PY, PLANFILE, multipart, sha256};
use crate::security::hidden;
use crate::support::*;

pub async fn an_upload_is_exactly_what_was_announced(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("planfile", PLANFILE, &[("plan.py", PLAN_PY)])
        .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let announce = |name: &str, body: &[u8], media: Option<&str>| {
        let request = api.post("/api/v1/uploads").json(&json!({
            "name": name, "bytes": body.len(), "sha256": sha256(body), "media_type": media,
        }));
        async move { request.send().await.expect("POST") }
    };
    let put = |path: String, body: &'static [u8]| {
        let request = api
            .client
            .put(app.url(&path))
            .bearer_auth(api.token())
            .header("x-modelrun-sha256", sha256(body))
            .body(body);
        async move { request.send().await.expect("PUT") }
    };

    let never = put(
        "/api/v1/uploads/abababababababababababababababab/a.csv".to_owned(),
        b"x",
    )
    .await;
    assert_eq!(
        never.status(),
        StatusCode::NOT_FOUND,
        "an id nobody announced"
    );

    let announced: Value = announce("a.csv", b"abc", None)
        .await
        .json()
        .await
        .expect("json");
    let id = announced["upload"].as_str().expect("id").to_owned();
    let renamed = put(format!("/api/v1/uploads/{id}/other.exe"), b"abc").await;
    assert_eq!(renamed.status(), StatusCode::BAD_REQUEST, "another name");
    let longer = put(format!("/api/v1/uploads/{id}/a.csv"), b"abcdef").await;
    assert_eq!(longer.status(), StatusCode::BAD_REQUEST, "another body");
    let right = put(format!("/api/v1/uploads/{id}/a.csv"), b"abc").await;
    assert_eq!(right.status(), StatusCode::OK);

    // The type its uploader declared counts, whatever its name says.
    let export: Value = announce("actuals_export", PLAN_CSV.as_bytes(), Some("text/csv"))
        .await
        .json()
        .await
        .expect("json");
    let path = export["send"]["url"].as_str().expect("url").to_owned();
    let sent = api
        .client
        .put(app.url(&path))
        .bearer_auth(api.token())
        .header("x-modelrun-sha256", sha256(PLAN_CSV.as_bytes()))
        .body(PLAN_CSV)
        .send()
        .await
        .expect("PUT");
    assert_eq!(sent.status(), StatusCode::OK);
    let run = api
        .post("/api/v1/models/planfile/runs")
        .json(&json!({"inputs": {"plan": export["upload"]}}))
        .send()
        .await
        .expect("POST");
    let status = run.status();
    let body: Value = run.json().await.expect("json");
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a declared text/csv is a CSV: {body}"
    );

    // Names a file system takes, that show what they are.
    for (name, why) in [
        (format!("{}.csv", "é".repeat(130)), "255 bytes"),
        ("a\u{202e}vsc.exe".to_owned(), "does not show"),
        ("\u{200b}".to_owned(), "does not show"),
        ("   ".to_owned(), "a character that shows"),
    ] {
        let refused = announce(&name, b"abc", None).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        let body: Value = refused.json().await.expect("json");
        let message = body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(why), "{name:?}: {body}");
    }
}

pub async fn a_form_sent_twice_with_its_file_makes_one_run(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("planfile", PLANFILE, &[("plan.py", PLAN_PY)])
        .await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/planfile/runs/new").await;
    let (version, key) = (hidden(&page, "version"), hidden(&page, "_key"));
    let send = || {
        let (content_type, body) = multipart(
            &[("version", &version), ("_key", &key), ("plan", "")],
            &[("plan", "plan.csv", PLAN_CSV.as_bytes())],
        );
        browser
            .client
            .post(app.url("/models/planfile/runs/new"))
            .header("origin", app.url(""))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let first = send().await.expect("POST");
    let again = send().await.expect("POST");
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        again.status(),
        StatusCode::SEE_OTHER,
        "the resend is the same request"
    );
    assert_eq!(location(&first), location(&again), "one run");

    // A new file chosen beside "Use no file" is the file the person meant.
    let page = browser
        .page(&format!(
            "/models/planfile/runs/new{}",
            location(&first).replace("/runs/", "?from=")
        ))
        .await;
    let (content_type, body) = multipart(
        &[
            ("version", &hidden(&page, "version")),
            ("_key", &hidden(&page, "_key")),
            ("plan", &hidden(&page, "plan")),
            ("_drop", "plan"),
        ],
        &[("plan", "newer.csv", PLAN_CSV.as_bytes())],
    );
    let chosen = browser
        .client
        .post(app.url("/models/planfile/runs/new"))
        .header("origin", app.url(""))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("POST");
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let run = api.get_json(&format!("/api/v1{}", location(&chosen))).await;
    assert_eq!(run["inputs"]["plan"]["name"], "newer.csv", "{run}");
}
