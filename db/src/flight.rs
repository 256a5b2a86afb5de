//! Reads that come together, made once ("single flight").
//!
//! A burst of 50 submits read each of five API tokens ten times at once,
//! the model and its versions 50 times, the version's run history 50 times,
//! and the worker read the version again for each dispatch: about 250
//! identical queries at the moment the submits wait for them.
//!
//! A read of a key joins another's that has not begun yet; one that finds
//! a read under way waits for it to land and joins the next. Every answer
//! comes from a read begun after the request came, so a request made after
//! a change committed (here, in another web instance, on the command line)
//! sees it: a request after a promotion never runs the version that was
//! production before, nor a revoked token.
//!
//! A read that fails is not shared: the first one's error is its own, and
//! those that joined it read for themselves, at once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use modelrun_core::store::{StoreError, StoreResult};
use tokio::sync::OnceCell;

/// The store's reads that are shared.
#[derive(Debug, Default)]
pub(crate) struct SharedReads {
    /// A model and its versions, by name: every submit reads it.
    pub(crate) models: Shared<Option<modelrun_core::model::ModelWithVersions>>,
    /// A version, by id: every dispatch reads it.
    pub(crate) versions: Shared<Option<modelrun_core::model::ModelVersion>>,
    /// The durations of a version's last runs that succeeded: every
    /// submit's estimate reads them.
    pub(crate) durations: Shared<Vec<i64>>,
}

/// Answers of reads under way, by key; see the module's notes.
#[derive(Debug)]
pub(crate) struct Shared<V> {
    flights: Mutex<HashMap<String, KeyReads<V>>>,
}

/// The reads of a key: the one under way or about to begin, and the one
/// that those who came while it was under way wait to begin together.
#[derive(Debug)]
struct KeyReads<V> {
    current: Flight<V>,
    next: Option<Flight<V>>,
}

/// One read: whether it has begun, and its answer to be (`None`: it
/// failed).
#[derive(Debug)]
struct State<V> {
    begun: AtomicBool,
    answer: OnceCell<Option<V>>,
}

type Flight<V> = Arc<State<V>>;

fn flight<V>() -> Flight<V> {
    Arc::new(State {
        begun: AtomicBool::new(false),
        answer: OnceCell::new(),
    })
}

impl<V> Default for Shared<V> {
    fn default() -> Self {
        Shared {
            flights: Mutex::default(),
        }
    }
}

impl<V: Clone> Shared<V> {
    /// The answer of a read of `key` begun after this call: `read`'s, or
    /// that of a read another caller begins (see the module's notes, and
    /// on failures).
    pub(crate) async fn read<F, Fut>(&self, key: String, read: F) -> StoreResult<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<V>>,
    {
        // Dropped last, when this caller holds no read any more.
        let _landing = Landing {
            shared: self,
            key: &key,
        };
        let (joined, under_way) = {
            let mut flights = self.lock();
            let reads = flights.entry(key.clone()).or_insert_with(|| KeyReads {
                current: flight(),
                next: None,
            });
            if reads.current.begun.load(Ordering::Acquire) {
                let next = reads.next.get_or_insert_with(flight).clone();
                (next, Some(reads.current.clone()))
            } else {
                (reads.current.clone(), None)
            }
        };
        if let Some(under_way) = under_way {
            // Begun before this call: it may miss a change committed since.
            let _ = under_way.answer.get_or_init(|| async { None }).await;
            self.tidy(&key);
        }
        let mut read = Some(read);
        let mut own = None;
        let shared = joined
            .answer
            .get_or_init(|| async {
                joined.begun.store(true, Ordering::Release);
                let read = read.take()?;
                let answer = read().await;
                let value = answer.as_ref().ok().cloned();
                own = Some(answer);
                value
            })
            .await
            .clone();
        match (own, shared, read) {
            (Some(answer), _, _) => answer,
            (None, Some(value), _) => Ok(value),
            // The read joined failed: this one reads for itself.
            (None, None, Some(read)) => read().await,
            (None, None, None) => Err(StoreError::Unavailable(
                "a shared read ended without an answer".into(),
            )),
        }
    }

    /// Moves `key`'s reads on past the ones that have landed, and forgets
    /// the key when no read of it is under way or awaited.
    fn tidy(&self, key: &str) {
        let mut flights = self.lock();
        let Some(reads) = flights.get_mut(key) else {
            return;
        };
        if reads.current.answer.initialized() {
            match reads.next.take() {
                Some(next) => reads.current = next,
                None => {
                    flights.remove(key);
                    return;
                }
            }
        }
        // Nobody holds a read of the key but the map: all left.
        let held = |flight: &Flight<V>| Arc::strong_count(flight) > 1;
        if !held(&reads.current) && !reads.next.as_ref().is_some_and(held) {
            flights.remove(key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, KeyReads<V>>> {
        // A panic while holding the lock leaves the map still whole.
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Tidies the key's reads when a caller is done or leaves (a request
/// cancelled mid-read): the next read of the key is a new one, and no key
/// stays behind.
struct Landing<'a, V: Clone> {
    shared: &'a Shared<V>,
    key: &'a str,
}

impl<V: Clone> Drop for Landing<'_, V> {
    fn drop(&mut self) {
        self.shared.tidy(self.key);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;

    /// A read of `key` on `shared` that says when it started and answers
    /// `value` when told.
    fn blocked(
        shared: &Arc<Shared<u32>>,
        key: &str,
        value: StoreResult<u32>,
    ) -> (
        oneshot::Receiver<()>,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<StoreResult<u32>>,
    ) {
        let (started, on_start) = oneshot::channel();
        let (release, on_release) = oneshot::channel::<()>();
        let (shared, key) = (shared.clone(), key.to_owned());
        let task = tokio::spawn(async move {
            shared
                .read(key, || async move {
                    let _ = started.send(());
                    let _ = on_release.await;
                    value
                })
                .await
        });
        (on_start, release, task)
    }

    fn joiner(
        shared: &Arc<Shared<u32>>,
        reads: &Arc<AtomicUsize>,
        value: u32,
    ) -> tokio::task::JoinHandle<StoreResult<u32>> {
        let (shared, reads) = (shared.clone(), reads.clone());
        tokio::spawn(async move {
            shared
                .read("k".into(), || async move {
                    reads.fetch_add(1, Ordering::SeqCst);
                    Ok(value)
                })
                .await
        })
    }

    #[tokio::test]
    async fn reads_that_come_during_a_read_share_the_next_one() {
        let shared = Arc::new(Shared::<u32>::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let (started, release, first) = blocked(&shared, "k", Ok(7));
        started.await.expect("started");
        // Begun before they came: its answer may be older than they are.
        let joined: Vec<_> = (0..5).map(|_| joiner(&shared, &reads, 8)).collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            reads.load(Ordering::SeqCst),
            0,
            "they wait for the read under way"
        );
        let _ = release.send(());
        assert_eq!(first.await.expect("task").expect("read"), 7);
        for task in joined {
            assert_eq!(task.await.expect("task").expect("read"), 8);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1, "the five shared one read");
        assert!(shared.lock().is_empty(), "landed: the flight is gone");
        // The next read is a new one.
        let next = shared.read("k".into(), || async { Ok(9) }).await;
        assert_eq!(next.expect("read"), 9);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_shared() {
        let shared = Arc::new(Shared::<u32>::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let (started, release, first) = blocked(&shared, "k", Err(StoreError::NotFound));
        started.await.expect("started");
        let joined: Vec<_> = (0..3).map(|_| joiner(&shared, &reads, 5)).collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = release.send(());
        assert!(matches!(
            first.await.expect("task"),
            Err(StoreError::NotFound)
        ));
        for task in joined {
            assert_eq!(task.await.expect("task").expect("a read of their own"), 5);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_read_and_its_waiter_that_both_left_leave_nothing_behind() {
        let shared = Arc::new(Shared::<u32>::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let (started, _release, first) = blocked(&shared, "k", Ok(1));
        started.await.expect("started");
        let waiter = joiner(&shared, &reads, 2);
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.abort();
        waiter.abort();
        let _ = first.await;
        let _ = waiter.await;
        assert!(shared.lock().is_empty(), "the key stayed in the map");
    }

    #[tokio::test]
    async fn a_read_whose_callers_all_left_leaves_nothing_behind() {
        let shared = Arc::new(Shared::<u32>::default());
        let (started, _release, first) = blocked(&shared, "k", Ok(1));
        started.await.expect("started");
        assert_eq!(shared.lock().len(), 1);
        first.abort();
        let _ = first.await;
        assert!(
            shared.lock().is_empty(),
            "a cancelled read stayed in the map"
        );
    }
}
