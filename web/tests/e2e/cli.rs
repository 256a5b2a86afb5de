//! The `modelrun` binary itself, as the README uses it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

fn modelrun(data: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    command
        .arg("--data-dir")
        .arg(data)
        .env_remove("MODELRUN_ADMIN_PASSWORD")
        .env_remove("MODELRUN_DATA_DIR");
    command
}

fn output(command: &mut Command) -> (bool, String, String) {
    let out = command.output().expect("run modelrun");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_and_tokens_are_created_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, _, err) = output(modelrun(dir.path()).arg("migrate"));
    assert!(ok, "{err}");

    let (ok, out, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "Ann@Example.com"]));
    assert!(ok, "{err}");
    assert!(
        out.starts_with("Created ann@example.com (runner)."),
        "{out}"
    );
    let password = out.lines().last().unwrap_or_default();
    assert_eq!(password.len(), 24);

    let mut child = modelrun(dir.path())
        .args([
            "users",
            "create",
            "--email",
            "bob@example.com",
            "--role",
            "viewer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"bob-password-long-enough\n")
        .expect("write");
    assert!(child.wait().expect("wait").success());
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "bob@example.com"]));
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "not-an-email"]));
    assert!(!ok && err.contains("must be an email address"), "{err}");

    let (ok, out, err) = output(modelrun(dir.path()).args([
        "tokens",
        "create",
        "--user",
        "ann@example.com",
        "--name",
        "ci",
    ]));
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap_or_default();
    assert!(token.starts_with("mr_") && token.len() == 51, "{out}");
    let (ok, _, err) = output(modelrun(dir.path()).args([
        "tokens",
        "create",
        "--user",
        "bob@example.com",
        "--role",
        "admin",
    ]));
    assert!(!ok && err.contains("higher role"), "{err}");
    let (ok, _, err) =
        output(modelrun(dir.path()).args(["tokens", "create", "--user", "nobody@example.com"]));
    assert!(
        !ok && err.contains("there is no user nobody@example.com"),
        "{err}"
    );
}

#[test]
fn models_are_registered_once_per_content() {
    let dir = tempfile::tempdir().expect("dir");
    let model =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/forecast");
    let (ok, out, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("Registered version "), "{out}");
    let (ok, out, _) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok && out.contains("already registered"), "{out}");
    let (ok, out, _) = output(modelrun(dir.path()).args(["models", "list"]));
    assert!(
        ok && out.starts_with("forecast — Revenue forecast"),
        "{out}"
    );

    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(broken.join("modelrun.toml"), "name = \"Bad Name\"\n[inputs]\ntype = \"object\"\n[inputs.properties.x]\ntype = \"array\"\n")
        .expect("write");
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&broken),
    );
    assert!(!ok, "a broken manifest was registered");
    assert!(
        err.contains("name: must be") && err.contains("inputs.properties.x.type"),
        "{err}"
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `modelrun up` on a fresh data directory: an administrator, the example
/// model, a run from submit to download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_everything_on_a_fresh_machine() {
    up_flow(None).await;
}

/// `DATABASE_URL=postgres://… modelrun up` gives the same product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_everything_on_postgres_from_database_url() {
    let database = modelrun_db::postgres::testing::TempDatabase::create().await;
    up_flow(Some(database.config.url.expose())).await;
    let store = modelrun_db::PgStore::open(&database.config)
        .await
        .expect("open");
    let runs = modelrun_core::store::RunStore::list_runs(&store, &Default::default())
        .await
        .expect("runs");
    assert_eq!(runs.items.len(), 1, "the run was stored in Postgres");
    store.close().await;
}

async fn up_flow(database_url: Option<&str>) {
    let dir = tempfile::tempdir().expect("dir");
    let mut up = modelrun(dir.path());
    if let Some(url) = database_url {
        up.env("DATABASE_URL", url);
    }
    let mut child = up
        .args(["up", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut password = None;
    let mut base = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while base.is_none() && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) =
            line.strip_prefix("Created the administrator admin@localhost with the password ")
        {
            password = Some(rest.to_owned());
        }
        if let Some(rest) = line.strip_prefix("modelrun is running at ") {
            base = rest.split_whitespace().next().map(str::to_owned);
        }
    }
    let (password, base) = (
        password.expect("a printed password"),
        base.expect("a printed address"),
    );
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@localhost"),
            ("password", password.as_str()),
            ("next", "/models"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert!(
        signed_in
            .text()
            .await
            .expect("body")
            .contains("Revenue forecast")
    );

    let token = {
        let mut create = modelrun(dir.path());
        if let Some(url) = database_url {
            create.env("DATABASE_URL", url);
        }
        let (ok, out, err) = output(create.args(["tokens", "create", "--user", "admin@localhost"]));
        assert!(ok, "{err}");
        out.lines().last().unwrap_or_default().to_owned()
    };
    let created: Value = client
        .post(format!("{base}/api/v1/models/forecast/runs"))
        .bearer_auth(&token)
        .json(&json!({"inputs": {"growth_rate": 0.1}}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");
    let mut status = String::new();
    for _ in 0..200 {
        let run: Value = client
            .get(format!("{base}/api/v1/runs/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        status = run["status"].as_str().unwrap_or_default().to_owned();
        if status == "succeeded" || status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "succeeded");
    let csv = client
        .get(format!("{base}/runs/{id}/outputs/forecast.csv"))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("csv");
    assert!(
        csv.starts_with("month,revenue,low,high\n2027-01,108900.00,"),
        "{csv}"
    );
    drop(server);
}
