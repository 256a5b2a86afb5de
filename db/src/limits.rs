//! What both backends share about rate limits.

use chrono::{DateTime, Utc};
use modelrun_core::limit::{Limit, Verdict};

/// The verdict on an attempt that made `hits` in the window that began at
/// `window_start`.
pub(crate) fn verdict(
    limit: Limit,
    hits: i64,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Verdict {
    if hits <= i64::from(limit.max) {
        return Verdict::Allowed;
    }
    let ends = window_start + chrono::Duration::from_std(limit.window).unwrap_or_default();
    let left = (ends - now).to_std().unwrap_or_default();
    // Round up to whole seconds, as `Retry-After` speaks in seconds.
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    Verdict::Refused {
        retry_after: std::time::Duration::from_secs(secs.max(1)),
    }
}
