//! Fills a modelrun database with finished runs, for benchmarks of the runs
//! list (scripts/bench-peers).
//!
//! ```text
//! cargo run --release --example seed_runs -- \
//!     (--data-dir DIR | --database-url URL) --model NAME --user EMAIL [--runs 10000]
//! ```
//!
//! The store is opened as the app opens it (`SqliteStore::open` on
//! `<data dir>/modelrun.db`, or `PgStore::open`), migrated, and asked for
//! the model's newest active version and the user. The store has no bulk
//! insert and its `create_run` queues a dispatch task per run, so the runs
//! are then written with plain SQL, like `db/benches/runs_list.rs` does:
//! in batches of multi-row INSERTs inside one transaction, each run with
//! its `queued`, `running` and final status events. Every run is finished
//! (about 80 % succeeded, 15 % failed, 5 % cancelled), so the worker has
//! nothing to dispatch or follow; they are spread back in time, 7 minutes
//! apart, the newest a minute ago.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use modelrun_core::config::PostgresConfig;
use modelrun_core::secret::Secret;
use modelrun_core::store::{ModelStore, UserStore};
use modelrun_db::{PgStore, SqliteStore};
use serde_json::json;

/// Runs per INSERT statement (SQLite allows 32766 bound values).
const BATCH: usize = 500;

struct Args {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    model: String,
    user: String,
    runs: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        data_dir: None,
        database_url: None,
        model: String::new(),
        user: String::new(),
        runs: 10_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data-dir" => args.data_dir = Some(PathBuf::from(value()?)),
            "--database-url" => args.database_url = Some(value()?),
            "--model" => args.model = value()?,
            "--user" => args.user = value()?,
            "--runs" => args.runs = value()?.parse().context("--runs")?,
            "-h" | "--help" => {
                println!(
                    "seed_runs (--data-dir DIR | --database-url URL) --model NAME --user EMAIL [--runs N]"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if args.model.is_empty() || args.user.is_empty() {
        bail!("--model and --user are required");
    }
    if args.data_dir.is_none() == args.database_url.is_none() {
        bail!("give one of --data-dir and --database-url");
    }
    Ok(args)
}

/// One run to insert, with its times.
struct Seed {
    inputs: serde_json::Value,
    status: &'static str,
    reason: Option<&'static str>,
    created: DateTime<Utc>,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
}

/// A small deterministic generator (xorshift), so every seeding is alike.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seeds(n: usize) -> Vec<Seed> {
    const REGIONS: [&str; 6] = ["north", "south", "east", "west", "central", "islands"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let newest = Utc::now() - chrono::Duration::minutes(1);
    (0..n)
        .map(|i| {
            let created = newest - chrono::Duration::minutes(7 * (n - 1 - i) as i64)
                + chrono::Duration::seconds(rng.below(60) as i64);
            let (status, reason) = match rng.below(20) {
                0..=15 => ("succeeded", None),
                16..=18 => ("failed", Some("the model exited with code 1")),
                _ => ("cancelled", Some("cancelled by the submitter")),
            };
            let started = created + chrono::Duration::milliseconds(100 + rng.below(2000) as i64);
            let finished = started + chrono::Duration::seconds(1 + rng.below(600) as i64);
            let inputs = json!({
                "region": REGIONS[rng.below(REGIONS.len() as u64) as usize],
                "horizon_days": 7 * (1 + rng.below(8)),
                "scenario": format!("baseline-{}", rng.below(40)),
                "include_holidays": rng.below(2) == 1,
                "threshold": (rng.below(1000) as f64) / 1000.0,
            });
            Seed {
                inputs,
                status,
                reason,
                created,
                started,
                finished,
            }
        })
        .collect()
}

const RUN_COLUMNS: &str = "INSERT INTO runs (model_id, version_id, submitted_by, inputs, vcpu, \
     memory_mib, timeout_seconds, status, status_reason, job_id, log_stream, created_at, \
     updated_at, started_at, finished_at) ";

const EVENT_COLUMNS: &str = "INSERT INTO run_events (run_id, at, kind, status, message, data) ";

struct Target {
    model_id: i64,
    version_id: i64,
    user_id: i64,
    email: String,
    vcpu: f64,
    memory_mib: i64,
    timeout_seconds: i64,
}

/// Pushes the runs and their events through `$pool`, binding times with `$time`.
macro_rules! insert_all {
    ($pool:expr, $db:ty, $time:expr, $target:expr, $seeds:expr) => {{
        let target: &Target = $target;
        let mut tx = $pool.begin().await?;
        let first: i64 = sqlx::query_scalar::<_, Option<i64>>("SELECT max(id) FROM runs")
            .fetch_one(&mut *tx)
            .await?
            .unwrap_or(0);
        for chunk in $seeds.chunks(BATCH) {
            let mut q = sqlx::QueryBuilder::<$db>::new(RUN_COLUMNS);
            q.push_values(chunk, |mut b, s| {
                b.push_bind(target.model_id)
                    .push_bind(target.version_id)
                    .push_bind(target.user_id)
                    .push_bind(sqlx::types::Json(&s.inputs))
                    .push_bind(target.vcpu)
                    .push_bind(target.memory_mib)
                    .push_bind(target.timeout_seconds)
                    .push_bind(s.status)
                    .push_bind(s.reason)
                    .push_bind("seeded")
                    .push_bind(None::<String>)
                    .push_bind($time(s.created))
                    .push_bind($time(s.finished))
                    .push_bind($time(s.started))
                    .push_bind($time(s.finished));
            });
            q.build().execute(&mut *tx).await?;
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE id > $1 ORDER BY id")
            .bind(first)
            .fetch_all(&mut *tx)
            .await?;
        if ids.len() != $seeds.len() {
            bail!("inserted {} runs, expected {}", ids.len(), $seeds.len());
        }
        let queued = format!("queued: submitted by {}", target.email);
        let pairs: Vec<(i64, &Seed)> = ids.into_iter().zip($seeds.iter()).collect();
        for chunk in pairs.chunks(BATCH / 2) {
            let mut q = sqlx::QueryBuilder::<$db>::new(EVENT_COLUMNS);
            let events = chunk.iter().flat_map(|(id, s)| {
                [
                    (*id, s.created, "queued", queued.as_str()),
                    (*id, s.started, "running", "running"),
                    (*id, s.finished, s.status, s.status),
                ]
            });
            q.push_values(events, |mut b, (id, at, status, message)| {
                b.push_bind(id)
                    .push_bind($time(at))
                    .push_bind("status")
                    .push_bind(status)
                    .push_bind(message.to_owned())
                    .push_bind(sqlx::types::Json(json!({})));
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }};
}

/// A time as SQLite's columns hold it: milliseconds since the Unix epoch.
fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A time as Postgres's `timestamptz` columns take it.
fn same(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

async fn target_from(
    store: &(impl ModelStore + UserStore),
    model: &str,
    user: &str,
) -> Result<Target> {
    let model = store
        .model(model)
        .await?
        .with_context(|| format!("no model {model}: register it first"))?;
    let version = model
        .latest_active()
        .with_context(|| format!("model {} has no active version", model.model.name))?;
    let user = store
        .credentials(user)
        .await?
        .with_context(|| format!("no user {user}"))?
        .user;
    Ok(Target {
        model_id: version.model_id.0,
        version_id: version.id.0,
        user_id: user.id.0,
        email: user.email.clone(),
        vcpu: version.resources.vcpu,
        memory_mib: version.resources.memory_mib,
        timeout_seconds: version.resources.timeout_seconds,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let seeds = seeds(args.runs);
    if let Some(dir) = &args.data_dir {
        let path = dir.join("modelrun.db");
        let store = SqliteStore::open(&path).await?;
        store.migrate().await?;
        let target = target_from(&store, &args.model, &args.user).await?;
        store.close().await;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        insert_all!(pool, sqlx::Sqlite, millis, &target, seeds);
        pool.close().await;
    } else if let Some(url) = &args.database_url {
        let config = PostgresConfig {
            url: Secret::new(url.clone()),
            max_connections: 2,
            acquire_timeout: Duration::from_secs(10),
            behind_proxy: false,
        };
        let store = PgStore::open(&config).await?;
        store.migrate().await?;
        let target = target_from(&store, &args.model, &args.user).await?;
        store.close().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        insert_all!(pool, sqlx::Postgres, same, &target, seeds);
        sqlx::query("ANALYZE runs").execute(&pool).await?;
        sqlx::query("ANALYZE run_events").execute(&pool).await?;
        pool.close().await;
    }
    println!(
        "seeded {} runs of {} as {} in {:.1} s",
        args.runs,
        args.model,
        args.user,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
