//! `modelrun sweeps …` as a client of a running server: submit with
//! `--vary` and `--wait`, list, get, cancel, download the archive; and
//! `--vary` forms that cannot be read, refused naming the flag and the rule.

use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::bundle::{client, run_while_draining, text};
use crate::support::*;
use crate::sweep_archive::check_archive;

/// Runs `modelrun` with `args` while the worker is drained.
async fn modelrun(app: &TestApp, token: &str, args: &[&str]) -> Output {
    let mut command = client(app, token);
    command.args(args);
    run_while_draining(app, command).await
}

/// Runs `modelrun` with `args` with no worker until `idle` has passed
/// (a request for an archive waits 5 s for it, then is answered 202),
/// then while the worker is drained.
async fn modelrun_late(app: &TestApp, token: &str, args: &[&str], idle: Duration) -> Output {
    let mut command = client(app, token);
    command.args(args);
    let child = tokio::task::spawn_blocking(move || command.output().expect("run modelrun"));
    tokio::time::sleep(idle).await;
    loop {
        if child.is_finished() {
            return child.await.expect("join");
        }
        app.drain().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `modelrun` with `args` with no worker at all.
async fn modelrun_idle(app: &TestApp, token: &str, args: &[&str]) -> Output {
    let mut command = client(app, token);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("run modelrun"))
        .await
        .expect("join")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

pub async fn the_cli_submits_lists_gets_cancels_and_downloads_sweeps(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    let dir = tempfile::tempdir().expect("dir");

    let submitted = modelrun(
        &app,
        &token,
        &[
            "sweeps",
            "submit",
            "forecast",
            "-i",
            "horizon_months=3",
            "--vary",
            "growth_rate=0,02:0,03:0,01",
            "--vary",
            "seasonality=none,retail",
            "--wait",
            "--json",
        ],
    )
    .await;
    let sweep: Value = serde_json::from_str(&ok(&submitted)).expect("sweep JSON");
    let id = sweep["id"].as_i64().expect("id");
    let stderr = text(&submitted.stderr);
    assert!(
        stderr.contains(&format!("Submitted sweep {id} of forecast"))
            && stderr.contains("4 runs")
            && stderr.contains(&format!("{}/sweeps/{id}", app.base))
            && stderr.contains("4 of 4 runs ended")
            && stderr.contains(&format!(
                "Sweep {id} succeeded: 4 succeeded, 0 failed, 0 cancelled."
            )),
        "{stderr}"
    );
    assert_eq!(sweep["status"], "succeeded");
    assert_eq!(sweep["inputs"]["horizon_months"], 3);
    let values: Vec<&Value> = sweep["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|run| &run["values"])
        .collect();
    assert_eq!(
        values[0],
        &serde_json::json!({"growth_rate": 0.02, "seasonality": "none"})
    );
    assert_eq!(
        values[3],
        &serde_json::json!({"growth_rate": 0.03, "seasonality": "retail"})
    );

    let list = ok(&modelrun_idle(&app, &token, &["sweeps", "list"]).await);
    assert!(list.starts_with("ID"), "{list}");
    let row = list
        .lines()
        .find(|line| line.starts_with(&format!("{id} ")))
        .expect("the sweep is listed");
    assert!(
        row.contains("forecast")
            && row.contains("succeeded")
            && row.contains("4/4")
            && row.contains("growth_rate, seasonality"),
        "{row}"
    );
    let got = ok(&modelrun_idle(&app, &token, &["sweeps", "get", &id.to_string()]).await);
    assert!(
        got.contains("POSITION  RUN") && got.contains("growth_rate") && got.contains("STATUS"),
        "{got}"
    );
    let first = sweep["runs"][0]["id"].to_string();
    assert!(
        got.lines().any(|line| line.starts_with("0 ")
            && line.contains(&first)
            && line.contains("0.02")
            && line.contains("none")
            && line.trim_end().ends_with("succeeded")),
        "{got}"
    );

    // The archive: waited for through its 202s, then never over a file unless --force.
    let zip = dir.path().join("all.zip");
    let path = zip.to_str().expect("UTF-8");
    let download = modelrun_late(
        &app,
        &token,
        &["sweeps", "download", &id.to_string(), "-o", path],
        Duration::from_secs(6),
    )
    .await;
    ok(&download);
    assert!(
        text(&download.stderr).contains("being made"),
        "{}",
        text(&download.stderr)
    );
    check_archive(&api, &sweep, &std::fs::read(&zip).expect("zip")).await;
    let again = modelrun_idle(
        &app,
        &token,
        &["sweeps", "download", &id.to_string(), "-o", path],
    )
    .await;
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("exists: pass --force"),
        "{}",
        text(&again.stderr)
    );
    std::fs::write(&zip, b"old").expect("write");
    ok(&modelrun_idle(
        &app,
        &token,
        &["sweeps", "download", &id.to_string(), "-o", path, "--force"],
    )
    .await);
    check_archive(&api, &sweep, &std::fs::read(&zip).expect("zip")).await;

    // A sweep cancelled before it ran: cancelled once, then nothing to cancel;
    // its archive is refused until its runs have ended.
    let queued = ok(&modelrun_idle(
        &app,
        &token,
        &[
            "sweeps",
            "submit",
            "forecast",
            "--vary",
            "seasonality=none;summer;b2b",
        ],
    )
    .await);
    let queued_id: i64 = queued
        .strip_prefix("Submitted sweep ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{queued}"));
    assert!(queued.contains(": 3 runs, "), "{queued}");
    let early = modelrun_idle(
        &app,
        &token,
        &[
            "sweeps",
            "download",
            &queued_id.to_string(),
            "-o",
            path,
            "--force",
        ],
    )
    .await;
    assert!(!early.status.success());
    assert!(
        text(&early.stderr).contains("0 of 3 runs ended"),
        "{}",
        text(&early.stderr)
    );
    let cancelled =
        ok(&modelrun_idle(&app, &token, &["sweeps", "cancel", &queued_id.to_string()]).await);
    assert!(
        cancelled.starts_with(&format!("Cancelled sweep {queued_id}")),
        "{cancelled}"
    );
    app.drain().await;
    let twice = modelrun_idle(&app, &token, &["sweeps", "cancel", &queued_id.to_string()]).await;
    assert!(
        twice.status.success(),
        "cancelled already is what was asked"
    );
    assert!(
        text(&twice.stderr).contains("already ended (cancelled)"),
        "{}",
        text(&twice.stderr)
    );
    let ended = api.get_json(&format!("/api/v1/sweeps/{queued_id}")).await;
    assert_eq!(ended["status"], "cancelled");
}

pub async fn a_vary_that_cannot_be_read_names_the_flag_and_the_rule(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    for (vary, expected) in [
        (
            "growth_rate",
            "--vary \"growth_rate\": write it as name=from:to:step",
        ),
        (
            "growth_rate=0.02:0.06",
            "--vary growth_rate=0.02:0.06: a range is from:to:step",
        ),
        ("growth_rate=0,02,0,03", "separates them with ; (0,02;0,03)"),
        (
            "seasonality=retail,,b2b",
            "--vary seasonality=retail,,b2b: item 2 is empty",
        ),
        (
            "growth_rate=0.02:0.06:0",
            "growth_rate: has step 0: a step must be more than 0",
        ),
        (
            "seasonality=0.02:0.03:0.01",
            "seasonality: 0.02:0.03:0.01 in the sweep must be one of",
        ),
        ("nowhere=1,2", "nowhere: is not an input of this version"),
        ("seasonality=retail", "vary: makes one run"),
    ] {
        let out = modelrun_idle(
            &app,
            &token,
            &["sweeps", "submit", "forecast", "--vary", vary],
        )
        .await;
        assert!(!out.status.success(), "{vary}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{vary}: {stderr}");
    }
    let missing = modelrun_idle(&app, &token, &["sweeps", "submit", "forecast"]).await;
    assert!(
        text(&missing.stderr).contains("--vary"),
        "{}",
        text(&missing.stderr)
    );
    let runs = app.api(&token).get_json("/api/v1/sweeps").await;
    assert_eq!(runs["sweeps"], serde_json::json!([]), "nothing was made");
}
