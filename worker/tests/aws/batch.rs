//! Runs on AWS Batch: job definitions and submission.

use modelrun_core::config::{BatchPlatform, WorkerConfig};
use modelrun_core::executor::Executor;
use modelrun_core::status::RunStatus;
use modelrun_core::task::{Job, RegisterJobDefinition};
use modelrun_testkit::AwsWorld;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_definitions_are_registered_once_per_version() {
    let h = Harness::new().await;
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
    assert_eq!(run_tasks(&h.worker).await, 1);
    let arn = h
        .store
        .version(version.id)
        .await
        .expect("get")
        .and_then(|v| v.job_definition_arn)
        .expect("arn recorded");

    let batch = h.world.batch_client();
    let definitions = batch
        .describe_job_definitions()
        .job_definition_name(h.definition_name(&version).await)
        .send()
        .await
        .expect("describe");
    assert_eq!(definitions.job_definitions().len(), 1);
    let definition = &definitions.job_definitions()[0];
    assert_eq!(definition.job_definition_arn(), Some(arn.as_str()));
    assert_eq!(
        definition
            .platform_capabilities()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>(),
        ["FARGATE"]
    );
    assert_eq!(
        definition
            .timeout()
            .and_then(|t| t.attempt_duration_seconds()),
        Some(600)
    );
    let retry = definition.retry_strategy().expect("retry strategy");
    assert_eq!(retry.attempts(), Some(3));
    let rules: Vec<_> = retry
        .evaluate_on_exit()
        .iter()
        .map(|r| {
            (
                r.on_status_reason(),
                r.on_reason(),
                r.on_exit_code(),
                r.action().map(|a| a.as_str().to_uppercase()),
            )
        })
        .collect();
    // AWS reads actions in any case (moto answers in lowercase).
    assert_eq!(
        rules[0],
        (Some("Host EC2*"), None, None, Some("RETRY".to_owned()))
    );
    assert_eq!(rules[3], (None, None, Some("*"), Some("EXIT".to_owned())));
    let container = definition.container_properties().expect("container");
    assert_eq!(
        container.image(),
        Some(
            format!(
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelrun/forecast@sha256:{}",
                "ab".repeat(32)
            )
            .as_str()
        )
    );
    assert_eq!(
        container.execution_role_arn(),
        Some(h.world.batch.execution_role_arn.as_str())
    );
    assert_eq!(
        container.job_role_arn(),
        Some(h.world.batch.job_role_arn.as_str())
    );
    let log = container.log_configuration().expect("logs");
    assert_eq!(log.log_driver().map(|d| d.as_str()), Some("awslogs"));
    assert_eq!(
        log.options()
            .and_then(|o| o.get("awslogs-group"))
            .map(String::as_str),
        Some("/modelrun/runs")
    );
    let requirements: Vec<_> = container
        .resource_requirements()
        .iter()
        .map(|r| (r.r#type().map(|t| t.as_str()), r.value()))
        .collect();
    assert_eq!(
        requirements,
        [(Some("VCPU"), Some("0.5")), (Some("MEMORY"), Some("1024"))]
    );
    assert_eq!(
        container
            .network_configuration()
            .and_then(|n| n.assign_public_ip())
            .map(|a| a.as_str()),
        Some("DISABLED")
    );

    // Again, as after a crash between registering and recording: no new revision.
    let again = h
        .executor
        .prepare_version(&version)
        .await
        .expect("prepare")
        .expect("arn");
    assert_eq!(again, arn);
    let definitions = batch
        .describe_job_definitions()
        .job_definition_name(h.definition_name(&version).await)
        .send()
        .await
        .expect("describe");
    assert_eq!(definitions.job_definitions().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_fargate_cannot_run_is_refused_with_the_reason() {
    let h = Harness::new().await;
    let mut version = h.image_version("big", "b0b0b0b").await;
    version.resources.memory_mib = 64 * 1024;
    let refused = h
        .executor
        .prepare_version(&version)
        .await
        .expect_err("too big for 0.5 vCPU");
    assert!(
        refused
            .to_string()
            .contains("Fargate runs 0.5 vCPU with 1024 to 4096 MiB"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_under_one_vcpu_is_refused_on_ec2() {
    let mut world = AwsWorld::create().await;
    world.batch.platform = BatchPlatform::Ec2;
    let h = Harness::in_world(world, WorkerConfig::default()).await;
    let version = h.image_version("small", "c0c0c0c").await;
    assert!(
        version.resources.vcpu < 1.0,
        "the example asks for half a vCPU"
    );
    let refused = h
        .executor
        .prepare_version(&version)
        .await
        .expect_err("EC2 needs a whole vCPU");
    assert!(
        refused
            .to_string()
            .contains("AWS Batch on EC2 needs at least 1 vCPU per job, not 0.5"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_submits_one_job_with_the_contract() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Submitted);
    let job_id = run.job_id.clone().expect("job id");

    let jobs = h
        .world
        .batch_client()
        .describe_jobs()
        .jobs(&job_id)
        .send()
        .await
        .expect("describe");
    let job = &jobs.jobs()[0];
    assert_eq!(
        job.job_name(),
        Some(modelrun_core::executor::JobRequest::job_name(&run).as_str())
    );
    let key = run.job_key.clone().expect("a new run has its own key");
    assert_eq!(
        job.job_name(),
        Some(format!("modelrun-run-{}-{key}", run.id).as_str())
    );
    let environment: Vec<_> = job
        .container()
        .map(|c| {
            c.environment()
                .iter()
                .map(|kv| {
                    (
                        kv.name().unwrap_or_default().to_owned(),
                        kv.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for expected in [
        ("MODELRUN_RUN_ID".to_owned(), run.id.to_string()),
        (
            "MODELRUN_API_URL".to_owned(),
            super::support::API_URL.to_owned(),
        ),
    ] {
        assert!(
            environment.contains(&expected),
            "{expected:?} not in {environment:?}"
        );
    }
    // The job's token, which the store knows by its hash only, stands for this run.
    let token = environment
        .iter()
        .find(|(name, _)| name == "MODELRUN_JOB_TOKEN")
        .map(|(_, value)| value.clone())
        .expect("a job token");
    assert_eq!(
        h.store
            .job_token_run(&modelrun_core::job_access::hash_job_token(&token))
            .await
            .expect("lookup"),
        Some(run.id)
    );
    assert!(
        !environment
            .iter()
            .any(|(name, _)| name == "MODELRUN_INPUTS"),
        "the job is told no S3 location: {environment:?}"
    );
    // The inputs wait in S3 for the container.
    let inputs = h
        .world
        .s3_client()
        .get_object()
        .bucket("modelrun-artifacts")
        .key(format!(
            "runs/{}/{}/inputs.json",
            h.store.installation().await.expect("installation").id,
            run.id
        ))
        .send()
        .await
        .expect("inputs in S3");
    let inputs = inputs.body.collect().await.expect("body").into_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&inputs).ok(),
        Some(json!({"growth": 0.02}))
    );

    // A second dispatch of the same run finds the job instead of submitting again.
    let request = modelrun_core::executor::JobRequest {
        run_id: run.id,
        model: run.model_name.clone(),
        name: modelrun_core::executor::JobRequest::job_name(&run),
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
    let again = h.executor.submit(&request).await.expect("submit again");
    assert_eq!(
        (again.job_id.as_str(), again.existing),
        (job_id.as_str(), true)
    );
    let listed = h
        .world
        .batch_client()
        .list_jobs()
        .job_queue("modelrun")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.job_summary_list().len(), 1);
}
