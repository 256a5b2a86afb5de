//! A run's own resources reach its Batch job: `SubmitJob`'s container
//! overrides and time limit carry what the run asked for, not its
//! version's job definition; a size the platform does not take fails the
//! run with the reason, without a job.

use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{NewRun, Run};
use modelrun_core::schema::Uploads;
use modelrun_core::status::RunStatus;
use serde_json::{Value, json};

use crate::support::*;

/// A run of `version` with its default inputs, asking for `resources`.
async fn run_asking(h: &Harness, version: &ModelVersion, resources: Resources) -> Run {
    let inputs = version
        .inputs
        .validate_with(&serde_json::Map::new(), &Uploads::default())
        .expect("defaults");
    h.store
        .create_run(NewRun {
            version_id: version.id,
            submitted_by: h.user.id,
            inputs,
            resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect("create run")
        .item
}

/// The recorded `SubmitJob` bodies.
async fn submitted_jobs(h: &Harness) -> Vec<Value> {
    h.world
        .moto
        .recorded_bodies()
        .await
        .into_iter()
        .filter(|body| body.get("jobName").is_some() && body.get("jobQueue").is_some())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_gets_the_resources_its_run_asked_for() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    assert_eq!(version.resources.vcpu, 0.5, "the version's default");
    let asked = Resources {
        vcpu: 2.0,
        memory_mib: 4096,
        timeout_seconds: 1800,
    };
    let run = run_asking(&h, &version, asked).await;
    h.world.moto.start_recording().await;
    run_tasks(&h.worker).await;
    let run = h.run(run.id).await;
    assert!(run.job_id.is_some(), "{:?}", run.status_reason);
    let jobs = submitted_jobs(&h).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let requirements = &jobs[0]["containerOverrides"]["resourceRequirements"];
    let requirements = requirements.as_array().expect("resource requirements");
    assert!(
        requirements.contains(&json!({"type": "VCPU", "value": "2"})),
        "{requirements:?}"
    );
    assert!(
        requirements.contains(&json!({"type": "MEMORY", "value": "4096"})),
        "{requirements:?}"
    );
    assert_eq!(jobs[0]["timeout"]["attemptDurationSeconds"], 1800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_size_fargate_does_not_take_fails_the_run_naming_it() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    // Half a vCPU takes 1 to 4 GiB on Fargate.
    let asked = Resources {
        vcpu: 0.5,
        memory_mib: 8192,
        timeout_seconds: 600,
    };
    let run = run_asking(&h, &version, asked).await;
    h.world.moto.start_recording().await;
    run_tasks(&h.worker).await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.contains("resources.memory_mib") && reason.contains("1024 to 4096 MiB"),
        "{reason}"
    );
    assert!(submitted_jobs(&h).await.is_empty(), "no job was submitted");
}
