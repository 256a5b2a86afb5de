//! The arithmetic of fixed-window rate limits, done here rather than in SQL
//! so that both backends run the same query.

use chrono::{DateTime, Utc};
use modelrun_core::limit::{Limit, Verdict};

/// The latest start of a window of `limit` that has ended by `now`: a
/// counter whose window started at or before it starts again.
pub(crate) fn window_ended(limit: Limit, now: DateTime<Utc>) -> DateTime<Utc> {
    let window = chrono::Duration::from_std(limit.window).unwrap_or(chrono::Duration::MAX);
    // Every counter started after the epoch, so a longer window never ends.
    now - window.min(now - DateTime::UNIX_EPOCH)
}

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
        first: hits == i64::from(limit.max) + 1,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_window_ends_its_length_ago() {
        let now = Utc.timestamp_opt(1_000_000, 0).single().expect("now");
        let limit = Limit {
            max: 5,
            window: Duration::from_secs(60),
        };
        assert_eq!(
            window_ended(limit, now),
            now - chrono::Duration::seconds(60)
        );
        let forever = Limit {
            max: 5,
            window: Duration::MAX,
        };
        assert_eq!(window_ended(forever, now), DateTime::UNIX_EPOCH);
    }
}
