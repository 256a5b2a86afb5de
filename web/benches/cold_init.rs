//! Cold start of the binary as a Lambda function: the time from starting
//! the process to its first request for an event (init done: configuration
//! read, pools and AWS clients built), for the web and the worker function,
//! next to the same binary starting and exiting (`--version`) as a baseline.
//!
//! `cargo bench -p modelrun-web --bench cold_init`; set MODELRUN_BOOTSTRAP
//! to measure the cargo-lambda build (`target/lambda/x86_64/modelrun/bootstrap`).
//! MODELRUN_BENCH_RUNS sets the number of starts (default 20).

use std::process::{Command, Stdio};
use std::time::Instant;

use modelrun_testkit::LambdaRuntime;

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
    let config = [
        ("MODELRUN_DATA_DIR", data.to_string_lossy().into_owned()),
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

    let mut baseline = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(&binary)
            .arg("--version")
            .output()
            .expect("--version");
        assert!(out.status.success());
        baseline.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let mut results = Vec::new();
    for function in ["web", "worker"] {
        let mut samples = Vec::new();
        for _ in 0..runs {
            let runtime = LambdaRuntime::start().await;
            let start = Instant::now();
            let mut child = Command::new(&binary)
                .env_clear()
                .envs(runtime.environment(&format!("modelrun-{function}")))
                .envs(config.iter().cloned())
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
        results.push((function, samples));
    }
    println!(
        "{runs} cold starts each, SQLite store, AWS clients configured (no network at init).\n"
    );
    println!("Binary: {binary} ({:.1} MB)\n", size as f64 / 1_000_000.0);
    println!("| measure | median (ms) | p95 (ms) |");
    println!("|---|---|---|");
    println!(
        "| baseline: `modelrun --version`, start to exit | {:.1} | {:.1} |",
        percentile(&mut baseline, 0.5),
        percentile(&mut baseline, 0.95)
    );
    for (function, mut samples) in results {
        println!(
            "| {function} function: start to first `next` (init) | {:.1} | {:.1} |",
            percentile(&mut samples, 0.5),
            percentile(&mut samples, 0.95)
        );
    }
}
