//! Candidate and production versions through the API and the command
//! line: a planner runs production and is refused a candidate, a data
//! scientist runs the candidate, promotion needs a note and is refused to
//! a planner, and every run records its alias; a candidate's manifest
//! cannot make its pusher the owner who promotes it; the pages offer no
//! action the lifecycle refuses (retiring production, promoting a retired
//! version).

use modelrun_app::bootstrap::create_user;
use modelrun_core::audit::{AuditAction, AuditFilter};
use modelrun_core::user::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli_client::client;
use crate::support::*;

const SCIENTIST: &str = "sam@example.com";

fn manifest(factor: u32) -> String {
    format!(
        r#"name = "uplift"
title = "Uplift"
description = "Says which version ran."
owner = "{SCIENTIST}"
command = ["python3", "-c", "print({factor})"]
[inputs]
type = "object"
[inputs.properties.rate]
type = "number"
default = 0.5
"#
    )
}

async fn submit(api: &Api, version: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({ "inputs": { "rate": 0.7 } });
    if let Some(version) = version {
        body["version"] = json!(version);
    }
    let response = api
        .post("/api/v1/models/uplift/runs")
        .json(&body)
        .send()
        .await
        .expect("submit");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

async fn labels(api: &Api) -> (Value, Value) {
    let models = api.get_json("/api/v1/models").await;
    let model = models["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["name"] == "uplift")
        .expect("uplift")
        .clone();
    (
        model["production_version"].clone(),
        model["latest_version"].clone(),
    )
}

pub async fn planners_run_production_and_scientists_promote(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    app.register_model("uplift-1", &manifest(1)).await;
    app.register_model("uplift-2", &manifest(2)).await;
    create_user(
        &app.store,
        SCIENTIST,
        "sam-password-for-tests",
        Role::Scientist,
    )
    .await
    .expect("scientist");
    let planner = app.api(&app.token(RUNNER_EMAIL).await);
    let scientist = app.api(&app.token(SCIENTIST).await);
    let model = app
        .store
        .model("uplift")
        .await
        .expect("query")
        .expect("model");
    let (newest, first) = (&model.versions[0].label, &model.versions[1].label);
    assert_eq!(labels(&planner).await, (json!(first), json!(newest)));

    let (status, run) = submit(&planner, None).await;
    assert_eq!(status, StatusCode::CREATED, "{run}");
    assert_eq!(run["version"], json!(first), "no version: production");
    assert_eq!(run["alias"], "production");
    let (status, refused) = submit(&planner, Some("latest")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("candidate"),
        "{refused}"
    );
    let (status, candidate) = submit(&scientist, Some(newest)).await;
    assert_eq!(status, StatusCode::CREATED, "{candidate}");
    assert_eq!(candidate["alias"], "candidate");

    let promote = format!("/api/v1/models/uplift/versions/{newest}/promote");
    let refused = planner
        .post(&promote)
        .json(&json!({ "note": "looks good" }))
        .send()
        .await
        .expect("promote");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let no_note = scientist
        .post(&promote)
        .json(&json!({ "note": "  " }))
        .send()
        .await
        .expect("promote");
    assert_eq!(no_note.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = no_note.json().await.expect("json");
    assert_eq!(body["error"]["fields"][0]["field"], "note", "{body}");

    let promoted: Value = scientist
        .post(&promote)
        .json(&json!({ "note": "better on the holdout" }))
        .send()
        .await
        .expect("promote")
        .json()
        .await
        .expect("json");
    assert_eq!(promoted["previous"], json!(first), "{promoted}");
    assert_eq!(promoted["changed"], true);
    assert_eq!(labels(&planner).await.0, json!(newest));
    let (_, run) = submit(&planner, None).await;
    assert_eq!(run["version"], json!(newest));
    assert_eq!(run["alias"], "production");
    let old = app
        .api(&app.token(SCIENTIST).await)
        .get_json(&format!("/api/v1/runs/{}", candidate["id"]))
        .await;
    assert_eq!(old["alias"], "candidate", "a run keeps what it ran under");

    let entries = app
        .store
        .audit_entries(&AuditFilter {
            action: Some(AuditAction::VersionPromote),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("audit");
    let by_scientist = entries
        .iter()
        .find(|e| e.actor.name == SCIENTIST)
        .expect("the promotion is audited");
    assert_eq!(by_scientist.detail["note"], "better on the holdout");
    assert!(
        entries
            .iter()
            .any(|e| e.actor.name.starts_with("system:") && e.detail["label"] == json!(first)),
        "the first version's own promotion is audited: {entries:?}"
    );
}

pub async fn a_candidate_cannot_name_its_own_promoter(kind: StoreKind) {
    const PUSHER: &str = "sci2@example.com";
    let app = TestApp::spawn(kind).await;
    app.register_model("uplift-1", &manifest(1)).await;
    let claimed = manifest(2).replace(SCIENTIST, PUSHER);
    app.register_model("uplift-2", &claimed).await;
    for email in [SCIENTIST, PUSHER] {
        create_user(&app.store, email, "password-for-tests", Role::Scientist)
            .await
            .expect("scientist");
    }
    let model = app
        .store
        .model("uplift")
        .await
        .expect("query")
        .expect("model");
    assert_eq!(model.model.owner, SCIENTIST, "production's owner counts");
    let promote = format!(
        "/api/v1/models/uplift/versions/{}/promote",
        model.versions[0].label
    );
    let note = json!({ "note": "mine now" });
    let pusher = app.api(&app.token(PUSHER).await);
    let refused = pusher.post(&promote).json(&note).send().await;
    assert_eq!(refused.expect("promote").status(), StatusCode::FORBIDDEN);
    let owner = app.api(&app.token(SCIENTIST).await);
    // A missing note is refused as a blank one is, naming the field.
    let without = owner
        .post(&promote)
        .json(&json!({}))
        .send()
        .await
        .expect("promote");
    assert_eq!(without.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = without.text().await.expect("body");
    assert!(
        body.contains("say why this version goes to production"),
        "{body}"
    );
    let promoted = owner.post(&promote).json(&note).send().await;
    assert_eq!(promoted.expect("promote").status(), StatusCode::OK);
}

pub async fn pages_offer_only_what_the_lifecycle_allows(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    for (dir, factor) in [("uplift-1", 1), ("uplift-2", 2), ("uplift-3", 3)] {
        app.register_model(dir, &manifest(factor)).await;
    }
    let model = app
        .store
        .model("uplift")
        .await
        .expect("query")
        .expect("model");
    let (retired, production) = (&model.versions[1], &model.versions[2]);
    app.store
        .retire_version(retired.id, chrono::Utc::now())
        .await
        .expect("retire");
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let retire = |label: &str| format!("action=\"/models/uplift/versions/{label}/retire\"");

    let page = admin
        .page(&format!("/models/uplift/versions/{}", production.label))
        .await;
    assert!(!page.contains(&retire(&production.label)), "{page}");
    assert!(page.contains("promote another version first"), "{page}");
    let list = admin.page("/models/uplift").await;
    assert!(!list.contains(&retire(&production.label)), "{list}");
    assert!(list.contains(&retire(&model.versions[0].label)), "{list}");

    let page = admin
        .page(&format!("/models/uplift/versions/{}", retired.label))
        .await;
    assert!(page.contains("Retired: it takes no new runs"), "{page}");
    assert!(!page.contains("Candidate:"), "{page}");
    let promote = admin
        .page(&format!(
            "/models/uplift/versions/{}/promote",
            retired.label
        ))
        .await;
    assert!(promote.contains("is retired"), "{promote}");
    assert!(!promote.contains("name=\"note\""), "{promote}");
}

pub async fn the_cli_promotes_and_rolls_back(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    app.register_model("uplift-1", &manifest(1)).await;
    app.register_model("uplift-2", &manifest(2)).await;
    let model = app
        .store
        .model("uplift")
        .await
        .expect("query")
        .expect("model");
    let (newest, first) = (
        model.versions[0].label.clone(),
        model.versions[1].label.clone(),
    );
    let token = app.token(ADMIN_EMAIL).await;

    let listed = client(&app, &token)
        .args(["models", "list"])
        .output()
        .expect("list");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("production") && text.contains("candidate"),
        "{text}"
    );

    let missing = client(&app, &token)
        .args(["models", "promote", "uplift", &newest])
        .output()
        .expect("promote");
    assert!(!missing.status.success(), "--note is required");

    let out = client(&app, &token)
        .args([
            "models",
            "promote",
            "uplift",
            &newest,
            "--note",
            "new seasonality",
        ])
        .output()
        .expect("promote");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains(&format!("{first} is a candidate again")),
        "{said}"
    );

    let back = client(&app, &token)
        .args(["models", "promote", "uplift", &first, "--note", "roll back"])
        .output()
        .expect("roll back");
    assert!(back.status.success());
    let model = app
        .store
        .model("uplift")
        .await
        .expect("query")
        .expect("model");
    assert_eq!(model.production().map(|v| v.label.clone()), Some(first));
}
