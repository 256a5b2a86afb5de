//! "Download all" of a sweep: once every run has ended, one zip of every
//! run's outputs with `index.csv`, through the API and the page, each
//! file's SHA-256 its own; refused before the end, hidden from who may
//! not see the sweep, and never made when an output is changed or gone.

use std::io::Read;

use modelrun_core::audit::{AuditAction, AuditFilter};
use modelrun_core::blob::BlobKey;
use modelrun_core::config::RunVisibility;
use modelrun_core::ids::RunId;
use modelrun_core::task::TaskKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::bundle::get_while_draining;
use crate::file_inputs::sha256;
use crate::support::*;

/// A model of two inputs whose run with x = 2 and the second label fails
/// before writing anything; every other run writes two outputs.
pub(crate) const SWEEPER: &str = r#"name = "sweeper"
command = ["python3", "sweeper.py"]
[inputs]
type = "object"
required = ["x", "label"]
[inputs.properties.x]
type = "number"
[inputs.properties.label]
type = "string"
enum = ["a", "b, with a comma"]
"#;

pub(crate) const SWEEPER_PY: &str = r#"import json, os, sys
inputs = json.load(open(os.environ['MODELRUN_INPUTS']))
out = os.environ['MODELRUN_OUTPUT_DIR']
if inputs['x'] == 2 and inputs['label'] != 'a':
    print('x = 2 takes only label a')
    sys.exit(3)
open(os.path.join(out, 'out.txt'), 'w').write(f"{inputs['x']} {inputs['label']}\n")
os.makedirs(os.path.join(out, 'detail'), exist_ok=True)
open(os.path.join(out, 'detail', 'values.json'), 'w').write(json.dumps(inputs))
"#;

/// The entries of a zip, by name, in the zip's order.
pub(crate) fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).expect("entry");
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("read");
            (entry.name().expect("a UTF-8 name").into_owned(), content)
        })
        .collect()
}

/// `index.csv` of an archive: its header and rows.
pub(crate) fn index(entries: &[(String, Vec<u8>)]) -> (Vec<String>, Vec<Vec<String>>) {
    let (_, bytes) = entries
        .iter()
        .find(|(name, _)| name == "index.csv")
        .expect("index.csv");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|row| row.expect("row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// Checks an archive against the sweep's JSON (with its runs and their
/// outputs from the API): a row per output, one for a run without, every
/// file's bytes hashing to the row's and the run's SHA-256.
pub(crate) async fn check_archive(api: &Api, sweep: &Value, zip: &[u8]) {
    let entries = entries(zip);
    let (header, rows) = index(&entries);
    let axes: Vec<String> = sweep["axes"]
        .as_array()
        .expect("axes")
        .iter()
        .map(|axis| axis["field"].as_str().expect("field").to_owned())
        .collect();
    let mut expected = vec!["run_id".to_owned(), "position".to_owned()];
    expected.extend(axes.iter().cloned());
    expected.extend(["status", "output", "path", "size_bytes", "sha256"].map(String::from));
    assert_eq!(header, expected);
    let mut files = 0;
    let mut at = 0;
    for (position, listed) in sweep["runs"].as_array().expect("runs").iter().enumerate() {
        let run = api
            .get_json(&format!("/api/v1/runs/{}", listed["id"]))
            .await;
        let outputs = run["outputs"].as_array().expect("outputs");
        let count = outputs.len().max(1);
        for row in &rows[at..at + count] {
            assert_eq!(row[0], run["id"].to_string());
            assert_eq!(row[1], position.to_string());
            for (i, axis) in axes.iter().enumerate() {
                let value = match &listed["values"][axis] {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                assert_eq!(row[2 + i], value, "{axis} of run {}", run["id"]);
            }
            assert_eq!(row[2 + axes.len()], run["status"].as_str().expect("status"));
        }
        let tail = 3 + axes.len();
        if outputs.is_empty() {
            assert_eq!(rows[at][tail..], ["", "", "", ""], "a run without outputs");
        }
        for (row, output) in rows[at..at + count].iter().zip(outputs) {
            let name = output["name"].as_str().expect("name");
            assert_eq!(row[tail], name);
            assert_eq!(row[tail + 1], format!("runs/{}/{name}", run["id"]));
            let (_, bytes) = entries
                .iter()
                .find(|(entry, _)| *entry == row[tail + 1])
                .expect("the row's file is in the zip");
            assert_eq!(row[tail + 2], bytes.len().to_string());
            assert_eq!(row[tail + 3], sha256(bytes), "the bytes are the row's");
            // The checksum recorded where the store gives one (moto may not).
            if let Some(recorded) = output["sha256"].as_str() {
                assert_eq!(row[tail + 3], recorded, "the run's own checksum");
            }
            files += 1;
        }
        at += count;
    }
    assert_eq!(at, rows.len(), "no row but the runs'");
    assert_eq!(
        entries.len(),
        files + 1,
        "the outputs and index.csv, nothing else"
    );
}

pub async fn a_sweeps_archive_holds_every_output_with_its_index(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("sweeper", SWEEPER, &[("sweeper.py", SWEEPER_PY)])
        .await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    let created: Value = api
        .post("/api/v1/models/sweeper/sweeps")
        .json(&json!({ "vary": { "x": { "from": 1, "to": 2, "step": 1 }, "label": ["a", "b, with a comma"] } }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("sweep");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["run_count"], 4);
    let archive = format!("/api/v1/sweeps/{id}/archive");

    // Not before every run has ended.
    let refused = api.get(&archive).send().await.expect("GET");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("0 of 4 runs ended")
            && message.contains("once every run has succeeded, failed or been cancelled"),
        "{body}"
    );

    app.drain().await;
    let sweep = api.get_json(&format!("/api/v1/sweeps/{id}")).await;
    assert_eq!(sweep["status"], "failed", "{sweep}");
    assert_eq!(sweep["tally"]["succeeded"], 3);

    // With nobody building it, it is being prepared; with the worker at it, the zip.
    let waiting = api.get(&archive).send().await.expect("GET");
    assert_eq!(waiting.status(), StatusCode::ACCEPTED);
    assert_eq!(waiting.headers()["retry-after"], "2");
    let body: Value = waiting.json().await.expect("json");
    assert_eq!(body["status"], "preparing");
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let preparing = browser.page(&format!("/sweeps/{id}/archive")).await;
    assert!(
        preparing.contains("http-equiv=\"refresh\"") && preparing.contains("4 runs"),
        "{preparing}"
    );
    let response = get_while_draining(&app, api.get(&archive)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("text");
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"modelrun-sweep-{id}.zip\"")),
        "{disposition}"
    );
    let zip = response.bytes().await.expect("zip");
    check_archive(&api, &sweep, &zip).await;
    let (_, rows) = index(&entries(&zip));
    assert_eq!(
        rows.len(),
        7,
        "two outputs of three runs, one row of the failed run"
    );
    assert!(
        rows.iter().any(|row| row[3] == "b, with a comma"),
        "a comma is quoted, not a new column: {rows:?}"
    );

    // The page's download is the same file, and each download is in the audit log.
    let page = browser.get(&format!("/sweeps/{id}/archive")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.bytes().await.expect("zip"), zip);
    let downloads = app
        .store
        .audit_entries(&AuditFilter {
            limit: 100,
            action: Some(AuditAction::Download),
            ..Default::default()
        })
        .await
        .expect("audit");
    let of_sweep = downloads
        .iter()
        .filter(|entry| entry.target == format!("sweep {id}"))
        .count();
    assert_eq!(of_sweep, 2, "{downloads:?}");
}

pub async fn a_sweeps_archive_is_seen_only_by_who_may_see_the_sweep(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| web.run_visibility = RunVisibility::Own).await;
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let created = admin
        .post("/api/v1/models/forecast/sweeps")
        .json(
            &json!({ "inputs": { "horizon_months": 2 }, "vary": { "growth_rate": [0.02, 0.03] } }),
        )
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("sweep")["id"]
        .as_i64()
        .expect("id");
    app.drain().await;
    let runner = app.api(&app.token(RUNNER_EMAIL).await);
    for path in [
        format!("/api/v1/sweeps/{id}/archive"),
        "/api/v1/sweeps/999999/archive".to_owned(),
        "/api/v1/sweeps/x/archive".to_owned(),
    ] {
        let hidden = runner.get(&path).send().await.expect("GET");
        assert_eq!(hidden.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.get(&format!("/sweeps/{id}/archive")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let tasks = app.store.list_tasks(None, 100).await.expect("tasks");
    assert!(
        tasks.iter().all(|t| t.kind != TaskKind::BuildSweepArchive),
        "nothing was built for who may not see it"
    );
    let sweep = admin.get_json(&format!("/api/v1/sweeps/{id}")).await;
    let response =
        get_while_draining(&app, admin.get(&format!("/api/v1/sweeps/{id}/archive"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    check_archive(&admin, &sweep, &response.bytes().await.expect("zip")).await;
}

pub async fn a_sweep_whose_output_is_changed_or_gone_gets_no_archive(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created: Value = api
        .post("/api/v1/models/forecast/sweeps")
        .json(
            &json!({ "inputs": { "horizon_months": 2 }, "vary": { "growth_rate": [0.02, 0.03] } }),
        )
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("sweep");
    let id = created["id"].as_i64().expect("id");
    let run = created["runs"][1]["id"].as_i64().expect("run");
    app.drain().await;
    let key = BlobKey::run_output(RunId(run), "forecast.csv").expect("key");
    let path = app.components.blob.local_path(&key).expect("a local store");
    let archive = format!("/api/v1/sweeps/{id}/archive");

    std::fs::write(&path, "month,revenue\n").expect("change the output");
    let response = get_while_draining(&app, api.get(&archive)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = response.text().await.expect("body");
    assert!(
        body.contains(&format!("the archive of sweep {id} could not be made"))
            && body.contains(&format!("\\\"forecast.csv\\\" of run {run}"))
            && body.contains("does not match its recorded SHA-256"),
        "{body}"
    );

    std::fs::remove_file(&path).expect("remove the output");
    let response = get_while_draining(&app, api.get(&archive)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = response.text().await.expect("body");
    assert!(
        body.contains(&format!("of run {run} is missing from the blob store")),
        "{body}"
    );
}
