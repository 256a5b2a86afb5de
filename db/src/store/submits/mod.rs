//! Submits that arrive together are written together (group commit).
//!
//! A submit written on its own is a transaction of ten statements on
//! SQLite (fourteen on Postgres, with its commit), each a round trip to
//! the database, one submit after another on SQLite's one writer. Measured
//! in a burst of 50 submits (2026-12-03, `scripts/bench-peers --submits`
//! with a timing build), each held the writer 0.2 to 3.6 ms, 28 to 34 ms for
//! the 50, while the requests themselves had all been read by 20 ms.
//!
//! Here one task per store takes the submits that wait when it is free, up
//! to [`MAX_BATCH`], and writes them in one transaction of about ten
//! statements, however many they are: their versions read together, their
//! one-time keys looked up together, each person's attempts counted in one
//! statement ([`count_hits`]), and the runs, first events, dispatch tasks,
//! estimates and audit entries inserted in one statement each. A submit
//! that arrives alone is a batch of one.
//!
//! What one submit meets is its own and is answered to it alone: a version
//! that is gone or retired, a one-time key used before, the submit rate.
//! When the batch fails before its commit (a statement one submit's data
//! broke), it is rolled back and each submit is written on its own
//! ([`write_run`]), so that one bad submit does not fail its neighbours;
//! when the commit itself fails, nothing was written and each submit that
//! was to be gets the error. A submit whose caller stopped waiting before
//! its batch began is not written.
//!
//! Here: the queue, the batches and what each submit's answer is; the
//! statements of a batch are in `steps`.

use chrono::{DateTime, Utc};
use modelrun_core::alias::Alias;
use modelrun_core::alongside::Alongside;
use modelrun_core::ids::RunId;
use modelrun_core::run::{NewRun, Run};
use modelrun_core::store::{StoreError, StoreResult};
use modelrun_core::task::Queued;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::runs::write_run;
use crate::backend::Db;

mod steps;

/// Most submits written in one transaction: 64 runs take 896 bound values
/// in the largest statement, far under SQLite's 32,766 and Postgres's 65,535.
pub(crate) const MAX_BATCH: usize = 64;

/// Submits waiting for the writing task, past which a submit waits to be queued.
const QUEUE: usize = 1024;

/// Batches written at once on Postgres, each on a connection of its own.
/// Four measured worse than one in bursts of 50 submits (p99 to
/// `dispatching` 112 against 92 ms, Postgres CPU 2.4 against 1.4 ms a
/// submit, `scripts/bench-peers --submits`, 2026-12-03): the burst was cut
/// into smaller transactions whose per-person counter rows locked each
/// other. Should a batch wait on a lock (another process's batch, a
/// version being retired), the submits behind it wait too.
const POSTGRES_WRITERS: usize = 1;

/// The queue of a store's submits to the task that writes them.
#[derive(Debug)]
pub(crate) struct SubmitQueue {
    sender: mpsc::Sender<Submit>,
}

struct Submit {
    run: NewRun,
    alongside: Alongside<Run>,
    answer: oneshot::Sender<StoreResult<Queued<Run>>>,
}

impl std::fmt::Debug for Submit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submit").field("run", &self.run).finish()
    }
}

impl SubmitQueue {
    /// Starts the tasks that write `db`'s submits, [`POSTGRES_WRITERS`] on
    /// Postgres and one on SQLite, whose writes are one at a time anyway.
    /// They end once the queue is dropped (with the last clone of its store).
    pub(crate) fn start(db: &Db) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let writers = match db {
            Db::Sqlite { .. } => 1,
            Db::Postgres { .. } => POSTGRES_WRITERS,
        };
        for _ in 0..writers {
            db.spawn(write_batches(db.clone(), receiver.clone()));
        }
        SubmitQueue { sender }
    }

    /// Writes one submit with those that wait beside it; see the module.
    /// Should the writing task be gone, the submit is written on its own.
    pub(crate) async fn submit(
        &self,
        db: &Db,
        run: NewRun,
        alongside: Alongside<Run>,
    ) -> StoreResult<Queued<Run>> {
        let (answer, answered) = oneshot::channel();
        let submit = Submit {
            run,
            alongside,
            answer,
        };
        if let Err(returned) = self.sender.send(submit).await {
            let Submit { run, alongside, .. } = returned.0;
            return db.write(move |db| write_run(db, run, alongside)).await;
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the task that writes submits stopped before this one was written".into(),
            ))
        })
    }
}

/// Takes the submits that wait, up to [`MAX_BATCH`], and writes them; the
/// writers of a queue take turns at it.
async fn write_batches(db: Db, queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Submit>>>) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    loop {
        if queue.lock().await.recv_many(&mut waiting, MAX_BATCH).await == 0 {
            return;
        }
        let batch: Vec<Submit> = waiting
            .drain(..)
            .filter(|submit| !submit.answer.is_closed())
            .collect();
        if !batch.is_empty() {
            write_batch(&db, batch).await;
        }
    }
}

/// One submit of a batch and what became of it.
struct Item {
    submit: Submit,
    state: State,
}

enum State {
    /// Still to be written; what the batch learned of it so far.
    Pending(Pending),
    /// Answered: found before anything was written, or written.
    Answered(StoreResult<Queued<Run>>),
    /// To be written on its own once the batch is over: its key is another
    /// submit's of this batch, or another process made its key meanwhile.
    Alone,
}

#[derive(Default)]
struct Pending {
    model_id: i64,
    alias: Option<Alias>,
    job_key: String,
    /// Counted against its limit in the batch.
    counted: bool,
    id: Option<RunId>,
    run: Option<Run>,
}

impl Item {
    fn pending(&mut self) -> Option<&mut Pending> {
        match &mut self.state {
            State::Pending(pending) => Some(pending),
            _ => None,
        }
    }

    fn answer(&mut self, result: StoreResult<Queued<Run>>) {
        self.state = State::Answered(result);
    }
}

/// How a batch failed.
enum Failed {
    /// Before its commit: rolled back, nothing written.
    Before(StoreError),
    /// At its commit.
    AtCommit(StoreError),
}

async fn write_batch(db: &Db, batch: Vec<Submit>) {
    let now = Utc::now();
    let mut items: Vec<Item> = batch
        .into_iter()
        .map(|submit| Item {
            submit,
            state: State::Pending(Pending::default()),
        })
        .collect();
    match write_together(db, &mut items, now).await {
        Ok(()) => {}
        // The database cannot answer now, or no space: writing one by one
        // would only wait again, once per submit.
        Err(Failed::Before(error @ (StoreError::Unavailable(_) | StoreError::DiskFull(_)))) => {
            for item in &mut items {
                item.answer(Err(same_error(&error)));
            }
        }
        Err(Failed::Before(error)) => {
            tracing::warn!(error = %modelrun_core::error_chain(&error), submits = items.len(), "a batch of submits failed; writing them one by one");
            for item in &mut items {
                item.state = State::Alone;
            }
        }
        Err(Failed::AtCommit(error)) => {
            for item in &mut items {
                if matches!(
                    item.state,
                    State::Pending(_)
                        | State::Answered(Ok(_))
                        | State::Answered(Err(StoreError::OverLimit { .. }))
                ) {
                    item.answer(Err(same_error(&error)));
                }
            }
        }
    }
    // The answers known first, then the submits written on their own.
    let mut alone = Vec::new();
    for item in items {
        let Item { submit, state } = item;
        match state {
            State::Answered(result) => {
                let _ = submit.answer.send(result);
            }
            State::Pending(_) => {
                let _ = submit.answer.send(Err(StoreError::Corrupt(
                    "a submit of a written batch was left unanswered".to_owned(),
                )));
            }
            State::Alone => alone.push(submit),
        }
    }
    for submit in alone {
        if submit.answer.is_closed() {
            continue;
        }
        let Submit {
            run,
            alongside,
            answer,
        } = submit;
        let _ = answer.send(write_run(db.clone(), run, alongside).await);
    }
}

/// One error for every submit of a batch whose commit failed.
fn same_error(error: &StoreError) -> StoreError {
    match error {
        StoreError::DiskFull(message) => StoreError::DiskFull(message.clone()),
        StoreError::Unavailable(source) => StoreError::Unavailable(source.to_string().into()),
        StoreError::Unstorable(message) => StoreError::Unstorable(message.clone()),
        other => StoreError::Backend(modelrun_core::error_chain(other).into()),
    }
}

async fn write_together(db: &Db, items: &mut [Item], now: DateTime<Utc>) -> Result<(), Failed> {
    let mut tx = db.begin().await.map_err(Failed::Before)?;
    let before = |error| Failed::Before(error);
    steps::check_versions(&mut tx, items)
        .await
        .map_err(before)?;
    steps::check_keys(&mut tx, items).await.map_err(before)?;
    steps::count(&mut tx, items, now).await.map_err(before)?;
    steps::insert_runs(&mut tx, items, now)
        .await
        .map_err(before)?;
    if items.iter_mut().any(|item| item.pending().is_some()) {
        steps::read_runs(&mut tx, items).await.map_err(before)?;
        steps::insert_rest(&mut tx, items, now)
            .await
            .map_err(before)?;
    }
    tx.commit().await.map_err(Failed::AtCommit)
}
