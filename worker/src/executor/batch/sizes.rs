//! Whether the queue's platform can give one run what it asks for: a run
//! may ask for other resources than its version's job definition holds
//! (`SubmitJob`'s container overrides), so each run is checked, at submit
//! and again at dispatch, with the rules the definition is checked with.

use modelrun_core::config::BatchPlatform;
use modelrun_core::manifest::Resources;
use modelrun_core::resources::ResourceRefusal;

use super::definition::{check_ec2, check_fargate};

/// The vCPU sizes of Fargate tasks (`check_fargate` gives each its memory).
const FARGATE_VCPUS: [f64; 7] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];

/// The shortest time limit AWS Batch takes (`attemptDurationSeconds`, AWS
/// Batch API reference: "The minimum value for the timeout is 60 seconds").
pub(super) const MIN_TIMEOUT_SECONDS: i64 = 60;

/// `resources` on `platform`, or the part to change and why.
pub(super) fn check(platform: BatchPlatform, resources: &Resources) -> Result<(), ResourceRefusal> {
    if resources.timeout_seconds < MIN_TIMEOUT_SECONDS {
        return Err(ResourceRefusal {
            field: "timeout_seconds",
            message: format!(
                "AWS Batch takes time limits of at least {MIN_TIMEOUT_SECONDS} s, not {} s",
                resources.timeout_seconds
            ),
        });
    }
    let (fits, vcpu_fits) = match platform {
        BatchPlatform::Fargate => (
            check_fargate(resources),
            FARGATE_VCPUS.contains(&resources.vcpu),
        ),
        BatchPlatform::Ec2 => (check_ec2(resources), false),
    };
    fits.map_err(|message| ResourceRefusal {
        // Fargate sizes memory by vCPU: with a size it takes, change the memory.
        field: if vcpu_fits { "memory_mib" } else { "vcpu" },
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(vcpu: f64, memory_mib: i64) -> Resources {
        Resources {
            vcpu,
            memory_mib,
            timeout_seconds: 600,
        }
    }

    #[test]
    fn a_refusal_names_the_part_to_change() {
        assert!(check(BatchPlatform::Fargate, &resources(1.0, 2048)).is_ok());
        let memory = check(BatchPlatform::Fargate, &resources(1.0, 512)).expect_err("memory");
        assert_eq!(memory.field, "memory_mib");
        assert!(
            memory.message.contains("2048 to 8192 MiB"),
            "{}",
            memory.message
        );
        let vcpu = check(BatchPlatform::Fargate, &resources(3.0, 8192)).expect_err("vcpu");
        assert_eq!(vcpu.field, "vcpu");
        assert!(check(BatchPlatform::Ec2, &resources(3.0, 8192)).is_ok());
        let ec2 = check(BatchPlatform::Ec2, &resources(0.5, 1024)).expect_err("fraction");
        assert_eq!(ec2.field, "vcpu");
        let quick = Resources {
            timeout_seconds: 30,
            ..resources(1.0, 2048)
        };
        let refused = check(BatchPlatform::Fargate, &quick).expect_err("under a minute");
        assert_eq!(refused.field, "timeout_seconds");
        assert!(
            refused.message.contains("at least 60 s"),
            "{}",
            refused.message
        );
    }
}
