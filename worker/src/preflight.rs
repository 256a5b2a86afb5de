//! Start-up checks of the AWS side, so that `modelrun up`, `serve` and
//! `worker` stop at once naming what is missing, instead of starting as if
//! all were well and failing every task later with a long SDK error.
//!
//! What is checked: a region; credentials from the SDK's usual chain; the
//! S3 bucket (`HeadBucket`); the AWS Batch job queue (`DescribeJobQueues`:
//! it exists and is `ENABLED`); the shape of the two role ARNs. Whether the
//! roles exist is not checked: that needs `iam:GetRole`, which modelrun's
//! own role does not otherwise need; Batch names a missing role when the
//! first job definition is registered.

use aws_config::SdkConfig;
use aws_sdk_batch::types::JqState;
use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use modelrun_core::config::{BatchConfig, S3Config};

/// What a configuration asks of AWS.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs<'a> {
    pub s3: Option<&'a S3Config>,
    pub batch: Option<&'a BatchConfig>,
}

/// Checks `needs` against AWS with `sdk`. `Err` lists every problem found,
/// each naming the resource and the setting (flag) that names it.
pub async fn check(sdk: &SdkConfig, needs: Needs<'_>) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if sdk.region().is_none() {
        problems.push(
            "no AWS region: give --aws-region, or set AWS_REGION (or a region in the AWS profile)"
                .to_owned(),
        );
    }
    if let Err(why) = credentials(sdk).await {
        problems.push(why);
        // Every other check would fail for the same reason.
        return Err(problems);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if let Some(s3) = needs.s3
        && let Err(why) = bucket(sdk, s3).await
    {
        problems.push(why);
    }
    if let Some(batch) = needs.batch {
        if let Err(why) = queue(sdk, &batch.job_queue).await {
            problems.push(why);
        }
        for (arn, flag) in [
            (&batch.execution_role_arn, "--batch-execution-role-arn"),
            (&batch.job_role_arn, "--batch-job-role-arn"),
        ] {
            if !is_role_arn(arn) {
                problems.push(format!(
                    "{flag} {arn:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

async fn credentials(sdk: &SdkConfig) -> Result<(), String> {
    const HOW: &str = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run \
                       with an IAM role (instance profile, ECS task role, Lambda)";
    let Some(provider) = sdk.credentials_provider() else {
        return Err(format!("no AWS credentials: {HOW}"));
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(error) => {
            tracing::debug!(error = %DisplayErrorContext(&error), "loading AWS credentials");
            Err(match std::env::var("AWS_PROFILE") {
                Ok(profile) if !profile.is_empty() => format!(
                    "no AWS credentials from the profile {profile:?} (AWS_PROFILE): check that \
                     ~/.aws/config or ~/.aws/credentials has it, with keys or a role"
                ),
                _ => format!("no AWS credentials: {HOW}"),
            })
        }
    }
}

/// An AWS error in a line: what the service said, or that it did not
/// answer; the whole error goes to the debug log.
fn short<E>(error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::debug!(error = %DisplayErrorContext(error), "an AWS call of the start-up checks");
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            "AWS did not answer (no connection to the endpoint, or it timed out)".to_owned()
        }
        SdkError::ServiceError(service) => {
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => format!("HTTP {}", service.raw().status().as_u16()),
            }
        }
        other => DisplayErrorContext(other).to_string(),
    }
}

async fn bucket(sdk: &SdkConfig, s3: &S3Config) -> Result<(), String> {
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(s3.force_path_style)
            .build(),
    );
    match client.head_bucket().bucket(&s3.bucket).send().await {
        Ok(_) => Ok(()),
        Err(error) => {
            let status = error.raw_response().map(|r| r.status().as_u16());
            Err(match status {
                Some(404) => format!("the S3 bucket {:?} (--s3-bucket) does not exist", s3.bucket),
                Some(403) => format!(
                    "the S3 bucket {:?} (--s3-bucket) exists but these credentials may not use it",
                    s3.bucket
                ),
                _ => format!(
                    "cannot reach the S3 bucket {:?} (--s3-bucket): {}",
                    s3.bucket,
                    short(&error)
                ),
            })
        }
    }
}

async fn queue(sdk: &SdkConfig, name: &str) -> Result<(), String> {
    let client = aws_sdk_batch::Client::new(sdk);
    let found = client
        .describe_job_queues()
        .job_queues(name)
        .send()
        .await
        .map_err(|error| {
            format!(
                "cannot read the AWS Batch job queue {name:?} (--batch-job-queue): {}",
                short(&error)
            )
        })?;
    match found.job_queues().first() {
        None => Err(format!(
            "the AWS Batch job queue {name:?} (--batch-job-queue) does not exist in {}",
            sdk.region().map_or("this region", |r| r.as_ref())
        )),
        Some(queue) if queue.state() == Some(&JqState::Disabled) => Err(format!(
            "the AWS Batch job queue {name:?} (--batch-job-queue) is DISABLED: it takes no jobs"
        )),
        Some(_) => Ok(()),
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path and name>`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(
        parts[..],
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty())
    )
}

#[cfg(test)]
mod tests {
    use super::is_role_arn;

    #[test]
    fn role_arns_have_their_shape() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/modelrun-jobs"));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/path/x"));
        assert!(!is_role_arn("modelrun-jobs"));
        assert!(!is_role_arn("arn:aws:iam::123:role/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/x"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:role/"));
    }
}
