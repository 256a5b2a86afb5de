//! Whether any compute environment of the queue can give the job the vCPU
//! and memory it asks for.
//!
//! The rules, and where they come from:
//! - a compute environment never runs more than its `maxvCpus` at once, so
//!   a job asking for more waits for ever (AWS Batch User Guide, "Jobs
//!   stuck in RUNNABLE due to misconfiguration": `COMPUTE_ENVIRONMENT_MAX_RESOURCE`);
//!   EC2 instances have whole vCPUs, so there the job's vCPU is rounded up;
//! - Fargate takes only its documented vCPU and memory combinations (the
//!   Batch API's `ResourceRequirement`, the same rule the version's job
//!   definition is checked against at registration).
//!
//! EC2 instance types are not compared: modelrun keeps no table of their
//! sizes, and `optimal` stands for families that change.

use aws_sdk_batch::types::{ComputeEnvironmentDetail, ContainerDetail, ResourceType};
use modelrun_core::manifest::Resources;

use super::super::definition::check_fargate;

/// The vCPU and memory (MiB) a job asks for: what Batch says of the job's
/// container, or else what modelrun submitted for the run.
pub(super) fn asked(container: Option<&ContainerDetail>, submitted: &Resources) -> (f64, i64) {
    let requirement = |kind: ResourceType| {
        container?
            .resource_requirements()
            .iter()
            .find(|r| r.r#type() == Some(&kind))
            .and_then(|r| r.value()?.parse::<f64>().ok())
    };
    let vcpu = requirement(ResourceType::Vcpu)
        .or_else(|| container?.vcpus().map(f64::from))
        .unwrap_or(submitted.vcpu);
    let memory = requirement(ResourceType::Memory)
        .map(|m| m as i64)
        .or_else(|| container?.memory().map(i64::from))
        .unwrap_or(submitted.memory_mib);
    (vcpu, memory)
}

/// What one compute environment can give a job.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Capacity {
    pub name: String,
    /// `FARGATE`, `FARGATE_SPOT`, `EC2` or `SPOT`.
    pub kind: String,
    pub max_vcpus: Option<i32>,
}

impl Capacity {
    pub(super) fn of(environment: &ComputeEnvironmentDetail) -> Self {
        let resources = environment.compute_resources();
        Capacity {
            name: environment
                .compute_environment_name()
                .unwrap_or_default()
                .to_owned(),
            kind: resources
                .and_then(|r| r.r#type())
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            max_vcpus: resources.and_then(|r| r.maxv_cpus()),
        }
    }

    /// Why this compute environment cannot run a job of `vcpu` and
    /// `memory` MiB; `None` when it can, or when nothing says it cannot.
    pub(super) fn refusal(&self, vcpu: f64, memory: i64) -> Option<String> {
        let fargate = self.kind.starts_with("FARGATE");
        if fargate {
            let resources = Resources {
                vcpu,
                memory_mib: memory,
                timeout_seconds: 0,
            };
            if let Err(why) = check_fargate(&resources) {
                return Some(why);
            }
        }
        let needed = if fargate { vcpu } else { vcpu.ceil() };
        let max = self.max_vcpus?;
        (f64::from(max) < needed).then(|| format!("at most {max} vCPU (maxvCpus)"))
    }
}

/// The check's outcome: `Ok` with what was seen when some compute
/// environment can run the job, `Err` with every refusal when none can.
pub(super) fn check(vcpu: f64, memory: i64, capacities: &[Capacity]) -> Result<String, String> {
    let asked = format!("{vcpu} vCPU and {memory} MiB");
    if capacities.is_empty() {
        return Ok(format!("{asked}; the queue has no compute environment"));
    }
    let refusals: Vec<String> = capacities
        .iter()
        .filter_map(|c| {
            c.refusal(vcpu, memory)
                .map(|why| format!("{}: {why}", c.name))
        })
        .collect();
    if refusals.len() == capacities.len() {
        return Err(format!("the job asks for {asked}; {}", refusals.join("; ")));
    }
    let fits: Vec<String> = capacities
        .iter()
        .filter(|c| c.refusal(vcpu, memory).is_none())
        .map(|c| match (c.max_vcpus, c.kind.starts_with("FARGATE")) {
            (Some(max), true) => format!("{} (maxvCpus {max})", c.name),
            (Some(max), false) => {
                format!("{} (maxvCpus {max}; instance types not compared)", c.name)
            }
            (None, _) => c.name.clone(),
        })
        .collect();
    Ok(format!("{asked} fit {}", fits.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(kind: &str, max: i32) -> Capacity {
        Capacity {
            name: format!("ce-{}", kind.to_lowercase()),
            kind: kind.to_owned(),
            max_vcpus: Some(max),
        }
    }

    #[test]
    fn a_job_larger_than_every_compute_environment_is_refused_by_each() {
        let small = [capacity("FARGATE", 1), capacity("EC2", 1)];
        let refused = check(2.0, 4096, &small).expect_err("too large");
        assert!(refused.contains("ce-fargate: at most 1 vCPU"), "{refused}");
        assert!(refused.contains("ce-ec2: at most 1 vCPU"), "{refused}");
        // One compute environment that can is enough.
        let mixed = [capacity("FARGATE", 1), capacity("EC2", 4)];
        assert!(check(2.0, 4096, &mixed).is_ok());
        // On EC2, half a vCPU takes a whole one.
        assert!(check(1.5, 2048, &[capacity("EC2", 1)]).is_err());
    }

    #[test]
    fn fargate_refuses_combinations_it_does_not_offer() {
        let refused = check(0.25, 4096, &[capacity("FARGATE_SPOT", 16)]).expect_err("combo");
        assert!(refused.contains("MiB of memory"), "{refused}");
        let fits = check(0.5, 1024, &[capacity("FARGATE", 16)]).expect("fits");
        assert_eq!(fits, "0.5 vCPU and 1024 MiB fit ce-fargate (maxvCpus 16)");
    }
}
