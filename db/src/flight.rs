//! Reads that come together, made once ("single flight").
//!
//! A burst of 50 submits read each of five API tokens ten times at once,
//! the model and its versions 50 times, the version's run history 50 times,
//! and the worker read the version again for each dispatch: about 250
//! identical queries at the moment the submits wait for them.
//!
//! * [`Flights`]: one reader of a key at a time; the next finds what the
//!   first kept ([`crate::recent`], for credentials).
//! * [`Shared`]: a read of a key that finds another under way takes its
//!   answer. A change made through the store ([`Shared::changed`]) starts
//!   new flights, so a request that comes after a change returns never
//!   gets an answer read before it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use modelrun_core::store::StoreResult;
use tokio::sync::{OnceCell, OwnedMutexGuard};

/// At most this many keys are remembered; past it, those no read holds
/// are forgotten.
const MAX_KEYS: usize = 10_000;

/// Turns to read a key, one holder at a time per key.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    turns: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Flights {
    /// Waits until no other holder reads `key`; the turn lasts until the
    /// guard is dropped. Waiters take their turns in the order they came.
    pub(crate) async fn turn(&self, key: &str) -> OwnedMutexGuard<()> {
        let turn = {
            // A panic while holding the lock leaves the map still whole.
            let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
            match turns.get(key).and_then(Weak::upgrade) {
                Some(turn) => turn,
                None => {
                    if turns.len() >= MAX_KEYS {
                        turns.retain(|_, turn| turn.strong_count() > 0);
                    }
                    let turn = Arc::new(tokio::sync::Mutex::new(()));
                    turns.insert(key.to_owned(), Arc::downgrade(&turn));
                    turn
                }
            }
        };
        turn.lock_owned().await
    }
}

/// The store's reads that are shared ([`Shared`]): what every submit and
/// every dispatch reads of the same model and version.
#[derive(Debug, Default)]
pub(crate) struct SharedReads {
    /// A model and its versions, by name.
    pub(crate) models: Shared<Option<modelrun_core::model::ModelWithVersions>>,
    /// A version, by id.
    pub(crate) versions: Shared<Option<modelrun_core::model::ModelVersion>>,
    /// The durations of a version's last runs that succeeded (estimates).
    pub(crate) durations: Shared<Vec<i64>>,
}

impl SharedReads {
    /// A model or version was changed through the store.
    pub(crate) fn models_changed(&self) {
        self.models.changed();
        self.versions.changed();
    }
}

/// Answers of reads under way, by key; see the module's notes.
#[derive(Debug)]
pub(crate) struct Shared<V> {
    /// Moves on with every change, which starts new flights.
    generation: AtomicU64,
    flights: Mutex<HashMap<String, Flight<V>>>,
}

/// A read under way: the generation it started in, and its answer to be.
type Flight<V> = (u64, Arc<OnceCell<V>>);

impl<V> Default for Shared<V> {
    fn default() -> Self {
        Shared {
            generation: AtomicU64::new(0),
            flights: Mutex::default(),
        }
    }
}

impl<V: Clone> Shared<V> {
    /// The answer of `read`, or of the read of `key` under way when it
    /// started in this generation. A failed read is not shared: each of
    /// its waiters reads in turn (and the first to succeed answers the
    /// rest).
    pub(crate) async fn read<F, Fut>(&self, key: String, read: F) -> StoreResult<V>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<V>>,
    {
        let generation = self.generation.load(Ordering::Acquire);
        let cell = {
            let mut flights = self.lock();
            match flights.get(&key) {
                Some((at, cell)) if *at == generation => cell.clone(),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    flights.insert(key.clone(), (generation, cell.clone()));
                    cell
                }
            }
        };
        let answer = cell.get_or_try_init(read).await.cloned();
        // Landed: the next read of the key is a new one.
        let mut flights = self.lock();
        if flights
            .get(&key)
            .is_some_and(|(_, kept)| Arc::ptr_eq(kept, &cell))
        {
            flights.remove(&key);
        }
        answer
    }

    /// A change was committed: reads that start from now on are new.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flight<V>>> {
        // A panic while holding the lock leaves the map still whole.
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_holder_per_key_and_keys_apart() {
        let flights = Arc::new(Flights::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (flights, inside, most) = (flights.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = flights.turn("a").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        // Another key is not held up by "a"'s holders.
        let other = tokio::time::timeout(Duration::from_secs(1), flights.turn("b")).await;
        assert!(other.is_ok(), "key b waited for key a");
        drop(other);
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two holders of one key at once"
        );
    }

    #[tokio::test]
    async fn reads_that_come_together_share_one() {
        let shared = Arc::new(Shared::<u32>::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let (opened, open) = tokio::sync::oneshot::channel::<()>();
        // The first read waits until the others have joined it.
        let first = {
            let (shared, reads) = (shared.clone(), reads.clone());
            tokio::spawn(async move {
                shared
                    .read("k".into(), || async move {
                        reads.fetch_add(1, Ordering::SeqCst);
                        let _ = open.await;
                        Ok(7)
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        let mut joined = Vec::new();
        for _ in 0..5 {
            let (shared, reads) = (shared.clone(), reads.clone());
            joined.push(tokio::spawn(async move {
                shared
                    .read("k".into(), || async move {
                        reads.fetch_add(1, Ordering::SeqCst);
                        Ok(8)
                    })
                    .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = opened.send(());
        assert_eq!(first.await.expect("task").expect("read"), 7);
        for task in joined {
            assert_eq!(task.await.expect("task").expect("read"), 7);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // Landed: the next read is a new one.
        let next = shared.read("k".into(), || async { Ok(9) }).await;
        assert_eq!(next.expect("read"), 9);
    }

    #[tokio::test]
    async fn a_change_starts_new_reads_and_a_failure_is_not_shared() {
        let shared = Arc::new(Shared::<u32>::default());
        let (opened, open) = tokio::sync::oneshot::channel::<()>();
        let before = {
            let shared = shared.clone();
            tokio::spawn(async move {
                shared
                    .read("k".into(), || async move {
                        let _ = open.await;
                        Ok(1)
                    })
                    .await
            })
        };
        tokio::task::yield_now().await;
        shared.changed();
        // Under way still, but read before the change: not shared.
        let after = shared.read("k".into(), || async { Ok(2) }).await;
        assert_eq!(after.expect("read"), 2);
        let _ = opened.send(());
        assert_eq!(before.await.expect("task").expect("read"), 1);
        let failed = shared
            .read("e".into(), || async {
                Err(modelrun_core::store::StoreError::NotFound)
            })
            .await;
        assert!(failed.is_err());
        let again = shared.read("e".into(), || async { Ok(3) }).await;
        assert_eq!(again.expect("read"), 3);
    }

    #[tokio::test]
    async fn keys_no_one_holds_are_forgotten_when_full() {
        let flights = Flights::default();
        for i in 0..=MAX_KEYS {
            drop(flights.turn(&i.to_string()).await);
        }
        let kept = flights.turns.lock().expect("lock").len();
        assert!(kept <= 1, "{kept} keys kept");
    }
}
