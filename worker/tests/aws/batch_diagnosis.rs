//! The diagnosis of a run that waits in RUNNABLE: each check against
//! moto's real answers, and, for the one fault moto cannot produce on
//! demand (a job that Batch cannot place, ahead on the queue), a front
//! that answers `ListJobs` as Batch then does and passes everything else
//! to moto.

use modelrun_core::config::WorkerConfig;
use modelrun_core::diagnosis::{CheckOutcome, Diagnosis, Findings};
use modelrun_core::executor::{Executor, JobRequest};
use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::Run;
use modelrun_testkit::AwsWorld;
use serde_json::json;

use crate::listjobs_front::ListJobsFront;
use crate::support::*;

fn resources(vcpu: f64, memory_mib: i64) -> Resources {
    Resources {
        vcpu,
        memory_mib,
        timeout_seconds: 600,
    }
}

/// Pushes an image to moto's ECR as `modelrun/<model>:<tag>` (creating
/// the repository the first time); returns its digest.
async fn push(h: &Harness, model: &str, tag: &str) -> String {
    let ecr = h.world.ecr_client();
    let repository = format!("modelrun/{model}");
    let _ = ecr
        .create_repository()
        .repository_name(&repository)
        .send()
        .await;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                   "digest": format!("sha256:{}", tag.repeat(64).chars().take(64).collect::<String>())},
        "layers": [],
    });
    let pushed = ecr
        .put_image()
        .repository_name(&repository)
        .image_manifest(manifest.to_string())
        .image_tag(tag)
        .send()
        .await
        .expect("push");
    pushed
        .image()
        .and_then(|i| i.image_id())
        .and_then(|i| i.image_digest())
        .expect("digest")
        .to_owned()
}

/// A run of `version` whose job Batch holds in RUNNABLE, as the run knows it.
async fn waiting(h: &Harness, version: &ModelVersion) -> Run {
    let run = h.submit(version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    h.worker
        .handle_batch_event(&state_change(&run, &job_id, "RUNNABLE", json!({})))
        .await
        .expect("runnable");
    h.run(run.id).await
}

/// The outcome and detail of the check whose subject starts with `subject`.
fn check(diagnosis: &Diagnosis, subject: &str) -> (CheckOutcome, String) {
    let found = diagnosis
        .checks
        .iter()
        .find(|c| c.subject.starts_with(subject))
        .unwrap_or_else(|| panic!("no check of {subject}: {:#?}", diagnosis.checks));
    (found.outcome, found.detail.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_job_gets_no_cause_and_a_list_of_what_was_checked() {
    let h = Harness::new().await;
    let digest = push(&h, "forecast", "a1b2c3d").await;
    let version = h
        .image_version_pinned(
            "forecast",
            "a1b2c3d",
            Some(digest.clone()),
            resources(0.5, 1024),
        )
        .await;
    let run = waiting(&h, &version).await;
    let diagnosis = h.executor.diagnose(&run).await.expect("diagnosis");

    assert!(diagnosis.causes.is_empty(), "{:#?}", diagnosis.checks);
    assert_eq!(
        diagnosis.summary,
        "the job queue and its compute environments look healthy, Batch gives no reason, and \
         no check found a cause"
    );
    let (outcome, detail) = check(&diagnosis, "the job's vCPU and memory");
    assert_eq!(outcome, CheckOutcome::Clear);
    assert_eq!(
        detail,
        "0.5 vCPU and 1024 MiB fit modelrun-fargate (maxvCpus 16)"
    );
    let (outcome, detail) = check(&diagnosis, "the job's image in ECR");
    assert_eq!(outcome, CheckOutcome::Clear, "{detail}");
    assert!(detail.contains(&digest), "{detail}");
    for role in [
        "modelrun-job-execution",
        "modelrun-job ",
        "modelrun-batch-service",
    ] {
        assert_eq!(
            check(&diagnosis, &format!("role {role}")).0,
            CheckOutcome::Clear
        );
    }
    assert_eq!(
        check(&diagnosis, "the jobs ahead").1,
        "0 runnable jobs ahead, none blocked"
    );
    // What modelrun does not read is said, never taken for a cause.
    assert_eq!(
        check(&diagnosis, "the subnets' way out").0,
        CheckOutcome::NotChecked
    );
    assert_eq!(
        check(&diagnosis, "the account's vCPU quota").0,
        CheckOutcome::NotChecked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_asking_more_vcpu_than_the_compute_environment_allows_gets_that_cause() {
    let mut world = AwsWorld::create().await;
    world.use_fargate_queue("modelrun-small", 1).await;
    let h = Harness::in_world(world, WorkerConfig::default()).await;
    let digest = push(&h, "forecast", "a1b2c3d").await;
    let version = h
        .image_version_pinned("forecast", "a1b2c3d", Some(digest), resources(2.0, 4096))
        .await;
    let run = waiting(&h, &version).await;
    let diagnosis = h.executor.diagnose(&run).await.expect("diagnosis");

    let (outcome, detail) = check(&diagnosis, "the job's vCPU and memory");
    assert_eq!(outcome, CheckOutcome::Found);
    assert_eq!(
        detail,
        "the job asks for 2 vCPU and 4096 MiB; modelrun-small-fargate: at most 1 vCPU (maxvCpus)"
    );
    assert_eq!(diagnosis.causes.len(), 1, "{:#?}", diagnosis.causes);
    assert_eq!(
        diagnosis.causes[0].cause,
        "The job asks for more than the compute environments can give"
    );
    assert_eq!(
        diagnosis.summary,
        "the job asks for more than the compute environments can give"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_image_tag_is_missing_in_ecr_gets_the_image_cause() {
    let h = Harness::new().await;
    push(&h, "forecast", "0000000").await;
    // Registered by tag only, and that tag was never pushed.
    let version = h
        .image_version_pinned("forecast", "a1b2c3d", None, resources(0.5, 1024))
        .await;
    let run = waiting(&h, &version).await;
    let diagnosis = h.executor.diagnose(&run).await.expect("diagnosis");

    let (outcome, detail) = check(&diagnosis, "the job's image in ECR");
    assert_eq!(outcome, CheckOutcome::Found);
    assert_eq!(
        detail,
        "the image tagged a1b2c3d in modelrun/forecast is not there: the job cannot pull it"
    );
    let causes: Vec<_> = diagnosis.causes.iter().map(|c| c.cause.as_str()).collect();
    assert_eq!(causes, ["The job's image is not in ECR"]);
    assert_eq!(
        check(&diagnosis, "the job's vCPU and memory").0,
        CheckOutcome::Clear
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_behind_a_job_batch_cannot_place_is_told_which_run_and_why() {
    let world = AwsWorld::create().await;
    let front = ListJobsFront::start(world.moto.port).await;
    let mut settings = world.aws.clone();
    settings.endpoint_url = Some(front.url.clone());
    let sdk = modelrun_worker::aws::sdk_config(&settings).await;
    let h = Harness::through(world, sdk, WorkerConfig::default()).await;
    let digest = push(&h, "forecast", "a1b2c3d").await;
    let version = h
        .image_version_pinned("forecast", "a1b2c3d", Some(digest), resources(0.5, 1024))
        .await;
    let head = waiting(&h, &version).await;
    let ours = waiting(&h, &version).await;
    let our_job = ours.job_id.clone().expect("job");
    let created = h
        .world
        .batch_client()
        .describe_jobs()
        .jobs(&our_job)
        .send()
        .await
        .expect("describe")
        .jobs()[0]
        .created_at()
        .expect("created");
    // What Batch lists while the head of the queue asks for too much.
    let reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement \
                  (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the \
                  job queue.";
    let head_job = head.job_id.clone().expect("job");
    front.answer_runnable(json!({"jobSummaryList": [
        {"jobId": head_job, "jobName": JobRequest::job_name(&head), "createdAt": created - 60_000,
         "status": "RUNNABLE", "statusReason": reason},
        {"jobId": our_job, "jobName": JobRequest::job_name(&ours), "createdAt": created,
         "status": "RUNNABLE"},
    ]}));
    let diagnosis = h.executor.diagnose(&ours).await.expect("diagnosis");

    assert_eq!(
        diagnosis.summary,
        format!(
            "waits behind run {} (job {head_job}), which Batch cannot place: the job asks for \
             more vCPU or memory than any compute environment of the queue can give (Batch: \
             {reason})",
            head.id
        )
    );
    let Findings::Batch { blocked_ahead, .. } = &diagnosis.findings else {
        panic!("batch findings")
    };
    assert_eq!(blocked_ahead.as_ref().and_then(|b| b.run), Some(head.id));
    assert_eq!(
        diagnosis.causes[0].cause,
        format!("The run waits behind run {} (job {head_job})", head.id)
    );
    // The head itself is behind nobody.
    let of_head = h.executor.diagnose(&head).await.expect("diagnosis");
    assert_eq!(
        check(&of_head, "the jobs ahead").1,
        "0 runnable jobs ahead, none blocked"
    );
}
