//! What `modelrun runs reproduce` trusts of a bundle: no server it names
//! (the token goes only to the one named on the command line) and no file
//! that does not match its `bundle.json`; and a run whose output is gone
//! from the store gets no bundle.

use modelrun_core::ids::RunId;
use reqwest::StatusCode;
use serde_json::Value;

use crate::bundle::{
    client, echo_manifest, echo_py, get_while_draining, rewritten, run_while_draining, save_bundle,
    text,
};
use crate::support::*;

/// A server with the echo model and one ended run of it by an
/// administrator: the server, the administrator's token and the run's id.
async fn ended_echo_run(store: StoreKind) -> (TestApp, String, i64) {
    let app = TestApp::spawn(store).await;
    app.register_model_with("echo", echo_manifest(), &[("echo.py", &echo_py("one"))])
        .await;
    let token = app.token(ADMIN_EMAIL).await;
    let run: Value = app
        .api(&token)
        .post("/api/v1/models/echo/runs")
        .json(&serde_json::json!({ "inputs": {} }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    app.drain().await;
    (app, token, run["id"].as_i64().expect("id"))
}

pub async fn runs_reproduce_trusts_no_server_and_no_file_the_bundle_names(store: StoreKind) {
    let (app, token, id) = ended_echo_run(store).await;
    let api = app.api(&token);
    let dir = tempfile::tempdir().expect("dir");
    let bundle = save_bundle(&app, &api, id, dir.path()).await;
    let runs = || async {
        let runs = api.get_json("/api/v1/runs?model=echo").await;
        runs["runs"].as_array().expect("runs").len()
    };

    // A bundle edited to name another server: without a server named, refused
    // before anything is sent there.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    elsewhere.set_nonblocking(true).expect("nonblocking");
    let elsewhere_url = format!("http://{}", elsewhere.local_addr().expect("addr"));
    let redirected = rewritten(&bundle, dir.path(), "redirected.zip", |name, content| {
        if name != "bundle.json" {
            return content;
        }
        let mut manifest: Value = serde_json::from_slice(&content).expect("manifest");
        manifest["server_url"] = Value::String(elsewhere_url.clone());
        serde_json::to_vec(&manifest).expect("JSON")
    });
    let mut unnamed = client(&app, &token);
    unnamed
        .env_remove("MODELRUN_URL")
        .env_remove("MODELRUN_CONFIG")
        .env("XDG_CONFIG_HOME", dir.path())
        .args(["runs", "reproduce"])
        .arg(&redirected);
    let out = run_while_draining(&app, unnamed).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&elsewhere_url) && stderr.contains("--url"),
        "{stderr}"
    );
    assert!(
        elsewhere.accept().is_err(),
        "nothing may be sent to the server a bundle names"
    );
    assert_eq!(runs().await, 1);

    // The server named: it runs there, saying the bundle came from elsewhere,
    // and --json --no-wait prints the documented shape.
    let mut named = client(&app, &token);
    named
        .args(["runs", "reproduce", "--no-wait", "--json"])
        .arg(&redirected);
    let out = run_while_draining(&app, named).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("the bundle was made on {elsewhere_url}")),
        "{stderr}"
    );
    let submitted: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let model = app.store.model("echo").await.expect("q").expect("echo");
    let production = model.production().expect("production").label.clone();
    assert_eq!(submitted["version"], production.as_str(), "{submitted}");
    assert_eq!(submitted["bundle_run"], id);
    assert_eq!(submitted["bundle_status"], "succeeded");
    assert!(submitted["run"].as_i64().is_some_and(|new| new != id));
    assert!(submitted["status"].is_string(), "{submitted}");
    assert!(elsewhere.accept().is_err());

    // --version production names the label it resolved to.
    let mut aliased = client(&app, &token);
    aliased
        .args(["runs", "reproduce", "--no-wait", "--version", "production"])
        .arg(&bundle);
    let out = run_while_draining(&app, aliased).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("(version {production})")),
        "{stdout}"
    );

    // A changed output is refused, naming it, and nothing is submitted.
    let before = runs().await;
    let changed = rewritten(&bundle, dir.path(), "changed.zip", |name, content| {
        if name == "outputs/out.txt" {
            b"forged".to_vec()
        } else {
            content
        }
    });
    let mut forged = client(&app, &token);
    forged.args(["runs", "reproduce"]).arg(&changed);
    let out = run_while_draining(&app, forged).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("outputs/out.txt") && stderr.contains("changed"),
        "{stderr}"
    );
    assert_eq!(runs().await, before);
}

pub async fn a_run_whose_output_is_gone_gets_no_bundle(store: StoreKind) {
    let (app, token, id) = ended_echo_run(store).await;
    let api = app.api(&token);
    let key = modelrun_core::blob::BlobKey::run_output(RunId(id), "out.txt").expect("key");
    let path = app.components.blob.local_path(&key).expect("a local store");
    std::fs::remove_file(path).expect("remove the output");
    let response = get_while_draining(&app, api.get(&format!("/api/v1/runs/{id}/bundle"))).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("out.txt") && body.contains("missing from the blob store"),
        "{body}"
    );
}
