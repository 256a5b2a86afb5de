//! `modelrun lambda` (what the binary runs on AWS Lambda, where it is the
//! default) and `modelrun exec` (the entrypoint of model images).

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use modelrun_core::config::{DatabaseConfig, WebConfig};
use modelrun_core::ids::RunId;
use modelrun_core::job_access::{API_URL_VARIABLE, JOB_TOKEN_VARIABLE, RUN_ID_VARIABLE};
use modelrun_core::model_secrets::SecretValues;
use modelrun_core::secret::Secret;
use modelrun_worker::exec::{Exec, JobApi};

use super::{CommonArgs, Global, WorkerTuning, parse_secret, secrets};
use crate::bootstrap;
use crate::runtime::Components;

/// The longest an AWS call of the web function may take, retries included.
const WEB_AWS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Function {
    /// The web app behind API Gateway.
    Web,
    /// The worker: kicks, Batch and ECR events, the schedule.
    Worker,
}

#[derive(Debug, Args)]
pub(super) struct LambdaArgs {
    /// Which function this is.
    #[arg(long, env = "MODELRUN_LAMBDA_FUNCTION", value_enum)]
    function: Function,
    /// The worker function (name or ARN) that the web function kicks.
    #[arg(long, env = "MODELRUN_WORKER_FUNCTION")]
    worker_function: Option<String>,
    /// Email of the first administrator, created when there is no user.
    #[arg(long, env = "MODELRUN_ADMIN_EMAIL")]
    admin_email: Option<String>,
    /// Password of the first administrator (never printed on Lambda).
    #[arg(long, env = "MODELRUN_ADMIN_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    admin_password: Option<Secret<String>>,
    /// The first administrator's password as a Secrets Manager secret (ARN
    /// or name), read only while there is no user.
    #[arg(
        long,
        env = "MODELRUN_ADMIN_PASSWORD_SECRET_ARN",
        conflicts_with = "admin_password"
    )]
    admin_password_secret_arn: Option<String>,
    /// The database credentials as a Secrets Manager secret (ARN or name) in
    /// the JSON RDS writes, instead of MODELRUN_DATABASE_URL.
    #[arg(long, env = "MODELRUN_DATABASE_SECRET_ARN")]
    database_secret_arn: Option<String>,
    /// The host to connect to instead of the secret's: RDS Proxy's endpoint.
    #[arg(long, env = "MODELRUN_DATABASE_HOST", requires = "database_secret_arn")]
    database_host: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    tuning: WorkerTuning,
}

pub(super) async fn lambda(global: &Global, args: LambdaArgs) -> anyhow::Result<()> {
    let Some(public_url) = args.common.public_url.clone() else {
        bail!(
            "MODELRUN_PUBLIC_URL is required on Lambda: the address people use (the API Gateway URL or your domain)"
        );
    };
    let mut settings = global.settings(public_url.trim_end_matches('/').to_owned())?;
    args.common.apply(&mut settings)?;
    settings.worker = args.tuning.config();
    if settings.s3.is_none() {
        bail!("on Lambda, run files must live in S3: set --blob-store s3 (MODELRUN_BLOB_STORE)");
    }
    let sdk = modelrun_worker::aws::sdk_config(&settings.aws).await;
    if let Some(secret) = &args.database_secret_arn {
        if matches!(settings.database, DatabaseConfig::Postgres(_)) {
            bail!("set MODELRUN_DATABASE_URL or MODELRUN_DATABASE_SECRET_ARN, not both");
        }
        let credentials = secrets::read(&sdk, secret).await?;
        let url = secrets::database_url(&credentials, args.database_host.as_deref())
            .with_context(|| format!("MODELRUN_DATABASE_SECRET_ARN ({secret})"))?;
        settings.database = DatabaseConfig::Postgres(global.postgres(url));
    }
    if !matches!(settings.database, DatabaseConfig::Postgres(_)) {
        bail!(
            "on Lambda, the database must be Postgres: set MODELRUN_DATABASE_URL (each instance has its own disk, so SQLite would split the data)"
        );
    }
    match args.function {
        Function::Web => {
            // API Gateway gives a request 30 s: no AWS call may take them all.
            settings.aws.operation_timeout = settings.aws.operation_timeout.min(WEB_AWS_TIMEOUT);
            let Some(worker) = args.worker_function.clone() else {
                bail!(
                    "the web function needs MODELRUN_WORKER_FUNCTION: the worker function it kicks"
                );
            };
            settings.kick_function = Some(worker);
            // Read before the first administrator is made, as `up` does.
            let costs = args
                .common
                .costs
                .settings(settings.batch.as_ref().map(|batch| batch.platform))?;
            let components = Components::build(&settings).await?;
            if components.store.count_users().await? == 0 {
                let password = match (&args.admin_password, &args.admin_password_secret_arn) {
                    (Some(password), _) => Some(password.clone()),
                    (None, Some(secret)) => Some(secrets::read(&sdk, secret).await?),
                    (None, None) => None,
                };
                // Without one, no administrator: a generated password would end in the log.
                if let Some(password) = password {
                    bootstrap::ensure_admin(
                        &components.store,
                        args.admin_email.as_deref(),
                        Some(password.expose()),
                        "modelrun",
                    )
                    .await?;
                }
            }
            let mut web = WebConfig::new("0.0.0.0:0".parse().context("address")?);
            web.public_url = settings.public_url.clone();
            web.max_log_bytes = Some(crate::lambda::MAX_LOG_BYTES);
            web.run_visibility = args.common.run_visibility;
            web.max_sweep_runs = usize::from(args.common.max_sweep_runs);
            web.max_upload_bytes = args.common.max_upload_mib.saturating_mul(1024 * 1024);
            web.costs = costs;
            crate::lambda::web(components, web).await
        }
        Function::Worker => crate::lambda::worker(Components::build(&settings).await?).await,
    }
}

#[derive(Debug, Args)]
pub(super) struct ExecArgs {
    /// modelrun's address, where the job API is (set by the job's dispatch).
    #[arg(long, env = API_URL_VARIABLE)]
    api_url: Option<String>,
    /// The run this job is (set by the job's dispatch).
    #[arg(long, env = RUN_ID_VARIABLE)]
    run_id: Option<RunId>,
    /// The runs of a sweep's array job, comma-separated in grid order (set
    /// by the sweep's dispatch): with AWS Batch's array index, the run this
    /// child is.
    #[arg(long, env = modelrun_core::sweep::RUNS_VARIABLE, hide = true)]
    sweep_runs: Option<String>,
    /// This child's index in its array job (set by AWS Batch).
    #[arg(long, env = modelrun_core::sweep::ARRAY_INDEX_VARIABLE, hide = true)]
    array_index: Option<String>,
    /// The run's job token (set by the job's dispatch).
    #[arg(long, env = JOB_TOKEN_VARIABLE, hide_env_values = true, hide = true, value_parser = parse_secret)]
    job_token: Option<Secret<String>>,
    /// Without a job token: the inputs file, as `docker run` on a laptop gives it.
    #[arg(long, env = "MODELRUN_INPUTS")]
    inputs: Option<String>,
    /// Without a job token: the outputs directory.
    #[arg(long, env = "MODELRUN_OUTPUT_DIR")]
    output_dir: Option<String>,
    /// The model's secrets that the job definition passes in the
    /// environment, comma-separated: their values are masked in the log.
    #[arg(
        long,
        env = "MODELRUN_SECRET_NAMES",
        value_delimiter = ',',
        hide = true
    )]
    secret_names: Vec<String>,
    /// The model's command.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Runs the model; the exit code is the model's (or 125 if the wrapper failed).
pub(super) async fn exec(args: ExecArgs) -> ExitCode {
    let run_id = match job_run(
        args.run_id,
        args.sweep_runs.as_deref(),
        args.array_index.as_deref(),
    ) {
        Ok(run) => run,
        Err(message) => {
            eprintln!("[modelrun] {message}");
            return ExitCode::from(
                u8::try_from(modelrun_worker::exec::WRAPPER_FAILED).unwrap_or(1),
            );
        }
    };
    let code = match (args.job_token, args.api_url, run_id) {
        (Some(token), Some(url), Some(run)) => {
            let exec = Exec {
                job: JobApi { url, run, token },
                command: args.command,
                secrets: secret_values(&args.secret_names),
            };
            modelrun_worker::exec::run(exec).await
        }
        (Some(_), _, _) => {
            eprintln!(
                "[modelrun] a job token needs {API_URL_VARIABLE} and {RUN_ID_VARIABLE} (or, in \
                 a sweep's array job, {}) beside it",
                modelrun_core::sweep::RUNS_VARIABLE
            );
            modelrun_worker::exec::WRAPPER_FAILED
        }
        // Local paths (`docker run` on a laptop): the contract holds as it is.
        (None, _, _) if args.inputs.is_some() && args.output_dir.is_some() => {
            run_in_place(&args.command).await
        }
        (None, _, _) => {
            eprintln!(
                "[modelrun] nothing to run with: set {JOB_TOKEN_VARIABLE}, {API_URL_VARIABLE} and \
                 {RUN_ID_VARIABLE} (as AWS Batch jobs get them), or MODELRUN_INPUTS and \
                 MODELRUN_OUTPUT_DIR (local paths)"
            );
            modelrun_worker::exec::WRAPPER_FAILED
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The run this job is: `MODELRUN_RUN_ID`, or for a child of a sweep's
/// array job the run at its `AWS_BATCH_JOB_ARRAY_INDEX` in
/// `MODELRUN_SWEEP_RUNS`. `None` when neither names one.
///
/// # Errors
/// A one-line message naming the variable that is wrong or missing.
fn job_run(
    run_id: Option<RunId>,
    sweep_runs: Option<&str>,
    array_index: Option<&str>,
) -> Result<Option<RunId>, String> {
    use modelrun_core::sweep::{ARRAY_INDEX_VARIABLE, RUNS_VARIABLE, run_of_child};
    match (run_id, sweep_runs, array_index) {
        (Some(run), _, _) => Ok(Some(run)),
        (None, Some(runs), Some(index)) => run_of_child(runs, index).map(Some),
        (None, Some(_), None) => Err(format!(
            "{RUNS_VARIABLE} is set but {ARRAY_INDEX_VARIABLE} is not: a sweep's job runs \
             as the children of an AWS Batch array job, which sets it"
        )),
        (None, None, _) => Ok(None),
    }
}

/// The values Batch put in the environment for these secret names, read
/// once here.
fn secret_values(names: &[String]) -> SecretValues {
    SecretValues(
        names
            .iter()
            .filter_map(|name| {
                let value = std::env::var(name).ok()?;
                Some((name.clone(), Secret::new(value)))
            })
            .collect(),
    )
}

async fn run_in_place(command: &[String]) -> i32 {
    let Some((program, args)) = command.split_first() else {
        return modelrun_worker::exec::WRAPPER_FAILED;
    };
    match tokio::process::Command::new(program)
        .args(args)
        .status()
        .await
    {
        Ok(status) => status.code().unwrap_or(1),
        Err(error) => {
            eprintln!("[modelrun] cannot start `{}`: {error}", command.join(" "));
            modelrun_worker::exec::WRAPPER_FAILED
        }
    }
}
