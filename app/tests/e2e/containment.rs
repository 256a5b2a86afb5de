//! How the server contains its runs, as people running it see it: nothing
//! of a run outlives the server (after a `kill -9` of `modelrun up`, every
//! process of the run is gone within seconds, even one that left its
//! session), and a server whose runs are not sandboxed says so, at start-up
//! and on its admin pages, or refuses to start when told to require it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::{modelrun, output};
use crate::quick_start::{Server, wait_for_end};
use crate::support::*;

/// The processes of this machine whose command line starts with `marker`.
fn processes_with(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| {
                    std::fs::read(entry.path().join("cmdline"))
                        .map(|c| {
                            String::from_utf8_lossy(&c)
                                .replace('\0', " ")
                                .starts_with(marker)
                        })
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_no_process_of_its_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let model = dir.path().join("lingering");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(
        model.join("modelrun.toml"),
        "name = \"lingering\"\ncommand = [\"sh\", \"-c\", \"setsid sh -c 'sleep 31321' & sleep 31322\"]\n\
         [inputs]\ntype = \"object\"\n",
    )
    .expect("manifest");
    let (ok, _, err) = output(modelrun(dir.path()).arg("migrate"));
    assert!(ok, "{err}");
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["models", "register"])
            .arg(&model),
    );
    assert!(ok, "{err}");
    let (ok, out, err) =
        output(modelrun(dir.path()).args(["users", "create", "--email", "ann@example.com"]));
    assert!(ok, "{err}: {out}");
    let (ok, out, err) =
        output(modelrun(dir.path()).args(["tokens", "create", "--user", "ann@example.com"]));
    assert!(ok, "{err}");
    let token = out.lines().last().unwrap_or_default().to_owned();

    let mut up = modelrun(dir.path());
    up.env("MODELRUN_NO_EXAMPLE", "1")
        .env("MODELRUN_SWEEP_INTERVAL_SECS", "1");
    let mut server = Server::start(up);
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/api/v1/models/lingering/runs", server.base))
        .bearer_auth(&token)
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_i64().expect("id");
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_with("sleep 31321") == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        processes_with("sleep 31321"),
        1,
        "the run's detached grandchild runs"
    );
    assert_eq!(processes_with("sleep 31322"), 1);

    server.child.kill().expect("kill -9");
    server.child.wait().expect("reaped");
    let deadline = Instant::now() + Duration::from_secs(5);
    while processes_with("sleep 3132") > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        processes_with("sleep 3132"),
        0,
        "a process of the run outlived its server"
    );

    // The restarted server says what became of the run.
    let mut again = modelrun(dir.path());
    again
        .env("MODELRUN_NO_EXAMPLE", "1")
        .env("MODELRUN_SWEEP_INTERVAL_SECS", "1");
    let server = Server::start(again);
    let run = wait_for_end(&client, &server.base, &token, id).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    let reason = run["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("stopped (it was killed or crashed) while the model was running"),
        "{reason}"
    );
}

/// Runs that are not sandboxed are named on every admin page, with what a
/// model can then reach; sandboxed ones need no notice.
pub async fn an_unsandboxed_server_says_so_on_its_admin_pages(store: StoreKind) {
    let open = TestApp::spawn_tuned(store, |settings| {
        settings.local.sandbox = modelrun_core::config::SandboxMode::Off;
    })
    .await;
    let admin = open.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for page in [
        "/admin/users",
        "/admin/tasks",
        "/admin/audit",
        "/admin/outbox",
    ] {
        let body = admin.page(page).await;
        assert!(body.contains("id=\"admin-notice\""), "{page}");
        assert!(body.contains("runs are NOT sandboxed"), "{page}: {body}");
    }
    let runner = open.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    assert!(!runner.page("/models").await.contains("admin-notice"));

    let contained = TestApp::spawn(store).await;
    let admin = contained.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(
        !admin.page("/admin/users").await.contains("admin-notice"),
        "a sandboxed server has nothing to warn about"
    );
}

#[test]
fn a_server_that_must_sandbox_and_cannot_does_not_start() {
    let dir = tempfile::tempdir().expect("dir");
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["up", "--sandbox", "required"])
            .env("MODELRUN_BIND", "127.0.0.1:0")
            .env("PATH", "/nonexistent"),
    );
    assert!(!ok);
    assert!(
        err.contains("--sandbox required, but runs cannot be sandboxed here: bubblewrap (bwrap) is not installed"),
        "{err}"
    );
    let (ok, _, err) = output(
        modelrun(dir.path())
            .args(["up", "--sandbox", "sometimes"])
            .env("MODELRUN_BIND", "127.0.0.1:0"),
    );
    assert!(
        !ok && err.contains("unknown sandbox mode \"sometimes\""),
        "{err}"
    );
}
