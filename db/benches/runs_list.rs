//! The runs list at a million runs, on Postgres: each page query of the
//! runs list (newest, oldest, deep in the list, by model and status, by
//! version, by submitter, by date) through `PgStore::list_runs`, timed at
//! 1,000 runs (the baseline) and at 1,000,000 runs, in the same run.
//!
//! `cargo bench -p modelrun-db --bench runs_list`. Needs the Postgres
//! server of `MODELRUN_TEST_DATABASE_URL` (default: local).
//! MODELRUN_BENCH_RUNS (default 1,000,000) sizes the large table and
//! MODELRUN_BENCH_REPEAT (default 30) the samples per query.

use std::time::Instant;

use chrono::{Duration, Utc};
use modelrun_core::ids::RunId;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelMeta, NewVersion, Registered, Runtime};
use modelrun_core::run::RunFilter;
use modelrun_core::schema::InputSchema;
use modelrun_core::status::RunStatus;
use modelrun_core::store::{ModelStore, RunStore, UserStore};
use modelrun_core::user::{NewUser, Role};
use modelrun_db::PgStore;
use modelrun_db::postgres::testing::TempDatabase;
use serde_json::json;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn version(label: &str) -> NewVersion {
    NewVersion {
        model: ModelMeta {
            name: "forecast".to_owned(),
            title: "Forecast".to_owned(),
            description: String::new(),
            owner: "bench".to_owned(),
        },
        label: label.to_owned(),
        digest: format!("digest-{label}"),
        runtime: Runtime::Local {
            command: vec!["true".to_owned()],
            dir: "/tmp".to_owned(),
        },
        inputs: InputSchema::parse(&json!({"type": "object"}), "inputs").expect("schema"),
        resources: Resources::default(),
        max_resources: Resources::default(),
        source_commit: None,
        registered_via: "bench".to_owned(),
        environment: None,
        prepare_environment: false,
        secrets: Vec::new(),
        network: true,
        outputs: Default::default(),
    }
}

/// A store with `runs` runs: two versions, two submitters (one with a
/// tenth of the runs), three statuses, one run a second up to now.
async fn filled(runs: usize) -> (TempDatabase, PgStore) {
    let database = TempDatabase::create().await;
    let store = PgStore::open(&database.config).await.expect("open");
    store.migrate().await.expect("migrate");
    for email in ["ann@example.com", "bob@example.com"] {
        store
            .create_user(NewUser {
                email: email.to_owned(),
                password_hash: "x".to_owned(),
                role: Role::Runner,
            })
            .await
            .expect("user");
    }
    for label in ["v1", "v2"] {
        let Registered::Created(_) = store
            .register_version(version(label), Vec::new())
            .await
            .expect("version")
        else {
            panic!("fresh");
        };
    }
    let pool = sqlx::PgPool::connect(database.config.url.expose())
        .await
        .expect("connect");
    sqlx::query(
        "INSERT INTO runs (model_id, version_id, submitted_by, inputs, vcpu, memory_mib, timeout_seconds, \
         status, created_at, updated_at) \
         SELECT 1, 1 + g % 2, CASE WHEN g % 10 = 0 THEN 2 ELSE 1 END, '{}', 0.25, 512, 60, \
           (ARRAY['succeeded', 'failed', 'running'])[1 + g % 3], \
           now() - ($1 - g) * interval '1 second', now() - ($1 - g) * interval '1 second' \
         FROM generate_series(1, $1) AS g",
    )
    .bind(runs as i64)
    .execute(&pool)
    .await
    .expect("runs");
    sqlx::query("ANALYZE runs")
        .execute(&pool)
        .await
        .expect("analyze");
    (database, store)
}

fn queries(runs: usize) -> Vec<(&'static str, RunFilter)> {
    let page = RunFilter {
        limit: 50,
        ..RunFilter::default()
    };
    let hour_ago = Utc::now() - Duration::hours(1);
    vec![
        ("newest first, first page", page.clone()),
        (
            "oldest first, first page",
            RunFilter {
                oldest_first: true,
                ..page.clone()
            },
        ),
        (
            "newest first, halfway down",
            RunFilter {
                before: Some(RunId(runs as i64 / 2)),
                ..page.clone()
            },
        ),
        (
            "model and status",
            RunFilter {
                model: Some("forecast".into()),
                status: Some(RunStatus::Failed),
                ..page.clone()
            },
        ),
        (
            "version",
            RunFilter {
                version: Some("v2".into()),
                ..page.clone()
            },
        ),
        (
            "submitter (a tenth of the runs)",
            RunFilter {
                submitter: Some("bob@example.com".into()),
                ..page.clone()
            },
        ),
        (
            "the last hour",
            RunFilter {
                created_from: Some(hour_ago),
                ..page.clone()
            },
        ),
    ]
}

async fn time(store: &PgStore, filter: &RunFilter, repeat: usize) -> (f64, f64) {
    let mut samples = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        let page = store.list_runs(filter).await.expect("list");
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(!page.items.is_empty());
    }
    samples.sort_by(f64::total_cmp);
    (
        samples[samples.len() / 2],
        samples[samples.len() * 95 / 100],
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let large = env_number("MODELRUN_BENCH_RUNS", 1_000_000);
    let repeat = env_number("MODELRUN_BENCH_REPEAT", 30);
    let small = 1_000;
    let started = Instant::now();
    let (_small_db, small_store) = filled(small).await;
    let (_large_db, large_store) = filled(large).await;
    println!(
        "filled {small} and {large} runs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("| query | {small} runs: median (ms) | p95 | {large} runs: median (ms) | p95 |");
    println!("|---|---|---|---|---|");
    for ((name, small_filter), (_, large_filter)) in queries(small).into_iter().zip(queries(large))
    {
        // One warm-up each, then the samples.
        time(&small_store, &small_filter, 1).await;
        time(&large_store, &large_filter, 1).await;
        let (s50, s95) = time(&small_store, &small_filter, repeat).await;
        let (l50, l95) = time(&large_store, &large_filter, repeat).await;
        println!("| {name} | {s50:.2} | {s95:.2} | {l50:.2} | {l95:.2} |");
    }
}
