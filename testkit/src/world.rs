//! Everything modelrun's AWS backends need, created in a moto server.

use aws_sdk_batch::types::{
    CeState, CeType, ComputeEnvironmentOrder, ComputeResource, CrType, JqState,
};
use modelrun_core::config::{
    AwsSettings, BatchConfig, BatchPlatform, EcrConfig, S3Config, SesConfig,
};

use crate::moto::{Moto, xml_value};

/// The names and settings of a freshly created AWS account, emulated.
#[derive(Debug)]
pub struct AwsWorld {
    pub moto: Moto,
    pub sdk: aws_config::SdkConfig,
    pub aws: AwsSettings,
    pub batch: BatchConfig,
    pub s3: S3Config,
    pub ses: SesConfig,
    pub ecr: EcrConfig,
}

impl AwsWorld {
    pub async fn create() -> Self {
        Self::create_in(Moto::start().await).await
    }

    pub async fn create_in(moto: Moto) -> Self {
        let aws = moto.aws_settings();
        let sdk = moto.sdk_config().await;
        let s3 = S3Config {
            bucket: "modelrun-artifacts".to_owned(),
            prefix: None,
            force_path_style: true,
        };
        let s3_client = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        s3_client
            .create_bucket()
            .bucket(&s3.bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .expect("bucket");

        let role = |name: &'static str| {
            let moto = &moto;
            async move {
                let xml = moto
                    .query(
                        "iam",
                        &[
                            ("Action", "CreateRole"),
                            ("Version", "2010-05-08"),
                            ("RoleName", name),
                            ("AssumeRolePolicyDocument", "{}"),
                        ],
                    )
                    .await;
                xml_value(&xml, "Arn")
            }
        };
        let service_role = role("modelrun-batch-service").await;
        let execution_role = role("modelrun-job-execution").await;
        let job_role = role("modelrun-job").await;
        let ec2 = |params: Vec<(&'static str, String)>| {
            let moto = &moto;
            async move {
                let mut all = vec![("Version", "2016-11-15".to_owned())];
                all.extend(params);
                let borrowed: Vec<(&str, &str)> =
                    all.iter().map(|(k, v)| (*k, v.as_str())).collect();
                moto.query("ec2", &borrowed).await
            }
        };
        let vpc = xml_value(
            &ec2(vec![
                ("Action", "CreateVpc".into()),
                ("CidrBlock", "10.0.0.0/16".into()),
            ])
            .await,
            "vpcId",
        );
        let subnet = xml_value(
            &ec2(vec![
                ("Action", "CreateSubnet".into()),
                ("VpcId", vpc.clone()),
                ("CidrBlock", "10.0.1.0/24".into()),
            ])
            .await,
            "subnetId",
        );
        let group = xml_value(
            &ec2(vec![
                ("Action", "CreateSecurityGroup".into()),
                ("GroupName", "modelrun-jobs".into()),
                ("GroupDescription", "Batch jobs".into()),
                ("VpcId", vpc),
            ])
            .await,
            "groupId",
        );

        fargate_queue(
            &aws_sdk_batch::Client::new(&sdk),
            "modelrun",
            16,
            &service_role,
            vec![subnet],
            vec![group],
        )
        .await;

        aws_sdk_cloudwatchlogs::Client::new(&sdk)
            .create_log_group()
            .log_group_name("/modelrun/runs")
            .send()
            .await
            .expect("log group");
        aws_sdk_sesv2::Client::new(&sdk)
            .create_email_identity()
            .email_identity("example.com")
            .send()
            .await
            .expect("SES identity");

        AwsWorld {
            batch: BatchConfig {
                job_queue: "modelrun".to_owned(),
                platform: BatchPlatform::Fargate,
                execution_role_arn: execution_role,
                job_role_arn: job_role,
                log_group: "/modelrun/runs".to_owned(),
                // The address of the app that uses this world, which sets it.
                api_url: String::new(),
                secrets_prefix: "modelrun/models/".to_owned(),
            },
            s3,
            ses: SesConfig {
                from: "modelrun <modelrun@example.com>".to_owned(),
                configuration_set: None,
            },
            ecr: EcrConfig {
                repository_prefix: "modelrun/".to_owned(),
                tag_pattern: "^[0-9a-f]{7,40}$".to_owned(),
            },
            sdk,
            aws,
            moto,
        }
    }

    /// Another job queue, `name`, on a Fargate compute environment of its
    /// own with at most `max_vcpus`, in the world's subnets and with its
    /// service role, and makes it the queue `batch` names.
    pub async fn use_fargate_queue(&mut self, name: &str, max_vcpus: i32) {
        let batch = self.batch_client();
        let described = batch
            .describe_compute_environments()
            .compute_environments("modelrun-fargate")
            .send()
            .await
            .expect("describe");
        let existing = &described.compute_environments()[0];
        let network = existing.compute_resources().expect("resources");
        fargate_queue(
            &batch,
            name,
            max_vcpus,
            existing.service_role().unwrap_or_default(),
            network.subnets().to_vec(),
            network.security_group_ids().to_vec(),
        )
        .await;
        self.batch.job_queue = name.to_owned();
    }

    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .force_path_style(true)
                .build(),
        )
    }

    pub fn batch_client(&self) -> aws_sdk_batch::Client {
        aws_sdk_batch::Client::new(&self.sdk)
    }

    pub fn secrets_client(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }

    pub fn ecr_client(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.sdk)
    }

    pub fn logs_client(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk)
    }
}

/// A job queue `name` on a Fargate compute environment `<name>-fargate`
/// (the world's own is `modelrun-fargate`) of at most `max_vcpus`.
async fn fargate_queue(
    batch: &aws_sdk_batch::Client,
    name: &str,
    max_vcpus: i32,
    service_role: &str,
    subnets: Vec<String>,
    security_groups: Vec<String>,
) {
    let environment = batch
        .create_compute_environment()
        .compute_environment_name(format!("{name}-fargate"))
        .r#type(CeType::Managed)
        .state(CeState::Enabled)
        .service_role(service_role)
        .compute_resources(
            ComputeResource::builder()
                .r#type(CrType::Fargate)
                .maxv_cpus(max_vcpus)
                .set_subnets(Some(subnets))
                .set_security_group_ids(Some(security_groups))
                .build(),
        )
        .send()
        .await
        .expect("compute environment");
    batch
        .create_job_queue()
        .job_queue_name(name)
        .state(JqState::Enabled)
        .priority(1)
        .compute_environment_order(
            ComputeEnvironmentOrder::builder()
                .order(1)
                .compute_environment(environment.compute_environment_arn().unwrap_or_default())
                .build(),
        )
        .send()
        .await
        .expect("job queue");
}
