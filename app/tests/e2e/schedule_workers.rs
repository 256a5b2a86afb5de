//! Two `modelrun worker` processes on one Postgres fire the same due
//! schedules at the same moment: every slot makes exactly one run.

use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use modelrun_core::run::RunFilter;
use modelrun_core::schedule::{FireKind, NewSchedule, ScheduleStore};
use modelrun_core::store::{ModelStore, RunStore, UserStore};
use modelrun_db::PgStore;
use modelrun_db::postgres::testing::TempDatabase;

use crate::workers::{Worker, modelrun};

const SCHEDULES: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_fire_each_slot_of_twenty_schedules_once() {
    let database = TempDatabase::create().await;
    let url = database.config.url.expose().clone();
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(
        model.join("modelrun.toml"),
        "name = \"tick\"\ncommand = [\"true\"]\n[inputs]\ntype = \"object\"\n",
    )
    .expect("manifest");
    let setup = |args: &[&str]| {
        let out = modelrun(&data, &url).args(args).output().expect("modelrun");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    setup(&["migrate"]);
    std::fs::create_dir_all(&data).expect("data directory");
    setup(&[
        "users",
        "create",
        "--email",
        "cron@example.com",
        "--role",
        "runner",
    ]);
    setup(&["models", "register", model.to_str().expect("path")]);

    let store = PgStore::open(&database.config).await.expect("open");
    let user = store
        .credentials("cron@example.com")
        .await
        .expect("q")
        .expect("user")
        .user;
    let tick = store.model("tick").await.expect("q").expect("model");
    // Slots already due when the workers start: both find them at once.
    let slot = Utc::now() - chrono::Duration::seconds(5);
    let mut ids = Vec::new();
    for i in 0..SCHEDULES {
        let schedule = store
            .create_schedule(NewSchedule {
                name: format!("yearly {i}"),
                model_id: tick.model.id,
                version_id: None,
                inputs: Default::default(),
                cron: "0 0 1 1 *".to_owned(),
                time_zone: "UTC".to_owned(),
                owner: user.id,
                next_fire_at: Some(slot),
            })
            .await
            .expect("schedule");
        ids.push(schedule.id);
    }
    let spawn_worker = || {
        Worker(
            modelrun(&data, &url)
                .args(["worker", "--poll-interval-secs", "1", "--sandbox", "off"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn worker"),
        )
    };
    let workers = [spawn_worker(), spawn_worker()];

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut fired = 0;
        for id in &ids {
            fired += store.schedule_fires(*id, 10).await.expect("fires").len();
        }
        if fired >= SCHEDULES {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {fired} of {SCHEDULES} fired in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both workers have had several polls to fire a slot twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(workers);
    for id in &ids {
        let fires = store.schedule_fires(*id, 10).await.expect("fires");
        assert_eq!(fires.len(), 1, "schedule {id}: {fires:?}");
        assert_eq!(fires[0].kind, FireKind::Run);
        let run = fires[0].run_id.expect("a run");
        let by = store
            .run_schedule(run)
            .await
            .expect("q")
            .expect("scheduled");
        assert_eq!(by.id, *id);
    }
    let all = store
        .list_runs(&RunFilter {
            limit: 100,
            ..RunFilter::default()
        })
        .await
        .expect("runs");
    assert_eq!(all.items.len(), SCHEDULES, "one run per slot");
}
