//! Typed configuration. The binary builds it once at start-up from flags and
//! `MODELRUN_*` variables; nothing reads the environment later. Each part of
//! the program takes only its own section.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    /// Tasks handled at once.
    pub concurrency: usize,
    /// How often to check active runs with the executor.
    pub sweep_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            poll_interval: Duration::from_secs(2),
            lease: Duration::from_secs(120),
            concurrency: 4,
            sweep_interval: Duration::from_secs(30),
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
}

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
        }
    }

    /// Cookies are marked `Secure` unless the app is served over plain HTTP.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
