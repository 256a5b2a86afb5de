//! The `modelrun` command line. Every option also reads from a `MODELRUN_*`
//! variable, and everything is read once, here, at start-up.

mod accounts;
mod backends;
mod client;
mod costs;
mod environments;
mod help;
mod installation;
mod lambda;
mod lifecycle;
mod model_secrets;
mod secrets;
mod server;
mod smtp;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use modelrun_core::config::{DatabaseConfig, PostgresConfig, SandboxMode, WorkerConfig};
use modelrun_core::secret::Secret;
use modelrun_core::user::Role;

use crate::runtime::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "modelrun",
    version,
    about = "Put a model behind a web page: forms, runs, results."
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "This machine's installation")]
struct Global {
    /// Where modelrun keeps its state on this machine: the database, run
    /// files, logs and the outbox.
    #[arg(
        long,
        env = "MODELRUN_DATA_DIR",
        default_value = ".modelrun",
        value_parser = parse_absolute_path,
        global = true
    )]
    data_dir: PathBuf,
    /// A Postgres URL (postgres://user:password@host/db): the production
    /// store. Without it, modelrun uses a SQLite file in the data directory.
    /// DATABASE_URL is read when MODELRUN_DATABASE_URL is not set.
    #[arg(long, env = "MODELRUN_DATABASE_URL", hide_env_values = true, value_parser = parse_secret, global = true)]
    database_url: Option<Secret<String>>,
    /// Most Postgres connections this process opens (default 10, or 2 on AWS Lambda).
    #[arg(long, env = "MODELRUN_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    db_max_connections: Option<u32>,
    /// Seconds a request waits for a Postgres connection before it is answered 503.
    #[arg(long, env = "MODELRUN_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    db_acquire_timeout_secs: u64,
    /// Postgres is behind RDS Proxy or a transaction pooler: no LISTEN/NOTIFY,
    /// no prepared statements kept between queries.
    #[arg(long, env = "MODELRUN_DB_BEHIND_PROXY", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    db_behind_proxy: bool,
    /// Do not apply database migrations at start-up (run `modelrun migrate` instead).
    #[arg(long, env = "MODELRUN_NO_MIGRATE", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    no_migrate: bool,
    /// How to write logs.
    #[arg(long, env = "MODELRUN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true, help_heading = None::<&str>)]
    log_format: LogFormat,
    /// The key that encrypts model secrets at rest (64 hex digits, such as
    /// `openssl rand -hex 32` prints). Without it, <data dir>/secrets.key,
    /// created on first use.
    #[arg(long, env = "MODELRUN_SECRETS_KEY", hide_env_values = true, value_parser = parse_secret, global = true)]
    secrets_key: Option<Secret<String>>,
    #[command(flatten)]
    environments: environments::EnvironmentArgs,
    /// How the person ran this program, to repeat in hints.
    #[arg(skip)]
    invoked_as: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and run the worker in one process: all of modelrun on one machine.
    Up(UpArgs),
    /// Serve the web app only (run a worker separately).
    Serve(ServeArgs),
    /// Run the worker only: dispatch runs, send emails, follow jobs.
    Worker(WorkerArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Register and list models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(accounts::UsersCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Tokens(accounts::TokensCommand),
    /// Set, delete and list model secrets (values from standard input).
    #[command(subcommand)]
    Secrets(model_secrets::SecretsCommand),
    /// Submit, list, follow and cancel runs on a modelrun server, through its API.
    #[command(subcommand)]
    Runs(client::runs::RunsCommand),
    /// Create, list, pause, resume and delete schedules on a modelrun server.
    #[command(subcommand)]
    Schedules(client::schedules::SchedulesCommand),
    /// Submit, list, cancel and download sweeps (one run per combination
    /// of varied inputs) on a modelrun server.
    #[command(subcommand)]
    Sweeps(client::sweeps::SweepsCommand),
    /// List, set and remove monthly budgets on a modelrun server (admin role).
    #[command(subcommand)]
    Budgets(client::costs::BudgetsCommand),
    /// Serve as an AWS Lambda function: the default under the Lambda runtime.
    Lambda(lambda::LambdaArgs),
    /// Run a model with the container contract, fetching its inputs from S3
    /// and storing its outputs there: the entrypoint of model images.
    Exec(lambda::ExecArgs),
}

#[derive(Debug, Args)]
struct HttpArgs {
    /// The address to listen on.
    #[arg(long, env = "MODELRUN_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Email of the first administrator, created when there is no user.
    #[arg(long, env = "MODELRUN_ADMIN_EMAIL")]
    admin_email: Option<String>,
    /// Password of the first administrator; without it a random one is printed once.
    #[arg(long, env = "MODELRUN_ADMIN_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    admin_password: Option<Secret<String>>,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// The address people use to reach modelrun, for links in emails
    /// (default: http://<bind address>).
    #[arg(long, env = "MODELRUN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Runs executing at once on this machine; the rest wait in `runnable`.
    #[arg(long, env = "MODELRUN_MAX_CONCURRENT_RUNS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    max_concurrent_runs: u16,
    /// Whose runs people see: `team` (every run) or `own` (their own;
    /// admins see all).
    #[arg(long, env = "MODELRUN_RUN_VISIBILITY", default_value = "team")]
    run_visibility: modelrun_core::config::RunVisibility,
    /// Most runs one sweep may make (the grid of its varied inputs), from 2
    /// to 1000: a sweep and all its runs are made in one request.
    #[arg(long, env = "MODELRUN_MAX_SWEEP_RUNS", default_value_t = modelrun_core::sweep::DEFAULT_MAX_RUNS, value_parser = clap::value_parser!(u16).range(2..=1_000))]
    max_sweep_runs: u16,
    /// Whether runs on this machine execute in a sandbox (bubblewrap):
    /// `auto` (when it can; said at start-up when not), `required` (or no
    /// start), `off`.
    #[arg(long, env = "MODELRUN_SANDBOX", default_value = "auto")]
    sandbox: SandboxMode,
    /// MiB of outputs one run may leave, in all; past it the run is stopped.
    #[arg(long, env = "MODELRUN_MAX_OUTPUT_MIB", default_value_t = 5120, value_parser = clap::value_parser!(u64).range(1..))]
    max_output_mib: u64,
    /// MiB of a run's log that are kept; the rest is dropped, with a note.
    #[arg(long, env = "MODELRUN_MAX_LOG_MIB", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    max_log_mib: u64,
    /// MiB of free space on the data directory's disk below which the log
    /// and the admin pages warn (checked every minute, and on /healthz).
    #[arg(long, env = "MODELRUN_MIN_FREE_MIB", default_value_t = 1024)]
    min_free_mib: u64,
    /// MiB of the largest input file a person may upload (a file input's
    /// own `x-max-bytes` may ask for less).
    #[arg(long, env = "MODELRUN_MAX_UPLOAD_MIB", default_value_t = modelrun_core::config::DEFAULT_MAX_UPLOAD_MIB, value_parser = clap::value_parser!(u64).range(1..))]
    max_upload_mib: u64,
    #[command(flatten)]
    backends: backends::BackendArgs,
    #[command(flatten)]
    costs: costs::CostArgs,
}

#[derive(Debug, Args)]
struct WorkerTuning {
    /// Tasks the worker handles at once (dispatches, cancels, emails,
    /// checks; runs and environment builds have slots of their own).
    #[arg(long, env = "MODELRUN_WORKER_CONCURRENCY", default_value_t = WorkerConfig::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..))]
    worker_concurrency: u16,
    /// Environment builds the worker handles at once, in slots of their
    /// own beside --worker-concurrency; more wait their turn.
    #[arg(long, env = "MODELRUN_ENVIRONMENT_BUILDS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    environment_builds: u16,
    /// Seconds between looks for due tasks when nothing wakes the worker.
    #[arg(long, env = "MODELRUN_POLL_INTERVAL_SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    poll_interval_secs: u64,
    /// Seconds between checks of active runs with the executor.
    #[arg(long, env = "MODELRUN_SWEEP_INTERVAL_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    sweep_interval_secs: u64,
    /// Minutes a run may wait in `runnable` or `starting` before it is
    /// diagnosed and the administrators are emailed.
    #[arg(long, env = "MODELRUN_STUCK_AFTER_MINS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    stuck_after_mins: u64,
}

#[derive(Debug, Args)]
struct UpArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    tuning: WorkerTuning,
    /// Do not register the built-in example model (never registered with
    /// --executor batch: it runs on this machine only).
    #[arg(long, env = "MODELRUN_NO_EXAMPLE", value_parser = clap::builder::BoolishValueParser::new())]
    no_example: bool,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    tuning: WorkerTuning,
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// Register a version from a model directory (with its modelrun.toml).
    /// Files identical to an active version's register nothing new: that
    /// version is named instead, whatever the label.
    Register {
        /// The model directory.
        #[arg(value_parser = parse_absolute_path)]
        dir: PathBuf,
        /// The version label (default: the first 12 hex digits of the files'
        /// digest). Used only when the files differ from every active version's.
        #[arg(long)]
        label: Option<String>,
    },
    /// List models and their versions: from a server when one is named
    /// (--url, MODELRUN_URL or the config file), else from this machine's database.
    List {
        #[command(flatten)]
        server: client::ServerArgs,
    },
    /// Make a version its model's production version, the one planners
    /// run (an administrator's or the model owner's token): on a server
    /// when one is named, else in this machine's database. Rolling back is
    /// promoting an earlier version.
    Promote {
        /// The model's name.
        model: String,
        /// The version's label.
        label: String,
        /// Why this version goes to production; kept in the audit log.
        #[arg(long)]
        note: String,
        #[command(flatten)]
        server: client::ServerArgs,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
}

/// A path option made absolute against the working directory, once, as it
/// is read: a relative path would mean something else to a model process,
/// which runs in a directory of its own, and to any later reader of a
/// stored record.
fn parse_absolute_path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("the path is empty".to_owned());
    }
    std::path::absolute(text).map_err(|error| format!("cannot resolve {text:?}: {error}"))
}

/// Keeps a secret option out of `Debug` output from the moment it is read.
fn parse_secret(text: &str) -> Result<Secret<String>, String> {
    Ok(Secret::new(text.to_owned()))
}

impl Global {
    fn settings(&self, public_url: String) -> anyhow::Result<Settings> {
        let mut settings = Settings::local(self.data_dir.clone(), public_url);
        settings.migrate = !self.no_migrate;
        settings.secrets_key = self.secrets_key.clone();
        // Model processes and installers get this machine's PATH, read once here.
        if let Ok(path) = std::env::var("PATH") {
            settings.local.search_path = path;
        }
        settings.local.environments = self.environments.config(
            self.data_dir.join("environments"),
            &settings.local.search_path,
        )?;
        let url = self.database_url.clone().or_else(|| {
            std::env::var("DATABASE_URL")
                .ok()
                .filter(|url| !url.is_empty())
                .map(Secret::new)
        });
        if let Some(url) = url {
            let scheme = url.expose().split("://").next().unwrap_or_default();
            if !matches!(scheme, "postgres" | "postgresql") {
                anyhow::bail!(
                    "--database-url (MODELRUN_DATABASE_URL or DATABASE_URL) must be a postgres:// URL"
                );
            }
            settings.database = DatabaseConfig::Postgres(self.postgres(url));
        }
        Ok(settings)
    }

    /// Postgres at `url`, with this command line's pool settings.
    fn postgres(&self, url: Secret<String>) -> PostgresConfig {
        let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
        PostgresConfig {
            url,
            max_connections: self
                .db_max_connections
                .unwrap_or_else(|| PostgresConfig::default_max_connections(on_lambda)),
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs),
            behind_proxy: self.db_behind_proxy,
        }
    }
}

impl CommonArgs {
    fn apply(&self, settings: &mut Settings) -> anyhow::Result<()> {
        settings.local.max_concurrent_runs = usize::from(self.max_concurrent_runs);
        settings.local.sandbox = self.sandbox;
        settings.local.max_output_bytes = self.max_output_mib * 1024 * 1024;
        settings.local.max_log_bytes = self.max_log_mib * 1024 * 1024;
        self.backends.apply(settings)
    }
}

impl WorkerTuning {
    fn config(&self) -> WorkerConfig {
        WorkerConfig {
            concurrency: usize::from(self.worker_concurrency),
            environment_builds: usize::from(self.environment_builds),
            poll_interval: Duration::from_secs(self.poll_interval_secs),
            sweep_interval: Duration::from_secs(self.sweep_interval_secs),
            stuck_after: Duration::from_secs(self.stuck_after_mins * 60),
            ..WorkerConfig::default()
        }
    }
}

/// Logs to stderr, as text or JSON; on AWS Lambda always JSON to stdout,
/// with the invocation's request id from the runtime's span.
fn init_logging(format: LogFormat, on_lambda: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match (format, on_lambda) {
        (_, true) => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(std::io::stdout)
            .init(),
        (LogFormat::Text, false) => builder.with_writer(std::io::stderr).init(),
        (LogFormat::Json, false) => builder.json().with_writer(std::io::stderr).init(),
    }
}

/// Parses the command line and runs it. Under the Lambda runtime, with no
/// arguments, the command is `lambda`.
pub fn run() -> ExitCode {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let mut cli = if on_lambda && std::env::args_os().len() == 1 {
        help::parse_from(["modelrun", "lambda"])
    } else {
        help::parse()
    };
    cli.global.invoked_as = installation::invoked_as();
    if cli.command.prints_and_ends() {
        quiet_on_a_closed_pipe();
    }
    init_logging(cli.global.log_format, on_lambda);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// Whether the command prints what it was asked and ends, as a
    /// listing does; the servers, the Lambda functions and the job
    /// wrapper run on.
    fn prints_and_ends(&self) -> bool {
        !matches!(
            self,
            Command::Up(_)
                | Command::Serve(_)
                | Command::Worker(_)
                | Command::Lambda(_)
                | Command::Exec(_)
        )
    }
}

/// `modelrun runs list | head -1`: once the reader has gone, the next
/// write ends the command quietly, as it ends `ls` or `cat`, instead of
/// `println!` panicking on EPIPE. Rust ignores SIGPIPE for every program;
/// this gives a one-shot command the default action back. Its sockets are
/// unaffected: the standard library sends with `MSG_NOSIGNAL`.
#[allow(unsafe_code)]
fn quiet_on_a_closed_pipe() {
    // SAFETY: called before the runtime and any other thread start; it
    // changes only how this process reacts to SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Up(args) => server::up(&global, args).await?,
        Command::Serve(args) => server::serve(&global, args).await?,
        Command::Worker(args) => server::worker(&global, args).await?,
        Command::Migrate => accounts::migrate(&global).await?,
        Command::Models(command) => accounts::models(&global, command).await?,
        Command::Users(command) => accounts::users(&global, command).await?,
        Command::Tokens(command) => accounts::tokens(&global, command).await?,
        Command::Secrets(command) => model_secrets::run(&global, command).await?,
        Command::Runs(command) => return client::runs::run(command).await,
        Command::Schedules(command) => return client::schedules::run(command).await,
        Command::Sweeps(command) => return client::sweeps::run(command).await,
        Command::Budgets(command) => return client::costs::budgets(command).await,
        Command::Lambda(args) => lambda::lambda(&global, args).await?,
        // The model's exit code is the wrapper's.
        Command::Exec(args) => return Ok(lambda::exec(args).await),
    }
    Ok(ExitCode::SUCCESS)
}
