//! Store implementations. SQLite is the embedded default, Postgres the
//! production store. Both are one [`SqlStore`]: every query is written once
//! (`store/`), read into one set of rows (`rows`), and compiled for each
//! backend by `backend::on_conn!`; what differs between them is in
//! `backend` (pools, transactions, `NOTIFY`), `dialect` (SQL fragments) and
//! `types` (how a time is stored). Both pass the conformance suite in
//! `db/tests/conformance`.

mod backend;
mod changes;
mod checkpoint;
mod convert;
mod dialect;
mod flight;
mod gather;
mod lane;
mod limits;
pub mod postgres;
pub mod recent;
mod rows;
pub mod sqlite;
mod store;
mod types;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use modelrun_core::config::DatabaseConfig;
use modelrun_core::installation::Installation;
use modelrun_core::store::{DataVersion, Store, StoreError, StoreResult};

use backend::{Db, on_conn};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Everything modelrun stores, in one SQL database. The type parameter
/// (`sqlx::Sqlite` or `sqlx::Postgres`) names the backend for its
/// constructors only, [`SqliteStore::open`] and [`PgStore::open`]; every
/// other method is the same code for both.
pub struct SqlStore<B> {
    db: Db,
    /// Credentials read in the last seconds (see [`recent`]).
    recent: Arc<recent::RecentCredentials>,
    /// Submits on their way to being written together (see `store::submits`).
    submits: Arc<store::SubmitQueue>,
    /// Reads that come together, made once (see `flight`).
    reads: Arc<flight::SharedReads>,
    /// Reads of single runs that come together (see `gather`).
    run_reads: Arc<gather::Gathered<modelrun_core::run::Run>>,
    backend: PhantomData<fn() -> B>,
}

impl<B> SqlStore<B> {
    fn new(db: Db) -> Self {
        SqlStore {
            submits: Arc::new(store::SubmitQueue::start(&db)),
            db,
            recent: Arc::default(),
            reads: Arc::default(),
            run_reads: Arc::default(),
            backend: PhantomData,
        }
    }

    /// Applies pending migrations (`migrations/sqlite` or `migrations/postgres`).
    pub async fn migrate(&self) -> StoreResult<()> {
        self.db.migrate().await
    }

    /// Closes every connection (tests and shutdown).
    pub async fn close(&self) {
        self.db.close().await;
    }
}

impl<B> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        SqlStore {
            db: self.db.clone(),
            recent: Arc::default(),
            submits: self.submits.clone(),
            reads: self.reads.clone(),
            run_reads: self.run_reads.clone(),
            backend: PhantomData,
        }
    }
}

impl<B> fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore").field("db", &self.db).finish()
    }
}

#[async_trait]
impl<B> Store for SqlStore<B> {
    fn backend(&self) -> &'static str {
        self.db.name()
    }

    async fn ping(&self) -> StoreResult<()> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query("SELECT 1").execute(c).await.map(|_| ())
        })
    }

    async fn installation(&self) -> StoreResult<Installation> {
        let (id, scoped_storage): (String, bool) = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as("SELECT id, scoped_storage FROM installation")
                .fetch_one(c)
                .await
        })?;
        Ok(Installation { id, scoped_storage })
    }

    async fn data_version(&self) -> StoreResult<DataVersion> {
        self.db.data_version().await
    }
}

/// Opens the configured store, applying pending migrations when `migrate` is set.
pub async fn open(config: &DatabaseConfig, migrate: bool) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match config {
        DatabaseConfig::Sqlite { path } => {
            Arc::new(ready(SqliteStore::open(path).await?, migrate).await?)
        }
        DatabaseConfig::Postgres(config) => {
            Arc::new(ready(PgStore::open(config).await?, migrate).await?)
        }
    })
}

async fn ready<B>(store: SqlStore<B>, migrate: bool) -> StoreResult<SqlStore<B>> {
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}
