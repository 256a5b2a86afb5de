//! Why a store call failed, and what the caller answers for each.

use crate::ids::{RunId, TaskId};
use crate::status::IllegalTransition;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule would be broken; the message says which.
    #[error("{0}")]
    Conflict(String),
    /// The submitter already created a run with this one-time key: here it is.
    #[error("run {0} was already submitted with this key")]
    AlreadySubmitted(RunId),
    /// The attempt counted with a submission
    /// ([`crate::alongside::Alongside::limit`]) is over its limit: nothing
    /// was created. The window ends in `retry_after`; `first` as in
    /// [`crate::limit::Verdict::Refused`].
    #[error("over the rate limit: the window ends in {} s", retry_after.as_secs())]
    OverLimit {
        retry_after: std::time::Duration,
        first: bool,
    },
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// The lease on a task was lost: it expired and another worker claimed it.
    #[error("the lease on task {0} was lost")]
    LeaseLost(TaskId),
    /// The database cannot answer now (no connection in time, a lost
    /// session, a server turning work away): the caller should answer 503.
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    /// The database's disk is full (SQLite `SQLITE_FULL`, Postgres
    /// `53100 disk_full`, or `ENOSPC`): nothing was written. Writes work
    /// again, without a restart, once space is freed; the caller should
    /// answer 503 and say so.
    #[error("the database's disk is full (no space left on device): {0}")]
    DiskFull(String),
    #[error("database error")]
    Backend(#[source] BoxError),
    /// A value the database cannot hold or search for, from the request:
    /// PostgreSQL refuses a NUL character in text (SQLSTATE `22021`) and
    /// `\u0000` in JSON (`22P05`). Nothing was written; the caller
    /// should answer 400 with the message.
    #[error("{0}")]
    Unstorable(String),
    /// A stored value could not be read back (a schema or status that no
    /// longer parses).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;
