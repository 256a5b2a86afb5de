//! Rate limits, counted in the database so that they hold across Lambda
//! instances. A refusal is a 429 that says when to try again.

use chrono::Utc;
use modelrun_core::limit::{Limit, Verdict};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Counts an attempt against `key`; refuses it with 429 and `Retry-After`
/// when the limit is reached. `what` names the attempt for the message.
pub async fn check_limit(state: &AppState, key: &str, limit: Limit, what: &str) -> AppResult<()> {
    match state.store.hit(key, limit, Utc::now()).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Refused { retry_after } => {
            tracing::warn!(
                limit = key.split(':').next().unwrap_or(""),
                "rate limit reached"
            );
            Err(AppError::TooMany {
                message: format!(
                    "Too many {what}: at most {} in {}. Try again in {} s.",
                    limit.max,
                    window(limit),
                    retry_after.as_secs()
                ),
                retry_after,
            })
        }
    }
}

fn window(limit: Limit) -> String {
    let secs = limit.window.as_secs();
    if secs.is_multiple_of(60) {
        match secs / 60 {
            1 => "a minute".to_owned(),
            minutes => format!("{minutes} minutes"),
        }
    } else {
        format!("{secs} seconds")
    }
}
