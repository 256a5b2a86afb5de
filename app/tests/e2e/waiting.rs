//! Why a queued run waits, on its page's timeline: with every slot of the
//! local executor taken, the wait says so and names the runs holding them.

use modelrun_core::ids::RunId;
use modelrun_core::status::RunStatus;
use reqwest::StatusCode;

use crate::support::*;

pub async fn a_run_waiting_for_a_slot_names_the_runs_holding_them(store: StoreKind) {
    let app = TestApp::spawn_tuned(store, |settings| {
        settings.local.max_concurrent_runs = 2;
    })
    .await;
    app.register_model(
        "hog",
        "name = \"hog\"\ncommand = [\"sleep\", \"30\"]\n[inputs]\ntype = \"object\"\n",
    )
    .await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = api
            .post("/api/v1/models/hog/runs")
            .json(&serde_json::json!({"inputs": {}}))
            .send()
            .await
            .expect("POST");
        assert_eq!(created.status(), StatusCode::CREATED);
        let run: serde_json::Value = created.json().await.expect("json");
        ids.push(run["id"].as_i64().expect("id"));
    }
    let status = |id: i64| {
        let store = app.store.clone();
        async move {
            let run = store.run(RunId(id)).await;
            run.expect("query").expect("run").status
        }
    };
    // The first two hold both slots; the third waits for one.
    for _ in 0..250 {
        app.components.worker.run_due().await.expect("tasks");
        if status(ids[0]).await == RunStatus::Running
            && status(ids[1]).await == RunStatus::Running
            && status(ids[2]).await == RunStatus::Runnable
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status(ids[2]).await, RunStatus::Runnable, "the third waits");
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page(&format!("/runs/{}", ids[2])).await;
    let expected = format!(
        "waiting for a free slot: 2 runs at once; running now: #{}, #{}",
        ids[0], ids[1]
    );
    assert!(page.contains(&expected), "missing {expected:?} in {page}");
    let running = browser.page(&format!("/runs/{}", ids[0])).await;
    assert!(
        !running.contains("free slot"),
        "a run that got its slot at once did not wait for one"
    );
    app.components.shutdown().await;
}
