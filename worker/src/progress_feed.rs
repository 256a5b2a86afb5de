//! Progress on its way from a model's output to where it is kept: the log
//! pipe finds progress lines ([`modelrun_core::progress`]) and puts each in
//! a feed; one task writes what the feed holds, at most once every
//! [`MIN_INTERVAL`]. The last value wins: a model printing 10,000 progress
//! lines makes a few writes, not 10,000, and the last line it printed is
//! always written once its output ends.

use std::future::Future;
use std::time::Duration;

use modelrun_core::progress::Progress;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The shortest time between two writes of one run's progress.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Where the log pipe puts the progress it finds; dropping it ends the
/// writer once the last value is written.
pub(crate) type Feed = watch::Sender<Option<Progress>>;

/// Starts the writer: `write` is called with the latest value at most once
/// every [`MIN_INTERVAL`], and once more with the last value if it was not
/// written yet when the feed is dropped. The task ends then.
pub(crate) fn start<F, Fut>(write: F) -> (Feed, JoinHandle<()>)
where
    F: Fn(Progress) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (feed, mut latest) = watch::channel(None);
    let writer = tokio::spawn(async move {
        // `changed` still answers with a value sent just before the feed
        // was dropped, so the last one is never lost.
        while latest.changed().await.is_ok() {
            let progress = latest.borrow_and_update().clone();
            if let Some(progress) = progress {
                write(progress).await;
                tokio::time::sleep(MIN_INTERVAL).await;
            }
        }
    });
    (feed, writer)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn at(fraction: f64) -> Progress {
        Progress {
            fraction,
            message: Some(format!("step {fraction}")),
        }
    }

    #[tokio::test]
    async fn many_reports_make_few_writes_and_the_last_is_kept() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = written.clone();
        let (feed, writer) = start(move |progress| {
            let sink = sink.clone();
            async move { sink.lock().expect("lock").push(progress) }
        });
        for step in 0..=10_000 {
            feed.send_replace(Some(at(f64::from(step) / 10_000.0)));
            if step % 1000 == 0 {
                tokio::task::yield_now().await;
            }
        }
        drop(feed);
        tokio::time::timeout(Duration::from_secs(5), writer)
            .await
            .expect("the writer ends once the feed is dropped")
            .expect("join");
        let written = written.lock().expect("lock");
        assert!(written.len() <= 3, "{} writes", written.len());
        assert_eq!(written.last(), Some(&at(1.0)));
    }

    #[tokio::test]
    async fn no_report_no_write() {
        let (feed, writer) = start(|_| async { panic!("nothing to write") });
        drop(feed);
        writer.await.expect("the writer ends without writing");
    }
}
