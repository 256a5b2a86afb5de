//! Task queue throughput on Postgres: modelrun's enqueue → claim → complete
//! cycle next to pgbench running the raw `FOR UPDATE SKIP LOCKED` cycle on
//! the same database, in the same run.
//!
//! `cargo bench -p modelrun-db --bench queue`. Needs `pgbench` and the
//! Postgres server of `MODELRUN_TEST_DATABASE_URL` (default: local).
//! MODELRUN_BENCH_CLIENTS (default 4) and MODELRUN_BENCH_CYCLES (per
//! client, default 2500) size it.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use modelrun_core::store::{Store, TaskQueue};
use modelrun_core::task::{NewTask, TaskKind};
use modelrun_db::PgStore;
use modelrun_db::postgres::testing::TempDatabase;
use serde_json::json;

/// Queued tasks present before each side starts, so that no claim finds the queue empty.
const BACKLOG: usize = 1000;

/// The raw cycle: enqueue, claim the next due task, complete it.
const RAW_CYCLE: &str = r"
INSERT INTO tasks (kind, payload, state, attempts, max_attempts, run_after, created_at, updated_at)
  VALUES ('send_email', '{}', 'queued', 0, 8, now(), now(), now());
UPDATE tasks SET attempts = attempts + 1, locked_until = now() + interval '60 seconds',
  lease = 'pgbench', updated_at = now()
  WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND run_after <= now()
    AND (locked_until IS NULL OR locked_until <= now()) ORDER BY run_after, id LIMIT 1
    FOR UPDATE SKIP LOCKED)
  RETURNING id \gset
UPDATE tasks SET state = 'done', locked_until = NULL, lease = NULL, updated_at = now() WHERE id = :id;
";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Empties the queue and fills the backlog, so that both sides start alike.
async fn reset(store: &PgStore, raw: &sqlx::PgPool) {
    sqlx::query("TRUNCATE tasks")
        .execute(raw)
        .await
        .expect("truncate");
    for _ in 0..BACKLOG {
        store
            .enqueue(NewTask::new(TaskKind::SendEmail, json!({})))
            .await
            .expect("enqueue");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let clients = env_number("MODELRUN_BENCH_CLIENTS", 4);
    let cycles = env_number("MODELRUN_BENCH_CYCLES", 2500);
    let database = TempDatabase::create().await;
    let store = Arc::new(PgStore::open(&database.config).await.expect("open"));
    store.migrate().await.expect("migrate");
    let raw_pool = sqlx::PgPool::connect(database.config.url.expose())
        .await
        .expect("connect");

    // modelrun: each client enqueues, claims and completes, `cycles` times.
    reset(&store, &raw_pool).await;
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..cycles {
                store
                    .enqueue(NewTask::new(TaskKind::SendEmail, json!({})))
                    .await
                    .expect("enqueue");
                let claimed = store
                    .claim(Utc::now(), Duration::seconds(60))
                    .await
                    .expect("claim")
                    .expect("a due task");
                store
                    .complete(&claimed, Utc::now())
                    .await
                    .expect("complete");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("client");
    }
    let ours = (clients * cycles) as f64 / start.elapsed().as_secs_f64();
    store.ping().await.expect("ping");

    // pgbench: the raw cycle, same clients, same count, same database.
    reset(&store, &raw_pool).await;
    let script = tempfile::NamedTempFile::new().expect("script");
    std::fs::write(script.path(), RAW_CYCLE).expect("write script");
    let output = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-t",
            &cycles.to_string(),
            "-f",
        ])
        .arg(script.path())
        .arg(database.config.url.expose())
        .output()
        .expect("run pgbench (install postgresql-contrib)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed: {}{}",
        report,
        String::from_utf8_lossy(&output.stderr)
    );
    let raw: f64 = report
        .lines()
        .find_map(|line| {
            line.strip_prefix("tps = ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .expect("pgbench tps");

    println!(
        "{clients} clients × {cycles} cycles, {BACKLOG} tasks queued beforehand, one Postgres database.\n"
    );
    println!("| queue cycle (enqueue → claim → complete) | cycles/s |");
    println!("|---|---|");
    println!("| raw SQL, pgbench | {raw:.0} |");
    println!("| modelrun `PgStore` (`enqueue`, `claim`, `complete`) | {ours:.0} |");
    println!(
        "\nmodelrun reaches {:.0} % of the raw throughput.",
        100.0 * ours / raw
    );
}
