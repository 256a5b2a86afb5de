//! Choosing the backends: where runs execute, where files live, how email
//! goes out (`--mailer smtp` in [`super::smtp`]), where versions come from. The embedded defaults need nothing;
//! each AWS backend needs its names, and says which one is missing.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use modelrun_core::config::{BatchConfig, BatchPlatform, EcrConfig, S3Config, SesConfig};

use crate::runtime::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ExecutorKind {
    /// Processes on this machine.
    Local,
    /// AWS Batch jobs.
    Batch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Platform {
    Fargate,
    Ec2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum BlobKind {
    /// Files in the data directory.
    Local,
    /// An S3 bucket.
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum MailerKind {
    /// Files in the data directory, shown in the Outbox page.
    Outbox,
    /// Amazon SES.
    Ses,
    /// An SMTP server (--smtp-host and the other --smtp-* settings).
    Smtp,
}

#[derive(Debug, Args)]
pub(super) struct BackendArgs {
    /// Where runs execute.
    #[arg(long, env = "MODELRUN_EXECUTOR", value_enum, default_value_t = ExecutorKind::Local)]
    executor: ExecutorKind,
    /// AWS Batch job queue (name or ARN).
    #[arg(long, env = "MODELRUN_BATCH_JOB_QUEUE")]
    batch_job_queue: Option<String>,
    /// Platform of the queue's compute environments.
    #[arg(long, env = "MODELRUN_BATCH_PLATFORM", value_enum, default_value_t = Platform::Fargate)]
    batch_platform: Platform,
    /// Role that pulls images and writes logs for jobs.
    #[arg(long, env = "MODELRUN_BATCH_EXECUTION_ROLE_ARN")]
    batch_execution_role_arn: Option<String>,
    /// Role the model containers run as.
    #[arg(long, env = "MODELRUN_BATCH_JOB_ROLE_ARN")]
    batch_job_role_arn: Option<String>,
    /// CloudWatch Logs group of the jobs.
    #[arg(
        long,
        env = "MODELRUN_BATCH_LOG_GROUP",
        default_value = "/modelrun/runs"
    )]
    batch_log_group: String,
    /// Where model secrets are in Secrets Manager: `<prefix><model>/<NAME>`.
    #[arg(
        long,
        env = "MODELRUN_SECRETS_PREFIX",
        default_value = "modelrun/models/"
    )]
    secrets_prefix: String,
    /// Where run files (inputs, outputs) live.
    #[arg(long, env = "MODELRUN_BLOB_STORE", value_enum, default_value_t = BlobKind::Local)]
    blob_store: BlobKind,
    /// The artifacts bucket.
    #[arg(long, env = "MODELRUN_S3_BUCKET")]
    s3_bucket: Option<String>,
    /// A prefix for every key in the bucket.
    #[arg(long, env = "MODELRUN_S3_PREFIX")]
    s3_prefix: Option<String>,
    /// Path-style S3 URLs (for S3 emulators).
    #[arg(long, env = "MODELRUN_S3_FORCE_PATH_STYLE", value_parser = clap::builder::BoolishValueParser::new())]
    s3_force_path_style: bool,
    /// How email goes out.
    #[arg(long, env = "MODELRUN_MAILER", value_enum, default_value_t = MailerKind::Outbox)]
    mailer: MailerKind,
    /// Sender of SES email, from a verified identity: `modelrun <modelrun@example.com>`.
    #[arg(long, env = "MODELRUN_SES_FROM")]
    ses_from: Option<String>,
    /// SES configuration set for sending.
    #[arg(long, env = "MODELRUN_SES_CONFIGURATION_SET")]
    ses_configuration_set: Option<String>,
    #[command(flatten)]
    smtp: super::smtp::SmtpArgs,
    /// Register versions from the images of the ECR repositories named `<prefix><model>`.
    #[arg(long, env = "MODELRUN_ECR_REPOSITORY_PREFIX")]
    ecr_repository_prefix: Option<String>,
    /// Image tags that become versions (a regular expression).
    #[arg(
        long,
        env = "MODELRUN_ECR_TAG_PATTERN",
        default_value = "^[0-9a-f]{7,40}$"
    )]
    ecr_tag_pattern: String,
    /// One endpoint for every AWS API (an emulator); AWS_ENDPOINT_URL works too.
    #[arg(long, env = "MODELRUN_AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,
    /// The AWS region (default: from AWS_REGION or the profile).
    #[arg(long, env = "MODELRUN_AWS_REGION")]
    aws_region: Option<String>,
}

fn required(
    value: &Option<String>,
    flag: &str,
    variable: &str,
    why: &str,
) -> anyhow::Result<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .with_context(|| format!("{why} needs --{flag} ({variable})"))
}

impl BackendArgs {
    /// Puts the chosen backends into `settings`, or says what is missing.
    pub(super) fn apply(&self, settings: &mut Settings) -> anyhow::Result<()> {
        settings.aws.endpoint_url = self.aws_endpoint_url.clone();
        settings.aws.region = self.aws_region.clone();
        if self.blob_store == BlobKind::S3 {
            let prefix = self
                .s3_prefix
                .as_deref()
                .map(|p| p.trim_matches('/').to_owned())
                .filter(|p| !p.is_empty());
            settings.s3 = Some(S3Config {
                bucket: required(
                    &self.s3_bucket,
                    "s3-bucket",
                    "MODELRUN_S3_BUCKET",
                    "--blob-store s3",
                )?,
                prefix,
                force_path_style: self.s3_force_path_style,
            });
        }
        if self.executor == ExecutorKind::Batch {
            let why = "--executor batch";
            if settings.s3.is_none() {
                bail!(
                    "AWS Batch jobs read their inputs from S3 and write their outputs there: --executor batch needs --blob-store s3"
                );
            }
            settings.batch = Some(BatchConfig {
                job_queue: required(
                    &self.batch_job_queue,
                    "batch-job-queue",
                    "MODELRUN_BATCH_JOB_QUEUE",
                    why,
                )?,
                platform: match self.batch_platform {
                    Platform::Fargate => BatchPlatform::Fargate,
                    Platform::Ec2 => BatchPlatform::Ec2,
                },
                execution_role_arn: required(
                    &self.batch_execution_role_arn,
                    "batch-execution-role-arn",
                    "MODELRUN_BATCH_EXECUTION_ROLE_ARN",
                    why,
                )?,
                job_role_arn: required(
                    &self.batch_job_role_arn,
                    "batch-job-role-arn",
                    "MODELRUN_BATCH_JOB_ROLE_ARN",
                    why,
                )?,
                log_group: self.batch_log_group.clone(),
                api_url: settings.public_url.clone(),
                secrets_prefix: self.secrets_prefix.clone(),
            });
        }
        if self.mailer == MailerKind::Ses {
            settings.ses = Some(SesConfig {
                from: required(
                    &self.ses_from,
                    "ses-from",
                    "MODELRUN_SES_FROM",
                    "--mailer ses",
                )?,
                configuration_set: self.ses_configuration_set.clone(),
            });
        }
        if self.mailer == MailerKind::Smtp {
            settings.smtp = Some(self.smtp.config()?);
        }
        if let Some(prefix) = self.ecr_repository_prefix.clone() {
            regex::Regex::new(&self.ecr_tag_pattern).with_context(|| {
                format!(
                    "--ecr-tag-pattern {:?} is not a regular expression",
                    self.ecr_tag_pattern
                )
            })?;
            settings.ecr = Some(EcrConfig {
                repository_prefix: prefix,
                tag_pattern: self.ecr_tag_pattern.clone(),
            });
        }
        Ok(())
    }
}
