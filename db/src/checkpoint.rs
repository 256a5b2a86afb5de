//! SQLite's WAL checkpoints, made off the writer.
//!
//! By default SQLite checkpoints in the connection whose commit takes the
//! WAL past 1,000 pages (`wal_autocheckpoint`, sqlite.org/wal.html#ckpt):
//! that commit then copies the WAL into the database file and syncs it,
//! and every write queued behind the one writer connection waits. Measured
//! here in a burst of 50 submits, that wait was 5 to 12 ms, about once a
//! burst. The writer checkpoints only past ten times the default
//! ([`WRITER_AUTOCHECKPOINT`]), should the task below not keep up; a task of its own checkpoints every
//! [`EVERY`] on a connection of its own, `PASSIVE`: it copies what no
//! reader still needs and never blocks the writer or the readers
//! (sqlite.org/c3ref/wal_checkpoint_v2.html). The WAL starts again from
//! its beginning at the first write after a checkpoint that copied all of
//! it. The task ends once the store is dropped.

use std::sync::Weak;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

/// The writer's `wal_autocheckpoint`, in pages: only should the task not
/// keep up (or not run), about 40 MiB of WAL, ten times SQLite's default.
pub(crate) const WRITER_AUTOCHECKPOINT: &str = "10000";

/// How often the task checkpoints.
pub(crate) const EVERY: Duration = Duration::from_millis(500);

/// Checkpoints the database of `options` every [`EVERY`] until `alive`
/// (held by the store) is gone. A failed checkpoint is logged and tried
/// again at the next turn, on a new connection.
pub(crate) fn spawn<T: Send + Sync + 'static>(options: SqliteConnectOptions, alive: Weak<T>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let mut conn: Option<SqliteConnection> = None;
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if alive.strong_count() == 0 {
                break;
            }
            if let Err(error) = checkpoint(&options, &mut conn).await {
                tracing::warn!(%error, "WAL checkpoint failed; trying again");
                conn = None;
            }
        }
        if let Some(conn) = conn {
            let _ = conn.close().await;
        }
    });
}

async fn checkpoint(
    options: &SqliteConnectOptions,
    conn: &mut Option<SqliteConnection>,
) -> Result<(), sqlx::Error> {
    let conn = match conn {
        Some(conn) => conn,
        None => conn.insert(options.connect().await?),
    };
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(conn)
        .await
        .map(|_| ())
}
