//! The Postgres store: production state, shared by every web and worker
//! process.
//!
//! Writes that read before they write lock what they read (`FOR UPDATE`),
//! so two processes changing one run queue instead of racing. The task
//! queue claims with `FOR UPDATE SKIP LOCKED`, so concurrent workers never
//! wait for each other and never take the same task. Every task insert also
//! sends `NOTIFY modelrun_tasks` (delivered at commit), which wakes workers
//! in other processes at once; see [`listen`].
//!
//! This module opens the pool. The queries are SQLite's too: the locks are
//! fragments in `dialect`, the `NOTIFY` is sent by `backend`.

mod listen;
pub mod testing;

use std::str::FromStr;

use modelrun_core::config::PostgresConfig;
use modelrun_core::store::{StoreError, StoreResult};
use sqlx::Connection;
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

pub use listen::spawn_listener;

use crate::SqlStore;
use crate::backend::Db;

/// The channel that announces new tasks.
pub const TASKS_CHANNEL: &str = "modelrun_tasks";

/// A pooled connection idle longer than this is checked before it is used:
/// the server or a proxy may have closed it meanwhile (a restart, a
/// failover). Under load connections come back within milliseconds and
/// skip the check, which cost a round trip on every query.
pub const CHECK_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// Whether a host is this machine: a loopback address, `localhost`, or a
/// Unix socket's directory.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A store in a Postgres database.
pub type PgStore = SqlStore<Postgres>;

impl PgStore {
    /// Connects a pool: no idle connections are kept open (min 0), one that
    /// sat idle longer than [`CHECK_AFTER_IDLE`] is checked before use (a
    /// busy one is not: the check was a round trip on every query), and
    /// waiting longer than `acquire_timeout` for one fails with
    /// [`StoreError::Unavailable`]. A server on this machine (loopback)
    /// is reached without TLS unless the URL asks for it (`sslmode=`).
    pub async fn open(config: &PostgresConfig) -> StoreResult<Self> {
        let mut options = PgConnectOptions::from_str(config.url.expose())
            .map_err(|error| {
                StoreError::Unavailable(format!("the database URL is not valid: {error}").into())
            })?
            .application_name("modelrun");
        if is_loopback(options.get_host()) && !config.url.expose().contains("sslmode=") {
            options = options.ssl_mode(PgSslMode::Disable);
        }
        if config.behind_proxy {
            // A proxy pins a connection that holds named prepared statements.
            options = options.statement_cache_capacity(0);
        }
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > CHECK_AFTER_IDLE {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(|error| StoreError::Unavailable(Box::new(error)))?;
        Ok(SqlStore::new(Db::Postgres {
            pool,
            notify: !config.behind_proxy,
        }))
    }
}

#[cfg(test)]
mod loopback_tests {
    use super::is_loopback;

    #[test]
    fn only_this_machine_goes_without_tls() {
        for host in [
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "/var/run/postgresql",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "db.example.com",
            "10.0.0.5",
            "mydb.cluster.rds.amazonaws.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
