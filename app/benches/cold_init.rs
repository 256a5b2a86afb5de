//! Cold start of the binary as a Lambda function: the time from starting
//! the process to its first request for an event (init done: configuration
//! read, pools and AWS clients built), for the web and the worker function,
//! next to the same binary starting and exiting (`--version`) as a baseline.
//!
//! `cargo bench -p modelrun-web --bench cold_init`; set MODELRUN_BOOTSTRAP
//! to measure the cargo-lambda build (`target/lambda/x86_64/modelrun/bootstrap`).
//! MODELRUN_BENCH_RUNS sets the number of starts (default 20). The store is
//! a fresh Postgres database (Lambda refuses SQLite), from
//! MODELRUN_TEST_DATABASE_URL or the local server.

use std::process::{Command, Stdio};
use std::time::Instant;

use modelrun_db::postgres::testing::TempDatabase;
use modelrun_testkit::LambdaRuntime;

/// Times `run` up to `runs` times; stops at the first failure.
fn sample(runs: usize, mut run: impl FnMut() -> bool) -> Vec<f64> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        if !run() {
            break;
        }
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

fn with_sslmode(url: &str, mode: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode={mode}")
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("MODELRUN_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let binary = std::env::var("MODELRUN_BOOTSTRAP")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_modelrun").to_owned());
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let database = TempDatabase::create().await;
    let url = database.config.url.expose().to_owned();
    let config = [
        ("MODELRUN_DATA_DIR", data.to_string_lossy().into_owned()),
        ("MODELRUN_DATABASE_URL", url.clone()),
        (
            "MODELRUN_PUBLIC_URL",
            "https://abcd1234.execute-api.eu-west-1.amazonaws.com".to_owned(),
        ),
        ("MODELRUN_BLOB_STORE", "s3".to_owned()),
        ("MODELRUN_S3_BUCKET", "modelrun-artifacts".to_owned()),
        ("MODELRUN_WORKER_FUNCTION", "modelrun-worker".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ];
    // The database exists and is migrated, as it is after the first deploy.
    let migrated = Command::new(&binary)
        .envs(config.iter().cloned())
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let baseline = sample(runs, || {
        let out = Command::new(&binary).arg("--version").output();
        out.is_ok_and(|out| out.status.success())
    });
    let mut rows = vec![(
        "baseline: `modelrun --version`, start to exit".to_owned(),
        baseline,
    )];
    // With and without TLS to the database: sqlx 0.9.0 leaves Nagle's
    // algorithm on, which costs a TLS handshake two delayed ACKs.
    for (tls, mode) in [("TLS", "require"), ("no TLS", "disable")] {
        let url = with_sslmode(&url, mode);
        let psql = sample(runs, || {
            let out = Command::new("psql")
                .args([url.as_str(), "-qAtc", "SELECT 1"])
                .output();
            out.is_ok_and(|out| out.status.success())
        });
        if psql.len() < runs {
            println!("(psql could not connect with sslmode={mode}: no {tls} rows)\n");
            continue;
        }
        rows.push((
            format!("baseline: `psql -c 'SELECT 1'`, {tls}, start to exit"),
            psql,
        ));
        for function in ["web", "worker"] {
            let mut samples = Vec::new();
            for _ in 0..runs {
                let runtime = LambdaRuntime::start().await;
                let start = Instant::now();
                let mut child = Command::new(&binary)
                    .env_clear()
                    .envs(runtime.environment(&format!("modelrun-{function}")))
                    .envs(config.iter().cloned())
                    .env("MODELRUN_DATABASE_URL", &url)
                    .env("MODELRUN_LAMBDA_FUNCTION", function)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start");
                let ready = runtime.ready().await;
                samples.push((ready - start).as_secs_f64() * 1000.0);
                let _ = child.kill();
                let _ = child.wait();
            }
            rows.push((
                format!("{function} function, {tls}: start to first `next` (init)"),
                samples,
            ));
        }
    }
    println!(
        "{runs} cold starts each, Postgres on 127.0.0.1 (migrated), AWS clients configured (no AWS call at init).\n"
    );
    println!("Binary: {binary} ({:.1} MB)\n", size as f64 / 1_000_000.0);
    println!("| measure | median (ms) | p95 (ms) |");
    println!("|---|---|---|");
    for (measure, mut samples) in rows {
        println!(
            "| {measure} | {:.1} | {:.1} |",
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.95)
        );
    }
}
