//! Submits being answered and runs being handed to dispatch, so that
//! starting runs can give way to them.
//!
//! In `modelrun up` the web app and the local executor share the machine's
//! cores, and starting a run (its working directory, a forked process,
//! `bwrap`'s namespaces) costs several times the CPU of answering a submit.
//! When many people submit within moments, starts made meanwhile make every
//! later submit wait: with starts giving way, 50 submits sent over a few
//! tens of milliseconds on two cores reached `dispatching` at 0.55–0.85× of
//! the p99 they had before (docs/benchmarks.md, "Starts give way to
//! submits").
//!
//! The web app holds an [`Answering`] while it creates a submit's runs
//! (its request signed in and read by then, so a slow upload holds
//! nothing); the local executor waits, at most a bounded time, for
//! [`Intake::quiet`] before it starts a model. A person waiting for the
//! page to answer comes before a run that takes seconds anyway; while
//! submits overlap without a pause, each start waits the whole bound.
//!
//! The worker's dispatches count too ([`Intake::dispatching`]), from their
//! claim until the run is `dispatching`: in a burst of 50 submits, models
//! that started once the last submit was answered took the two cores from
//! the dispatches still under way, whose status changes then held SQLite's
//! writer 0.5 ms a run instead of 0.1 ms, and the last runs of the burst
//! reached `dispatching` 40 to 70 ms after the others (measured with a
//! timing build, 2026-12-03).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// The count of submits being answered in this process, shared by the web
/// app and the local executor. A fresh one counts none: an executor not
/// given the web app's never waits.
#[derive(Debug, Clone, Default)]
pub struct Intake {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    answering: AtomicUsize,
    quiet: Notify,
}

/// Held while a submit is being answered; dropping it ends the count.
#[derive(Debug)]
#[must_use = "the submit counts as answered once this is dropped"]
pub struct Answering {
    shared: Arc<Shared>,
}

impl Intake {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a submit as being answered until the value is dropped.
    pub fn answering(&self) -> Answering {
        self.shared.answering.fetch_add(1, Ordering::SeqCst);
        Answering {
            shared: self.shared.clone(),
        }
    }

    /// Counts a run being handed to dispatch until the value is dropped:
    /// starts give way to it as to a submit being answered.
    pub fn dispatching(&self) -> Answering {
        self.answering()
    }

    /// How many submits are being answered, and runs handed to dispatch, now.
    pub fn count(&self) -> usize {
        self.shared.answering.load(Ordering::SeqCst)
    }

    /// Resolves once no submit is being answered, or after `at_most`,
    /// whichever comes first. `true` when it was quiet, `false` when it
    /// stopped waiting.
    pub async fn quiet(&self, at_most: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + at_most;
        loop {
            let notified = self.shared.quiet.notified();
            tokio::pin!(notified);
            // Registered before the count is read, so that a drop to none
            // between the two is not missed.
            notified.as_mut().enable();
            if self.count() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        if self.shared.answering.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.quiet.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quiet_at_once_when_nothing_is_answered() {
        let intake = Intake::new();
        assert!(intake.quiet(Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn quiet_waits_for_the_last_answer() {
        let intake = Intake::new();
        let first = intake.answering();
        let second = intake.answering();
        assert_eq!(intake.count(), 2);
        let waiting = tokio::spawn({
            let intake = intake.clone();
            async move { intake.quiet(Duration::from_secs(30)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "one submit is still being answered");
        drop(second);
        let quiet = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the last answer ends the wait")
            .expect("the waiting task");
        assert!(quiet);
        assert_eq!(intake.count(), 0);
    }

    #[tokio::test]
    async fn quiet_gives_up_after_its_bound() {
        let intake = Intake::new();
        let _held = intake.answering();
        let started = std::time::Instant::now();
        assert!(!intake.quiet(Duration::from_millis(50)).await);
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}
