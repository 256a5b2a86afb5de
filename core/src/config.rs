//! Typed configuration. The binary builds it once at start-up from flags and
//! `MODELRUN_*` variables; nothing reads the environment later. Each part of
//! the program takes only its own section.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::limit::Limits;
use crate::secret::Secret;

/// Where state lives.
#[derive(Debug, Clone)]
pub enum DatabaseConfig {
    /// A SQLite file: the embedded default.
    Sqlite { path: PathBuf },
    /// A Postgres server: the production store.
    Postgres(PostgresConfig),
}

/// A Postgres connection pool.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// `postgres://user:password@host/db`; it may hold a password, so it never prints.
    pub url: Secret<String>,
    /// Most connections this process opens. Small on Lambda, where every
    /// instance has its own pool.
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// The database is behind RDS Proxy or a transaction pooler: LISTEN is
    /// off (the periodic poll finds new tasks) and prepared statements are
    /// not kept between queries, both of which would pin connections.
    pub behind_proxy: bool,
}

impl PostgresConfig {
    /// Pool size when nothing is configured: 2 on Lambda, 10 elsewhere.
    pub fn default_max_connections(on_lambda: bool) -> u32 {
        if on_lambda { 2 } else { 10 }
    }
}

/// The worker's loop.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often to look for due tasks when no kick arrives.
    pub poll_interval: Duration,
    /// How long a claimed task is leased before another worker may take it.
    pub lease: Duration,
    /// Tasks handled at once, environment builds aside.
    pub concurrency: usize,
    /// Environment builds (`prepare_environment`, up to the build timeout
    /// each) handled at once, in slots of their own: builds never hold up
    /// dispatches, cancels and email. Past it, a build waits its turn.
    pub environment_builds: usize,
    /// How often to check active runs with the executor.
    pub sweep_interval: Duration,
    /// A run in `runnable` or `starting` for longer than this is diagnosed,
    /// and the administrators are told.
    pub stuck_after: Duration,
    /// How often the sweep queues an image sync, when a registry is configured.
    pub image_sync_interval: Duration,
}

impl WorkerConfig {
    /// Tasks handled at once by default. Most of them (dispatches, cancels,
    /// emails, checks) wait on the database, the executor or the network,
    /// not the CPU, and runs and environment builds have slots of their
    /// own: 64 lets a burst of 50 submits be claimed in one go and every
    /// run be `dispatching` within about 0.1 s (docs/benchmarks.md), where
    /// 4 or 16 slots made the last wait 0.4 s behind the others' turns.
    pub const DEFAULT_CONCURRENCY: u16 = 64;
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            poll_interval: Duration::from_secs(2),
            lease: Duration::from_secs(120),
            concurrency: usize::from(Self::DEFAULT_CONCURRENCY),
            environment_builds: 2,
            sweep_interval: Duration::from_secs(30),
            stuck_after: Duration::from_secs(10 * 60),
            image_sync_interval: Duration::from_secs(5 * 60),
        }
    }
}

/// The local executor.
#[derive(Debug, Clone)]
pub struct LocalExecutorConfig {
    /// Where runs get their working directories and logs.
    pub data_dir: PathBuf,
    /// Runs executing at once; the rest wait in `runnable`.
    pub max_concurrent_runs: usize,
    /// `PATH` of model processes (they get no other variable of ours).
    pub search_path: String,
    /// Most bytes of a run's log that are kept; the rest is dropped, with a note.
    pub max_log_bytes: u64,
    /// Most bytes a run's outputs may take in all; past it the run is stopped.
    pub max_output_bytes: u64,
    /// Where and how model environments are built.
    pub environments: EnvironmentsConfig,
    /// Whether runs execute in a sandbox.
    pub sandbox: SandboxMode,
}

/// Whether local runs execute in a sandbox (bubblewrap, on Linux).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SandboxMode {
    /// In a sandbox when this machine can make one; else unconfined, said
    /// at start-up and on the admin pages.
    #[default]
    Auto,
    /// In a sandbox, or the server does not start.
    Required,
    /// Unconfined: runs are plain processes of the server's user.
    Off,
}

impl std::str::FromStr for SandboxMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(SandboxMode::Auto),
            "required" => Ok(SandboxMode::Required),
            "off" => Ok(SandboxMode::Off),
            other => Err(format!(
                "unknown sandbox mode {other:?}: use auto, required or off"
            )),
        }
    }
}

impl LocalExecutorConfig {
    /// Defaults for runs under `data_dir`, with environments in
    /// `<data_dir>/environments`.
    pub fn new(data_dir: PathBuf) -> Self {
        LocalExecutorConfig {
            environments: EnvironmentsConfig::new(data_dir.join("environments")),
            data_dir,
            max_concurrent_runs: 2,
            search_path: "/usr/local/bin:/usr/bin:/bin".to_owned(),
            max_log_bytes: 100 * 1024 * 1024,
            max_output_bytes: 5 * 1024 * 1024 * 1024,
            sandbox: SandboxMode::Auto,
        }
    }
}

/// Building model environments on this machine (see `environment`).
#[derive(Debug, Clone)]
pub struct EnvironmentsConfig {
    /// Where environments are built: `<data>/environments`.
    pub root: PathBuf,
    /// `uv`, when the server has it (it is looked for on `PATH` at start-up);
    /// without it environments are built with `python -m venv` and pip.
    pub uv: Option<PathBuf>,
    /// `PATH` of the installer, to find Python and compilers.
    pub search_path: String,
    /// Where packages come from.
    pub index: PackageIndex,
    /// The server's own installer settings, passed to every build as the
    /// server got them: proxies, certificate bundles, every `PIP_*` and
    /// `UV_*` variable, and where its pip and uv configuration files are.
    pub installer_env: Vec<(String, Secret<String>)>,
    /// Longest an environment may take to build.
    pub timeout: Duration,
}

impl EnvironmentsConfig {
    /// Defaults for environments under `root`.
    pub fn new(root: PathBuf) -> Self {
        EnvironmentsConfig {
            root,
            uv: None,
            search_path: "/usr/local/bin:/usr/bin:/bin".to_owned(),
            index: PackageIndex::default(),
            installer_env: Vec::new(),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Package index settings, as pip names them (`PIP_INDEX_URL`,
/// `PIP_EXTRA_INDEX_URL`, `PIP_FIND_LINKS`, `PIP_NO_INDEX`): a private
/// index, or a wheelhouse on a machine without internet.
#[derive(Debug, Clone, Default)]
pub struct PackageIndex {
    /// May carry a token (`https://user:token@pypi.example.com/simple`).
    pub index_url: Option<Secret<String>>,
    pub extra_index_urls: Vec<Secret<String>>,
    /// Directories or pages of wheels.
    pub find_links: Vec<String>,
    /// Use only `find_links`.
    pub no_index: bool,
}

/// The default cap on an uploaded input file, in MiB.
pub const DEFAULT_MAX_UPLOAD_MIB: u64 = 100;

/// The web app.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub bind: SocketAddr,
    /// The address people use, for links in emails (`http://127.0.0.1:8080`).
    pub public_url: String,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Largest inputs of one run, as JSON.
    pub max_inputs_bytes: usize,
    /// Most runs one sweep makes (`--max-sweep-runs`; default
    /// [`crate::sweep::DEFAULT_MAX_RUNS`]).
    pub max_sweep_runs: usize,
    /// Largest uploaded input file, in bytes: the server's cap over every
    /// file input's own `x-max-bytes`.
    pub max_upload_bytes: u64,
    /// Where responses are bounded (AWS Lambda: 6 MB), the log download
    /// stops at this many bytes with a note. `None`: the whole log.
    pub max_log_bytes: Option<usize>,
    /// Whose runs a person sees.
    pub run_visibility: RunVisibility,
    /// Sign-in and submit rates.
    pub limits: Limits,
    /// Connection limits of the built-in HTTP server (`up`, `serve`).
    pub connections: ConnectionLimits,
    /// The data directory whose free space `/healthz` and the admin pages
    /// report, on one machine; `None` where there is none (AWS Lambda).
    pub disk: Option<DiskWatch>,
    /// Prices of runs and the time zone of budget months
    /// ([`crate::estimate`], [`crate::budget`]).
    pub costs: crate::estimate::CostSettings,
}

/// A directory whose disk holds what modelrun keeps (the SQLite database,
/// logs, outputs) and the free space below which administrators are warned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiskWatch {
    pub dir: PathBuf,
    /// Free bytes below which the log and the admin pages warn. Default
    /// 1 GiB (`--min-free-mib`, `MODELRUN_MIN_FREE_MIB`).
    pub min_free_bytes: u64,
}

impl DiskWatch {
    /// The default warning threshold: 1 GiB.
    pub const DEFAULT_MIN_FREE_BYTES: u64 = 1024 * 1024 * 1024;
    /// Below this many free bytes the disk counts as full: SQLite needs a
    /// few pages for any commit, and a run's log or outputs any space at all.
    pub const FULL_BELOW_BYTES: u64 = 1024 * 1024;
}

/// What one client may hold of the built-in HTTP server, so that clients
/// that send slowly, or not at all, cannot hold its connections and file
/// descriptors. On AWS Lambda, API Gateway is the server and these do not
/// apply, except `request_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the first byte a connection may send (on a new connection, or
    /// after the previous response on a kept-alive one) to the end of a
    /// request's headers. Past it the connection is closed; a connection
    /// idle this long is closed too. Default 30 s, hyper's own default.
    pub header_read_timeout: Duration,
    /// From the end of a request's headers to its response, body read
    /// included; past it the answer is `408`. Default 60 s: API Gateway
    /// gives a Lambda response 29 s, so no request of ours needs more.
    pub request_timeout: Duration,
    /// Connections served at once; the next waits in the kernel's accept
    /// queue, using none of the server's file descriptors. Default 512,
    /// half the usual soft limit of 1,024 open files.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_connections: 512,
        }
    }
}

/// Whose runs a person who is not an admin may see. Admins see every run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunVisibility {
    /// Everyone sees every run of the team.
    #[default]
    Team,
    /// People see only the runs they submitted.
    Own,
}

impl std::str::FromStr for RunVisibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "team" => Ok(RunVisibility::Team),
            "own" => Ok(RunVisibility::Own),
            other => Err(format!("unknown run visibility {other:?}: use team or own")),
        }
    }
}

impl WebConfig {
    /// Defaults for a server on `bind`.
    pub fn new(bind: SocketAddr) -> Self {
        WebConfig {
            bind,
            public_url: format!("http://{bind}"),
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            max_body_bytes: 256 * 1024,
            max_inputs_bytes: 64 * 1024,
            max_sweep_runs: usize::from(crate::sweep::DEFAULT_MAX_RUNS),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_MIB * 1024 * 1024,
            max_log_bytes: None,
            run_visibility: RunVisibility::Team,
            limits: Limits::default(),
            connections: ConnectionLimits::default(),
            disk: None,
            costs: crate::estimate::CostSettings::default(),
        }
    }

    /// Cookies are marked `Secure` unless the app is served over plain HTTP.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// How modelrun talks to AWS. Credentials and the region come from the
/// usual places (environment, profile, the Lambda or ECS role).
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// An endpoint for every AWS API (an emulator such as moto); the SDK
    /// also honours `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    /// Attempts per AWS call, the first included, before the error reaches
    /// modelrun (whose task retries then take over).
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    /// Longest an AWS call may take, retries included.
    pub operation_timeout: Duration,
    /// Sign requests with fixed, fake credentials: for an emulator (moto)
    /// at `endpoint_url`, which checks none.
    pub emulator_credentials: bool,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            endpoint_url: None,
            region: None,
            max_attempts: 3,
            connect_timeout: Duration::from_secs(3),
            operation_timeout: Duration::from_secs(30),
            emulator_credentials: false,
        }
    }
}

/// Where runs execute on AWS Batch.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// Name or ARN of the job queue.
    pub job_queue: String,
    /// `FARGATE` or `EC2`: the platform of the compute environments behind the queue.
    pub platform: BatchPlatform,
    /// The role ECS uses to pull the image and write logs.
    pub execution_role_arn: String,
    /// The role the model's container runs as. It needs no rights of its
    /// own: the job reaches its files through the job API.
    pub job_role_arn: String,
    /// CloudWatch Logs group for the jobs' output.
    pub log_group: String,
    /// Where jobs reach modelrun's job API (`MODELRUN_API_URL` in the job):
    /// the address people use, `MODELRUN_PUBLIC_URL`.
    pub api_url: String,
    /// Where model secrets are in Secrets Manager: `<prefix><model>/<NAME>`.
    pub secrets_prefix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPlatform {
    Fargate,
    Ec2,
}

impl BatchPlatform {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchPlatform::Fargate => "FARGATE",
            BatchPlatform::Ec2 => "EC2",
        }
    }
}

/// The artifacts bucket.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    /// Keys go under this prefix (no leading or trailing `/`), if any.
    pub prefix: Option<String>,
    /// Path-style URLs (`http://host/bucket/key`): needed by emulators.
    pub force_path_style: bool,
}

/// Sending email through an SMTP server (`--mailer smtp`).
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The server's host name (checked against its certificate).
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User and password for `AUTH`, if the server asks for them.
    pub credentials: Option<(String, Secret<String>)>,
    /// The sender: `modelrun <modelrun@example.com>`.
    pub from: String,
    /// A PEM file of certificate authorities to trust besides the
    /// system's (a company's own CA).
    pub ca_file: Option<std::path::PathBuf>,
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text, then `STARTTLS`, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465, RFC 8314).
    Tls,
    /// No encryption: only for a relay on this machine or a trusted network.
    None,
}

impl SmtpSecurity {
    /// The usual port: 587 (submission), 465 (submissions), 25.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// Sending email with SES.
#[derive(Debug, Clone)]
pub struct SesConfig {
    /// The sender, from a verified identity: `modelrun <modelrun@example.com>`.
    pub from: String,
    pub configuration_set: Option<String>,
}

/// Model images in ECR.
#[derive(Debug, Clone)]
pub struct EcrConfig {
    /// Repositories named `<prefix><model name>` hold the models' images.
    pub repository_prefix: String,
    /// Tags that become versions (a regular expression); others are ignored.
    pub tag_pattern: String,
}
