//! The one place that holds connections of either backend. A store method
//! takes a connection from [`Db`] (a pooled reader or writer, or a write
//! transaction) and runs its query with [`on_conn!`], which takes the body
//! once and compiles it for SQLite's connection and for Postgres's, so sqlx
//! checks every bind and every row against both. How each backend serves
//! reads and writes, begins a transaction and announces new tasks is decided
//! here; the SQL that differs is in [`crate::dialect`].

use std::future::Future;
use std::sync::Arc;

use modelrun_core::store::{DataVersion, StoreError, StoreResult};
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::changes::{SqliteChanges, postgres_version};
use crate::convert::db_error;
use crate::lane::WriteLane;
use crate::postgres::TASKS_CHANNEL;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The pools of one database.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// Writes share one connection, so they queue in the pool instead of
    /// failing in SQLite; reads have a pool of their own and, with WAL,
    /// never wait for writes.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        changes: Arc<SqliteChanges>,
        /// Where the busiest write transactions run (see [`crate::lane`]).
        lane: Arc<WriteLane>,
    },
    /// One pool. `notify` is false behind a proxy, where nobody listens.
    Postgres { pool: PgPool, notify: bool },
}

impl Db {
    /// `sqlite` or `postgres`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }

    /// A connection for reads.
    pub(crate) async fn reader(&self) -> StoreResult<Pooled> {
        match self {
            Db::Sqlite { reader, .. } => reader.acquire().await.map(Pooled::Sqlite),
            Db::Postgres { pool, .. } => pool.acquire().await.map(Pooled::Postgres),
        }
        .map_err(db_error)
    }

    /// A connection for a write of one statement, which commits by itself.
    pub(crate) async fn writer(&self) -> StoreResult<Pooled> {
        match self {
            Db::Sqlite { writer, .. } => writer.acquire().await.map(Pooled::Sqlite),
            Db::Postgres { pool, .. } => pool.acquire().await.map(Pooled::Postgres),
        }
        .map_err(db_error)
    }

    /// Runs `work`, given a clone of these pools, to its end: on SQLite on
    /// the write lane ([`crate::lane`]), so that a transaction's round trips
    /// do not wait behind the async runtime's other work while it holds the
    /// one writer; on Postgres, here. For the write transactions taken
    /// often and at once (a burst of submits and their dispatches).
    pub(crate) async fn write<T, F, Fut>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = StoreResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        match self {
            Db::Sqlite { lane, .. } => lane.run(work(self.clone())).await,
            Db::Postgres { .. } => work(self.clone()).await,
        }
    }

    /// Starts `work` in the background: on SQLite on the write lane, on
    /// Postgres on the current runtime (not at all outside one).
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        match self {
            Db::Sqlite { lane, .. } => lane.spawn(work),
            Db::Postgres { .. } => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(work);
                }
            }
        }
    }

    /// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, so it
    /// holds the write lock from its first statement and never fails
    /// upgrading a read lock.
    pub(crate) async fn begin(&self) -> StoreResult<Tx> {
        match self {
            Db::Sqlite { writer, .. } => writer.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Db::Postgres { pool, notify } => pool.begin().await.map(|tx| Tx::Postgres {
                tx,
                notify: *notify,
            }),
        }
        .map_err(db_error)
    }

    /// Where the database stands (see [`crate::changes`]).
    pub(crate) async fn data_version(&self) -> StoreResult<DataVersion> {
        match self {
            Db::Sqlite { changes, .. } => changes.version().await,
            Db::Postgres { pool, .. } => postgres_version(pool).await,
        }
    }

    /// Applies pending migrations from `migrations/sqlite` or `migrations/postgres`.
    pub(crate) async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await,
            Db::Postgres { pool, .. } => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(|error| StoreError::Backend(Box::new(error)))
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite {
                writer,
                reader,
                changes,
                ..
            } => {
                writer.close().await;
                reader.close().await;
                changes.close().await;
            }
            Db::Postgres { pool, .. } => pool.close().await,
        }
    }
}

/// A connection taken from a pool for one store call.
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// A write transaction: everything it writes is kept, or nothing.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres {
        tx: Transaction<'static, Postgres>,
        notify: bool,
    },
}

impl Tx {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres { tx, .. } => tx.commit().await,
        }
        .map_err(db_error)
    }

    pub(crate) async fn rollback(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await,
            Tx::Postgres { tx, .. } => tx.rollback().await,
        }
        .map_err(db_error)
    }

    /// Wakes the workers of other processes for the tasks this transaction
    /// wrote: Postgres delivers a `NOTIFY` when, and only if, it commits.
    /// SQLite's workers are woken by their own process's kick and poll.
    pub(crate) async fn announce_tasks(&mut self) -> StoreResult<()> {
        if let Tx::Postgres { tx, notify: true } = self {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(TASKS_CHANNEL)
                .execute(&mut **tx)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }
}

/// A connection of either backend, borrowed for one query.
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// What a query runs on: a [`Pooled`] connection or a [`Tx`].
pub(crate) trait AsConn {
    fn as_conn(&mut self) -> Conn<'_>;
}

impl AsConn for Pooled {
    fn as_conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(conn) => Conn::Sqlite(conn),
            Pooled::Postgres(conn) => Conn::Postgres(conn),
        }
    }
}

impl AsConn for Tx {
    fn as_conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres { tx, .. } => Conn::Postgres(tx),
        }
    }
}

/// Runs `$body` on `$conn` (a `&mut` [`AsConn`]) and maps its driver error
/// with [`db_error`]. The body is written once and compiled twice: in one
/// expansion `$c` is a `&mut SqliteConnection`, in the other a
/// `&mut PgConnection`; both give the same `Result<_, sqlx::Error>`.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $crate::backend::AsConn::as_conn($conn) {
            $crate::backend::Conn::Sqlite($c) => $body,
            $crate::backend::Conn::Postgres($c) => $body,
        }
        .map_err($crate::convert::db_error)
    };
}
pub(crate) use on_conn;
