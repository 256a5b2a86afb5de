//! Model secrets set with the command line on a running server's data
//! directory, as an operator does: what reaches the run, and what happens
//! to a value sealed with a key that is not the server's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{modelrun, output};
use crate::cli_installation::piped;
use crate::support::*;

const PRINTS_ITS_LENGTH: &str = "name = \"warehouse\"\n\
    command = [\"sh\", \"-c\", \"echo length ${#WAREHOUSE_URL}\"]\n\
    secrets = [\"WAREHOUSE_URL\"]\n[inputs]\ntype = \"object\"\n";

/// A value piped from a Windows tool (`\r\n`) reaches the run without its
/// line end; a value later sealed with another key is told apart in every
/// list, and runs are refused with the reason instead of failing later.
pub async fn a_piped_secret_reaches_the_run_and_a_foreign_key_is_told(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("warehouse", PRINTS_ITS_LENGTH).await;
    let data = app.dir.path().join("data");
    let set = |value: &[u8], key: Option<String>| {
        let mut command = modelrun(&data);
        command.args(["secrets", "set", "warehouse", "WAREHOUSE_URL"]);
        if let Some(key) = key {
            command.env("MODELRUN_SECRETS_KEY", key);
        }
        piped(&mut command, value)
    };
    let (ok, _, err) = set(b"s3cret-value\r\n", None);
    assert!(ok, "{err}");

    let runner = app.api(&app.token(RUNNER_EMAIL).await);
    let submit = || {
        runner
            .post("/api/v1/models/warehouse/runs")
            .json(&json!({"inputs": {}}))
            .send()
    };
    let run: Value = submit().await.expect("submit").json().await.expect("json");
    app.drain().await;
    let id = run["id"].as_i64().expect("id");
    let log = runner
        .get(&format!("/api/v1/runs/{id}/log"))
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert_eq!(log.trim(), "length 12", "s3cret-value, without \\r");

    // Sealed with a key that is not the server's.
    let (ok, _, err) = set(b"another-value\n", Some("cd".repeat(32)));
    assert!(ok, "{err}");
    let listed: Value = runner
        .get("/api/v1/models/warehouse/secrets")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["secrets"][0]["set"], true);
    assert_eq!(listed["secrets"][0]["readable"], false, "{listed}");
    let refused = submit().await.expect("submit");
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let error: Value = refused.json().await.expect("json");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot be read") && message.contains("encrypted with another key"),
        "{message}"
    );
    let (ok, out, err) = output(modelrun(&data).args(["secrets", "list", "warehouse"]));
    assert!(ok, "{err}");
    assert!(out.contains("but the key in use cannot read it"), "{out}");
    let page = app
        .signed_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .page("/models/warehouse")
        .await;
    assert!(page.contains("this server cannot read it"), "{page}");
}
