//! The in-process kick: the web half of `modelrun up` wakes the worker half
//! directly. Separate processes do not hear it: on Postgres they hear
//! `NOTIFY`, and otherwise rely on the poll.

use std::sync::Arc;

use async_trait::async_trait;
use modelrun_core::kick::Kicker;
use tokio::sync::Notify;

/// Wakes a worker in the same process. A kick sent while the worker is busy
/// is remembered, so it looks for tasks again as soon as it is free.
#[derive(Debug, Clone, Default)]
pub struct LocalKicker {
    notify: Arc<Notify>,
}

impl LocalKicker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the worker now, from synchronous code.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Resolves at the next kick (or at once if one is pending).
    pub async fn kicked(&self) {
        self.notify.notified().await;
    }
}

#[async_trait]
impl Kicker for LocalKicker {
    async fn kick(&self) {
        self.wake();
    }
}
