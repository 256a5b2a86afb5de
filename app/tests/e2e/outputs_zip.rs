//! "Download all outputs": an ended run's outputs in one zip, through the
//! API and the run page, with exactly the bytes each output has on its
//! own; refused before the run ends, to who may not see the run, and when
//! an output's bytes are not what was recorded.

use modelrun_core::blob::BlobKey;
use modelrun_core::config::RunVisibility;
use modelrun_core::ids::RunId;
use modelrun_core::task::TaskKind;
use reqwest::StatusCode;
use reqwest::header::CONTENT_DISPOSITION;
use serde_json::Value;

use crate::bundle::{entries, get_while_draining};
use crate::support::*;

/// A model that leaves three outputs: text, a table in a folder, and
/// binary bytes of every value.
const MANIFEST: &str = "name = \"three\"\ncommand = [\"python3\", \"three.py\"]\n\
    [inputs]\ntype = \"object\"\n";
const MODEL: &str = "import os\n\
    out = os.environ['MODELRUN_OUTPUT_DIR']\n\
    os.makedirs(os.path.join(out, 'tables'), exist_ok=True)\n\
    open(os.path.join(out, 'summary.txt'), 'w').write('total 42\\n')\n\
    open(os.path.join(out, 'tables', 'rates.csv'), 'w').write('month,rate\\n1,0.1\\n')\n\
    open(os.path.join(out, 'noise.bin'), 'wb').write(bytes(range(256)) * 64)\n";

/// A server with the model, and a run of it by an administrator that has
/// not been dispatched yet: the server, the token and the run's id.
async fn submitted(app: &TestApp) -> (String, i64) {
    app.register_model_with("three", MANIFEST, &[("three.py", MODEL)])
        .await;
    let token = app.token(ADMIN_EMAIL).await;
    let run: Value = app.api(&token).submit_defaults("three").await;
    (token, run["id"].as_i64().expect("id"))
}

pub async fn every_output_comes_in_one_zip_with_its_own_bytes(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let (token, id) = submitted(&app).await;
    let api = app.api(&token);
    let path = format!("/api/v1/runs/{id}/outputs.zip");
    let early = api.get(&path).send().await.expect("GET");
    assert_eq!(
        early.status(),
        StatusCode::CONFLICT,
        "not before the run ends"
    );
    app.drain().await;

    let response = get_while_draining(&app, api.get(&path)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()[CONTENT_DISPOSITION]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        disposition.contains(&format!("modelrun-run-{id}-outputs.zip")),
        "{disposition}"
    );
    let zip = entries(&response.bytes().await.expect("zip"));
    let mut names: Vec<&str> = zip.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["noise.bin", "summary.txt", "tables/rates.csv"]);
    for (name, bytes) in &zip {
        let alone = api
            .get(&format!("/api/v1/runs/{id}/outputs/{name}"))
            .send()
            .await
            .expect("GET");
        assert_eq!(alone.status(), StatusCode::OK, "{name}");
        assert_eq!(
            alone.bytes().await.expect("bytes").as_ref(),
            bytes.as_slice(),
            "{name} in the zip is the output itself"
        );
    }

    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page(&format!("/runs/{id}")).await;
    assert!(
        page.contains(&format!(
            "<a href=\"/runs/{id}/outputs.zip\">Download all outputs (zip)</a>"
        )),
        "{page}"
    );
    let from_page = browser.get(&format!("/runs/{id}/outputs.zip")).await;
    assert_eq!(from_page.status(), StatusCode::OK);
    assert_eq!(entries(&from_page.bytes().await.expect("zip")), zip);
}

pub async fn the_zip_of_outputs_is_seen_only_by_who_may_see_its_run(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| web.run_visibility = RunVisibility::Own).await;
    let (_, id) = submitted(&app).await;
    app.drain().await;
    let runner = app.api(&app.token(RUNNER_EMAIL).await);
    let hidden = runner
        .get(&format!("/api/v1/runs/{id}/outputs.zip"))
        .send()
        .await
        .expect("GET");
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.get(&format!("/runs/{id}/outputs.zip")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let tasks = app.store.list_tasks(None, 100).await.expect("tasks");
    assert!(
        tasks.iter().all(|t| t.kind != TaskKind::BuildOutputsZip),
        "nothing was built for who may not see it"
    );
}

pub async fn an_output_whose_bytes_changed_makes_no_zip(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let (token, id) = submitted(&app).await;
    app.drain().await;
    let key = BlobKey::run_output(RunId(id), "summary.txt").expect("key");
    let path = app.components.blob.local_path(&key).expect("a local store");
    std::fs::write(path, "total 41\n").expect("change the output");
    let api = app.api(&token);
    let response =
        get_while_draining(&app, api.get(&format!("/api/v1/runs/{id}/outputs.zip"))).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("summary.txt") && body.contains("does not match its recorded SHA-256"),
        "{body}"
    );
}
