//! A version's job definition: its image, default resources, time limit,
//! retry rules, logs, roles and platform. One per version, registered once
//! (a definition with the same image that is already active is reused).

use aws_sdk_batch::types::{
    AssignPublicIp, ContainerProperties, EvaluateOnExit, JobDefinitionType, KeyValuePair,
    LogConfiguration, LogDriver, NetworkConfiguration, PlatformCapability, ResourceRequirement,
    ResourceType, RetryAction, RetryStrategy, Secret,
};
use modelrun_core::config::BatchPlatform;
use modelrun_core::executor::ExecutorError;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelVersion, Runtime};

use super::{BatchExecutor, to_executor};
use crate::aws::AwsFailure;
use crate::exec::SECRET_NAMES_VARIABLE;
use crate::secrets::SecretsManagerVault;

/// Batch does not accept time limits under a minute.
pub(super) fn attempt_seconds(timeout_seconds: i64) -> i32 {
    i32::try_from(timeout_seconds.max(60)).unwrap_or(i32::MAX)
}

/// `modelrun-version-<installation>-<id>-<label>`, in the characters Batch
/// allows. The installation keeps two installations in one account (a
/// `dev` and a `prod` stage) from reusing each other's definitions, which
/// carry their execution role and secrets.
fn definition_name(installation: &str, version: &ModelVersion) -> String {
    let label: String = version
        .label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("modelrun-version-{installation}-{}-{label}", version.id)
}

/// Fargate takes only some combinations of vCPU and memory; saying which
/// at registration beats a refusal from AWS at the first run.
pub(super) fn check_fargate(resources: &Resources) -> Result<(), String> {
    let (vcpu, memory) = (resources.vcpu, resources.memory_mib);
    let quarters = vcpu * 4.0;
    let whole_quarters = (quarters.fract() == 0.0).then_some(quarters as i64);
    let allowed: Vec<i64> = match whole_quarters {
        Some(1) => vec![512, 1024, 2048],
        Some(2) => (1..=4).map(|g| g * 1024).collect(),
        Some(4) => (2..=8).map(|g| g * 1024).collect(),
        Some(8) => (4..=16).map(|g| g * 1024).collect(),
        Some(16) => (8..=30).map(|g| g * 1024).collect(),
        Some(32) => (4..=15).map(|g| g * 4096).collect(),
        Some(64) => (4..=15).map(|g| g * 8192).collect(),
        _ => {
            return Err(format!(
                "Fargate takes 0.25, 0.5, 1, 2, 4, 8 or 16 vCPU, not {vcpu}"
            ));
        }
    };
    if allowed.contains(&memory) {
        Ok(())
    } else {
        Err(format!(
            "Fargate runs {vcpu} vCPU with {} to {} MiB of memory (in its steps), not {memory} MiB",
            allowed.first().copied().unwrap_or_default(),
            allowed.last().copied().unwrap_or_default()
        ))
    }
}

/// AWS Batch on EC2 reserves whole vCPUs: a job needs at least 1 (the
/// `VCPU` resource requirement of `RegisterJobDefinition`, AWS Batch API
/// reference). Fargate's fractions (0.25, 0.5) do not exist there.
pub(super) fn check_ec2(resources: &Resources) -> Result<(), String> {
    if resources.vcpu < 1.0 {
        return Err(format!(
            "AWS Batch on EC2 needs at least 1 vCPU per job, not {} (resources.vcpu)",
            resources.vcpu
        ));
    }
    Ok(())
}

/// Retry what the infrastructure caused; stop at what the model did.
/// Rules are tried in order; the first that matches decides.
fn retry_strategy() -> RetryStrategy {
    let rules = vec![
        // The host went away (Spot reclaimed, instance retired).
        EvaluateOnExit::builder()
            .on_status_reason("Host EC2*")
            .action(RetryAction::Retry)
            .build(),
        // The container could not start: registry or network trouble.
        EvaluateOnExit::builder()
            .on_reason("CannotPullContainerError*")
            .action(RetryAction::Retry)
            .build(),
        EvaluateOnExit::builder()
            .on_reason("ResourceInitializationError*")
            .action(RetryAction::Retry)
            .build(),
        // The model ran and exited: its result stands.
        EvaluateOnExit::builder()
            .on_exit_code("*")
            .action(RetryAction::Exit)
            .build(),
        EvaluateOnExit::builder()
            .on_reason("*")
            .action(RetryAction::Exit)
            .build(),
    ];
    RetryStrategy::builder()
        .attempts(3)
        .set_evaluate_on_exit(Some(rules))
        .build()
}

pub(super) async fn register(
    executor: &BatchExecutor,
    version: &ModelVersion,
) -> Result<Option<String>, ExecutorError> {
    let Runtime::Image { uri, digest } = &version.runtime else {
        return Ok(None);
    };
    let config = &executor.config;
    let fits = match config.platform {
        BatchPlatform::Fargate => check_fargate(&version.resources),
        BatchPlatform::Ec2 => check_ec2(&version.resources),
    };
    fits.map_err(|why| {
        ExecutorError::Refused(format!("version {} cannot run: {why}", version.label))
    })?;
    // Pin the exact image that was registered, even if the tag moves.
    let image = match digest {
        Some(digest) => format!(
            "{}@{digest}",
            uri.rsplit_once(':').map_or(uri.as_str(), |(repo, _)| repo)
        ),
        None => uri.clone(),
    };
    let name = definition_name(&executor.installation, version);
    let existing = executor
        .batch
        .describe_job_definitions()
        .job_definition_name(&name)
        .status("ACTIVE")
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch DescribeJobDefinitions", error)))?;
    if let Some(found) = existing
        .job_definitions()
        .iter()
        .filter(|d| d.container_properties().and_then(|c| c.image()) == Some(image.as_str()))
        .max_by_key(|d| d.revision())
    {
        return Ok(found.job_definition_arn().map(str::to_owned));
    }
    let requirement = |kind: ResourceType, value: String| {
        ResourceRequirement::builder()
            .r#type(kind)
            .value(value)
            .build()
    };
    let mut container = ContainerProperties::builder()
        .image(&image)
        .resource_requirements(requirement(
            ResourceType::Vcpu,
            version.resources.vcpu.to_string(),
        ))
        .resource_requirements(requirement(
            ResourceType::Memory,
            version.resources.memory_mib.to_string(),
        ))
        .execution_role_arn(&config.execution_role_arn)
        .job_role_arn(&config.job_role_arn)
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", &config.log_group)
                .options("awslogs-stream-prefix", "modelrun")
                .build(),
        );
    // Secrets reach the container from Secrets Manager, by name; their
    // names also tell `modelrun exec` what to mask in the log.
    for name in &version.secrets {
        container = container.secrets(
            Secret::builder()
                .name(name)
                .value_from(SecretsManagerVault::secret_id(
                    &config.secrets_prefix,
                    &version.model,
                    name,
                ))
                .build(),
        );
    }
    if !version.secrets.is_empty() {
        container = container.environment(
            KeyValuePair::builder()
                .name(SECRET_NAMES_VARIABLE)
                .value(version.secrets.join(","))
                .build(),
        );
    }
    if config.platform == BatchPlatform::Fargate {
        // Jobs run in private subnets and reach out through the NAT gateway.
        container = container.network_configuration(
            NetworkConfiguration::builder()
                .assign_public_ip(AssignPublicIp::Disabled)
                .build(),
        );
    }
    let platform = match config.platform {
        BatchPlatform::Fargate => PlatformCapability::Fargate,
        BatchPlatform::Ec2 => PlatformCapability::Ec2,
    };
    let registered = executor
        .batch
        .register_job_definition()
        .job_definition_name(&name)
        .r#type(JobDefinitionType::Container)
        .platform_capabilities(platform)
        .container_properties(container.build())
        .retry_strategy(retry_strategy())
        .timeout(
            aws_sdk_batch::types::JobTimeout::builder()
                .attempt_duration_seconds(attempt_seconds(version.resources.timeout_seconds))
                .build(),
        )
        .tags("modelrun:version", version.id.to_string())
        .propagate_tags(true)
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch RegisterJobDefinition", error)))?;
    Ok(registered.job_definition_arn().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(vcpu: f64, memory_mib: i64) -> Resources {
        Resources {
            vcpu,
            memory_mib,
            timeout_seconds: 60,
        }
    }

    #[test]
    fn fargate_combinations_are_checked() {
        assert!(check_fargate(&resources(0.25, 512)).is_ok());
        assert!(check_fargate(&resources(1.0, 2048)).is_ok());
        assert!(check_fargate(&resources(8.0, 16384)).is_ok());
        let refused = check_fargate(&resources(0.25, 4096)).expect_err("too much memory");
        assert!(refused.contains("512 to 2048 MiB"), "{refused}");
        assert!(check_fargate(&resources(3.0, 8192)).is_err());
    }

    #[test]
    fn ec2_jobs_take_at_least_one_vcpu() {
        assert!(check_ec2(&resources(1.0, 512)).is_ok());
        assert!(check_ec2(&resources(4.0, 512)).is_ok());
        let refused = check_ec2(&resources(0.5, 1024)).expect_err("a fraction");
        assert!(refused.contains("at least 1 vCPU"), "{refused}");
    }

    #[test]
    fn time_limits_are_at_least_a_minute() {
        assert_eq!(attempt_seconds(5), 60);
        assert_eq!(attempt_seconds(600), 600);
    }
}
