//! AWS going away for a while.

use std::time::{Duration, Instant};

use modelrun_core::config::WorkerConfig;
use modelrun_core::executor::{Executor, JobRequest};
use modelrun_core::status::RunStatus;
use modelrun_core::task::{Job, RegisterJobDefinition, TaskKind};
use modelrun_testkit::{AwsWorld, Outage};
use modelrun_worker::TaskOutcome;

use crate::support::*;

/// AWS is unreachable: dispatch fails and retries with backoff. Meanwhile
/// the job turns out to have reached Batch after all (the answer was lost);
/// when AWS is back the retry finds that job: one job, never two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_retries_while_aws_is_unreachable_and_never_submits_twice() {
    let world = AwsWorld::create().await;
    let line = Outage::front(world.moto.port).await;
    let mut settings = world.aws.clone();
    settings.endpoint_url = Some(line.url.clone());
    let sdk = modelrun_worker::aws::sdk_config(&settings).await;
    let h = Harness::through(world, sdk, WorkerConfig::default()).await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    h.store
        .enqueue(
            RegisterJobDefinition {
                version_id: version.id,
            }
            .task(),
        )
        .await
        .expect("enqueue");
    run_tasks(&h.worker).await;
    let run = h.submit(&version).await;

    line.cut();
    let outcome = h.worker.run_one().await.expect("task").expect("a task");
    assert!(
        matches!(
            outcome,
            TaskOutcome::Retrying {
                kind: TaskKind::DispatchRun,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(h.run(run.id).await.status, RunStatus::Dispatching);
    let task = h
        .store
        .list_tasks(None, 10)
        .await
        .expect("tasks")
        .into_iter()
        .find(|t| t.kind == TaskKind::DispatchRun)
        .expect("task");
    assert_eq!(task.attempts, 1);
    assert!(task.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert!(
        task.run_after > chrono::Utc::now(),
        "the retry waits for its backoff"
    );
    assert!(
        h.worker.run_one().await.expect("claim").is_none(),
        "nothing is due before the backoff ends"
    );

    // The lost attempt's job, as Batch knows it.
    let direct = modelrun_worker::executor::BatchExecutor::new(
        &h.world.sdk,
        h.world.batch.clone(),
        &h.store.installation().await.expect("installation"),
    );
    let request = JobRequest {
        run_id: run.id,
        model: run.model_name.clone(),
        name: JobRequest::job_name(&run),
        job_key: run.job_key.clone(),
        runtime: version.runtime.clone(),
        job_definition: h
            .store
            .version(version.id)
            .await
            .expect("get")
            .and_then(|v| v.job_definition_arn),
        inputs: modelrun_core::blob::BlobKey::run_inputs(run.id),
        outputs: modelrun_core::blob::BlobKey::run_outputs(run.id),
        resources: run.resources,
        environment: None,
        secrets: Vec::new(),
        network: true,
        job_token: Some(modelrun_core::job_access::JobToken::generate()),
    };
    let lost = direct.submit(&request).await.expect("submit").job_id;

    line.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.run(run.id).await.status == RunStatus::Dispatching {
        assert!(
            Instant::now() < deadline,
            "dispatch did not succeed after AWS came back"
        );
        run_tasks(&h.worker).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run = h.run(run.id).await;
    assert_eq!(
        run.job_id.as_deref(),
        Some(lost.as_str()),
        "the retry adopted the job that was there"
    );
    let listed = h
        .world
        .batch_client()
        .list_jobs()
        .job_queue("modelrun")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.job_summary_list().len(), 1, "one job, never two");
    let events = h.store.run_events(run.id).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.data.get("found_existing_job") == Some(&serde_json::Value::Bool(true)))
    );
}
