//! Reproducibility bundles: an ended run's zip through the API and the run
//! page (with its manifest, files, checksums, log and README), and
//! `modelrun runs reproduce` with the real binary: identical outputs for a
//! deterministic model, a retired version refused, `--version latest`.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use modelrun_core::bundle::{BundleManifest, NOT_RECORDED};
use modelrun_core::config::RunVisibility;
use modelrun_core::ids::RunId;
use reqwest::StatusCode;
use serde_json::Value;

use crate::file_inputs::{PLAN_CSV, PLAN_PY, PLANFILE, sha256};
use crate::support::*;

/// The binary as a client of `app`, with `token`.
pub(crate) fn client(app: &TestApp, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    command
        .env_remove("MODELRUN_CONFIG")
        .env("MODELRUN_CONFIG", "/nonexistent/modelrun-config.toml")
        .env("RUST_LOG", "warn")
        .env("MODELRUN_URL", &app.base)
        .env("MODELRUN_TOKEN", token);
    command
}

/// Runs the command while the worker is drained, as a busy server would.
pub(crate) async fn run_while_draining(app: &TestApp, mut command: Command) -> Output {
    let child = tokio::task::spawn_blocking(move || command.output().expect("run modelrun"));
    loop {
        if child.is_finished() {
            return child.await.expect("join");
        }
        app.drain().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A model whose one output is the text of its `out.txt` file.
pub(crate) fn echo_manifest() -> &'static str {
    "name = \"echo\"\ncommand = [\"python3\", \"echo.py\"]\n[inputs]\ntype = \"object\"\n"
}

pub(crate) fn echo_py(text: &str) -> String {
    format!(
        "import os\nopen(os.path.join(os.environ['MODELRUN_OUTPUT_DIR'], 'out.txt'), 'w').write({text:?})\nprint('wrote out.txt')\n"
    )
}

/// GETs `path` while the worker is drained, as a running server's worker
/// would build the bundle the request queued.
pub(crate) async fn get_while_draining(
    app: &TestApp,
    request: reqwest::RequestBuilder,
) -> reqwest::Response {
    let drain = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.drain().await;
    };
    let (response, ()) = tokio::join!(request.send(), drain);
    response.expect("GET")
}

/// The entries of a zip, by name.
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

fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    entries
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c.as_slice())
        .unwrap_or_else(|| {
            panic!(
                "{name} in {:?}",
                entries.iter().map(|e| &e.0).collect::<Vec<_>>()
            )
        })
}

pub async fn an_ended_run_offers_its_bundle_through_the_api_and_its_page(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("planfile", PLANFILE, &[("plan.py", PLAN_PY)])
        .await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    let dir = tempfile::tempdir().expect("dir");
    let plan = dir.path().join("plan.csv");
    std::fs::write(&plan, PLAN_CSV).expect("write");
    let mut submit = client(&app, &token);
    submit
        .args([
            "runs",
            "submit",
            "planfile",
            "--json",
            "--wait",
            "-i",
            "rates=[0.1]",
            "-i",
        ])
        .arg(format!("plan=@{}", plan.display()));
    let out = run_while_draining(&app, submit).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).expect("run JSON");
    let id = run["id"].as_i64().expect("id");
    let outputs = run["outputs"].as_array().expect("outputs").clone();

    // The first request queues the build and, with the worker at it, gets the zip.
    let response = get_while_draining(&app, api.get(&format!("/api/v1/runs/{id}/bundle"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("text");
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"modelrun-run-{id}.zip\"")),
        "{disposition}"
    );
    let zip = response.bytes().await.expect("body");
    let entries = entries(&zip);

    let manifest: BundleManifest =
        serde_json::from_slice(entry(&entries, "bundle.json")).expect("manifest");
    let version = app
        .store
        .version(
            app.store
                .run(RunId(id))
                .await
                .expect("q")
                .expect("run")
                .version_id,
        )
        .await
        .expect("q")
        .expect("version");
    assert_eq!(manifest.run.id, RunId(id));
    assert_eq!(manifest.model, "planfile");
    assert_eq!(manifest.server_url, app.base);
    assert_eq!(manifest.version.label, version.label);
    assert_eq!(manifest.version.digest, version.digest);
    assert_eq!(manifest.version.runtime, "local");
    assert_eq!(manifest.version.source_commit, NOT_RECORDED);
    assert_eq!(manifest.inputs["rates"], serde_json::json!([0.1]));
    let file = &manifest.input_files[0];
    assert_eq!(
        (file.name.as_str(), file.file_name.as_str()),
        ("plan", "plan.csv")
    );
    assert_eq!(file.sha256, sha256(PLAN_CSV.as_bytes()));
    assert_eq!(entry(&entries, "inputs/plan/plan.csv"), PLAN_CSV.as_bytes());
    assert_eq!(manifest.outputs.len(), outputs.len());
    for output in &outputs {
        let name = output["name"].as_str().expect("name");
        let listed = manifest
            .outputs
            .iter()
            .find(|o| o.name == name)
            .expect("every output is listed");
        assert_eq!(Some(listed.sha256.as_str()), output["sha256"].as_str());
        let content = entry(&entries, &format!("outputs/{name}"));
        assert_eq!(sha256(content), listed.sha256, "the bytes are the output's");
        assert_eq!(listed.size, content.len() as u64);
    }
    let inputs: Value = serde_json::from_slice(entry(&entries, "inputs.json")).expect("json");
    assert_eq!(inputs["plan"]["name"], "plan.csv");
    let readme = String::from_utf8_lossy(entry(&entries, "README.md")).into_owned();
    for expected in [
        "modelrun runs reproduce",
        "curl -sS -X POST",
        "/api/v1/uploads",
        "/api/v1/models/planfile/runs",
        "Source commit | not recorded",
        &version.digest,
    ] {
        assert!(readme.contains(expected), "{expected} in {readme}");
    }
    entry(&entries, "log.txt");

    // The run page offers it, and its link downloads the same zip.
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page(&format!("/runs/{id}")).await;
    assert!(
        page.contains(&format!("href=\"/runs/{id}/bundle\"")),
        "{page}"
    );
    let download = browser.get(&format!("/runs/{id}/bundle")).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.bytes().await.expect("body"), zip);

    // A run that has not ended offers none.
    let queued = api.submit_defaults("forecast").await;
    let queued_id = queued["id"].as_i64().expect("id");
    let page = browser.page(&format!("/runs/{queued_id}")).await;
    assert!(!page.contains(&format!("/runs/{queued_id}/bundle")));
    let refused = api
        .get(&format!("/api/v1/runs/{queued_id}/bundle"))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("once the run has succeeded, failed or been cancelled")),
        "{body}"
    );

    // With nobody building it, the API says it is being prepared, then gives it.
    app.drain().await;
    let waiting = api
        .get(&format!("/api/v1/runs/{queued_id}/bundle"))
        .send()
        .await
        .expect("GET");
    assert_eq!(waiting.status(), StatusCode::ACCEPTED);
    assert_eq!(waiting.headers()["retry-after"], "2");
    let body: Value = waiting.json().await.expect("json");
    assert_eq!(body["status"], "preparing");
    let preparing = browser.page(&format!("/runs/{queued_id}/bundle")).await;
    assert!(preparing.contains("http-equiv=\"refresh\""), "{preparing}");
    app.drain().await;
    let ready = api
        .get(&format!("/api/v1/runs/{queued_id}/bundle"))
        .send()
        .await
        .expect("GET");
    assert_eq!(ready.status(), StatusCode::OK);
}

pub async fn a_bundle_is_seen_only_by_who_may_see_its_run(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| web.run_visibility = RunVisibility::Own).await;
    let admin = app.api(&app.token(ADMIN_EMAIL).await);
    let run = admin.submit_defaults("forecast").await;
    app.drain().await;
    let id = run["id"].as_i64().expect("id");
    let runner = app.api(&app.token(RUNNER_EMAIL).await);
    let hidden = runner
        .get(&format!("/api/v1/runs/{id}/bundle"))
        .send()
        .await
        .expect("GET");
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.get(&format!("/runs/{id}/bundle")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let tasks = app.store.list_tasks(None, 100).await.expect("tasks");
    assert!(
        tasks
            .iter()
            .all(|t| t.kind != modelrun_core::task::TaskKind::BuildBundle),
        "nothing was built for who may not see it"
    );
}

/// Saves run `id`'s bundle into `dir`; its path.
pub(crate) async fn save_bundle(
    app: &TestApp,
    api: &Api,
    id: i64,
    dir: &Path,
) -> std::path::PathBuf {
    let response = get_while_draining(app, api.get(&format!("/api/v1/runs/{id}/bundle"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let path = dir.join(format!("modelrun-run-{id}.zip"));
    std::fs::write(&path, response.bytes().await.expect("zip")).expect("save");
    path
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn runs_reproduce_compares_outputs_and_refuses_a_retired_version(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("echo", echo_manifest(), &[("echo.py", &echo_py("one"))])
        .await;
    app.register_model_with("echo", echo_manifest(), &[("echo.py", &echo_py("two"))])
        .await;
    let model = app.store.model("echo").await.expect("q").expect("echo");
    let newer = model.latest_active().expect("active").clone();
    assert_eq!(model.versions.len(), 2);
    // An administrator may run any active version, as the bundle's run does.
    let token = app.token(ADMIN_EMAIL).await;
    let api = app.api(&token);
    let run: Value = api
        .post("/api/v1/models/echo/runs")
        .json(&serde_json::json!({ "version": newer.label, "inputs": {} }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    app.drain().await;
    let id = run["id"].as_i64().expect("id");
    let dir = tempfile::tempdir().expect("dir");
    let bundle = save_bundle(&app, &api, id, dir.path()).await;

    // The same version again: every output identical, exit 0.
    let mut again = client(&app, &token);
    again.args(["runs", "reproduce"]).arg(&bundle);
    let out = run_while_draining(&app, again).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("out.txt") && stdout.contains("identical"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 identical, 0 differ, 0 missing, 0 new."),
        "{stdout}"
    );
    let runs = api.get_json("/api/v1/runs?model=echo").await;
    let versions: Vec<&str> = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["version"].as_str())
        .collect();
    assert_eq!(
        versions,
        [newer.label.as_str(); 2],
        "one new run, of the same version"
    );

    // The bundle's version retired: refused, saying what to do.
    app.store
        .retire_version(newer.id, chrono::Utc::now())
        .await
        .expect("retire");
    let mut refused = client(&app, &token);
    refused.args(["runs", "reproduce"]).arg(&bundle);
    let out = run_while_draining(&app, refused).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is retired") && stderr.contains("--version latest"),
        "{stderr}"
    );

    // --version latest runs the other version, whose output differs: exit 3.
    let mut latest = client(&app, &token);
    latest
        .args(["runs", "reproduce", "--version", "latest", "--json"])
        .arg(&bundle);
    let out = run_while_draining(&app, latest).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["identical"], false);
    assert_eq!(
        report["outputs"],
        serde_json::json!([{ "name": "out.txt", "result": "differs" }])
    );
    assert_ne!(report["run"], serde_json::json!(id));
}

/// A copy of the zip at `from` in `dir` as `name`, with `change` applied to
/// each entry's content.
pub(crate) fn rewritten(
    from: &Path,
    dir: &Path,
    name: &str,
    change: impl Fn(&str, Vec<u8>) -> Vec<u8>,
) -> std::path::PathBuf {
    use std::io::Write;
    let bytes = std::fs::read(from).expect("read");
    let to = dir.join(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&to).expect("create"));
    for (entry, content) in entries(&bytes) {
        zip.start_file(entry.as_str(), zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(&change(&entry, content)).expect("write");
    }
    zip.finish().expect("finish");
    to
}
