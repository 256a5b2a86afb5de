//! Rate limits, counted in the store so that they hold across processes and
//! Lambda instances. Each limit is a fixed window: at most `max` attempts
//! per key in `window`, counted from the first attempt of the window.

use std::time::Duration;

/// At most `max` attempts per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn new(max: u32, window: Duration) -> Self {
        Limit { max, window }
    }
}

/// The limits the web app enforces. Request body and inputs sizes are in
/// [`crate::config::WebConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Failed sign-in attempts for one email address.
    pub sign_in_per_account: Limit,
    /// Sign-in attempts from one client address.
    pub sign_in_per_address: Limit,
    /// Runs submitted by one user (forms and API alike).
    pub submits_per_user: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sign_in_per_account: Limit::new(10, Duration::from_secs(15 * 60)),
            sign_in_per_address: Limit::new(50, Duration::from_secs(15 * 60)),
            submits_per_user: Limit::new(30, Duration::from_secs(60)),
        }
    }
}

/// What the store says of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: the window ends in this long. `first` is true for
    /// the first refusal of the window only, so that a flood of refused
    /// attempts is recorded once, not once per attempt.
    Refused {
        retry_after: Duration,
        first: bool,
    },
}
