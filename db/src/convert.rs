//! Conversions between stored values and domain types, shared by the backends.

use chrono::{DateTime, TimeZone, Utc};
use modelrun_core::store::StoreError;

/// Milliseconds since the Unix epoch, as stored in SQLite.
pub(crate) fn to_ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms} is out of range")))
}

pub(crate) fn from_ms_opt(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(from_ms).transpose()
}

/// Parses a stored enum (status, role, kind) or reports the row as corrupt.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {text:?} is not known")))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("{what}: {error}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Backend(Box::new(error)))
}

/// Maps a driver error: pool timeouts become [`StoreError::Unavailable`]
/// (answered with 503), everything else a backend error with its cause.
pub(crate) fn db_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(error))
        }
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Backend(Box::new(other)),
    }
}

/// True when the error is a broken uniqueness rule.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
