//! The Postgres store: production state, shared by every web and worker
//! process.
//!
//! Writes that read before they write lock what they read (`FOR UPDATE`),
//! so two processes changing one run queue instead of racing. The task
//! queue claims with `FOR UPDATE SKIP LOCKED`, so concurrent workers never
//! wait for each other and never take the same task. Every task insert also
//! sends `NOTIFY modelrun_tasks` (delivered at commit), which wakes workers
//! in other processes at once; see [`listen`].

mod listen;
mod models;
mod outbox;
mod queue;
mod rows;
mod runs;
mod security;
pub mod testing;
mod users;

use std::str::FromStr;

use async_trait::async_trait;
use modelrun_core::config::PostgresConfig;
use modelrun_core::store::{Store, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

pub use listen::spawn_listener;

use crate::convert::db_error;

/// The channel that announces new tasks.
pub const TASKS_CHANNEL: &str = "modelrun_tasks";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A store in a Postgres database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    notify: bool,
}

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
        Ok(PgStore {
            pool,
            notify: !config.behind_proxy,
        })
    }

    /// Applies pending migrations from `migrations/postgres`.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| StoreError::Backend(Box::new(error)))
    }

    async fn write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db_error)
    }

    /// Closes every connection (tests and shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(db_error)
    }
}
