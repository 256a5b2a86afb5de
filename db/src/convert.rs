//! Stored text read back as domain types, and driver errors as store errors.

use modelrun_core::store::{StoreError, StoreResult};

/// Parses a stored enum (status, role, kind) or reports the row as corrupt.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {text:?} is not known")))
}

/// Writes a value as JSON text.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Backend(Box::new(error)))
}

/// [`StoreError::NotFound`] when a write touched no row: what it names is not there.
pub(crate) fn touched(rows: u64) -> StoreResult<()> {
    if rows == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Maps a driver error: a full disk becomes [`StoreError::DiskFull`] (see
/// [`is_disk_full`]), a database that cannot answer now
/// [`StoreError::Unavailable`] (see [`is_unavailable`]; both answered with
/// 503), a broken uniqueness rule a [`StoreError::Conflict`] (see
/// [`conflict`]), a NUL character Postgres cannot hold
/// [`StoreError::Unstorable`] (400), a value that cannot be read back
/// [`StoreError::Corrupt`], everything else a backend error with its cause.
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    if is_disk_full(&error) {
        return StoreError::DiskFull(error.to_string());
    }
    if is_unavailable(&error) {
        return StoreError::Unavailable(Box::new(error));
    }
    if matches!(sqlstate(&error), Some("22021" | "22P05")) {
        return StoreError::Unstorable(
            "a value holds a NUL character (\\0 or %00), which no name, filter or text can contain"
                .to_owned(),
        );
    }
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("column {index}: {source}"))
        }
        other => StoreError::Backend(Box::new(other)),
    }
}

/// Whether the database could not answer now, though the request was
/// sound, so that trying again later may succeed: no connection in time,
/// a connection lost (the socket, TLS, or the SQLite connection's thread),
/// and the server's own words for it, by SQLSTATE (PostgreSQL's "Appendix
/// A. Error Codes"): class `08` (connection exception) but `08P01`
/// (protocol violation, a fault of the client); `57P01`, `57P02`,
/// `57P03` and `57P05` (the server shutting down, restarting, not yet
/// taking connections, or ending the session: what `pg_terminate_backend`
/// and a failover send); `53000`, `53200` and `53300` (insufficient
/// resources: out of memory, too many connections); and `25006` (a write
/// sent to a read-only standby, as after a failover). SQLite:
/// `SQLITE_BUSY` (5), once the busy timeout has passed. A deadlock or
/// serialization failure stays a backend error: a batch that meets one
/// is written again one by one, where it does not recur.
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(code) = sqlstate(error) {
                (code.starts_with("08") && code != "08P01")
                    || matches!(
                        code,
                        "57P01"
                            | "57P02"
                            | "57P03"
                            | "57P05"
                            | "53000"
                            | "53200"
                            | "53300"
                            | "25006"
                    )
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLite reports the primary code in the low byte of an extended one.
                db.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(|code| code & 0xff == 5)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// The SQLSTATE of an error the PostgreSQL server sent; `None` for any
/// other error, SQLite's included (whose numeric codes could read as one).
fn sqlstate(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .map(|pg| pg.code()),
        _ => None,
    }
}

/// SQLite's `SQLITE_FULL` (13, "database or disk is full") and its I/O
/// errors on a full disk, Postgres's `53100 disk_full` (SQLSTATE class 53,
/// "insufficient resources"), and `ENOSPC` from the socket or file layer.
fn is_disk_full(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            // SQLite reports the primary code in the low byte of an extended one.
            let sqlite_full = code.parse::<i32>().is_ok_and(|code| code & 0xff == 13);
            sqlite_full || code == "53100" || db.message().contains("No space left on device")
        }
        _ => false,
    }
}

/// Says a [`StoreError::Conflict`] in words a person understands, from a
/// caller that knows which rule the write broke; other errors pass as they are.
pub(crate) fn conflict(words: impl FnOnce() -> String) -> impl FnOnce(StoreError) -> StoreError {
    move |error| match error {
        StoreError::Conflict(_) => StoreError::Conflict(words()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

    use super::*;
    use crate::postgres::testing::server_url as postgres_url;

    /// What a real server sends when it ends a session under a query and
    /// after it (`pg_terminate_backend`, as a failover or an administrator
    /// does) is read as "unavailable", answered with 503.
    #[tokio::test]
    async fn a_session_the_server_ends_is_unavailable() {
        let url = postgres_url();
        let mut admin = PgConnection::connect(&url).await.expect("connect");
        for under_a_query in [true, false] {
            let mut conn = PgConnection::connect(&url).await.expect("connect");
            let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
                .fetch_one(&mut conn)
                .await
                .expect("pid");
            // Waits up to 5 s until the session has ended (PostgreSQL 14+).
            let end = sqlx::query("SELECT pg_terminate_backend($1, 5000)").bind(pid);
            let error = if under_a_query {
                let sleeping = conn.execute("SELECT pg_sleep(5)");
                let (slept, ended) = tokio::join!(sleeping, async {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    end.execute(&mut admin).await
                });
                ended.expect("terminate");
                let error = slept.expect_err("the session was ended");
                // The server's own words, not a lost socket.
                let code = error
                    .as_database_error()
                    .and_then(|db| db.code())
                    .map(|code| code.into_owned());
                assert_eq!(code.as_deref(), Some("57P01"), "{error:?}");
                error
            } else {
                end.execute(&mut admin).await.expect("terminate");
                conn.execute("SELECT 1")
                    .await
                    .expect_err("the session was ended")
            };
            let mapped = db_error(error);
            assert!(
                matches!(mapped, StoreError::Unavailable(_)),
                "under a query: {under_a_query}: {mapped:?}"
            );
        }
    }

    /// PostgreSQL refuses a NUL character in text and in JSON: the
    /// request's fault (400), not the server's (500).
    #[tokio::test]
    async fn a_nul_character_is_unstorable_not_a_failure() {
        let mut conn = PgConnection::connect(&postgres_url())
            .await
            .expect("connect");
        for sql in [
            "SELECT $1::text",
            "SELECT jsonb_build_object('a', $1::text)",
        ] {
            let error = sqlx::query(sql)
                .bind("a\0b")
                .execute(&mut conn)
                .await
                .expect_err("a NUL character");
            let mapped = db_error(error);
            assert!(
                matches!(mapped, StoreError::Unstorable(_)),
                "{sql}: {mapped:?}"
            );
        }
        let error = sqlx::query("SELECT $1::jsonb")
            .bind(r#"{"a": "\u0000"}"#)
            .execute(&mut conn)
            .await
            .expect_err("an escaped NUL in JSON");
        let mapped = db_error(error);
        assert!(matches!(mapped, StoreError::Unstorable(_)), "{mapped:?}");
    }

    /// SQLite's `SQLITE_BUSY` once the busy timeout has passed (here none)
    /// is "unavailable"; a broken uniqueness rule stays a conflict.
    #[tokio::test]
    async fn a_busy_sqlite_file_is_unavailable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
        let mut holder = SqliteConnection::connect(&url).await.expect("open");
        holder
            .execute("CREATE TABLE t (id INTEGER PRIMARY KEY); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .await
            .expect("hold the write lock");
        let mut other = SqliteConnection::connect(&url).await.expect("open");
        other
            .execute("PRAGMA busy_timeout = 0")
            .await
            .expect("pragma");
        let busy = other
            .execute("INSERT INTO t VALUES (2)")
            .await
            .expect_err("the file is locked");
        let mapped = db_error(busy);
        assert!(matches!(mapped, StoreError::Unavailable(_)), "{mapped:?}");
        holder.execute("COMMIT").await.expect("commit");
        let twice = other
            .execute("INSERT INTO t VALUES (1)")
            .await
            .expect_err("a second row with id 1");
        let mapped = db_error(twice);
        assert!(matches!(mapped, StoreError::Conflict(_)), "{mapped:?}");
    }
}
