//! One read of a key at a time ("single flight"): a request that finds a
//! read of the same key under way waits for it, then finds its answer
//! kept. A burst of 50 submits with five API tokens read each token ten
//! times at once, every read a miss of the credentials kept
//! ([`crate::recent`]); with a turn per key it is read once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

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
    async fn keys_no_one_holds_are_forgotten_when_full() {
        let flights = Flights::default();
        for i in 0..=MAX_KEYS {
            drop(flights.turn(&i.to_string()).await);
        }
        let kept = flights.turns.lock().expect("lock").len();
        assert!(kept <= 1, "{kept} keys kept");
    }
}
