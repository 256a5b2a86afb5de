//! The JSON API, as a script uses it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

pub async fn tokens_are_required_and_checked(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let anonymous = reqwest::get(app.url("/api/v1/models")).await.expect("GET");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"modelrun\"")
    );
    let body: Value = anonymous.json().await.expect("json");
    assert_eq!(body["error"]["status"], 401);
    let wrong = app
        .api("mr_not-a-real-token")
        .get("/api/v1/models")
        .send()
        .await
        .expect("GET");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let token = app.token(RUNNER_EMAIL).await;
    assert_eq!(
        app.api(&token)
            .get("/api/v1/models")
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::OK
    );
    // The scheme's name is case-insensitive (RFC 9110).
    let shouted = reqwest::Client::new()
        .get(app.url("/api/v1/models"))
        .header("authorization", format!("BEARER {token}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(shouted.status(), StatusCode::OK);
}

pub async fn models_come_with_versions_and_schemas(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let body: Value = api
        .get("/api/v1/models")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let forecast = &body["models"][0];
    assert_eq!(forecast["name"], "forecast");
    assert_eq!(forecast["latest_version"], app.forecast_label().await);
    let schema = &forecast["versions"][0]["input_schema"];
    assert_eq!(schema["properties"]["growth_rate"]["maximum"], 0.5);
    assert_eq!(forecast["versions"][0]["resources"]["memory_mib"], 512);
}

pub async fn a_run_submitted_through_the_api_can_be_followed_and_downloaded(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {"growth_rate": 0.04, "horizon_months": 3}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = location(&created);
    let run: Value = created.json().await.expect("json");
    let id = run["id"].as_i64().expect("id");
    assert_eq!(location, format!("/api/v1/runs/{id}"));
    assert_eq!(run["status"], "queued");
    assert_eq!(run["version"], app.forecast_label().await);
    assert_eq!(run["inputs"]["churn_rate"], 0.01, "defaults are filled in");
    assert_eq!(run["submitted_by"], RUNNER_EMAIL);

    app.drain().await;
    let run: Value = api
        .get(&location)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(run["status"], "succeeded");
    let statuses: Vec<_> = run["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["status"].as_str())
        .collect();
    assert_eq!(statuses.first(), Some(&"queued"));
    assert_eq!(statuses.last(), Some(&"succeeded"));
    assert!(run["duration_seconds"].as_f64().is_some());
    let outputs = run["outputs"].as_array().expect("outputs");
    assert_eq!(outputs[0]["name"], "forecast.csv");
    assert_eq!(
        outputs[0]["url"],
        format!("/api/v1/runs/{id}/outputs/forecast.csv")
    );
    let csv = api
        .get(outputs[0]["url"].as_str().unwrap_or_default())
        .send()
        .await
        .expect("GET");
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.expect("body");
    assert!(
        csv.lines()
            .nth(1)
            .unwrap_or_default()
            .starts_with(&format!("2027-01,{},", first_month(100_000.0, 0.04, 0.01)))
    );
    assert_eq!(csv.lines().count(), 4);

    let log = api
        .get(&format!("/api/v1/runs/{id}/log"))
        .send()
        .await
        .expect("GET");
    assert!(
        log.text()
            .await
            .expect("body")
            .contains("Forecasting 3 months")
    );
}

pub async fn schema_violations_name_each_field(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let refused = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {"growth_rate": "fast", "horizon_months": 500, "seasonality": "winter", "colour": "red", "start_month": null}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["message"], "the inputs are not valid");
    let fields: Vec<(String, String)> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            (
                "start_month".to_owned(),
                "cannot be null: send a value, or leave it out to take its default".to_owned()
            ),
            (
                "horizon_months".to_owned(),
                "must be at most 120".to_owned()
            ),
            ("growth_rate".to_owned(), "must be a number".to_owned()),
            (
                "seasonality".to_owned(),
                "must be one of: Flat (none), Retail: strong Q4 (retail), Summer: peak June–August (summer), B2B: quarter-end spikes (b2b)".to_owned()
            ),
            (
                "colour".to_owned(),
                "is not an input of this model".to_owned()
            ),
        ]
    );
    let not_object = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": [1, 2]}))
        .send()
        .await
        .expect("POST");
    assert_eq!(not_object.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let extra = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}, "priority": 1}))
        .send()
        .await
        .expect("POST");
    assert_eq!(extra.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        extra
            .text()
            .await
            .expect("body")
            .contains("unknown field `priority`")
    );
    let broken = api
        .post("/api/v1/models/forecast/runs")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("POST");
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    let wrong_type = api
        .post("/api/v1/models/forecast/runs")
        .body("inputs=1")
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let unknown_version = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}, "version": "v999"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown_version.status(), StatusCode::BAD_REQUEST);
    let runs: Value = api
        .get("/api/v1/runs")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(
        runs["runs"].as_array().map(Vec::len),
        Some(0),
        "refusals created runs"
    );
}

pub async fn unknown_things_are_404_without_detail(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    for path in [
        "/api/v1/runs/999",
        "/api/v1/runs/abc",
        "/api/v1/runs/1/outputs/forecast.csv",
        "/api/v1/nothing",
    ] {
        let response = api.get(path).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["status"], 404);
    }
    let unknown_model = api
        .post("/api/v1/models/nope/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown_model.status(), StatusCode::NOT_FOUND);
}

pub async fn runs_are_listed_newest_first_in_pages(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    for _ in 0..5 {
        let created = api
            .post("/api/v1/models/forecast/runs")
            .json(&json!({"inputs": {}}))
            .send()
            .await
            .expect("POST");
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let page: Value = api
        .get("/api/v1/runs?limit=2")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let ids: Vec<_> = page["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(ids, [5, 4]);
    assert_eq!(page["next_cursor"], "4");
    let next: Value = api
        .get("/api/v1/runs?limit=2&cursor=4")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let ids: Vec<_> = next["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(ids, [3, 2]);
    let filtered: Value = api
        .get("/api/v1/runs?model=forecast&status=succeeded")
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(filtered["runs"].as_array().map(Vec::len), Some(0));
    for bad in [
        "/api/v1/runs?limit=0",
        "/api/v1/runs?limit=500",
        "/api/v1/runs?status=nope",
        "/api/v1/runs?cursor=x",
    ] {
        assert_eq!(
            api.get(bad).send().await.expect("GET").status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

pub async fn viewers_cannot_submit(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    modelrun_app::bootstrap::create_user(
        &app.store,
        "vic@example.com",
        "viewer-password-12",
        modelrun_core::user::Role::Viewer,
    )
    .await
    .expect("viewer");
    let api = app.api(&app.token("vic@example.com").await);
    let refused = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("viewer")
    );
    assert_eq!(
        api.get("/api/v1/runs").send().await.expect("GET").status(),
        StatusCode::OK
    );
}

pub async fn health_says_whether_the_store_answers(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let health: Value = reqwest::get(app.url("/healthz"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let backend = match store {
        StoreKind::Sqlite => "sqlite",
        StoreKind::Postgres => "postgres",
    };
    assert_eq!(
        health,
        json!({"status": "ok", "store": backend, "writable": true})
    );
}

/// A database that hangs (a network that drops packets) gets a 503 from
/// `/healthz` within its own short wait, not after the pool's 5 s: a load
/// balancer sees a failed check, not a timed-out one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_answers_503_at_once_when_the_database_hangs() {
    let url = std::env::var(modelrun_db::postgres::testing::TEST_DATABASE_URL)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let port = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next()?.parse().ok())
        .unwrap_or(5432);
    let proxy = modelrun_testkit::Outage::front(port).await;
    let app = TestApp::spawn_full(
        StoreKind::Postgres,
        None,
        |settings| {
            if let modelrun_core::config::DatabaseConfig::Postgres(config) = &mut settings.database
            {
                let through = config.url.expose().replacen(
                    &format!(":{port}/"),
                    &format!(":{}/", proxy.port),
                    1,
                );
                config.url = modelrun_core::secret::Secret::new(through);
            }
        },
        |_| {},
    )
    .await;
    let health = reqwest::get(app.url("/healthz")).await.expect("GET");
    assert_eq!(health.status(), StatusCode::OK);
    proxy.stall();
    let asked = std::time::Instant::now();
    let health = reqwest::get(app.url("/healthz")).await.expect("GET");
    let waited = asked.elapsed();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = health.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("did not answer"),
        "{body}"
    );
    // The bound is the check's own wait (1 s), with room for a slow
    // machine; the pool's acquire timeout is 5 s.
    assert!(waited < std::time::Duration::from_secs(3), "{waited:?}");
    proxy.restore();
}

pub async fn a_list_carries_the_fields_asked_for(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    api.submit_defaults("forecast").await;
    let every = api.get_json("/api/v1/runs").await;
    assert!(
        every["runs"][0]["inputs"].is_object(),
        "by default, as before"
    );
    let table = api
        .get_json("/api/v1/runs?fields=id,status,created_at")
        .await;
    let row = table["runs"][0].as_object().expect("a row");
    assert_eq!(
        row.keys().collect::<Vec<_>>(),
        ["id", "status", "created_at"],
        "{row:?}"
    );
    let unknown = api
        .get("/api/v1/runs?fields=id,colour")
        .send()
        .await
        .expect("GET");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let body: Value = unknown.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"colour\"")),
        "{body}"
    );
}
