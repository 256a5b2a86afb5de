//! Runs, events and outputs. What a status change means (whether it
//! applies, what times it sets, what its event says) is decided in
//! `modelrun-core`; the SQL here only writes the result.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::alias::Alias;
use modelrun_core::alongside::Alongside;
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::{ModelId, RunId, TaskId, UserId};
use modelrun_core::run::{
    EventKind, FollowUp, NewRun, Page, Run, RunEvent, RunFilter, RunOutput, RunTimes, StatusChange,
    Transitioned, VersionCounts,
};
use modelrun_core::status::{Plan, RunStatus, may_requeue, plan, plan_attempt};
use modelrun_core::store::{RunStore, StoreError, StoreResult};
use modelrun_core::task::{DispatchRun, Job, Queued};
use serde_json::Value;
use sqlx::types::Json;

use super::costs::insert_estimate;
use super::listing;
use super::outbox::insert_email;
use super::queue::insert_task;
use super::security::insert_audit;
use crate::SqlStore;
use crate::backend::{AsConn, Db, Tx, on_conn};
use crate::convert::parse;
use crate::dialect::{Dialect, Sql, sql};
use crate::rows::{EventRow, OutputRow, RunRow, convert_all, select_runs};
use crate::types::Timestamp;

/// The version a run is created on. `FOR SHARE`: it cannot be retired
/// while the run is being created.
/// The run's alias is read with it: whether the version is its model's
/// production version at this moment.
const RUN_VERSION: Sql = sql!(
    "SELECT model_id, label, retired_at, coalesce((SELECT production_version_id FROM models \
     WHERE models.id = model_versions.model_id) = model_versions.id, false) \
     FROM model_versions WHERE id = $1",
    for_share
);

/// What a status change depends on. `FOR UPDATE`: reports about one run
/// from several processes apply one after the other.
const RUN_STATE: Sql = sql!(
    "SELECT status, job_id, started_at, finished_at, attempt FROM runs WHERE id = $1",
    for_update
);

/// A run's state as a status change finds it.
#[derive(sqlx::FromRow)]
struct RunState {
    status: String,
    job_id: Option<String>,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    attempt: i64,
}

impl RunState {
    fn times(&self) -> RunTimes {
        RunTimes {
            started_at: self.started_at.map(Into::into),
            finished_at: self.finished_at.map(Into::into),
        }
    }
}

pub(super) async fn fetch_run(conn: &mut impl AsConn, id: RunId) -> StoreResult<Option<Run>> {
    on_conn!(conn, |c| {
        sqlx::query_as::<_, RunRow>(concat!(select_runs!(), "WHERE r.id = $1"))
            .bind(id.0)
            .fetch_optional(c)
            .await
    })?
    .map(Run::try_from)
    .transpose()
}

pub(super) async fn insert_event(
    tx: &mut Tx,
    run: RunId,
    at: DateTime<Utc>,
    status: Option<RunStatus>,
    message: &str,
    data: &Value,
) -> StoreResult<()> {
    let kind = if status.is_some() {
        EventKind::Status
    } else {
        EventKind::Fact
    };
    on_conn!(tx, |c| {
        sqlx::query(
            "INSERT INTO run_events (run_id, at, kind, status, message, data) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(run.0)
        .bind(Timestamp(at))
        .bind(kind.as_str())
        .bind(status.map(RunStatus::as_str))
        .bind(message)
        .bind(data)
        .execute(c)
        .await
        .map(|_| ())
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

/// Writes an applied change: the status and the times it sets.
async fn set_status(
    tx: &mut Tx,
    change: &StatusChange,
    times: RunTimes,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    on_conn!(tx, |c| {
        sqlx::query(
            "UPDATE runs SET status = $1, status_reason = $2, job_id = coalesce($3, job_id), \
             log_stream = coalesce($4, log_stream), updated_at = $5, started_at = $6, \
             finished_at = $7, attempt = coalesce($8, attempt) WHERE id = $9",
        )
        .bind(change.to.as_str())
        .bind(&change.reason)
        .bind(&change.job_id)
        .bind(&change.log_stream)
        .bind(Timestamp(now))
        .bind(times.started_at.map(Timestamp))
        .bind(times.finished_at.map(Timestamp))
        .bind(change.attempt)
        .bind(change.run_id.0)
        .execute(c)
        .await
        .map(|_| ())
    })
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

/// Inserts a queued run; `None` when its submitter already used its key.
async fn insert_run(
    tx: &mut Tx,
    run: &NewRun,
    model_id: i64,
    alias: Alias,
    now: DateTime<Utc>,
) -> StoreResult<Option<RunId>> {
    on_conn!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO runs (model_id, version_id, submitted_by, inputs, vcpu, memory_mib, \
             timeout_seconds, status, created_at, updated_at, submit_key, rerun_of, job_key, \
             alias) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13) \
             ON CONFLICT (submitted_by, submit_key) WHERE submit_key IS NOT NULL DO NOTHING \
             RETURNING id",
        )
        .bind(model_id)
        .bind(run.version_id.0)
        .bind(run.submitted_by.0)
        .bind(Json(&run.inputs))
        .bind(run.resources.vcpu)
        .bind(run.resources.memory_mib)
        .bind(run.resources.timeout_seconds)
        .bind(RunStatus::Queued.as_str())
        .bind(Timestamp(now))
        .bind(run.submit_key.as_deref())
        .bind(run.rerun_of.map(|id| id.0))
        .bind(random_hex(8))
        .bind(alias.as_str())
        .fetch_optional(c)
        .await
    })
    .map(|id| id.map(RunId))
}

/// The run a submitter already made with `run`'s key.
async fn submitted_with_key(tx: &mut Tx, run: &NewRun) -> StoreResult<RunId> {
    on_conn!(tx, |c| {
        sqlx::query_scalar("SELECT id FROM runs WHERE submitted_by = $1 AND submit_key = $2")
            .bind(run.submitted_by.0)
            .bind(run.submit_key.as_deref())
            .fetch_one(c)
            .await
    })
    .map(RunId)
}

/// Writes a queued run with its first event and its dispatch task inside
/// the caller's transaction (a run, or a schedule's fire with its run).
pub(super) async fn insert_queued_run(
    tx: &mut Tx,
    run: &NewRun,
    now: DateTime<Utc>,
) -> StoreResult<Queued<Run>> {
    let created = insert_new_run(tx, run, now).await?;
    let task = insert_task(tx, &DispatchRun { run_id: created.id }.task(), now).await?;
    Ok(Queued {
        item: created,
        task: task.id,
    })
}

/// Writes a queued run with its first event, and no dispatch task: for a
/// caller that dispatches it another way (a sweep's array job).
pub(super) async fn insert_new_run(
    tx: &mut Tx,
    run: &NewRun,
    now: DateTime<Utc>,
) -> StoreResult<Run> {
    let version: Option<(i64, String, Option<Timestamp>, bool)> = on_conn!(tx, |c| {
        sqlx::query_as(c.sql(&RUN_VERSION))
            .bind(run.version_id.0)
            .fetch_optional(c)
            .await
    })?;
    let Some((model_id, label, retired_at, production)) = version else {
        return Err(StoreError::NotFound);
    };
    if retired_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "version {label} is retired and takes no new runs"
        )));
    }
    let alias = if production {
        Alias::Production
    } else {
        Alias::Candidate
    };
    let Some(id) = insert_run(tx, run, model_id, alias, now).await? else {
        return Err(StoreError::AlreadySubmitted(
            submitted_with_key(tx, run).await?,
        ));
    };
    let created = fetch_run(tx, id).await?.ok_or(StoreError::NotFound)?;
    let first = RunEvent::submitted(&created);
    insert_event(tx, id, first.at, first.status, &first.message, &first.data).await?;
    Ok(created)
}

/// Applies `change` inside `tx`, as [`RunStore::transition`] describes:
/// locks the run, plans the change and, when it applies, writes the
/// status, its event, outputs and follow-ups. An ignored change writes
/// nothing and answers with the run as it is. The inner error is the
/// change's own, found before anything is written (no such run, an illegal
/// change); the outer one fails the transaction.
async fn apply_change(
    tx: &mut Tx,
    change: StatusChange,
    now: DateTime<Utc>,
) -> StoreResult<StoreResult<Transitioned>> {
    let state: Option<RunState> = on_conn!(&mut *tx, |c| {
        sqlx::query_as(c.sql(&RUN_STATE))
            .bind(change.run_id.0)
            .fetch_optional(c)
            .await
    })?;
    let Some(state) = state else {
        return Ok(Err(StoreError::NotFound));
    };
    let from: RunStatus = parse("run status", &state.status)?;
    let planned = match change.attempt {
        Some(attempt) => plan_attempt(from, state.attempt, change.to, attempt),
        None => plan(from, change.to),
    };
    let planned = match planned {
        Ok(planned) => planned,
        Err(illegal) => return Ok(Err(illegal.into())),
    };
    let change = match planned {
        Plan::Apply(to) => StatusChange {
            to,
            attempt: Some(change.attempt.unwrap_or(1).max(state.attempt)),
            ..change
        },
        Plan::Ignore => {
            let run = fetch_run(&mut *tx, change.run_id).await?;
            return Ok(run
                .map(|run| Transitioned::Ignored(Box::new(run)))
                .ok_or(StoreError::NotFound));
        }
    };
    set_status(tx, &change, state.times().after(change.to, now), now).await?;
    let data = change.event_data(state.job_id.as_deref());
    let message = change.message();
    insert_event(tx, change.run_id, now, Some(change.to), &message, &data).await?;
    insert_outputs(tx, change.run_id, &change.outputs).await?;
    let tasks = insert_follow_ups(tx, &change.follow_ups, now).await?;
    Ok(Ok(Transitioned::Applied { tasks }))
}

/// [`RunStore::create_run_with`] for one submit on its own, in a
/// transaction of its own (`submits` writes submits together).
pub(super) async fn write_run(
    db: Db,
    run: NewRun,
    alongside: Alongside<Run>,
) -> StoreResult<Queued<Run>> {
    let now = Utc::now();
    let Alongside {
        estimate,
        audit,
        limit,
    } = alongside;
    let counting = db.start_counting(limit.as_ref(), now).await?;
    let written = async {
        let mut tx = db.begin().await?;
        let queued = insert_queued_run(&mut tx, &run, now).await?;
        if let Some(estimate) = &estimate {
            insert_estimate(&mut tx, queued.item.id, estimate, Timestamp(now)).await?;
        }
        if let Some(audit) = audit {
            insert_audit(&mut tx, &audit(&queued.item)).await?;
        }
        db.commit_counted(tx, &counting, now).await?;
        Ok(queued)
    }
    .await;
    if written.is_err() {
        db.give_back(&counting).await;
    }
    written
}

/// [`RunStore::transition`], on the write lane.
async fn write_change(db: Db, change: StatusChange) -> StoreResult<Transitioned> {
    let mut tx = db.begin().await?;
    let outcome = apply_change(&mut tx, change, Utc::now()).await??;
    match outcome {
        Transitioned::Applied { .. } => tx.commit().await?,
        Transitioned::Ignored(_) => tx.rollback().await?,
    }
    Ok(outcome)
}

/// [`RunStore::transition_many`], on the write lane: one transaction.
async fn write_changes(
    db: Db,
    changes: Vec<StatusChange>,
) -> StoreResult<Vec<StoreResult<Transitioned>>> {
    // Runs are locked in id order, so that two batches of one run never
    // wait for each other (a deadlock on Postgres); one run's changes
    // keep their order, and the answers come back in the order given.
    let mut order: Vec<(usize, StatusChange)> = changes.into_iter().enumerate().collect();
    order.sort_by_key(|(_, change)| change.run_id.0);
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let mut answers: Vec<Option<StoreResult<Transitioned>>> =
        (0..order.len()).map(|_| None).collect();
    for (position, change) in order {
        answers[position] = Some(apply_change(&mut tx, change, now).await?);
    }
    tx.commit().await?;
    Ok(answers
        .into_iter()
        .map(|answer| answer.unwrap_or(Err(StoreError::NotFound)))
        .collect())
}

#[async_trait]
impl<B> RunStore for SqlStore<B> {
    async fn create_run_with(
        &self,
        run: NewRun,
        alongside: Alongside<Run>,
    ) -> StoreResult<Queued<Run>> {
        self.submits.submit(&self.db, run, alongside).await
    }

    async fn run(&self, id: RunId) -> StoreResult<Option<Run>> {
        fetch_run(&mut self.db.reader().await?, id).await
    }

    async fn run_with_key(&self, user: UserId, key: &str) -> StoreResult<Option<RunId>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_scalar("SELECT id FROM runs WHERE submitted_by = $1 AND submit_key = $2")
                .bind(user.0)
                .bind(key)
                .fetch_optional(c)
                .await
        })
        .map(|id| id.map(RunId))
    }

    async fn run_events(&self, id: RunId) -> StoreResult<Vec<RunEvent>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, EventRow>(
                "SELECT at, kind, status, message, data FROM run_events \
                 WHERE run_id = $1 ORDER BY id",
            )
            .bind(id.0)
            .fetch_all(c)
            .await
        })?;
        convert_all(rows)
    }

    async fn run_outputs(&self, id: RunId) -> StoreResult<Vec<RunOutput>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, OutputRow>(
                "SELECT name, size, content_type, sha256 FROM run_outputs \
                 WHERE run_id = $1 ORDER BY name",
            )
            .bind(id.0)
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(RunOutput::from).collect())
    }

    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Page<Run>> {
        listing::list_runs(&mut self.db.reader().await?, filter).await
    }

    async fn version_counts(&self, model: ModelId) -> StoreResult<Vec<VersionCounts>> {
        listing::version_counts(&mut self.db.reader().await?, model).await
    }

    async fn active_runs(&self) -> StoreResult<Vec<Run>> {
        listing::active_runs(&mut self.db.reader().await?).await
    }

    async fn transition(&self, change: StatusChange) -> StoreResult<Transitioned> {
        self.db.write(move |db| write_change(db, change)).await
    }

    async fn transition_many(
        &self,
        changes: Vec<StatusChange>,
    ) -> StoreResult<Vec<StoreResult<Transitioned>>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.db.write(move |db| write_changes(db, changes)).await
    }

    async fn requeue(&self, run: RunId, job_id: &str, reason: &str) -> StoreResult<Transitioned> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let state: RunState = on_conn!(&mut tx, |c| {
            sqlx::query_as(c.sql(&RUN_STATE))
                .bind(run.0)
                .fetch_optional(c)
                .await
        })?
        .ok_or(StoreError::NotFound)?;
        let from: RunStatus = parse("run status", &state.status)?;
        if !may_requeue(from) || state.job_id.as_deref() != Some(job_id) {
            let current = fetch_run(&mut tx, run).await?;
            tx.rollback().await?;
            return Ok(Transitioned::Ignored(Box::new(
                current.ok_or(StoreError::NotFound)?,
            )));
        }
        on_conn!(&mut tx, |c| {
            sqlx::query(
                "UPDATE runs SET status = $1, status_reason = $2, job_id = NULL, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(RunStatus::Queued.as_str())
            .bind(reason)
            .bind(Timestamp(now))
            .bind(run.0)
            .execute(c)
            .await
            .map(|_| ())
        })?;
        let data = serde_json::json!({ "job_id": job_id });
        let message = format!("queued: {reason}");
        insert_event(&mut tx, run, now, Some(RunStatus::Queued), &message, &data).await?;
        let task = insert_task(&mut tx, &DispatchRun { run_id: run }.task(), now).await?;
        tx.announce_tasks().await?;
        tx.commit().await?;
        Ok(Transitioned::Applied {
            tasks: vec![task.id],
        })
    }

    async fn add_fact(&self, run: RunId, message: &str, data: Value) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let exists: Option<i64> = on_conn!(&mut tx, |c| {
            sqlx::query_scalar("SELECT id FROM runs WHERE id = $1")
                .bind(run.0)
                .fetch_optional(c)
                .await
        })?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        insert_event(&mut tx, run, Utc::now(), None, message, &data).await?;
        if let Some(stream) = data.get("log_stream").and_then(Value::as_str) {
            on_conn!(&mut tx, |c| {
                sqlx::query("UPDATE runs SET log_stream = $1 WHERE id = $2")
                    .bind(stream)
                    .bind(run.0)
                    .execute(c)
                    .await
                    .map(|_| ())
            })?;
        }
        tx.commit().await
    }
}
