//! Two installations (two databases) on one Batch job queue and one S3
//! bucket, as after a database is restored or reset, or with staging
//! beside production: their run ids overlap, and neither takes the other's
//! job, news or outputs.

use modelrun_core::executor::{Executor, JobRequest};
use modelrun_core::status::RunStatus;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_installations_on_one_queue_and_bucket_keep_to_their_own() {
    let a = Harness::new().await;
    let b = a.another_installation().await;
    let (id_a, id_b) = (
        a.store.installation().await.expect("a").id,
        b.store.installation().await.expect("b").id,
    );
    assert_ne!(id_a, id_b, "each database makes its own identity");
    assert_eq!(id_a.len(), 12);

    // Installation A: run 1 ends with 12 months of forecast.
    let version_a = a.image_version("forecast", "a1b2c3d").await;
    let run_a = a.submit(&version_a).await;
    run_tasks(&a.worker).await;
    a.put_output(&run_a, "forecast.csv", b"month,revenue\n2027-01,1\n")
        .await;
    assert_eq!(a.worker.sweep().await.expect("sweep a"), 1);
    let run_a = a.run(run_a.id).await;
    assert_eq!(
        run_a.status,
        RunStatus::Succeeded,
        "{:?}",
        run_a.status_reason
    );
    let job_a = run_a.job_id.clone().expect("job a");

    // Installation B: its run 1 gets a job of its own, not A's.
    let version_b = b.image_version("forecast", "a1b2c3d").await;
    let run_b = b.submit(&version_b).await;
    assert_eq!(run_b.id, run_a.id, "the ids overlap");
    run_tasks(&b.worker).await;
    let run_b = b.run(run_b.id).await;
    assert_eq!(run_b.status, RunStatus::Submitted);
    let job_b = run_b.job_id.clone().expect("job b");
    assert_ne!(job_b, job_a, "B submitted its own job");
    let events = b.store.run_events(run_b.id).await.expect("events");
    assert!(
        events
            .iter()
            .all(|e| e.data.get("found_existing_job").is_none()),
        "{events:?}"
    );

    // The job carries the installation, the run and the run's key.
    let jobs = b
        .world
        .batch_client()
        .describe_jobs()
        .jobs(&job_b)
        .send()
        .await
        .expect("describe");
    let job = &jobs.jobs()[0];
    assert_eq!(job.job_name(), Some(JobRequest::job_name(&run_b).as_str()));
    let tags = job.tags().expect("tags");
    assert_eq!(tags.get("modelrun:installation"), Some(&id_b));
    assert_eq!(tags.get("modelrun:run"), Some(&run_b.id.to_string()));
    assert_eq!(tags.get("modelrun:run-key"), run_b.job_key.as_ref());

    // News of A's job reaching B's worker (one EventBridge rule for the
    // queue) is not about B's run, even before B's run knows its job.
    let news = state_change(
        &run_a,
        &job_a,
        "FAILED",
        json!({"statusReason": "cancelled by admin"}),
    );
    assert!(
        b.worker
            .handle_batch_event(&news)
            .await
            .expect("event")
            .is_none()
    );
    assert_eq!(b.run(run_b.id).await.status, RunStatus::Submitted);

    // B's job ends: its outputs are its own, none of A's.
    assert_eq!(b.worker.sweep().await.expect("sweep b"), 1);
    let run_b = b.run(run_b.id).await;
    assert_eq!(
        run_b.status,
        RunStatus::Succeeded,
        "{:?}",
        run_b.status_reason
    );
    assert!(
        b.store
            .run_outputs(run_b.id)
            .await
            .expect("outputs")
            .is_empty()
    );
    let outputs_a = a.store.run_outputs(run_a.id).await.expect("outputs");
    assert_eq!(outputs_a.len(), 1);
    let objects = b
        .world
        .s3_client()
        .list_objects_v2()
        .bucket(&b.world.s3.bucket)
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = objects.contents().iter().filter_map(|o| o.key()).collect();
    assert!(
        keys.iter()
            .all(|k| k.starts_with(&format!("runs/{id_a}/"))
                || k.starts_with(&format!("runs/{id_b}/"))),
        "{keys:?}"
    );
    assert!(keys.contains(&format!("runs/{id_a}/1/outputs/forecast.csv").as_str()));

    // Cancelling B's run stops B's job and leaves A's alone.
    let run_c = b.submit(&version_b).await;
    let run_c = b.run(run_c.id).await;
    assert!(
        !b.executor.cancel(&run_c, "nobody").await.expect("cancel"),
        "a run not yet dispatched has no job to stop"
    );
}
