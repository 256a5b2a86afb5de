//! Status changes: what a change means (whether it applies, the times it
//! sets, what its event says) is decided in `modelrun-core`; the SQL here
//! writes the result.
//!
//! Changes are written in batches (`worker/src/transitions.rs` gathers the
//! ones that arrive together; [`RunStore::transition`] is a batch of one):
//! one statement reads and locks every run of the batch, one `UPDATE … FROM
//! (VALUES …)` writes every applied change, and one `INSERT` their events:
//! three statements, whatever the batch's size (outputs and follow-ups
//! aside; a change ignored after an applied one of the same run writes
//! what came before it and reads the run, two more). Timed in a burst of 50 submits, a batch of 30 held SQLite's
//! writer 3 to 20 ms at three statements a change; on Postgres, 45
//! `UPDATE`s one after the other took 5 ms of a 13 ms batch (2026-12-03).
//!
//! [`RunStore::transition`]: modelrun_core::store::RunStore::transition

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use modelrun_core::ids::{RunId, TaskId};
use modelrun_core::run::{FollowUp, RunOutput, RunTimes, StatusChange, Transitioned};
use modelrun_core::status::{Plan, RunStatus, plan, plan_attempt};
use modelrun_core::store::{StoreError, StoreResult};
use serde_json::Value;
use sqlx::QueryBuilder;

use super::outbox::insert_email;
use super::queue::insert_task;
use super::runs::fetch_run;
use crate::backend::{Db, Tx, on_conn};
use crate::convert::parse;
use crate::dialect::{Dialect, Sql, push_list, sql};
use crate::types::Timestamp;

/// What a status change depends on. `FOR UPDATE`: reports about one run
/// from several processes apply one after the other.
pub(super) const RUN_STATE: Sql = sql!(
    "SELECT status, job_id, started_at, finished_at, attempt FROM runs WHERE id = $1",
    for_update
);

/// A run's state as a status change finds it.
#[derive(sqlx::FromRow)]
pub(super) struct RunState {
    pub(super) status: String,
    pub(super) job_id: Option<String>,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    attempt: i64,
}

/// [`RunState`] of each run of a batch, with its id; `FOR UPDATE` on
/// Postgres, in id order so that two batches never wait for each other.
/// The ids follow, written by the caller, then [`RUN_STATES_END`].
const RUN_STATES: &str =
    "SELECT id, status, job_id, started_at, finished_at, attempt FROM runs WHERE id IN (";
const RUN_STATES_END: Sql = sql!(") ORDER BY id", for_update);

#[derive(sqlx::FromRow)]
struct IdState {
    id: i64,
    #[sqlx(flatten)]
    state: RunState,
}

impl RunState {
    pub(super) fn times(&self) -> RunTimes {
        RunTimes {
            started_at: self.started_at.map(Into::into),
            finished_at: self.finished_at.map(Into::into),
        }
    }
}

/// Writes `changes` in one transaction, as [`RunStore::transition_many`]
/// describes: each change has its own answer, in the order given. A
/// change's own error (no such run, an illegal change) is found before
/// anything of it is written; the outer error fails the whole batch.
///
/// [`RunStore::transition_many`]: modelrun_core::store::RunStore::transition_many
pub(super) async fn write_changes(
    db: Db,
    changes: Vec<StatusChange>,
) -> StoreResult<Vec<StoreResult<Transitioned>>> {
    // Applied in run id order (stable: one run's changes keep theirs).
    let mut order: Vec<(usize, StatusChange)> = changes.into_iter().enumerate().collect();
    order.sort_by_key(|(_, change)| change.run_id.0);
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let mut states = read_states(&mut tx, &order).await?;
    let mut answers: Vec<Option<StoreResult<Transitioned>>> =
        (0..order.len()).map(|_| None).collect();
    let mut written = Written::default();
    for (position, change) in order {
        let answer = match states.get_mut(&change.run_id.0) {
            None => Err(StoreError::NotFound),
            Some(state) => apply(&mut tx, state, change, now, &mut written).await?,
        };
        answers[position] = Some(answer);
    }
    update_runs(&mut tx, &mut written.runs, now).await?;
    insert_events(&mut tx, &written.events, now).await?;
    tx.commit().await?;
    Ok(answers
        .into_iter()
        .map(|answer| answer.unwrap_or(Err(StoreError::NotFound)))
        .collect())
}

/// Reads and locks the runs that `changes` are about.
async fn read_states(
    tx: &mut Tx,
    changes: &[(usize, StatusChange)],
) -> StoreResult<HashMap<i64, RunState>> {
    let mut ids: Vec<i64> = changes.iter().map(|(_, change)| change.run_id.0).collect();
    ids.dedup();
    let rows: Vec<IdState> = on_conn!(&mut *tx, |c| {
        let mut query = QueryBuilder::new(RUN_STATES);
        push_list(&mut query, ids.iter().copied());
        query.push(c.sql(&RUN_STATES_END));
        query.build_query_as().fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|row| (row.id, row.state)).collect())
}

/// What the applied changes of a batch write, in one statement each.
#[derive(Default)]
struct Written {
    /// Each changed run's new row values, in the order first changed.
    runs: Vec<RunWrite>,
    events: Vec<Event>,
}

/// A run's columns after the batch's changes to it, as the changes one
/// after the other would have left them: the last status, reason and
/// times; the last job id, log stream and attempt that were given.
struct RunWrite {
    id: i64,
    status: RunStatus,
    reason: Option<String>,
    job_id: Option<String>,
    log_stream: Option<String>,
    times: RunTimes,
    attempt: Option<i64>,
}

impl Written {
    fn add(&mut self, change: &StatusChange, times: RunTimes) {
        let id = change.run_id.0;
        match self.runs.iter_mut().find(|run| run.id == id) {
            Some(run) => {
                run.status = change.to;
                run.reason.clone_from(&change.reason);
                if change.job_id.is_some() {
                    run.job_id.clone_from(&change.job_id);
                }
                if change.log_stream.is_some() {
                    run.log_stream.clone_from(&change.log_stream);
                }
                run.times = times;
                run.attempt = change.attempt.or(run.attempt);
            }
            None => self.runs.push(RunWrite {
                id,
                status: change.to,
                reason: change.reason.clone(),
                job_id: change.job_id.clone(),
                log_stream: change.log_stream.clone(),
                times,
                attempt: change.attempt,
            }),
        }
    }
}

/// An applied change's event, written with the batch's others.
struct Event {
    run: RunId,
    status: RunStatus,
    message: String,
    data: Value,
}

/// Plans `change` against `state` and, when it applies, notes the run's new
/// columns and its event in `written`, writes its outputs and follow-ups,
/// and moves `state` on, so a later change of the same run in the batch
/// sees it. An ignored change writes nothing and answers with the run as
/// it is (with the batch's earlier changes to it).
async fn apply(
    tx: &mut Tx,
    state: &mut RunState,
    change: StatusChange,
    now: DateTime<Utc>,
    written: &mut Written,
) -> StoreResult<StoreResult<Transitioned>> {
    let from: RunStatus = parse("run status", &state.status)?;
    let planned = match change.attempt {
        Some(attempt) => plan_attempt(from, state.attempt, change.to, attempt),
        None => plan(from, change.to),
    };
    let change = match planned {
        Err(illegal) => return Ok(Err(illegal.into())),
        Ok(Plan::Ignore) => {
            if written.runs.iter().any(|run| run.id == change.run_id.0) {
                update_runs(tx, &mut written.runs, now).await?;
            }
            let run = fetch_run(&mut *tx, change.run_id).await?;
            return Ok(run
                .map(|run| Transitioned::Ignored(Box::new(run)))
                .ok_or(StoreError::NotFound));
        }
        Ok(Plan::Apply(to)) => StatusChange {
            to,
            attempt: Some(change.attempt.unwrap_or(1).max(state.attempt)),
            ..change
        },
    };
    let times = state.times().after(change.to, now);
    written.add(&change, times);
    written.events.push(Event {
        run: change.run_id,
        status: change.to,
        message: change.message(),
        data: change.event_data(state.job_id.as_deref()),
    });
    state.status = change.to.as_str().to_owned();
    if change.job_id.is_some() {
        state.job_id.clone_from(&change.job_id);
    }
    state.started_at = times.started_at.map(Timestamp);
    state.finished_at = times.finished_at.map(Timestamp);
    state.attempt = change.attempt.unwrap_or(state.attempt);
    insert_outputs(tx, change.run_id, &change.outputs).await?;
    let tasks = insert_follow_ups(tx, &change.follow_ups, now).await?;
    Ok(Ok(Transitioned::Applied { tasks }))
}

/// The batch's events, in the order their changes applied.
async fn insert_events(tx: &mut Tx, events: &[Event], at: DateTime<Utc>) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    on_conn!(&mut *tx, |c| {
        let mut query =
            QueryBuilder::new("INSERT INTO run_events (run_id, at, kind, status, message, data) ");
        query.push_values(events, |mut row, event| {
            row.push_bind(event.run.0)
                .push_bind(Timestamp(at))
                .push_bind(modelrun_core::run::EventKind::Status.as_str())
                .push_bind(Some(event.status.as_str()))
                .push_bind(event.message.clone())
                .push_bind(event.data.clone());
        });
        query.build().execute(c).await.map(|_| ())
    })
}

async fn insert_follow_ups(
    tx: &mut Tx,
    follow_ups: &[FollowUp],
    now: DateTime<Utc>,
) -> StoreResult<Vec<TaskId>> {
    let mut tasks = Vec::with_capacity(follow_ups.len());
    for follow_up in follow_ups {
        let task = match follow_up {
            FollowUp::Task(task) => insert_task(tx, task, now).await?.id,
            FollowUp::Email(email) => insert_email(tx, email, now).await?.task,
        };
        tasks.push(task);
    }
    Ok(tasks)
}

/// Writes the runs' new columns in one statement, and empties `runs`.
async fn update_runs(tx: &mut Tx, runs: &mut Vec<RunWrite>, now: DateTime<Utc>) -> StoreResult<()> {
    if runs.is_empty() {
        return Ok(());
    }
    on_conn!(&mut *tx, |c| {
        // The columns of VALUES are column1, column2, … on both databases.
        let mut query = QueryBuilder::new("UPDATE runs SET updated_at = ");
        query.push_bind(Timestamp(now));
        query.push(
            ", status = v.column2, status_reason = v.column3, \
             job_id = coalesce(v.column4, runs.job_id), \
             log_stream = coalesce(v.column5, runs.log_stream), started_at = v.column6, \
             finished_at = v.column7, attempt = coalesce(v.column8, runs.attempt) FROM (",
        );
        query.push_values(runs.iter(), |mut row, run| {
            row.push_bind(run.id)
                .push_bind(run.status.as_str())
                .push_bind(run.reason.clone())
                .push_bind(run.job_id.clone())
                .push_bind(run.log_stream.clone())
                .push_bind(run.times.started_at.map(Timestamp))
                .push_bind(run.times.finished_at.map(Timestamp))
                .push_bind(run.attempt);
        });
        query.push(") AS v WHERE runs.id = v.column1");
        query.build().execute(c).await.map(|_| ())
    })?;
    runs.clear();
    Ok(())
}

async fn insert_outputs(tx: &mut Tx, run: RunId, outputs: &[RunOutput]) -> StoreResult<()> {
    for output in outputs {
        on_conn!(tx, |c| {
            sqlx::query(
                "INSERT INTO run_outputs (run_id, name, size, content_type, sha256) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id, name) DO NOTHING",
            )
            .bind(run.0)
            .bind(&output.name)
            .bind(output.size)
            .bind(&output.content_type)
            .bind(&output.sha256)
            .execute(c)
            .await
            .map(|_| ())
        })?;
    }
    Ok(())
}
