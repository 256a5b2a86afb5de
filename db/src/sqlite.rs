//! The SQLite store: one file, no server.
//!
//! SQLite allows one writer at a time. Peers that let every connection write
//! answer concurrent submitters with `database is locked`; this store does
//! not. Writes go through a pool of exactly one connection, so they queue in
//! the pool (up to [`WRITE_WAIT`]) instead of failing in SQLite, and every
//! write transaction starts with `BEGIN IMMEDIATE` (`backend::Db::begin`),
//! so it holds the write lock from its first statement and never fails
//! upgrading a read lock. A writer that comes back still inside a
//! transaction (a `COMMIT` that failed on a full disk leaves sqlx counting
//! one open, though SQLite rolled it back) is closed, not reused, and the
//! pool opens a fresh one: one failed write never breaks the ones after it.
//! Reads use a separate pool and, thanks to WAL mode,
//! never wait for writes. `busy_timeout` covers the remaining case: another
//! process (a separate `modelrun worker`) writing to the same file. WAL
//! checkpoints are made by a task of their own, not by the writer's
//! commits ([`checkpoint`]).
//!
//! This module opens the pools; the queries are Postgres's too.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use modelrun_core::store::{StoreError, StoreResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use sqlx::{Connection, Sqlite};

use crate::SqlStore;
use crate::backend::Db;
use crate::changes::SqliteChanges;
use crate::checkpoint;
use crate::convert::db_error;
use crate::lane::WriteLane;

/// How long a write may wait for the writer connection.
const WRITE_WAIT: Duration = Duration::from_secs(30);
/// How long a read may wait for a reader connection.
const READ_WAIT: Duration = Duration::from_secs(10);
/// How long SQLite waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 8;
/// Rows a connection's thread may hand over before the reader takes them.
const ROW_BUFFER: usize = 256;

/// A store in one SQLite file.
pub type SqliteStore = SqlStore<Sqlite>;

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Unavailable(
                    format!("cannot create the directory {}: {error}", parent.display()).into(),
                )
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(db_error)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // A page of runs (up to 201 rows) fits, so the connection's
            // thread hands over a whole result without waiting for the reader.
            .row_buffer_size(ROW_BUFFER);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(WRITE_WAIT)
            .test_before_acquire(false)
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", checkpoint::WRITER_AUTOCHECKPOINT),
            )
            .await
            .map_err(db_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(READ_WAIT)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let changes = Arc::new(SqliteChanges::new(options.clone()));
        checkpoint::spawn(options, Arc::downgrade(&changes));
        Ok(SqlStore::new(Db::Sqlite {
            writer,
            reader,
            changes,
            lane: WriteLane::start()?,
        }))
    }
}
