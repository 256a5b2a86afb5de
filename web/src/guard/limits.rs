//! Rate limits, counted in the database so that they hold across Lambda
//! instances. A refusal is a 429 that says when to try again.

use chrono::Utc;
use modelrun_core::limit::{Limit, Verdict};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// An attempt over its limit: a 429 with `Retry-After`. `first` is true
/// for the first refusal of the limit's window, the one worth recording.
#[derive(Debug)]
pub struct Refused {
    pub error: AppError,
    pub first: bool,
}

/// Counts an attempt against `key`; refuses it with 429 and `Retry-After`
/// when the limit is reached. `what` names the attempt for the message.
pub async fn check_limit(state: &AppState, key: &str, limit: Limit, what: &str) -> AppResult<()> {
    count_attempt(state, key, limit, what)
        .await?
        .map_err(|refused| refused.error)
}

/// [`check_limit`], telling the first refusal of a window from the rest.
pub async fn count_attempt(
    state: &AppState,
    key: &str,
    limit: Limit,
    what: &str,
) -> AppResult<Result<(), Refused>> {
    Ok(match state.store.hit(key, limit, Utc::now()).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Refused { retry_after, first } => {
            Err(refusal(key, limit, what, retry_after, first))
        }
    })
}

/// The 429 for an attempt under `key` over `limit`, the window ending in
/// `retry_after`: "Too many {what}: at most 30 in a minute. Try again in
/// 12 s." The first refusal of a window is logged.
pub fn refusal(
    key: &str,
    limit: Limit,
    what: &str,
    retry_after: std::time::Duration,
    first: bool,
) -> Refused {
    if first {
        tracing::warn!(
            limit = key.split(':').next().unwrap_or(""),
            "rate limit reached"
        );
    }
    Refused {
        error: AppError::TooMany {
            message: format!(
                "Too many {what}: at most {} in {}. Try again in {} s.",
                limit.max,
                window(limit),
                retry_after.as_secs()
            ),
            retry_after,
        },
        first,
    }
}

fn window(limit: Limit) -> String {
    let secs = limit.window.as_secs();
    let count =
        |n: u64, unit| modelrun_core::words::count(i64::try_from(n).unwrap_or(i64::MAX), unit);
    if secs.is_multiple_of(60) {
        match secs / 60 {
            1 => "a minute".to_owned(),
            minutes => count(minutes, "minute"),
        }
    } else {
        count(secs, "second")
    }
}
