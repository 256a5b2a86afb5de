//! The data directory on a small filesystem (a 24 MiB tmpfs) that fills up
//! while a run is in progress, then frees: writes answer 503 saying the
//! disk is full, `/healthz` says the store cannot write, the run fails
//! saying "no space left on device", a run that was to start waits for
//! space instead, and once space returns the very next write works, the
//! run's end is recorded and the waiting run runs, without a restart.
//!
//! Mounting needs root (CI runs as root); elsewhere the test says it did
//! not run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use modelrun_app::runtime::Settings;
use modelrun_core::config::DiskWatch;
use modelrun_core::status::RunStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount");
        assert!(status.success(), "mount -t tmpfs failed");
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[allow(unsafe_code)]
fn is_root() -> bool {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Writes zeros to `path` until the filesystem refuses (bounded by `most`).
fn fill(path: &Path, most: usize) {
    let mut file = std::fs::File::create(path).expect("fill file");
    let chunk = vec![0u8; 64 * 1024];
    for _ in 0..(most / chunk.len()) {
        if file.write_all(&chunk).is_err() {
            return;
        }
    }
    panic!("the filesystem took {most} bytes without filling up");
}

/// Empties SQLite's write-ahead log into the database file and truncates
/// it, so that the next commit needs new space (an old, longer log would
/// be written over in place).
async fn truncate_wal(database: &Path) {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(database);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .expect("checkpoint");
    conn.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_answers_503_and_writes_resume_when_space_returns() {
    if !is_root() {
        eprintln!("not run: mounting a small filesystem needs root");
        return;
    }
    let mount = tempfile::tempdir().expect("dir");
    let _tmpfs = Tmpfs::mount(mount.path(), "24m");
    let data = mount.path().join("data");
    let watched = data.clone();
    let app = TestApp::spawn_full(
        StoreKind::Sqlite,
        None,
        |settings| {
            *settings = Settings::local(data.clone(), settings.public_url.clone());
            settings.local.max_concurrent_runs = 1;
        },
        |web| {
            web.disk = Some(DiskWatch {
                dir: watched,
                min_free_bytes: 4 * 1024 * 1024,
            })
        },
    )
    .await;
    app.register_model(
        "writer",
        "name = \"writer\"\n\
         command = [\"sh\", \"-c\", \"sleep 2; head -c 1048576 /dev/zero > $MODELRUN_OUTPUT_DIR/x.bin\"]\n\
         [inputs]\ntype = \"object\"\n",
    )
    .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let submit = || async {
        api.post("/api/v1/models/writer/runs")
            .json(&json!({ "inputs": {} }))
            .send()
            .await
            .expect("POST")
    };
    let created: Value = submit().await.json().await.expect("json");
    let run = modelrun_core::ids::RunId(created["id"].as_i64().expect("id"));
    app.components.worker.run_due().await.expect("dispatch");
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.store.run(run).await.expect("run").expect("run").status != RunStatus::Running {
        assert!(Instant::now() < deadline, "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // One slot: this one waits for it, and finds the disk full when it comes.
    let created: Value = submit().await.json().await.expect("json");
    let waiting = modelrun_core::ids::RunId(created["id"].as_i64().expect("id"));
    app.components.worker.run_due().await.expect("dispatch");
    let deadline = Instant::now() + Duration::from_secs(30);
    while app
        .store
        .run(waiting)
        .await
        .expect("run")
        .expect("run")
        .status
        != RunStatus::Runnable
    {
        assert!(
            Instant::now() < deadline,
            "the second run never waited for a slot"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A token not used yet: its first use notes the time, a write.
    let reader = app.api(&app.token(ADMIN_EMAIL).await);

    truncate_wal(&mount.path().join("data/modelrun.db")).await;
    let filler = mount.path().join("filler");
    fill(&filler, 64 * 1024 * 1024);

    let refused = submit().await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = refused.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("disk is full"), "{body}");
    // Reading needs no space: a "last used" time that cannot be written
    // is no reason to refuse.
    let read = reader.get("/api/v1/runs").send().await.expect("GET");
    assert_eq!(read.status(), StatusCode::OK, "{:?}", read.text().await);
    let health = reqwest::get(app.url("/healthz")).await.expect("GET");
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: Value = health.json().await.expect("json");
    assert_eq!(health["writable"], false, "{health}");
    assert!(
        health["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("is full"),
        "{health}"
    );

    // The model fails to write its output; its end cannot be recorded yet.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !crate::crash::processes_of(run, &mount.path().join("data")).is_empty() {
        assert!(Instant::now() < deadline, "the model never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The worker concludes the run within milliseconds of the model's end,
    // measuring the disk as it does; give it a generous second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Sweeps while the disk is full cannot record the end either; it must
    // not be lost for that.
    for _ in 0..2 {
        app.components.worker.sweep().await.ok();
    }
    std::fs::remove_file(&filler).expect("free the space");

    let accepted = submit().await;
    assert_eq!(
        accepted.status(),
        StatusCode::CREATED,
        "{:?}",
        accepted.text().await
    );
    let health = reqwest::get(app.url("/healthz")).await.expect("GET");
    assert_eq!(health.status(), StatusCode::OK);

    let deadline = Instant::now() + Duration::from_secs(60);
    let ended = loop {
        app.components.worker.sweep().await.ok();
        let now = app.store.run(run).await.expect("run").expect("run");
        if now.status.is_terminal() {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the run's end was never recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(ended.status, RunStatus::Failed);
    let reason = ended.status_reason.unwrap_or_default();
    assert!(reason.contains("no space left on device"), "{reason}");

    // The run that waited did not start on a full disk: it runs now.
    let deadline = Instant::now() + Duration::from_secs(60);
    let waited = loop {
        app.components.worker.sweep().await.ok();
        let now = app.store.run(waiting).await.expect("run").expect("run");
        if now.status.is_terminal() {
            break now;
        }
        assert!(Instant::now() < deadline, "the waiting run never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        waited.status,
        RunStatus::Succeeded,
        "{:?}",
        waited.status_reason
    );
}

/// Below the warning threshold the admin pages say how much is left, and
/// `/healthz` still answers 200, with the warning.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn low_free_space_is_named_on_admin_pages_and_healthz() {
    let app = TestApp::spawn_with(StoreKind::Sqlite, |web| {
        web.disk = Some(DiskWatch {
            dir: std::env::temp_dir(),
            min_free_bytes: u64::MAX,
        })
    })
    .await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let page = admin.page("/admin/users").await;
    assert!(page.contains("id=\"admin-notice\""), "{page}");
    assert!(page.contains("is low"), "{page}");
    let runner = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    assert!(!runner.page("/models").await.contains("is low"));
    let health = reqwest::get(app.url("/healthz")).await.expect("GET");
    assert_eq!(health.status(), StatusCode::OK);
    let health: Value = health.json().await.expect("json");
    assert!(
        health["warning"]
            .as_str()
            .unwrap_or_default()
            .contains("is low"),
        "{health}"
    );
}
