//! The worker's status changes, written together when they come together.
//!
//! A burst of submits gives the worker dozens of dispatches at once, and
//! each moved its run to `dispatching` (then `submitted`) in a transaction
//! of its own: on SQLite's one writer they queued one behind another, a
//! millisecond or more each. Here a change that arrives while another batch
//! is being written waits for it, and all that waited are written next, in
//! one transaction ([`RunStore::transition_many`]): group commit. A change
//! that comes alone is written at once, alone, as before. A batch that
//! fails as a whole is written again change by change, so that each change
//! gets its own answer.

use std::sync::{Arc, Mutex};

use modelrun_core::run::{StatusChange, Transitioned};
use modelrun_core::store::{RunStore, Store, StoreError, StoreResult};
use tokio::sync::oneshot;

/// Most changes in one transaction.
const MAX_BATCH: usize = 64;

type Waiting = (StatusChange, oneshot::Sender<StoreResult<Transitioned>>);

/// Status changes written in batches; see the module's notes. Cloning
/// shares the queue.
#[derive(Clone)]
pub struct Transitions {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// A task is writing batches; it takes what waits before it stops.
    writing: bool,
}

impl std::fmt::Debug for Transitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transitions").finish_non_exhaustive()
    }
}

impl Transitions {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Transitions {
            inner: Arc::new(Inner {
                store,
                queue: Mutex::default(),
            }),
        }
    }

    /// Writes `change` ([`RunStore::transition`]), with the changes that
    /// arrive meanwhile.
    pub async fn apply(&self, change: StatusChange) -> StoreResult<Transitioned> {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut queue = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.waiting.push((change, answer));
            !std::mem::replace(&mut queue.writing, true)
        };
        if start {
            // A task of its own: a caller dropped meanwhile (a timeout)
            // never leaves the others waiting.
            tokio::spawn(write_batches(self.inner.clone()));
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the status change was not written: the worker is stopping".into(),
            ))
        })
    }
}

/// Writes what waits, a batch at a time, until nothing does.
async fn write_batches(inner: Arc<Inner>) {
    let guard = Stopped(inner.clone());
    loop {
        let batch: Vec<Waiting> = {
            let mut queue = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            // A caller that stopped waiting (a task given back at a
            // deadline) has its change dropped, unwritten.
            queue.waiting.retain(|(_, answer)| !answer.is_closed());
            if queue.waiting.is_empty() {
                queue.writing = false;
                break;
            }
            let take = queue.waiting.len().min(MAX_BATCH);
            queue.waiting.drain(..take).collect()
        };
        write(&*inner.store, batch).await;
    }
    drop(guard);
}

/// Should the writing task end early (a panic, the runtime shutting
/// down), the changes that wait are answered, and the next change starts a
/// new task: nobody waits forever.
struct Stopped(Arc<Inner>);

impl Drop for Stopped {
    fn drop(&mut self) {
        let mut queue = self.0.queue.lock().unwrap_or_else(|p| p.into_inner());
        if !queue.writing {
            return;
        }
        queue.writing = false;
        for (_, answer) in queue.waiting.drain(..) {
            let _ = answer.send(Err(StoreError::Unavailable(
                "the status change was not written: its writer stopped".into(),
            )));
        }
    }
}

async fn write(store: &dyn Store, batch: Vec<Waiting>) {
    if batch.len() == 1 {
        for (change, answer) in batch {
            let _ = answer.send(store.transition(change).await);
        }
        return;
    }
    let changes = batch.iter().map(|(change, _)| change.clone()).collect();
    let error = match RunStore::transition_many(store, changes).await {
        Ok(answers) if answers.len() == batch.len() => {
            for ((_, answer), outcome) in batch.into_iter().zip(answers) {
                let _ = answer.send(outcome);
            }
            return;
        }
        Ok(answers) => StoreError::Corrupt(format!(
            "{} answers to a batch of {} status changes",
            answers.len(),
            batch.len()
        )),
        Err(error) => error,
    };
    // The database cannot answer now, or no space: the same for every change, at once
    // (one by one, each would wait its own turn for the same answer).
    if matches!(error, StoreError::Unavailable(_) | StoreError::DiskFull(_)) {
        let why = error.to_string();
        for (_, answer) in batch {
            let same = match &error {
                StoreError::DiskFull(full) => StoreError::DiskFull(full.clone()),
                _ => StoreError::Unavailable(why.clone().into()),
            };
            let _ = answer.send(Err(same));
        }
        return;
    }
    // Otherwise one change may be at fault: each alone gets its own answer.
    tracing::warn!(error = %modelrun_core::error_chain(&error), changes = batch.len(),
        "a batch of status changes failed; writing them one by one");
    for (change, answer) in batch {
        let _ = answer.send(store.transition(change).await);
    }
}
