//! SQLite's write lane: a thread of its own that runs the busiest write
//! transactions from their `BEGIN` to their `COMMIT`.
//!
//! SQLite takes one writer at a time, and sqlx runs each connection's
//! statements on a thread of the connection's own: a transaction of ten
//! statements is ten round trips between that thread and the task that
//! awaits them. On the async runtime's threads, each answer waits its
//! turn behind whatever else those threads are doing (in a burst of 50
//! submits: answering the other 49), while the transaction holds the one
//! writer and every other write queues behind it. Measured in such a
//! burst, a run's transaction held the writer 0.4 to 1.3 ms, most of it
//! waiting for its turn (docs/benchmarks.md, "Where a burst waits").
//!
//! The lane is a single-threaded tokio runtime on a thread that does
//! nothing else: a transaction spawned on it is woken as soon as the
//! connection's thread answers. It ends with the store (the last clone of
//! [`crate::backend::Db`]); work still queued on it then is dropped, which
//! rolls back any transaction it had open.

use std::future::Future;
use std::sync::Arc;

use modelrun_core::store::{StoreError, StoreResult};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The lane's runtime, kept alive until the last store clone is gone.
#[derive(Debug)]
pub(crate) struct WriteLane {
    handle: Handle,
    /// Dropped with the lane, which ends its thread.
    _stop: oneshot::Sender<()>,
}

impl WriteLane {
    /// Starts the lane's thread. Fails only when the OS refuses a thread or
    /// the runtime's timer and I/O driver.
    pub(crate) fn start() -> StoreResult<Arc<WriteLane>> {
        let unavailable =
            |what: String| StoreError::Unavailable(format!("SQLite's write lane: {what}").into());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("modelrun-sqlite-writes")
            .build()
            .map_err(|error| unavailable(format!("cannot start its runtime: {error}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("modelrun-sqlite-writes".into())
            .spawn(move || {
                // Runs the spawned transactions until the store is gone.
                let _ = runtime.block_on(stopped);
            })
            .map_err(|error| unavailable(format!("cannot start its thread: {error}")))?;
        Ok(Arc::new(WriteLane {
            handle,
            _stop: stop,
        }))
    }

    /// Starts `work` on the lane, to run in the background.
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.handle.spawn(work);
    }

    /// Runs `work` on the lane and answers with its result. `work` runs to
    /// its end even when the caller stops waiting, so a transaction is
    /// never cut between two statements by a client that went away. A
    /// panic in `work` is the caller's.
    pub(crate) async fn run<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: Future<Output = StoreResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        match self.handle.spawn(work).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(StoreError::Unavailable(
                "SQLite's write lane stopped before the write ended".into(),
            )),
        }
    }
}
