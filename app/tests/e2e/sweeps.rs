//! Sweeps through the API and the run form: a grid of runs made in one
//! submission, refused whole when any run would be, repeated once per
//! key, cancelled together, and seen only by who may see its runs.

use modelrun_core::audit::AuditFilter;
use modelrun_core::config::RunVisibility;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::security::{BOB_EMAIL, add_bob};
use crate::support::*;

const SWEEPS: &str = "/api/v1/models/forecast/sweeps";

/// The refused fields of a 422 answer, with their messages.
async fn refused(response: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn six_runs() -> Value {
    json!({
        "inputs": { "horizon_months": 3 },
        "vary": {
            "growth_rate": { "from": 0.02, "to": 0.04, "step": 0.01 },
            "seasonality": ["retail", "b2b"]
        }
    })
}

async fn run_count(app: &TestApp) -> usize {
    let api = app.api(&app.token(ADMIN_EMAIL).await);
    let runs = api.get_json("/api/v1/runs?limit=200").await;
    runs["runs"].as_array().map_or(0, Vec::len)
}

pub async fn a_sweep_runs_every_combination_once(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api
        .post(SWEEPS)
        .header("Idempotency-Key", "sweep-1")
        .json(&six_runs())
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = location(&created);
    let sweep: Value = created.json().await.expect("json");
    assert_eq!(location, format!("/api/v1/sweeps/{}", sweep["id"]));
    assert_eq!(sweep["run_count"], 6);
    assert_eq!(sweep["inputs"]["horizon_months"], 3);
    assert!(sweep["inputs"].get("growth_rate").is_none(), "{sweep}");
    let runs = sweep["runs"].as_array().expect("runs");
    let grid: Vec<(Value, Value)> = runs
        .iter()
        .map(|run| {
            (
                run["values"]["growth_rate"].clone(),
                run["values"]["seasonality"].clone(),
            )
        })
        .collect();
    // The first varied input changes slowest; no float drift in the range.
    assert_eq!(
        grid,
        [
            (json!(0.02), json!("retail")),
            (json!(0.02), json!("b2b")),
            (json!(0.03), json!("retail")),
            (json!(0.03), json!("b2b")),
            (json!(0.04), json!("retail")),
            (json!(0.04), json!("b2b")),
        ]
    );

    // The same request with the same key is the same sweep; another
    // request with it is refused, and neither makes runs.
    let again = api
        .post(SWEEPS)
        .header("Idempotency-Key", "sweep-1")
        .json(&six_runs())
        .send()
        .await
        .expect("POST");
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.expect("json")["id"],
        sweep["id"]
    );
    let mut other = six_runs();
    other["vary"]["seasonality"] = json!(["summer", "b2b"]);
    let reused = api
        .post(SWEEPS)
        .header("Idempotency-Key", "sweep-1")
        .json(&other)
        .send()
        .await
        .expect("POST");
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(run_count(&app).await, 6);

    app.drain().await;
    let id = sweep["id"].as_i64().expect("id");
    let ended = api.get_json(&format!("/api/v1/sweeps/{id}")).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    assert_eq!(ended["tally"]["succeeded"], 6);
    for run in ended["runs"].as_array().expect("runs") {
        let detail = api.get_json(&format!("/api/v1/runs/{}", run["id"])).await;
        assert_eq!(detail["status"], "succeeded");
        assert_eq!(
            detail["inputs"]["growth_rate"],
            run["values"]["growth_rate"]
        );
        assert_eq!(detail["inputs"]["horizon_months"], 3);
        assert_eq!(detail["sweep"]["id"], id);
        assert_eq!(detail["sweep"]["position"], run["position"]);
    }
    let listed = api.get_json("/api/v1/sweeps").await;
    assert_eq!(listed["sweeps"][0]["id"], id);
    assert_eq!(listed["sweeps"][0]["tally"]["succeeded"], 6);
    assert_eq!(listed["sweeps"][0]["status"], "succeeded");

    // One email for the sweep, not one per run.
    let emails = app.store.list_emails(None, 50).await.expect("emails");
    let subjects: Vec<&str> = emails.iter().map(|email| email.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [format!("Sweep #{id} of forecast succeeded")],
        "{subjects:?}"
    );
    assert!(
        emails[0]
            .text
            .contains("succeeded: of its 6 runs, 6 succeeded."),
        "{}",
        emails[0].text
    );
    assert!(emails[0].text.contains(&format!("/sweeps/{id}")));

    // One audit entry for the sweep, not one per run.
    let audit = app
        .store
        .audit_entries(&AuditFilter {
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let submitted: Vec<_> = audit
        .iter()
        .filter(|entry| entry.action.as_str() == "sweep_submit")
        .collect();
    assert_eq!(submitted.len(), 1);
    assert_eq!(submitted[0].detail["runs"], 6);
}

pub async fn a_sweep_is_refused_whole_naming_the_field(kind: StoreKind) {
    let app = TestApp::spawn_with(kind, |web| web.max_sweep_runs = 4).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let send = |body: Value| api.post(SWEEPS).json(&body).send();

    // A value past the input's maximum, in the middle of a range.
    let mut far = six_runs();
    far["vary"] = json!({ "growth_rate": { "from": 0.3, "to": 0.6, "step": 0.1 } });
    let fields = refused(send(far).await.expect("POST")).await;
    assert_eq!(fields[0].0, "growth_rate", "{fields:?}");
    assert!(fields[0].1.starts_with("0.6 in the sweep"), "{fields:?}");
    // A range longer than the maximum is refused before it is made.
    let long = json!({ "vary": { "growth_rate": { "from": 0, "to": 0.5, "step": 0.000001 } } });
    let fields = refused(send(long).await.expect("POST")).await;
    assert!(fields[0].1.contains("more than 4 values"), "{fields:?}");

    let fields = refused(send(six_runs()).await.expect("POST")).await;
    assert_eq!(
        fields,
        [(
            "vary".to_owned(),
            "makes 6 runs; a sweep makes at most 4".to_owned()
        )]
    );

    let one = json!({ "vary": { "seasonality": ["retail"] } });
    assert_eq!(refused(send(one).await.expect("POST")).await[0].0, "vary");
    let none = json!({ "vary": {} });
    assert_eq!(refused(send(none).await.expect("POST")).await[0].0, "vary");
    let ranged_choice = json!({ "vary": { "seasonality": { "from": 1, "to": 2, "step": 1 } } });
    let fields = refused(send(ranged_choice).await.expect("POST")).await;
    assert_eq!(fields[0].0, "seasonality");
    assert!(fields[0].1.contains("list of values"), "{fields:?}");
    let unknown = json!({ "vary": { "nope": [1, 2] } });
    assert_eq!(
        refused(send(unknown).await.expect("POST")).await[0].0,
        "nope"
    );
    let shapeless = json!({ "vary": { "growth_rate": "0.02 to 0.04" } });
    assert_eq!(
        refused(send(shapeless).await.expect("POST")).await[0].0,
        "growth_rate"
    );
    let zero_step = json!({ "vary": { "growth_rate": { "from": 0.02, "to": 0.04, "step": 0 } } });
    let fields = refused(send(zero_step).await.expect("POST")).await;
    assert!(fields[0].1.contains("more than 0"), "{fields:?}");
    let fixed_wrong = json!({
        "inputs": { "horizon_months": 999 },
        "vary": { "seasonality": ["retail", "b2b"] }
    });
    let fields = refused(send(fixed_wrong).await.expect("POST")).await;
    assert_eq!(fields[0].0, "horizon_months", "{fields:?}");
    assert!(
        fields[0].1.starts_with("(with seasonality = retail)"),
        "{fields:?}"
    );
    let both = json!({ "inputs": { "growth_rate": 9 }, "vary": { "growth_rate": [0.01, 0.02] } });
    let fields = refused(send(both).await.expect("POST")).await;
    assert_eq!(fields[0].0, "growth_rate");
    assert!(
        fields[0].1.contains("is varied in this sweep"),
        "{fields:?}"
    );
    let extra = json!({ "vary": { "growth_rate": { "from": 0.01, "to": 0.02, "step": 0.01, "extra": 5 } } });
    assert_eq!(
        refused(send(extra).await.expect("POST")).await[0].0,
        "growth_rate"
    );
    assert_eq!(run_count(&app).await, 0, "a refused sweep makes no run");
    assert!(
        api.get_json("/api/v1/sweeps").await["sweeps"]
            .as_array()
            .expect("sweeps")
            .is_empty()
    );
}

pub async fn a_sweep_is_cancelled_together_and_seen_by_who_may(kind: StoreKind) {
    let app = TestApp::spawn_with(kind, |web| web.run_visibility = RunVisibility::Own).await;
    add_bob(&app).await;
    let ann = app.api(&app.token(RUNNER_EMAIL).await);
    let bob = app.api(&app.token(BOB_EMAIL).await);
    let sweep: Value = ann
        .post(SWEEPS)
        .json(&json!({ "vary": { "seasonality": ["retail", "b2b", "summer"] } }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let id = sweep["id"].as_i64().expect("id");
    let path = format!("/api/v1/sweeps/{id}");
    // Under own visibility another runner neither sees nor cancels it.
    let hidden = bob.get(&path).send().await.expect("GET");
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let stopped = bob
        .post(&format!("{path}/cancel"))
        .send()
        .await
        .expect("POST");
    assert_eq!(stopped.status(), StatusCode::NOT_FOUND);
    assert!(
        bob.get_json("/api/v1/sweeps").await["sweeps"]
            .as_array()
            .expect("sweeps")
            .is_empty()
    );
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    assert_eq!(
        admin.get_json("/api/v1/sweeps").await["sweeps"][0]["id"],
        id
    );

    let cancelled = ann
        .post(&format!("{path}/cancel"))
        .send()
        .await
        .expect("POST");
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled: Value = cancelled.json().await.expect("json");
    assert!(cancelled["cancelled_at"].is_string(), "{cancelled}");
    for run in cancelled["runs"].as_array().expect("runs") {
        assert!(
            ["cancelling", "cancelled"].contains(&run["status"].as_str().unwrap_or_default()),
            "{run}"
        );
    }
    app.drain().await;
    let ended = ann.get_json(&path).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    assert_eq!(ended["tally"]["cancelled"], 3);
    let emails = app.store.list_emails(None, 50).await.expect("emails");
    assert_eq!(emails.len(), 1, "one email for the sweep");
    assert_eq!(
        emails[0].subject,
        format!("Sweep #{id} of forecast was cancelled")
    );
    // Cancelling an ended sweep changes nothing.
    let again = ann
        .post(&format!("{path}/cancel"))
        .send()
        .await
        .expect("POST");
    assert_eq!(again.status(), StatusCode::OK);
}

pub async fn the_run_form_submits_a_sweep(kind: StoreKind) {
    let app = TestApp::spawn(kind).await;
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page("/models/forecast/runs/new").await;
    assert!(
        page.contains("name=\"_vary.growth_rate.from\""),
        "no range boxes"
    );
    assert!(
        page.contains("name=\"_vary.seasonality\""),
        "no options to vary"
    );
    let label = app.forecast_label().await;
    let form = |from: &'static str| {
        vec![
            ("version", label.clone()),
            ("start_month", "2027-01".to_owned()),
            ("horizon_months", "3".to_owned()),
            ("base_revenue", "100000".to_owned()),
            ("growth_rate", "".to_owned()),
            ("seasonality", "none".to_owned()),
            ("churn_rate", "0,01".to_owned()),
            ("_vary.growth_rate.from", from.to_owned()),
            ("_vary.growth_rate.to", "0,04".to_owned()),
            ("_vary.growth_rate.step", "0,01".to_owned()),
            ("_vary.seasonality", "retail".to_owned()),
            ("_vary.seasonality", "b2b".to_owned()),
            ("_key", "sweep-form-key-1".to_owned()),
        ]
    };
    let send = |pairs: Vec<(&'static str, String)>| {
        let browser = &browser;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post_form("/models/forecast/runs/new", &pairs).await
        }
    };
    // A range that runs backwards is refused at its input, with the boxes
    // as they were typed.
    let backwards = send(form("0,09")).await;
    assert_eq!(backwards.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shown = backwards.text().await.expect("body");
    assert!(shown.contains("to must not be less than from"), "{shown}");
    assert!(
        shown.contains("name=\"_vary.growth_rate.from\" value=\"0,09\""),
        "{shown}"
    );
    assert_eq!(run_count(&app).await, 0);

    // The growth box is empty: a varied input's own box is not read.
    let created = send(form("0,02")).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let target = location(&created);
    assert!(target.starts_with("/sweeps/"), "{target}");
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let sweep = api.get_json(&format!("/api/v1{target}")).await;
    assert_eq!(sweep["run_count"], 6);
    assert_eq!(sweep["inputs"]["churn_rate"], json!(0.01));
    assert_eq!(sweep["runs"][5]["values"]["growth_rate"], json!(0.04));
    assert_eq!(sweep["runs"][5]["values"]["seasonality"], "b2b");

    // The same form sent again is the same sweep; sent again with other
    // values (back, change, submit) it is refused once, with a new key so
    // that the next press makes a new sweep.
    let again = send(form("0,02")).await;
    assert_eq!(location(&again), target);
    let changed = send(form("0,03")).await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shown = changed.text().await.expect("body");
    assert!(
        shown.contains("already submitted with other values"),
        "{shown}"
    );
    assert!(
        !shown.contains("value=\"sweep-form-key-1\""),
        "the key was kept"
    );
    assert!(shown.contains("name=\"_vary.growth_rate.from\" value=\"0,03\""));
}
