//! Schedules from the API, the pages and the worker: refusals name their
//! field, a due slot makes one run as the owner that says which schedule
//! made it, a disabled owner's slot is skipped and recorded, and pause,
//! resume and delete apply (the runs stay).

use chrono::{Duration, Utc};
use modelrun_core::audit::AuditFilter;
use modelrun_core::config::RunVisibility;
use modelrun_core::ids::ScheduleId;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::{BOB_EMAIL, BOB_PASSWORD, add_bob};
use crate::support::*;

/// The first refused field of a 422 answer.
async fn refused_field(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    body["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn schedule(name: &str, cron: &str, zone: &str) -> Value {
    json!({
        "name": name, "model": "forecast", "cron": cron, "time_zone": zone,
        "inputs": { "growth_rate": 0.03 }
    })
}

/// Makes the schedule due now, as if its slot had come.
async fn make_due(app: &TestApp, id: i64) {
    app.store
        .set_schedule_paused(
            ScheduleId(id),
            false,
            Some(Utc::now() - Duration::seconds(1)),
        )
        .await
        .expect("due");
}

pub async fn the_api_schedules_fires_once_and_pauses(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let create = |body: Value| api.post("/api/v1/schedules").json(&body).send();

    let bad = create(schedule("Monthly", "every morning", "Europe/Berlin"))
        .await
        .expect("POST");
    assert_eq!(refused_field(bad).await, "cron");
    let bad = create(schedule("Monthly", "0 6 1W * *", "Europe/Paris-ish"))
        .await
        .expect("POST");
    assert_eq!(refused_field(bad).await, "time_zone");
    let mut unknown = schedule("Monthly", "0 6 1W * *", "UTC");
    unknown["inputs"]["growth_rate"] = json!(7);
    assert_eq!(
        refused_field(create(unknown).await.expect("POST")).await,
        "growth_rate"
    );

    let created = create(schedule("Monthly", "0 6 1W * *", "Europe/Berlin"))
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["version"], "production");
    assert_eq!(created["state"], "active");
    assert_eq!(created["owner"], RUNNER_EMAIL);
    assert_eq!(created["next_fire_times"].as_array().map(Vec::len), Some(3));
    // Unattended runs follow production, or a label pinned on purpose;
    // `latest` would run whatever arrived last, unchecked.
    let mut latest = schedule("Latest", "0 6 1W * *", "UTC");
    latest["version"] = json!("latest");
    assert_eq!(
        refused_field(create(latest).await.expect("POST")).await,
        "version"
    );
    let mut nope = schedule("Nope", "0 6 1W * *", "UTC");
    nope["version"] = json!("nope");
    assert_eq!(
        refused_field(create(nope).await.expect("POST")).await,
        "version"
    );
    let again = create(schedule("Monthly", "0 7 * * *", "UTC"))
        .await
        .expect("POST");
    assert_eq!(refused_field(again).await, "name");
    // Slots are whole minutes, whenever they were computed: a fire's key.
    for at in created["next_fire_times"].as_array().expect("times") {
        let at: chrono::DateTime<Utc> = serde_json::from_value(at.clone()).expect("time");
        assert_eq!(at.timestamp_subsec_nanos(), 0, "{at}");
        assert_eq!(at.timestamp() % 60, 0, "{at}");
    }
    let id = created["id"].as_i64().expect("id");

    // Its slot comes: two passes of the worker make one run.
    make_due(&app, id).await;
    let worker = &app.components.worker;
    let first = worker.fire_schedules().await.expect("fire");
    let second = worker.fire_schedules().await.expect("fire");
    assert_eq!((first.runs.len(), second.runs.len()), (1, 0));
    app.drain().await;
    let run_id = first.runs[0].0;
    let run = api.get_json(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["submitted_by"], RUNNER_EMAIL);
    assert_eq!(run["inputs"]["growth_rate"], 0.03);
    assert_eq!(run["scheduled_by"]["name"], "Monthly");
    let shown = api.get_json(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(shown["fires"][0]["run_id"].as_i64(), Some(run_id.0));
    assert_eq!(shown["fires"][0]["run_status"], "succeeded");
    let page = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let html = page.page(&format!("/runs/{run_id}")).await;
    assert!(
        html.contains("Scheduled by <a href=\"/schedules/"),
        "{html}"
    );

    // A disabled owner's slot is skipped, and says why.
    let ann = app
        .store
        .credentials(RUNNER_EMAIL)
        .await
        .expect("q")
        .expect("ann")
        .user;
    app.store
        .set_disabled(ann.id, true, Utc::now())
        .await
        .expect("disable");
    make_due(&app, id).await;
    let skipped = worker.fire_schedules().await.expect("fire");
    assert_eq!((skipped.runs.len(), skipped.recorded), (0, 1));
    app.store
        .set_disabled(ann.id, false, Utc::now())
        .await
        .expect("enable");
    let shown = api.get_json(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(shown["fires"][0]["outcome"], "skipped");
    assert!(
        shown["fires"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled")
    );

    // Paused: nothing fires; resumed from its next slot; deleted: runs stay.
    let paused: Value = api
        .post(&format!("/api/v1/schedules/{id}/pause"))
        .send()
        .await
        .expect("pause")
        .json()
        .await
        .expect("json");
    assert_eq!(paused["state"], "paused");
    assert!(
        paused["next_fire_times"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    let resumed: Value = api
        .post(&format!("/api/v1/schedules/{id}/resume"))
        .send()
        .await
        .expect("resume")
        .json()
        .await
        .expect("json");
    assert_eq!(resumed["state"], "active");
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let listed = admin.get_json("/api/v1/schedules").await;
    assert_eq!(listed["schedules"][0]["name"], "Monthly");
    let deleted = api
        .delete(&format!("/api/v1/schedules/{id}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = api
        .get(&format!("/api/v1/schedules/{id}"))
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let run = api.get_json(&format!("/api/v1/runs/{run_id}")).await;
    assert_eq!(run["scheduled_by"]["name"], "Monthly");

    // Who created, paused, resumed and deleted it is in the audit log.
    let entries = app
        .store
        .audit_entries(&AuditFilter {
            actor: Some(RUNNER_EMAIL.to_owned()),
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let actions: Vec<&str> = entries
        .iter()
        .map(|entry| entry.action.as_str())
        .filter(|action| action.starts_with("schedule_"))
        .collect();
    assert_eq!(
        actions,
        [
            "schedule_delete",
            "schedule_resume",
            "schedule_pause",
            "schedule_create"
        ]
    );
    assert!(entries[0].target.contains("Monthly"), "{:?}", entries[0]);
}

pub async fn the_schedule_form_refuses_then_creates(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = browser.page("/models/forecast/schedules/new").await;
    assert!(form.contains("name=\"cron\""), "{form}");
    assert!(form.contains("name=\"growth_rate\""), "{form}");
    assert!(!form.contains("type=\"file\""), "no file input: {form}");
    let run_form = browser.page("/models/forecast/runs/new").await;
    assert!(run_form.contains("id=\"schedule-link\""));

    let mut fields = vec![
        ("version", "production"),
        ("name", "Weekday mornings"),
        ("cron", "0 6 * * MON-FRI"),
        ("time_zone", "Mars/Base"),
        ("growth_rate", "0.9"),
    ];
    let refused = browser
        .post_form("/models/forecast/schedules/new", &fields)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("body");
    assert!(html.contains("id=\"err-time_zone\""), "{html}");
    assert!(html.contains("id=\"err-growth_rate\""), "{html}");
    assert!(
        html.contains("Weekday mornings"),
        "what was typed stays: {html}"
    );
    assert!(app.store.schedules().await.expect("list").is_empty());

    fields[3] = ("time_zone", "Europe/Berlin");
    fields[4] = ("growth_rate", "0.04");
    let created = browser
        .post_form("/models/forecast/schedules/new", &fields)
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let page = browser.page(&location(&created)).await;
    assert!(page.contains("Weekday mornings"));
    assert_eq!(
        page.matches("<li><time").count(),
        3,
        "the next 3 fire times: {page}"
    );
    let list = browser.page("/schedules").await;
    assert!(list.contains("Weekday mornings"));

    let viewer = app.browser();
    let response = viewer.get("/schedules").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "signed out: to the sign-in page"
    );
}

/// Version 1 takes a level up to 10; version 2 only up to 3.
fn gauge(max: u32) -> String {
    format!(
        "name = \"gauge\"\ncommand = [\"true\"]\n[inputs]\ntype = \"object\"\n\
         [inputs.properties.level]\ntype = \"number\"\nmaximum = {max}\ndefault = 1\n"
    )
}

pub async fn a_new_version_that_refuses_the_inputs_fails_the_fire_visibly(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    app.register_model("gauge-1", &gauge(10)).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created: Value = api
        .post("/api/v1/schedules")
        .json(&json!({
            "name": "Gauge", "model": "gauge", "cron": "@daily",
            "inputs": { "level": 5 }
        }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("created");
    // A newer version is a candidate: the schedule keeps running production
    // until it is promoted.
    app.register_model("gauge-2", &gauge(3)).await;
    make_due(&app, id).await;
    let fired = app.components.worker.fire_schedules().await.expect("fire");
    assert_eq!(fired.runs.len(), 1, "production gauge-1 still runs");
    let newest = app
        .store
        .model("gauge")
        .await
        .expect("model")
        .and_then(|model| model.latest_active().map(|v| v.label.clone()))
        .expect("gauge-2");
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let promoted = admin
        .post(&format!("/api/v1/models/gauge/versions/{newest}/promote"))
        .json(&json!({ "note": "tighter bound" }))
        .send()
        .await
        .expect("promote");
    assert_eq!(promoted.status(), StatusCode::OK, "promoted");
    // Another slot than the one that just fired.
    app.store
        .set_schedule_paused(
            ScheduleId(id),
            false,
            Some(Utc::now() - Duration::seconds(30)),
        )
        .await
        .expect("due");
    let fired = app.components.worker.fire_schedules().await.expect("fire");
    assert_eq!((fired.runs.len(), fired.recorded), (0, 1));
    let shown = api.get_json(&format!("/api/v1/schedules/{id}")).await;
    let fire = shown["fires"]
        .as_array()
        .and_then(|fires| fires.iter().find(|fire| fire["outcome"] == "failed"))
        .unwrap_or_else(|| panic!("a failed fire: {shown}"));
    assert_eq!(shown["fires"].as_array().map(Vec::len), Some(2), "{shown}");
    assert!(
        fire["message"]
            .as_str()
            .unwrap_or_default()
            .contains("level"),
        "{fire}"
    );
    // It goes on: the next slot is tomorrow's.
    assert_eq!(shown["state"], "active");
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page(&format!("/schedules/{id}")).await;
    assert!(page.contains("do not fit version"), "{page}");
}

/// With own-only visibility a runner sees only their own schedules (list,
/// page, API) and another's is not found; admins see all. Names are unique
/// per owner, so a name another person uses is no sign of their schedule.
pub async fn own_only_hides_other_peoples_schedules(kind: StoreKind) {
    let app = TestApp::spawn_with(kind, |web| web.run_visibility = RunVisibility::Own).await;
    add_bob(&app).await;
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let created = admin
        .post("/api/v1/schedules")
        .json(&schedule("Board report", "0 6 1W * *", "UTC"))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");

    let bob = app.api(&app.token(BOB_EMAIL).await);
    let listed = bob.get_json("/api/v1/schedules").await;
    assert_eq!(listed["schedules"], json!([]), "{listed}");
    for path in [
        format!("/api/v1/schedules/{id}"),
        format!("/api/v1/schedules/{id}/pause"),
    ] {
        let response = if path.ends_with("pause") {
            bob.post(&path).send().await
        } else {
            bob.get(&path).send().await
        };
        assert_eq!(
            response.expect("send").status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let gone = bob
        .delete(&format!("/api/v1/schedules/{id}"))
        .send()
        .await
        .expect("DELETE");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let browser = app.signed_in(BOB_EMAIL, BOB_PASSWORD).await;
    assert!(!browser.page("/schedules").await.contains("Board report"));
    let page = browser.get(&format!("/schedules/{id}")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);

    // Bob may use the same name for his own schedule.
    let own = bob
        .post("/api/v1/schedules")
        .json(&schedule("Board report", "0 7 * * *", "UTC"))
        .send()
        .await
        .expect("POST");
    assert_eq!(own.status(), StatusCode::CREATED);
    let listed = bob.get_json("/api/v1/schedules").await;
    assert_eq!(listed["schedules"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["schedules"][0]["owner"], BOB_EMAIL);

    let all = admin.get_json("/api/v1/schedules").await;
    assert_eq!(all["schedules"].as_array().map(Vec::len), Some(2), "{all}");
    let shown = admin.get_json(&format!("/api/v1/schedules/{id}")).await;
    assert_eq!(shown["name"], "Board report");
}
