//! Planners' habits: run again with one input changed, and compare runs.

use modelrun_core::config::RunVisibility;
use modelrun_core::ids::RunId;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::{BOB_EMAIL, BOB_PASSWORD, add_bob, hidden, submit};
use crate::support::*;

/// The forecast's form fields with one growth rate.
fn forecast_form(growth: &str) -> Vec<(&'static str, String)> {
    vec![
        ("start_month", "2027-01".to_owned()),
        ("horizon_months", "3".to_owned()),
        ("base_revenue", "100000".to_owned()),
        ("growth_rate", growth.to_owned()),
        ("seasonality", "none".to_owned()),
        ("churn_rate", "0.01".to_owned()),
    ]
}

pub async fn run_again_prefills_the_form_and_links_the_origin(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let first = submit(&api).await;
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let run_page = ann.page(&format!("/runs/{first}")).await;
    assert!(run_page.contains(&format!("href=\"/models/forecast/runs/new?from={first}\"")));
    let form = ann
        .page(&format!("/models/forecast/runs/new?from={first}"))
        .await;
    assert!(form.contains(&format!("Filled in with the inputs of run #{first}")));
    assert!(
        form.contains("name=\"growth_rate\" type=\"text\" value=\"0.04\""),
        "the origin's growth rate, not the default"
    );
    assert_eq!(hidden(&form, "_from"), first.to_string());
    let mut fields = forecast_form("0.06");
    fields.push(("version", hidden(&form, "version")));
    fields.push(("_key", hidden(&form, "_key")));
    fields.push(("_from", first.to_string()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let posted = ann.post_form("/models/forecast/runs/new", &fields).await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let second_path = location(&posted);
    let second: i64 = second_path
        .trim_start_matches("/runs/")
        .parse()
        .expect("id");
    let stored = app.store.run(RunId(second)).await.expect("q").expect("run");
    assert_eq!(stored.rerun_of, Some(RunId(first)));
    assert_eq!(stored.inputs["growth_rate"], json!(0.06));
    let page = ann.page(&second_path).await;
    assert!(page.contains(&format!(
        "Run again from <a href=\"/runs/{first}\">run #{first}</a>"
    )));

    // Through the API: the origin's inputs, with changes.
    let rerun = api
        .post(&format!("/api/v1/runs/{first}/rerun"))
        .json(&json!({"inputs": {"growth_rate": 0.08}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(rerun.status(), StatusCode::CREATED);
    let body: Value = rerun.json().await.expect("json");
    assert_eq!(body["rerun_of"], first);
    assert_eq!(body["inputs"]["growth_rate"], 0.08);
    assert_eq!(body["inputs"]["horizon_months"], 3, "kept from the origin");
    let bad = api
        .post(&format!("/api/v1/runs/{first}/rerun"))
        .json(&json!({"inputs": {"growth_rate": 9}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A run of another model is not an origin for this one.
    app.register_model(
        "other",
        "name = \"other\"\ncommand = [\"true\"]\n[inputs]\ntype = \"object\"\n",
    )
    .await;
    let other = api.submit_defaults("other").await;
    let cross = ann
        .get(&format!("/models/forecast/runs/new?from={}", other["id"]))
        .await;
    assert_eq!(cross.status(), StatusCode::BAD_REQUEST);

    // The origin's version retired: the form moves to the latest and says so.
    let label = app.forecast_label().await;
    let model = app
        .store
        .model("forecast")
        .await
        .expect("q")
        .expect("model");
    let version = model.versions.iter().find(|v| v.label == label).expect("v");
    app.store
        .retire_version(version.id, chrono::Utc::now())
        .await
        .expect("retire");
    let after = api
        .post(&format!("/api/v1/runs/{first}/rerun"))
        .json(&json!({}))
        .send()
        .await
        .expect("POST");
    assert_eq!(after.status(), StatusCode::CONFLICT);
}

pub async fn runs_compare_side_by_side(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| web.run_visibility = RunVisibility::Own).await;
    add_bob(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let a = submit(&api).await;
    let b: Value = api
        .post(&format!("/api/v1/runs/{a}/rerun"))
        .json(&json!({"inputs": {"growth_rate": 0.09}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let b = b["id"].as_i64().expect("id");
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let runs = ann.page("/runs").await;
    assert!(runs.contains("form=\"compare-form\""), "runs can be ticked");
    let page = ann.page(&format!("/compare?runs={a}&runs={b}")).await;
    assert!(page.contains("1 input differs"), "only the growth rate");
    assert!(
        page.contains("Monthly growth rate <span class=\"tag\">differs</span>"),
        "inputs go by their titles, as on the run page"
    );
    assert_eq!(
        page.matches("<table").count(),
        1,
        "one grid, so that each run's column lines up in every part"
    );
    assert!(page.contains("<svg class=\"chart\""), "the charts overlaid");
    assert!(page.contains(&format!("#{a}: Revenue")) && page.contains(&format!("#{b}: Revenue")));
    assert!(page.contains("Key figures"));

    for (query, status) in [
        (format!("runs={a}"), StatusCode::BAD_REQUEST),
        (format!("runs={a},{b},{a}"), StatusCode::OK),
        ("runs=1,2,3,4,5".to_owned(), StatusCode::BAD_REQUEST),
        (format!("runs={a},999"), StatusCode::NOT_FOUND),
    ] {
        assert_eq!(
            ann.get(&format!("/compare?{query}")).await.status(),
            status,
            "{query}"
        );
    }
    let missing = ann.get(&format!("/compare?runs={a},999")).await;
    let page = missing.text().await.expect("body");
    assert!(
        page.contains("run 999 does not exist or you may not see it"),
        "{page}"
    );
    // Bob may not see Ann's runs, so he may not compare them.
    let bob = app.signed_in(BOB_EMAIL, BOB_PASSWORD).await;
    let refused = bob.get(&format!("/compare?runs={a},{b}")).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let page = refused.text().await.expect("body");
    assert!(
        page.contains(&format!("run {a} does not exist or you may not see it")),
        "{page}"
    );
}

pub async fn the_runs_list_filters_by_version_submitter_dates_and_order(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    add_bob(&app).await;
    let ann_api = app.api(&app.token(RUNNER_EMAIL).await);
    let bob_api = app.api(&app.token(BOB_EMAIL).await);
    let first = submit(&ann_api).await;
    let second = submit(&bob_api).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let ids = |page: &str| -> Vec<i64> {
        page.match_indices("<td><a href=\"/runs/")
            .filter_map(|(at, _)| {
                let rest = &page[at + "<td><a href=\"/runs/".len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .collect()
    };
    assert_eq!(ids(&ann.page("/runs").await), [second, first]);
    assert_eq!(ids(&ann.page("/runs?sort=oldest").await), [first, second]);
    let bobs = ann.page("/runs?submitter=Bob%40Example.com").await;
    assert_eq!(ids(&bobs), [second]);
    assert!(
        bobs.contains("value=\"Bob@Example.com\""),
        "the filter stays in the form"
    );
    let label = app.forecast_label().await;
    assert_eq!(
        ids(&ann.page(&format!("/runs?version={label}")).await).len(),
        2
    );
    assert!(ids(&ann.page("/runs?version=nope").await).is_empty());
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().expect("tomorrow");
    assert_eq!(
        ids(&ann.page(&format!("/runs?from={today}&to={today}")).await).len(),
        2
    );
    assert!(
        ann.page(&format!("/runs?from={tomorrow}"))
            .await
            .contains("No run matches.")
    );
    for bad in [
        "/runs?from=yesterday",
        "/runs?sort=sideways",
        &format!("/runs?from={tomorrow}&to={today}"),
    ] {
        assert_eq!(
            ann.get(bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let listed: Value = ann_api
        .get(&format!("/api/v1/runs?sort=oldest&submitter={BOB_EMAIL}"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["runs"][0]["id"], second);
    assert_eq!(listed["runs"].as_array().map(Vec::len), Some(1));
}

pub async fn a_finished_run_is_set_against_its_versions_typical_duration(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let first = submit(&api).await;
    app.drain().await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let alone = ann.page(&format!("/runs/{first}")).await;
    assert!(
        !alone.contains("Typical for this version"),
        "one run is no norm"
    );
    // Its history as a planner reads it, the full list a click away.
    let phases: Vec<&str> = alone
        .match_indices("<li class=\"phase phase-")
        .map(|(at, found)| {
            let rest = &alone[at + found.len()..];
            &rest[..rest.find('"').expect("class ends")]
        })
        .collect();
    assert_eq!(phases, ["queued", "running", "finished"], "{alone}");
    assert!(
        alone.contains("<details class=\"events\" id=\"all-events\">")
            && alone.contains("<summary>All events (")
            && alone.contains("dispatching"),
        "every event is still there"
    );
    submit(&api).await;
    let third = submit(&api).await;
    app.drain().await;
    let page = ann.page(&format!("/runs/{third}")).await;
    assert!(
        page.contains("Typical for this version:")
            && page.contains("median of its last 3 successful runs"),
        "{page}"
    );
}

pub async fn the_model_page_renders_markdown_and_each_versions_record(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let manifest = |default: &str, extra: &str| {
        format!(
            "name = \"plan\"\ntitle = \"Plan\"\ndescription = \"\"\"\n## How it works\n\nIt **plans**. See [the guide](https://example.com/guide) or [this](javascript:alert(1)).\n\n<script>alert(1)</script>\n\"\"\"\ncommand = [\"true\"]\n[inputs]\ntype = \"object\"\n[inputs.properties.growth]\ntype = \"number\"\ndefault = {default}\n{extra}"
        )
    };
    app.register_model("plan", &manifest("0.02", "")).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let post = || {
        api.post("/api/v1/models/plan/runs")
            .json(&json!({"inputs": {}}))
            .send()
    };
    assert_eq!(post().await.expect("POST").status(), StatusCode::CREATED);
    assert_eq!(post().await.expect("POST").status(), StatusCode::CREATED);
    app.drain().await;
    app.register_model(
        "plan",
        &manifest("0.03", "[inputs.properties.region]\ntype = \"string\"\n"),
    )
    .await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = ann.page("/models/plan").await;
    assert!(
        page.contains("<h2>How it works</h2>") && page.contains("<strong>plans</strong>"),
        "{page}"
    );
    assert!(page.contains("<a href=\"https://example.com/guide\">"));
    assert!(
        !page.contains("<script>alert") && !page.contains("javascript:"),
        "nothing of the author's runs"
    );
    assert!(
        page.contains("changed growth (default 0.02 → 0.03)"),
        "{page}"
    );
    assert!(page.contains("added region"));
    assert!(
        page.contains("<td>2</td><td class=\"lesser\">100 %</td>"),
        "two runs, all succeeded: {page}"
    );
}
