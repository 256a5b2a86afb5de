//! Whether the roles a job depends on exist (IAM `GetRole`): the job
//! definition's execution role (pulls the image, writes the log, reads
//! the secrets) and job role, and each compute environment's service role.
//! That a role exists says nothing of its policies, which only AWS can
//! judge when the job runs.

use aws_sdk_iam::Client as IamClient;
use aws_sdk_iam::operation::get_role::GetRoleError;

use crate::aws::AwsFailure;

/// A role named by ARN (`arn:aws:iam::<account>:role/<path/><name>`), and
/// what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NamedRole {
    pub arn: String,
    /// "the job's execution role", "compute environment X's service role".
    pub purpose: String,
}

impl NamedRole {
    /// The role's name: the ARN's last segment (IAM looks roles up by name,
    /// without their path).
    pub(super) fn name(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }
}

/// What `GetRole` said of one role.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Lookup {
    Exists,
    Missing,
    /// The lookup failed (commonly: the worker may not call `iam:GetRole`).
    NotChecked(String),
}

/// Looks the role up by name.
pub(super) async fn look_up(iam: &IamClient, role: &NamedRole) -> Lookup {
    match iam.get_role().role_name(role.name()).send().await {
        Ok(_) => Lookup::Exists,
        Err(error) => match error.as_service_error() {
            Some(GetRoleError::NoSuchEntityException(_)) => Lookup::Missing,
            _ => Lookup::NotChecked(AwsFailure::new("IAM GetRole", error).message),
        },
    }
}

/// The distinct roles among `named`, first mention first, without empty ARNs.
pub(super) fn distinct(named: Vec<NamedRole>) -> Vec<NamedRole> {
    let mut seen = Vec::new();
    for role in named {
        if !role.arn.is_empty() && !seen.iter().any(|r: &NamedRole| r.arn == role.arn) {
            seen.push(role);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_named_by_its_last_segment() {
        let role = NamedRole {
            arn: "arn:aws:iam::123456789012:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch".to_owned(),
            purpose: "service".to_owned(),
        };
        assert_eq!(role.name(), "AWSServiceRoleForBatch");
        let twice = distinct(vec![role.clone(), role]);
        assert_eq!(twice.len(), 1);
    }
}
