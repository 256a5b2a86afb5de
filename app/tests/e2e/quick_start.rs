//! The README's quick start, as a new user runs it: `modelrun up` with no
//! flags in an empty directory (so the data directory is the relative
//! `./.modelrun`), a token from `modelrun tokens create`, the forecast
//! submitted, followed and downloaded. Then the same on Postgres, and a
//! second start that explains why `MODELRUN_ADMIN_PASSWORD` is ignored.

use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{bare_modelrun, modelrun, output};

/// A running `modelrun up`, stopped when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// The address it printed.
    pub(crate) base: String,
    /// What it printed before it was ready.
    printed: Vec<String>,
}

impl Server {
    /// Starts `up` and reads its output until it says where it runs.
    pub(crate) fn start(mut command: Command) -> Server {
        let mut child = command
            .arg("up")
            .env("MODELRUN_BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn modelrun up");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut printed = Vec::new();
        let mut base = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while base.is_none() && Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(rest) = line.strip_prefix("modelrun is running at ") {
                base = rest.split_whitespace().next().map(str::to_owned);
            }
            printed.push(line);
        }
        let base = base.unwrap_or_else(|| panic!("no address printed: {printed:?}"));
        Server {
            child,
            lines,
            base,
            printed,
        }
    }

    /// What it printed before it was ready.
    pub(crate) fn printed(&self) -> &[String] {
        &self.printed
    }

    /// The first administrator's password, printed once on the first start.
    pub(crate) fn printed_password(&self) -> String {
        self.printed
            .iter()
            .find_map(|line| {
                line.strip_prefix("Created the administrator admin@localhost with the password ")
            })
            .unwrap_or_else(|| panic!("no password printed: {:?}", self.printed))
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Whatever is left unread goes with the pipe.
        let _ = self.lines.by_ref().count();
    }
}

/// The README's two steps, verbatim: no `--data-dir`, an empty working
/// directory, nothing but the bind address chosen for the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_works_as_written() {
    let cwd = tempfile::tempdir().expect("dir");
    let here = || {
        let mut command = bare_modelrun();
        command.current_dir(cwd.path());
        command
    };
    let server = Server::start(here());
    let password = server.printed_password();
    let data = cwd.path().canonicalize().expect("cwd").join(".modelrun");
    assert!(
        server
            .printed
            .iter()
            .any(|line| line.contains(&data.display().to_string())),
        "the data directory is named in full: {:?}",
        server.printed
    );
    sign_in_and_run_the_forecast(&server.base, &password, here).await;
    assert!(cwd.path().join(".modelrun/modelrun.db").is_file());
    drop(server);

    // A second start with another password: the administrator exists, and
    // the person is told that the variable changed nothing, and what does.
    let mut again = here();
    again.env("MODELRUN_ADMIN_PASSWORD", "another-password-entirely");
    let server = Server::start(again);
    let notice = server
        .printed
        .iter()
        .find(|line| line.contains("MODELRUN_ADMIN_PASSWORD was ignored"))
        .unwrap_or_else(|| panic!("no notice: {:?}", server.printed));
    assert!(
        notice.starts_with("The administrator admin@localhost already exists"),
        "{notice}"
    );
    assert!(
        server
            .printed
            .iter()
            .any(|line| line.contains("modelrun users set-password --email admin@localhost")),
        "{:?}",
        server.printed
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let refused = sign_in(&client, &server.base, "another-password-entirely").await;
    assert_eq!(refused, StatusCode::UNAUTHORIZED);
    let signed_in = sign_in(&client, &server.base, &password).await;
    assert_eq!(signed_in, StatusCode::SEE_OTHER, "the first password holds");

    // The way out of a lost password, from the same directory.
    let mut set = here()
        .args([
            "users",
            "set-password",
            "--email",
            "admin@localhost",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    set.stdin
        .take()
        .expect("stdin")
        .write_all(b"a-new-password-for-admin\n")
        .expect("write");
    assert!(set.wait().expect("wait").success());
    let signed_in = sign_in(&client, &server.base, "a-new-password-for-admin").await;
    assert_eq!(signed_in, StatusCode::SEE_OTHER);
}

/// The hint of a second start repeats the command as the person ran it:
/// `cargo run … --` from a source checkout (cargo says so in the
/// environment), else the program as typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_hint_repeats_how_modelrun_was_run() {
    let dir = tempfile::tempdir().expect("dir");
    let start = |through_cargo: bool| {
        let mut command = modelrun(dir.path());
        command
            .env("MODELRUN_NO_EXAMPLE", "1")
            .env("MODELRUN_ADMIN_PASSWORD", "a-password-long-enough");
        if through_cargo {
            command
                .env("CARGO", "/usr/bin/cargo")
                .env("CARGO_PKG_NAME", "modelrun-app");
        }
        Server::start(command)
    };
    let hint = |server: &Server| {
        server
            .printed
            .iter()
            .find(|line| line.starts_with("To set a new password: "))
            .unwrap_or_else(|| panic!("no hint: {:?}", server.printed))
            .clone()
    };
    drop(start(false));
    let server = start(true);
    let through_cargo = hint(&server);
    assert!(
        through_cargo.starts_with("To set a new password: cargo run")
            && through_cargo.ends_with(" -- users set-password --email admin@localhost"),
        "{through_cargo}"
    );
    drop(server);
    let server = start(false);
    assert_eq!(
        hint(&server),
        format!(
            "To set a new password: {} users set-password --email admin@localhost",
            env!("CARGO_BIN_EXE_modelrun")
        )
    );
}

/// `modelrun up` with `--data-dir` on a fresh directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_everything_on_a_fresh_machine() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(modelrun(dir.path()));
    let password = server.printed_password();
    sign_in_and_run_the_forecast(&server.base, &password, || modelrun(dir.path())).await;
}

/// `DATABASE_URL=postgres://… modelrun up` gives the same product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_everything_on_postgres_from_database_url() {
    let database = modelrun_db::postgres::testing::TempDatabase::create().await;
    let url = database.config.url.expose().to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let on_postgres = || {
        let mut command = modelrun(dir.path());
        command.env("DATABASE_URL", &url);
        command
    };
    let server = Server::start(on_postgres());
    let password = server.printed_password();
    sign_in_and_run_the_forecast(&server.base, &password, on_postgres).await;
    drop(server);
    assert!(!dir.path().join("modelrun.db").exists(), "no SQLite file");
    let store = modelrun_db::PgStore::open(&database.config)
        .await
        .expect("open");
    let runs = modelrun_core::store::RunStore::list_runs(&store, &Default::default())
        .await
        .expect("runs");
    assert_eq!(runs.items.len(), 1, "the run was stored in Postgres");
    store.close().await;
}

async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> StatusCode {
    client
        .post(format!("{base}/login"))
        .form(&[("email", "admin@localhost"), ("password", password)])
        .send()
        .await
        .expect("sign in")
        .status()
}

/// Signs in as the printed administrator, creates a token with the command
/// line (`command` runs the binary against the same state), submits the
/// forecast through the API, waits for it, and checks `forecast.csv`.
async fn sign_in_and_run_the_forecast(base: &str, password: &str, command: impl Fn() -> Command) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "admin@localhost"),
            ("password", password),
            ("next", "/models"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::OK);
    let models = signed_in.text().await.expect("body");
    assert!(models.contains("Revenue forecast"), "{models}");

    let (ok, out, err) = output(command().args(["tokens", "create", "--user", "admin@localhost"]));
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap_or_default().to_owned();
    // A script: its token and no session cookie, which would make the
    // request a browser's, checked for its origin.
    let client = reqwest::Client::new();
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
    let run = wait_for_end(&client, base, &token, id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let csv = client
        .get(format!("{base}/api/v1/runs/{id}/outputs/forecast.csv"))
        .bearer_auth(&token)
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
    assert_eq!(csv.lines().count(), 25, "a header and 24 months: {csv}");
}

/// The run once it has ended, or as it is after 30 seconds.
pub(crate) async fn wait_for_end(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: i64,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run: Value = client
            .get(format!("{base}/api/v1/runs/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        let ended = matches!(
            run["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        );
        if ended || Instant::now() > deadline {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
