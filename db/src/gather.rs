//! Reads of single rows that come together, made as one query.
//!
//! When a burst of submits is committed, the worker claims its dispatch
//! tasks at once and each reads its run: 48 reads of one row each, one
//! after another on the pool's connections, took 5 ms on Postgres between
//! the claim and the first status change. Here a read that comes while
//! another is under way waits for it, and all that waited are read next,
//! in one `WHERE id IN (…)`; a read that comes alone is made at once, as
//! before. It is the write batching of `store::submits` and of the
//! worker's status changes, for reads.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::sync::{Arc, Mutex};

use modelrun_core::store::{StoreError, StoreResult};
use tokio::sync::oneshot;

/// Most rows read in one query.
const MAX_BATCH: usize = 200;

type Waiting<V> = (i64, oneshot::Sender<StoreResult<Option<V>>>);

/// Reads of rows by id, gathered; see the module's notes.
#[derive(Debug)]
pub(crate) struct Gathered<V> {
    queue: Mutex<Queue<V>>,
}

#[derive(Debug)]
struct Queue<V> {
    waiting: Vec<Waiting<V>>,
    /// A task is reading; it takes what waits before it stops.
    reading: bool,
}

impl<V> Default for Gathered<V> {
    fn default() -> Self {
        Gathered {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                reading: false,
            }),
        }
    }
}

impl<V: Clone + Send + 'static> Gathered<V> {
    /// The row `id`, read by `read_many` with the reads that come
    /// meanwhile. `read_many` answers the rows found among the ids it is
    /// given; should it fail, each id of that batch is read again alone, so
    /// that one bad row fails only its own reader.
    pub(crate) async fn read<F, Fut>(
        self: &Arc<Self>,
        id: i64,
        read_many: F,
    ) -> StoreResult<Option<V>>
    where
        F: Fn(Vec<i64>) -> Fut + Send + 'static,
        Fut: Future<Output = StoreResult<HashMap<i64, V>>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut queue = self.lock();
            queue.waiting.push((id, answer));
            !std::mem::replace(&mut queue.reading, true)
        };
        if start {
            // A task of its own: a reader that leaves meanwhile never
            // leaves the others waiting. The guard is made here, so that a
            // task dropped before it runs still answers them.
            let guard = Stopped {
                gathered: self.clone(),
                done: false,
            };
            tokio::spawn(read_batches(guard, read_many));
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the read was not made: its reader stopped".into(),
            ))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<V>> {
        // A panic while holding the lock leaves the queue still whole.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads what waits, a batch at a time, until nothing does.
async fn read_batches<V, F, Fut>(mut guard: Stopped<V>, read_many: F)
where
    V: Clone + Send + 'static,
    F: Fn(Vec<i64>) -> Fut,
    Fut: Future<Output = StoreResult<HashMap<i64, V>>>,
{
    loop {
        let batch: Vec<Waiting<V>> = {
            let mut queue = guard.gathered.lock();
            queue.waiting.retain(|(_, answer)| !answer.is_closed());
            if queue.waiting.is_empty() {
                queue.reading = false;
                guard.done = true;
                return;
            }
            let take = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..take).collect()
        };
        let mut ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let several = ids.len() > 1;
        match read_many(ids).await {
            Ok(found) => {
                for (id, answer) in batch {
                    let _ = answer.send(Ok(found.get(&id).cloned()));
                }
            }
            // A row that cannot be read fails only its own readers.
            Err(StoreError::Corrupt(_) | StoreError::Backend(_)) if several => {
                let mut alone: HashMap<i64, StoreResult<Option<V>>> = HashMap::new();
                for (id, answer) in batch {
                    if answer.is_closed() {
                        continue;
                    }
                    let read = match alone.entry(id) {
                        Entry::Occupied(read) => read.into_mut(),
                        Entry::Vacant(slot) => slot
                            .insert(read_many(vec![id]).await.map(|mut found| found.remove(&id))),
                    };
                    let _ = answer.send(match read {
                        Ok(row) => Ok(row.clone()),
                        Err(error) => Err(again(error)),
                    });
                }
            }
            Err(error) => {
                for (_, answer) in batch {
                    let _ = answer.send(Err(again(&error)));
                }
            }
        }
    }
}

/// An error again, for each reader that met it.
fn again(error: &StoreError) -> StoreError {
    match error {
        StoreError::DiskFull(what) => StoreError::DiskFull(what.clone()),
        StoreError::Corrupt(what) => StoreError::Corrupt(what.clone()),
        StoreError::Unstorable(what) => StoreError::Unstorable(what.clone()),
        StoreError::NotFound => StoreError::NotFound,
        other => StoreError::Unavailable(modelrun_core::error_chain(other).into()),
    }
}

/// Should the reading task end early (the runtime shutting down, before
/// or while it runs), the reads that wait are answered, and the next read
/// starts a new task.
struct Stopped<V> {
    gathered: Arc<Gathered<V>>,
    /// The task ended with nothing waiting: the queue is another task's.
    done: bool,
}

impl<V> Drop for Stopped<V> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut queue = self
            .gathered
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        queue.reading = false;
        for (_, answer) in queue.waiting.drain(..) {
            let _ = answer.send(Err(StoreError::Unavailable(
                "the read was not made: its reader stopped".into(),
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    type Read = std::pin::Pin<Box<dyn Future<Output = StoreResult<HashMap<i64, String>>> + Send>>;

    /// Reads of ids; id 13 is a row that cannot be read, and every batch
    /// is noted.
    fn reader(batches: Arc<Mutex<Vec<Vec<i64>>>>) -> impl Fn(Vec<i64>) -> Read + Send + 'static {
        move |ids: Vec<i64>| {
            let batches = batches.clone();
            Box::pin(async move {
                batches.lock().expect("lock").push(ids.clone());
                tokio::time::sleep(Duration::from_millis(5)).await;
                if ids.contains(&13) {
                    return Err(StoreError::Corrupt("row 13 cannot be read".into()));
                }
                Ok(ids
                    .into_iter()
                    .filter(|id| *id < 100)
                    .map(|id| (id, format!("row {id}")))
                    .collect())
            })
        }
    }

    #[tokio::test]
    async fn reads_that_come_together_are_one_query_each_with_its_answer() {
        let gathered = Arc::new(Gathered::<String>::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = [1, 2, 3, 2, 100]
            .into_iter()
            .map(|id| {
                let (gathered, batches) = (gathered.clone(), batches.clone());
                tokio::spawn(async move { (id, gathered.read(id, reader(batches)).await) })
            })
            .collect();
        for task in tasks {
            let (id, answer) = task.await.expect("task");
            let row = answer.expect("read");
            if id < 100 {
                assert_eq!(row.as_deref(), Some(format!("row {id}").as_str()));
            } else {
                assert_eq!(row, None, "a missing row is None");
            }
        }
        let batches = batches.lock().expect("lock").clone();
        assert!(batches.len() <= 2, "{batches:?}");
        assert_eq!(batches.concat().len(), 4, "each id read once: {batches:?}");
    }

    #[tokio::test]
    async fn a_bad_row_fails_only_its_reader() {
        let gathered = Arc::new(Gathered::<String>::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let started = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = [5, 13, 6]
            .into_iter()
            .map(|id| {
                let (gathered, batches, started) =
                    (gathered.clone(), batches.clone(), started.clone());
                tokio::spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    (id, gathered.read(id, reader(batches)).await)
                })
            })
            .collect();
        for task in tasks {
            let (id, answer) = task.await.expect("task");
            if id == 13 {
                assert!(matches!(answer, Err(StoreError::Corrupt(_))), "{answer:?}");
            } else {
                assert_eq!(answer.expect("read"), Some(format!("row {id}")));
            }
        }
        // Idle again: the next read is made at once, alone.
        let alone = gathered.read(7, reader(batches.clone())).await;
        assert_eq!(alone.expect("read").as_deref(), Some("row 7"));
        assert_eq!(batches.lock().expect("lock").last(), Some(&vec![7]));
    }

    #[test]
    fn a_reading_task_dropped_before_it_runs_leaves_the_next_read_free() {
        let gathered = Arc::new(Gathered::<String>::default());
        let batches = Arc::new(Mutex::new(Vec::new()));
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime")
        };
        let first = runtime();
        let read = gathered.read(1, reader(batches.clone()));
        // Polled once: the reading task is spawned, then the runtime goes
        // away before it runs.
        let polled = first.block_on(async { tokio::time::timeout(Duration::ZERO, read).await });
        assert!(polled.is_err(), "the read could not have been made yet");
        drop(first);
        let next = runtime().block_on(async {
            tokio::time::timeout(Duration::from_secs(5), gathered.read(2, reader(batches))).await
        });
        let row = next.expect("the next read was not stuck").expect("read");
        assert_eq!(row.as_deref(), Some("row 2"));
    }
}
