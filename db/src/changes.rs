//! The database's [`DataVersion`]: whether anything was committed since it
//! was last read, by this process or any other.
//!
//! - **SQLite**: `PRAGMA data_version` "will be different if changes were
//!   committed to the database by any other connection in the interim"
//!   (sqlite.org/pragma.html#pragma_data_version). It is read on a
//!   connection kept for it alone, which never writes, so every commit (this
//!   process's writer, another process's) moves it. Its values mean nothing
//!   across connections: the version is a generation counted up each time
//!   the value moves, and counted up again when the connection is opened
//!   anew.
//! - **Postgres**: `pg_current_snapshot()` (Postgres 13 and later) as text,
//!   `xmin:xmax:xip_list`. Two equal snapshots mean no transaction was given
//!   an id (a write) and none of those in progress ended in between.

use modelrun_core::store::{DataVersion, StoreResult};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool, SqliteConnection};
use tokio::sync::Mutex;

use crate::convert::db_error;

/// SQLite's watch: one connection, the value it last read, and the
/// generation.
#[derive(Debug)]
pub(crate) struct SqliteChanges {
    options: SqliteConnectOptions,
    watch: Mutex<Watch>,
}

#[derive(Debug, Default)]
struct Watch {
    conn: Option<SqliteConnection>,
    seen: i64,
    generation: u64,
}

impl SqliteChanges {
    pub(crate) fn new(options: SqliteConnectOptions) -> Self {
        SqliteChanges {
            options,
            watch: Mutex::default(),
        }
    }

    pub(crate) async fn version(&self) -> StoreResult<DataVersion> {
        let mut watch = self.watch.lock().await;
        let Watch {
            conn,
            seen,
            generation,
        } = &mut *watch;
        let conn = match conn {
            Some(conn) => conn,
            None => {
                // A new connection's values start afresh: count a change.
                *generation += 1;
                conn.insert(self.options.connect().await.map_err(db_error)?)
            }
        };
        match sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await
        {
            Ok(value) => {
                if value != *seen {
                    *seen = value;
                    *generation += 1;
                }
                Ok(DataVersion(generation.to_string()))
            }
            Err(error) => {
                watch.conn = None;
                Err(db_error(error))
            }
        }
    }

    pub(crate) async fn close(&self) {
        if let Some(conn) = self.watch.lock().await.conn.take() {
            // Closing fails only on a connection already gone.
            let _ = conn.close().await;
        }
    }
}

/// Postgres's snapshot, as text.
pub(crate) async fn postgres_version(pool: &PgPool) -> StoreResult<DataVersion> {
    sqlx::query_scalar::<_, String>("SELECT pg_current_snapshot()::text")
        .fetch_one(pool)
        .await
        .map(DataVersion)
        .map_err(db_error)
}
