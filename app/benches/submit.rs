//! Submit-to-running latency of modelrun on one machine, next to a baseline
//! measured in the same run: starting the same model process directly.
//!
//! `cargo bench -p modelrun-web --bench submit` (MODELRUN_BENCH_RUNS sets the
//! number of runs, default 40). Prints a Markdown table for docs/benchmarks.md.

use std::process::Stdio;
use std::time::{Duration, Instant};

use modelrun_app::bootstrap::{create_token, create_user, register_examples};
use modelrun_app::runtime::{Components, Settings};
use modelrun_core::config::WebConfig;
use modelrun_core::status::RunStatus;
use modelrun_core::user::Role;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn row(name: &str, samples: &mut [f64]) {
    let median = percentile(samples, 0.5);
    let p95 = percentile(samples, 0.95);
    println!("| {name} | {median:.1} | {p95:.1} |");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("MODELRUN_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let base = format!("http://{address}");
    let settings = Settings::local(data.clone(), base.clone());
    let components = Components::build(&settings).await.expect("components");
    let store = components.store.clone();
    create_user(
        &store,
        "bench@example.com",
        "bench-password-long",
        Role::Runner,
    )
    .await
    .expect("user");
    register_examples(&store, &data, &components.environments)
        .await
        .expect("examples");
    let (_, token) = create_token(&store, "bench@example.com", "bench", None, None)
        .await
        .expect("token");
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(
        components
            .worker
            .clone()
            .run(components.kicker.clone(), shutdown.clone()),
    );
    let web = WebConfig::new(address);
    let connections = web.connections;
    let app = modelrun_web::app(components.app_state(web));
    tokio::spawn(modelrun_web::server::serve(
        listener,
        app,
        connections,
        std::future::pending(),
    ));

    // Baseline: the same model, started and run directly, the same number of times.
    let model_dir = data.join("examples/forecast");
    let inputs = dir.path().join("inputs.json");
    std::fs::write(
        &inputs,
        json!({"start_month": "2027-01", "horizon_months": 24, "base_revenue": 100000,
        "growth_rate": 0.02, "seasonality": "none", "churn_rate": 0.01})
        .to_string(),
    )
    .expect("inputs");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    let (mut spawn_ms, mut direct_ms) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        // The same environment the local executor gives a model.
        let mut child = tokio::process::Command::new("python3")
            .arg("forecast.py")
            .current_dir(&model_dir)
            .env_clear()
            .env("PATH", &settings.local.search_path)
            .env("MODELRUN_INPUTS", &inputs)
            .env("MODELRUN_OUTPUT_DIR", &out)
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn");
        spawn_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(child.wait().await.expect("wait").success());
        direct_ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }

    let client = reqwest::Client::new();
    let (mut accepted_ms, mut to_running_ms, mut to_end_ms, mut observed_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let created: Value = client
            .post(format!("{base}/api/v1/models/forecast/runs"))
            .bearer_auth(&token)
            .json(&json!({"inputs": {}}))
            .send()
            .await
            .expect("submit")
            .json()
            .await
            .expect("json");
        accepted_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        let id = modelrun_core::ids::RunId(created["id"].as_i64().expect("id"));
        loop {
            let run = store.run(id).await.expect("run").expect("exists");
            if run.status.is_terminal() {
                assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        observed_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        let events = store.run_events(id).await.expect("events");
        let at = |status| {
            events
                .iter()
                .find(|e| e.status == Some(status))
                .map(|e| e.at)
                .expect("event")
        };
        let queued = at(RunStatus::Queued);
        to_running_ms.push(
            (at(RunStatus::Running) - queued)
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1000.0,
        );
        to_end_ms.push(
            (at(RunStatus::Succeeded) - queued)
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1000.0,
        );
    }
    shutdown.cancel();
    worker.await.expect("worker");

    println!(
        "{runs} runs of the example forecast, one at a time, embedded defaults (SQLite, local processes).\n"
    );
    println!("| measure | median (ms) | p95 (ms) |");
    println!("|---|---|---|");
    row(
        "baseline: spawn `python3 forecast.py` directly",
        &mut spawn_ms,
    );
    row(
        "baseline: run `python3 forecast.py` directly, start to exit",
        &mut direct_ms,
    );
    row(
        "modelrun: `POST /api/v1/models/forecast/runs` answered (201)",
        &mut accepted_ms,
    );
    row(
        "modelrun: submitted → `running` (run events)",
        &mut to_running_ms,
    );
    row(
        "modelrun: submitted → `succeeded` (run events)",
        &mut to_end_ms,
    );
    row(
        "modelrun: submit → client sees `succeeded`",
        &mut observed_ms,
    );
}
