//! Per-run resources: a runner asks for more or less compute for one run,
//! from the API and the form's advanced section, within the bounds its
//! version declares; the run and its page show what was asked.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::hidden;
use crate::support::*;

/// Defaults of 1 vCPU, 1024 MiB and 10 minutes; a run may ask for up to
/// 4 vCPU, 4096 MiB and an hour.
const SIZED: &str = r#"
name = "sized"
command = ["python3", "-c", "print('done')"]

[resources]
vcpu = 1
memory_mib = 1024
timeout_seconds = 600

[resources.max]
vcpu = 4
memory_mib = 4096
timeout_seconds = 3600

[inputs]
type = "object"
"#;

/// The first refused field of a 422 answer, as (field, message).
async fn refusal(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    let field = &body["error"]["fields"][0];
    (
        field["field"].as_str().unwrap_or_default().to_owned(),
        field["message"].as_str().unwrap_or_default().to_owned(),
    )
}

pub async fn a_run_asks_for_resources_within_its_versions_bounds(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("sized", SIZED).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let models = api.get_json("/api/v1/models").await;
    let sized = models["models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["name"] == "sized"))
        .expect("sized");
    assert_eq!(
        sized["versions"][0]["max_resources"],
        json!({"vcpu": 4.0, "memory_mib": 4096, "timeout_seconds": 3600})
    );
    let submit = |body: Value| api.post("/api/v1/models/sized/runs").json(&body).send();

    let created = submit(json!({"resources": {"vcpu": 2, "memory_mib": 512}}))
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let run: Value = created.json().await.expect("run");
    let asked = json!({"vcpu": 2.0, "memory_mib": 512, "timeout_seconds": 600});
    assert_eq!(
        run["resources"], asked,
        "the version's timeout, the rest asked"
    );
    let id = run["id"].as_i64().expect("id");
    assert_eq!(
        api.get_json(&format!("/api/v1/runs/{id}")).await["resources"],
        asked
    );
    let unasked = api.submit_defaults("sized").await;
    assert_eq!(
        unasked["resources"],
        json!({"vcpu": 1.0, "memory_mib": 1024, "timeout_seconds": 600})
    );

    for (body, field, says) in [
        (json!({"vcpu": 8}), "resources.vcpu", "at most 4"),
        (
            json!({"memory_mib": 64}),
            "resources.memory_mib",
            "from 128 to 4096 MiB",
        ),
        (
            json!({"timeout_seconds": 3601}),
            "resources.timeout_seconds",
            "at most 3600",
        ),
        (json!({"vcpu": "two"}), "resources.vcpu", "must be a number"),
        (json!({"gpus": 1}), "resources.gpus", "is not a resource"),
    ] {
        let (named, message) =
            refusal(submit(json!({"resources": body})).await.expect("POST")).await;
        assert_eq!(named, field, "{body}");
        assert!(message.contains(says), "{body}: {message}");
    }

    // Run again keeps what the origin asked for unless changed, within bounds.
    let rerun = |body: Value| {
        api.post(&format!("/api/v1/runs/{id}/rerun"))
            .json(&body)
            .send()
    };
    let again: Value = rerun(json!({}))
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    assert_eq!(again["resources"], asked);
    let changed: Value = rerun(json!({"resources": {"timeout_seconds": 1200}}))
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    assert_eq!(changed["resources"]["timeout_seconds"], 1200);
    assert_eq!(changed["resources"]["vcpu"], 2.0);
    let (named, _) = refusal(
        rerun(json!({"resources": {"memory_mib": 8192}}))
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(named, "resources.memory_mib");

    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page(&format!("/runs/{id}")).await;
    assert!(
        page.contains("2 vCPU, 512 MiB, 600 s limit")
            && page.contains("asked for this run (version default: 1 vCPU, 1024 MiB, 600 s limit)"),
        "{page}"
    );
    let plain = browser.page(&format!("/runs/{}", unasked["id"])).await;
    assert!(!plain.contains("asked for this run"));
    let label = sized["versions"][0]["label"].as_str().expect("label");
    let version = browser
        .page(&format!("/models/sized/versions/{label}"))
        .await;
    assert!(
        version.contains("A run may ask for up to 4 vCPU, 4096 MiB, 3600 s limit"),
        "{version}"
    );
}

pub async fn the_form_asks_for_resources_in_its_advanced_section(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("sized", SIZED).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/sized/runs/new").await;
    assert!(page.contains("<summary>Advanced: resources</summary>"));
    assert!(!page.contains("id=\"resources\" open"), "closed unasked");
    assert_eq!(hidden(&page, "_resources.vcpu"), "1");
    assert_eq!(hidden(&page, "_resources.memory_mib"), "1024");
    assert_eq!(hidden(&page, "_resources.timeout_seconds"), "600");
    assert!(page.contains("From 0.25 to 4 vCPU; the version's value is 1."));
    let version = hidden(&page, "version");
    let send = |vcpu: &'static str, memory: &'static str| {
        let form = [
            ("version", version.clone()),
            ("_resources.vcpu", vcpu.to_owned()),
            ("_resources.memory_mib", memory.to_owned()),
            ("_resources.timeout_seconds", "600".to_owned()),
        ];
        let browser = &browser;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post_form("/models/sized/runs/new", &pairs).await
        }
    };

    let refused = send("2", "99999").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.expect("body");
    assert!(
        page.contains("Memory must be from 128 to 4096 MiB (the version allows at most 4096)."),
        "{page}"
    );
    assert!(page.contains("id=\"resources\" open"), "open at its error");
    assert_eq!(hidden(&page, "_resources.memory_mib"), "99999", "as typed");
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let runs = api.get_json("/api/v1/runs?model=sized").await;
    assert_eq!(
        runs["runs"].as_array().map(Vec::len),
        Some(0),
        "nothing created"
    );

    let created = send("2", "2048").await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let run_path = location(&created);
    let id = run_path.trim_start_matches("/runs/");
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(
        run["resources"],
        json!({"vcpu": 2.0, "memory_mib": 2048, "timeout_seconds": 600})
    );

    // Run again fills the section with what the run asked for, open.
    let again = browser
        .page(&format!("/models/sized/runs/new?from={id}"))
        .await;
    assert_eq!(hidden(&again, "_resources.vcpu"), "2");
    assert_eq!(hidden(&again, "_resources.memory_mib"), "2048");
    assert!(again.contains("id=\"resources\" open"));
    assert!(again.contains("Its resources are kept (2 vCPU, 2048 MiB, 600 s limit)"));
}

/// Every refused field of a 422 answer, as (field, message), and its summary.
async fn refusals(response: reqwest::Response) -> (String, Vec<(String, String)>) {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    let fields = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|field| {
            (
                field["field"].as_str().unwrap_or_default().to_owned(),
                field["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let summary = body["error"]["message"].as_str().unwrap_or_default();
    (summary.to_owned(), fields)
}

fn refused(field: &str, message: &str) -> (String, String) {
    (field.to_owned(), message.to_owned())
}

pub async fn every_refused_part_is_named_at_once(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("sized", SIZED).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let vcpu = "must be from 0.25 to 4 vCPU (the version allows at most 4)";

    // Not a whole number, and out of bounds: both, not the first.
    let body = json!({"resources": {"vcpu": -1, "memory_mib": 1e12}});
    let answer = api.post("/api/v1/models/sized/runs").json(&body).send();
    let (summary, fields) = refusals(answer.await.expect("POST")).await;
    assert_eq!(summary, "the resources are not valid");
    assert_eq!(
        fields,
        [
            refused("resources.memory_mib", "must be a whole number of MiB"),
            refused("resources.vcpu", vcpu),
        ]
    );
    // An unknown input and resources out of bounds, in one answer.
    let body = json!({"inputs": {"colour": "red"}, "resources": {"vcpu": 9, "timeout_seconds": 0}});
    let answer = api.post("/api/v1/models/sized/runs").json(&body).send();
    let (summary, fields) = refusals(answer.await.expect("POST")).await;
    assert_eq!(summary, "the inputs and resources are not valid");
    let named: Vec<&str> = fields.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(
        named,
        ["colour", "resources.vcpu", "resources.timeout_seconds"],
        "{fields:?}"
    );

    // The estimate's query, the same way.
    let answer = api.get("/api/v1/models/sized/estimate?vcpu=lots&memory_mib=-3");
    let (_, fields) = refusals(answer.send().await.expect("GET")).await;
    assert_eq!(
        fields,
        [
            refused("vcpu", "must be a number of vCPUs, such as 0.5 or 2"),
            refused(
                "memory_mib",
                "must be from 128 to 4096 MiB (the version allows at most 4096)"
            ),
        ]
    );

    // A sweep's two unreadable variations and its resources, together.
    let body = json!({
        "vary": {"growth_rate": "lots", "horizon_months": 7},
        "resources": {"memory_mib": -3},
    });
    let answer = api
        .post("/api/v1/models/forecast/sweeps")
        .json(&body)
        .send();
    let (_, fields) = refusals(answer.await.expect("POST")).await;
    let named: Vec<&str> = fields.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(
        named,
        ["growth_rate", "horizon_months", "resources.memory_mib"],
        "{fields:?}"
    );

    // A schedule's cron and zone, and its name, even without its model.
    let body = json!({"name": " ", "model": "nope", "cron": "often", "time_zone": "Mars/Base"});
    let answer = api.post("/api/v1/schedules").json(&body).send();
    let (_, fields) = refusals(answer.await.expect("POST")).await;
    let named: Vec<&str> = fields.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(named, ["model", "name", "cron", "time_zone"], "{fields:?}");

    // The form shows each part's message at its box.
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/sized/runs/new").await;
    let version = hidden(&page, "version");
    let form = [
        ("version", version.as_str()),
        ("_resources.vcpu", "999"),
        ("_resources.memory_mib", "-3"),
        ("_resources.timeout_seconds", "an hour"),
    ];
    let refused_form = browser.post_form("/models/sized/runs/new", &form).await;
    assert_eq!(refused_form.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused_form.text().await.expect("body");
    for message in [
        format!("vCPU {vcpu}."),
        "Memory must be from 128 to 4096 MiB (the version allows at most 4096).".to_owned(),
        "Time limit must be a whole number of seconds.".to_owned(),
    ] {
        assert!(page.contains(&message), "{message} in {page}");
    }
    assert_eq!(hidden(&page, "_resources.timeout_seconds"), "an hour");

    // A sweep from the form: a shared input and the resources, together.
    let label = app.forecast_label().await;
    let form = [
        ("version", label.as_str()),
        ("start_month", "2027-01"),
        ("horizon_months", "lots"),
        ("base_revenue", "100000"),
        ("seasonality", "none"),
        ("churn_rate", "0,01"),
        ("_vary.growth_rate.from", "0,02"),
        ("_vary.growth_rate.to", "0,04"),
        ("_vary.growth_rate.step", "0,01"),
        ("_resources.vcpu", "99"),
    ];
    let refused_sweep = browser.post_form("/models/forecast/runs/new", &form).await;
    assert_eq!(refused_sweep.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused_sweep.text().await.expect("body");
    for message in [
        "<a href=\"#in-horizon_months\">Horizon (months) must be a whole number</a>",
        "<a href=\"#res-vcpu\">vCPU must be 0.25 vCPU, the only value the version allows</a>",
    ] {
        assert!(page.contains(message), "{message} in {page}");
    }
}
