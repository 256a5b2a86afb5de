//! `modelrun schedules …` as a client of a running server.

use std::process::{Command, Output};

use serde_json::Value;

use crate::support::*;

/// The command line as a client of `app`, with `token`, and nothing of
/// this machine's configuration.
fn client(app: &TestApp, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    command
        .env("MODELRUN_CONFIG", "/nonexistent/modelrun-config.toml")
        .env("MODELRUN_URL", &app.base)
        .env("MODELRUN_TOKEN", token)
        .env("RUST_LOG", "warn")
        .args(["--log-format", "text", "--data-dir", "/nonexistent"]);
    command
}

async fn run(app: &TestApp, token: &str, args: &[&str]) -> Output {
    let mut command = client(app, token);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run modelrun"))
        .await
        .expect("join")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn the_cli_creates_lists_pauses_resumes_and_deletes_schedules(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;

    let bad = run(
        &app,
        &token,
        &[
            "schedules",
            "create",
            "forecast",
            "--name",
            "Nightly",
            "--cron",
            "at two",
        ],
    )
    .await;
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("cron:"), "{}", text(&bad.stderr));

    let created = run(
        &app,
        &token,
        &[
            "schedules",
            "create",
            "forecast",
            "--name",
            "Nightly",
            "--cron",
            "0 2 * * *",
            "--time-zone",
            "Europe/Berlin",
            "-i",
            "growth_rate=0.05",
            "--json",
        ],
    )
    .await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let schedule: Value = serde_json::from_slice(&created.stdout).expect("json");
    assert_eq!(schedule["inputs"]["growth_rate"], 0.05);
    assert_eq!(schedule["time_zone"], "Europe/Berlin");
    let id = schedule["id"].as_i64().expect("id").to_string();

    let list = run(&app, &token, &["schedules", "list"]).await;
    let listed = text(&list.stdout);
    assert!(
        listed.contains("Nightly") && listed.contains("0 2 * * * (Europe/Berlin)"),
        "{listed}"
    );

    let paused = run(&app, &token, &["schedules", "pause", &id]).await;
    assert!(
        text(&paused.stdout).contains("is paused"),
        "{}",
        text(&paused.stderr)
    );
    let resumed = run(&app, &token, &["schedules", "resume", &id]).await;
    assert!(
        text(&resumed.stdout).contains("is active"),
        "{}",
        text(&resumed.stderr)
    );
    let shown = run(&app, &token, &["schedules", "get", &id]).await;
    assert_eq!(
        text(&shown.stdout).matches("Next:").count(),
        3,
        "{}",
        text(&shown.stdout)
    );

    let deleted = run(&app, &token, &["schedules", "delete", &id]).await;
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let gone = run(&app, &token, &["schedules", "get", &id]).await;
    assert!(!gone.status.success());
    assert!(text(&gone.stderr).contains("404"), "{}", text(&gone.stderr));
}
