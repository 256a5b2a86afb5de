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
use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use listen::spawn_listener;

use crate::SqlStore;
use crate::backend::Db;

/// The channel that announces new tasks.
pub const TASKS_CHANNEL: &str = "modelrun_tasks";

/// A store in a Postgres database.
pub type PgStore = SqlStore<Postgres>;

impl PgStore {
    /// Connects a pool: no idle connections are kept open (min 0), each is
    /// checked before use, and waiting longer than `acquire_timeout` for one
    /// fails with [`StoreError::Unavailable`].
    pub async fn open(config: &PostgresConfig) -> StoreResult<Self> {
        let mut options = PgConnectOptions::from_str(config.url.expose())
            .map_err(|error| {
                StoreError::Unavailable(format!("the database URL is not valid: {error}").into())
            })?
            .application_name("modelrun");
        if config.behind_proxy {
            // A proxy pins a connection that holds named prepared statements.
            options = options.statement_cache_capacity(0);
        }
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .map_err(|error| StoreError::Unavailable(Box::new(error)))?;
        Ok(SqlStore::new(Db::Postgres {
            pool,
            notify: !config.behind_proxy,
        }))
    }
}
