//! `modelrun runs …` and `models list` as a client of a running server.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

pub(crate) fn client(app: &TestApp, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    command
        .env_remove("MODELRUN_URL")
        .env_remove("MODELRUN_TOKEN")
        .env("MODELRUN_CONFIG", "/nonexistent/modelrun-config.toml")
        .args(["--log-format", "text"])
        .env("RUST_LOG", "warn")
        .args(["--data-dir", "/nonexistent"]);
    command
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

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub async fn the_cli_submits_waits_downloads_lists_and_cancels(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let dir = tempfile::tempdir().expect("dir");
    let downloads = dir.path().join("out");

    let mut submit = client(&app, &token);
    submit.args([
        "runs",
        "submit",
        "forecast",
        "--input",
        "growth_rate=0.05",
        "-i",
        "horizon_months=3",
        "--wait",
        "--download",
    ]);
    submit.arg(&downloads);
    let out = run_while_draining(&app, submit).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("succeeded"), "progress is shown: {stderr}");
    assert!(stdout.contains("status     succeeded"), "{stdout}");
    assert!(
        stderr.trim_end().ends_with("Run 1 succeeded."),
        "how it ended, last: {stderr}"
    );
    let csv = std::fs::read_to_string(downloads.join("forecast.csv")).expect("downloaded");
    assert!(csv.starts_with("month,revenue,low,high\n"));
    assert_eq!(
        csv.lines().nth(1).and_then(|l| l.split(',').nth(1)),
        Some(first_month(100_000.0, 0.05, 0.01).as_str())
    );
    assert!(downloads.join("metrics.json").exists());

    let inputs = dir.path().join("inputs.json");
    std::fs::write(&inputs, r#"{"growth_rate": 0.02, "horizon_months": 2}"#).expect("write");
    let mut from_file = client(&app, &token);
    from_file
        .args(["runs", "submit", "forecast", "--json", "--inputs-file"])
        .arg(&inputs)
        .args(["-i", "growth_rate=0.03"]);
    let out = from_file.output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        run["inputs"]["growth_rate"], 0.03,
        "--input overrides the file"
    );
    assert_eq!(run["inputs"]["horizon_months"], 2);
    app.drain().await;

    let out = client(&app, &token)
        .args(["runs", "list"])
        .output()
        .expect("run");
    let table = text(&out.stdout);
    assert!(table.starts_with("ID  MODEL"), "{table}");
    assert_eq!(table.lines().count(), 3, "a header and two runs: {table}");
    let out = client(&app, &token)
        .args(["runs", "list", "--json", "--limit", "1"])
        .output()
        .expect("run");
    let list: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(list["runs"].as_array().map(Vec::len), Some(1));

    let out = client(&app, &token)
        .args(["runs", "logs", "1"])
        .output()
        .expect("run");
    assert!(
        text(&out.stdout).contains("Forecasting 3 months"),
        "{}",
        text(&out.stdout)
    );

    // Nothing to cancel in a run that has ended: said, and not a success.
    let out = client(&app, &token)
        .args(["runs", "cancel", "1"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "Run 1 already finished (succeeded); nothing to cancel."
    );

    let out = client(&app, &token)
        .args(["runs", "submit", "forecast", "-i", "growth_rate=9"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("422") && stderr.contains("growth_rate:"),
        "{stderr}"
    );

    // A failing run: --wait exits non-zero.
    app.register_model(
        "broken",
        "name = \"broken\"\ncommand = [\"false\"]\n[inputs]\ntype = \"object\"\n",
    )
    .await;
    let mut failing = client(&app, &token);
    failing.args(["runs", "submit", "broken", "--wait"]);
    let out = run_while_draining(&app, failing).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("failed"),
        "{}",
        text(&out.stderr)
    );

    // A slow run, followed and cancelled.
    app.register_model("slow", "name = \"slow\"\ncommand = [\"python3\", \"-c\", \"import time\\nprint('tick', flush=True)\\ntime.sleep(60)\"]\n[inputs]\ntype = \"object\"\n").await;
    let out = client(&app, &token)
        .args(["runs", "submit", "slow", "--json"])
        .output()
        .expect("run");
    let slow: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let id = slow["id"].as_i64().expect("id").to_string();
    // Start it, without waiting for it to end as drain() would.
    for _ in 0..50 {
        app.components.worker.run_due().await.expect("worker");
        let run = app
            .store
            .run(modelrun_core::ids::RunId(slow["id"].as_i64().expect("id")))
            .await
            .expect("q")
            .expect("run");
        if run.status.as_str() == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut follow = client(&app, &token);
    follow.args(["runs", "logs", "--follow", &id]);
    let follower = tokio::task::spawn_blocking(move || follow.output().expect("run"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let out = client(&app, &token)
        .args(["runs", "cancel", &id])
        .output()
        .expect("run");
    assert!(
        text(&out.stdout).contains(&format!("Run {id} is cancelling.")),
        "{}",
        text(&out.stdout)
    );
    app.drain().await;
    let followed = tokio::time::timeout(Duration::from_secs(20), follower)
        .await
        .expect("follow ends")
        .expect("join");
    assert!(
        text(&followed.stdout).contains("tick"),
        "{}",
        text(&followed.stdout)
    );
    let out = client(&app, &token)
        .args(["runs", "cancel", &id])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("was already cancelled"),
        "{}",
        text(&out.stderr)
    );

    // models list from the server; a config file instead of the environment.
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("url = \"{}\"\ntoken = \"{token}\"\n", app.base),
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .env_remove("MODELRUN_URL")
        .env_remove("MODELRUN_TOKEN")
        .env("MODELRUN_CONFIG", &config)
        .args(["models", "list"])
        .output()
        .expect("run");
    let models = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        models.starts_with("MODEL") && models.contains("forecast"),
        "{models}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .env_remove("MODELRUN_TOKEN")
        .env("MODELRUN_CONFIG", dir.path().join("none.toml"))
        .args(["runs", "list", "--url", &app.base])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot read"),
        "{}",
        text(&out.stderr)
    );
    let out = client(&app, "mr_wrong")
        .args(["runs", "list"])
        .output()
        .expect("run");
    assert!(text(&out.stderr).contains("401") && text(&out.stderr).contains("check the token"));
}

/// What a model prints to annoy a terminal: a window title, colours, a
/// link, a bell, a bidirectional override, a C1 control.
const NOISY: &str = "import sys\nsys.stdout.buffer.write(\
    b'\\x1b]0;owned\\x07\\x1b[31mred\\x1b[0m \\x1b]8;;http://evil\\x1b\\\\link\\x1b]8;;\\x1b\\\\\\n'\
    b'bell\\x07 \\xe2\\x80\\xaeevil\\xe2\\x80\\xac \\xc2\\x9bC1\\n')\n";
const NOISY_LOG: &[u8] =
    b"\x1b]0;owned\x07\x1b[31mred\x1b[0m \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\n\
    bell\x07 \xe2\x80\xaeevil\xe2\x80\xac \xc2\x9bC1\n";

/// `runs logs` (and `--follow`) on a terminal shows a model's text without
/// its escape sequences; into a pipe it writes the log byte for byte.
pub async fn a_models_escape_sequences_never_reach_a_terminal(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model_with(
        "noisy",
        "name = \"noisy\"\ncommand = [\"python3\", \"noisy.py\"]\n[inputs]\ntype = \"object\"\n",
        &[("noisy.py", NOISY)],
    )
    .await;
    let token = app.token(RUNNER_EMAIL).await;
    let out = client(&app, &token)
        .args(["runs", "submit", "noisy", "--json"])
        .output()
        .expect("run");
    let run: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let id = run["id"].as_i64().expect("id").to_string();
    app.drain().await;

    let piped = client(&app, &token)
        .args(["runs", "logs", &id])
        .output()
        .expect("run");
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    assert_eq!(piped.stdout, NOISY_LOG, "a pipe gets the log as it is");

    // The same commands with a terminal as standard output.
    let bin = env!("CARGO_BIN_EXE_modelrun");
    let environment = client(&app, &token);
    let mut on_terminal = Command::new("script");
    on_terminal
        .args(["--quiet", "--return", "--command"])
        .arg(format!(
            "'{bin}' runs logs {id} && '{bin}' runs logs --follow {id}"
        ))
        .arg("/dev/null")
        .envs(environment.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let shown = on_terminal.output().expect("script");
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown = text(&shown.stdout);
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07'),
        "{shown:?}"
    );
    assert_eq!(
        shown.matches("red link").count(),
        2,
        "both commands showed the text: {shown:?}"
    );
    assert!(
        shown.contains("bell \u{FFFD}evil\u{FFFD} \u{FFFD}C1"),
        "{shown:?}"
    );
}

/// `modelrun runs list | head -1`: a reader that has gone ends a listing
/// quietly (by SIGPIPE, as it ends `cat`), never with a panic's exit code
/// 101 and message.
pub async fn a_listing_into_a_closed_pipe_ends_quietly(store: StoreKind) {
    use std::os::unix::process::ExitStatusExt;

    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut list = client(&app, &token);
    list.args(["runs", "list", "--json"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped());
    let out = list.output().expect("run");
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{:?}", out.status);
}
