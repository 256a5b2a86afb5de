//! Rate limits, one-time form keys and response headers.

use std::time::Duration;

use modelrun_core::limit::Limit;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{all_runs, hidden};
use crate::support::*;

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds")
}

/// Ten attempts on one account in a row are answered; the eleventh gets 429
/// with `Retry-After`, even with the right password.
pub async fn the_eleventh_rapid_sign_in_gets_429(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.browser();
    for attempt in 1..=10 {
        let refused = browser
            .post_form(
                "/login",
                &[("email", RUNNER_EMAIL), ("password", "wrong password here")],
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let limited = browser
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)],
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&limited);
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(
        limited
            .text()
            .await
            .expect("body")
            .contains("Too many sign-in attempts")
    );
    // Another account from the same address is not locked by Ann's.
    let admin = browser
        .post_form(
            "/login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(admin.status(), StatusCode::SEE_OTHER);
}

/// Only failed sign-ins count against an account: a person who signs in
/// twelve times in a row is never locked out, while ten failures still are.
pub async fn signing_in_often_never_locks_an_account(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let browser = app.browser();
    for n in 1..=12 {
        assert_eq!(
            sign_in(&browser, RUNNER_PASSWORD).await,
            StatusCode::SEE_OTHER,
            "sign-in {n}"
        );
    }
    for n in 1..=10 {
        assert_eq!(
            sign_in(&browser, "wrong password here").await,
            StatusCode::UNAUTHORIZED,
            "failure {n}"
        );
    }
    assert_eq!(
        sign_in(&browser, RUNNER_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn sign_in(browser: &Browser, password: &str) -> StatusCode {
    browser
        .post_form("/login", &[("email", RUNNER_EMAIL), ("password", password)])
        .await
        .status()
}

/// One address trying many accounts is limited too; so are submits.
pub async fn addresses_and_submitters_are_limited(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| {
        web.limits.sign_in_per_address = Limit::new(3, Duration::from_secs(60));
        web.limits.submits_per_user = Limit::new(2, Duration::from_secs(60));
    })
    .await;
    let browser = app.browser();
    for n in 1..=3 {
        let email = format!("nobody{n}@example.com");
        let refused = browser
            .post_form(
                "/login",
                &[("email", email.as_str()), ("password", "whatever it is")],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = browser
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", RUNNER_PASSWORD)],
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&limited) <= 60);

    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let post = || {
        api.post("/api/v1/models/forecast/runs")
            .json(&json!({"inputs": {}}))
            .send()
    };
    assert_eq!(post().await.expect("POST").status(), StatusCode::CREATED);
    assert_eq!(post().await.expect("POST").status(), StatusCode::CREATED);
    let third = post().await.expect("POST");
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&third) <= 60);
    let body: Value = third.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("at most 2")
    );
    let runs = app.store.list_runs(&all_runs()).await.expect("runs");
    assert_eq!(runs.items.len(), 2, "the refused submit created nothing");
}

/// A request repeated with its `Idempotency-Key` (a client's retry) is
/// answered with what it made even once the submit rate is reached, and
/// counts nothing; a new request is still refused.
pub async fn a_repeated_key_is_answered_past_the_submit_rate(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| {
        web.limits.submits_per_user = Limit::new(2, Duration::from_secs(60));
    })
    .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let run = || {
        api.post("/api/v1/models/forecast/runs")
            .header("Idempotency-Key", "plan-2027")
            .json(&json!({"inputs": {"growth_rate": 0.03}}))
            .send()
    };
    let sweep = || {
        api.post("/api/v1/models/forecast/sweeps")
            .header("Idempotency-Key", "sweep-2027")
            .json(&json!({
                "inputs": {},
                "vary": {"growth_rate": {"from": 0.02, "to": 0.03, "step": 0.01}}
            }))
            .send()
    };
    let first = run().await.expect("POST");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("run");
    let swept = sweep().await.expect("POST");
    assert_eq!(swept.status(), StatusCode::CREATED);
    let swept: Value = swept.json().await.expect("sweep");
    let unkeyed = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(unkeyed.status(), StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..3 {
        let again = run().await.expect("POST");
        assert_eq!(again.status(), StatusCode::OK, "a retry of the run");
        assert_eq!(again.json::<Value>().await.expect("run")["id"], first["id"]);
        let again = sweep().await.expect("POST");
        assert_eq!(again.status(), StatusCode::OK, "a retry of the sweep");
        assert_eq!(
            again.json::<Value>().await.expect("sweep")["id"],
            swept["id"]
        );
    }
    let new_key = api
        .post("/api/v1/models/forecast/runs")
        .header("Idempotency-Key", "plan-2028")
        .json(&json!({"inputs": {"growth_rate": 0.03}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(new_key.status(), StatusCode::TOO_MANY_REQUESTS);
    let runs = app.store.list_runs(&all_runs()).await.expect("runs");
    assert_eq!(runs.items.len(), 3, "one run and a sweep of two");
}

/// A double click or a resubmit of one form makes one run and shows it; so
/// does a retried API call with the same `Idempotency-Key`.
pub async fn a_reused_form_key_gives_one_run(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = ann.page("/models/forecast/runs/new").await;
    let key = hidden(&form, "_key");
    let label = app.forecast_label().await;
    let fields = [
        ("version", label.as_str()),
        ("_key", key.as_str()),
        ("growth_rate", "0.07"),
    ];
    let (first, second) = tokio::join!(
        ann.post_form("/models/forecast/runs/new", &fields),
        ann.post_form("/models/forecast/runs/new", &fields)
    );
    let third = ann.post_form("/models/forecast/runs/new", &fields).await;
    for response in [&first, &second, &third] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(location(&first), location(&second));
    assert_eq!(location(&first), location(&third));
    let runs = app.store.list_runs(&all_runs()).await.expect("runs");
    assert_eq!(runs.items.len(), 1);
    let fresh = hidden(&ann.page("/models/forecast/runs/new").await, "_key");
    assert_ne!(fresh, key, "each form gets its own key");

    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let post = || {
        api.post("/api/v1/models/forecast/runs")
            .header("idempotency-key", "nightly-2026-11-22")
            .json(&json!({"inputs": {}}))
            .send()
    };
    let created = post().await.expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let repeated = post().await.expect("POST");
    assert_eq!(repeated.status(), StatusCode::OK);
    let a: Value = created.json().await.expect("json");
    let b: Value = repeated.json().await.expect("json");
    assert_eq!(a["id"], b["id"]);
    let too_long = api
        .post("/api/v1/models/forecast/runs")
        .header("idempotency-key", "k".repeat(129))
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
    let runs = app.store.list_runs(&all_runs()).await.expect("runs");
    assert_eq!(runs.items.len(), 2);
}

fn assert_secure_headers(response: &reqwest::Response, what: &str) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_owned()
    };
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
}

/// The expected headers are on a page, an API response and a download;
/// HSTS is added when served over HTTPS.
pub async fn responses_carry_the_security_headers(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = super::submit(&api).await;
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = ann.get("/models").await;
    assert_secure_headers(&page, "page");
    assert_eq!(
        page.headers().get("cache-control").map(|v| v.to_str().ok()),
        Some(Some("no-store"))
    );
    assert!(
        page.headers().get("strict-transport-security").is_none(),
        "not over HTTP"
    );
    assert_secure_headers(&api.get("/api/v1/models").send().await.expect("GET"), "api");
    let download = ann.get(&format!("/runs/{id}/outputs/forecast.csv")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_secure_headers(&download, "download");
    assert_secure_headers(&ann.get("/static/app.css").await, "static");
    assert_secure_headers(&ann.get("/no/such/page").await, "404");

    let https = TestApp::spawn_with(store, |web| {
        web.public_url = "https://models.example.com".to_owned()
    })
    .await;
    let login = https.browser().get("/login").await;
    assert_eq!(
        login
            .headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
}
