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
/// [`is_disk_full`]), pool timeouts [`StoreError::Unavailable`] (both
/// answered with 503), a broken uniqueness rule a [`StoreError::Conflict`]
/// (see [`conflict`]), a value that cannot be read back
/// [`StoreError::Corrupt`], everything else a backend error with its cause.
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    if is_disk_full(&error) {
        return StoreError::DiskFull(error.to_string());
    }
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(error))
        }
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
