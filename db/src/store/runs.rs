//! Runs, events and outputs: creating a run, reading runs, requeueing one.
//! Status changes are written by `transitions`, submits that arrive
//! together by `submits`.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::alias::Alias;
use modelrun_core::alongside::Alongside;
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::{ModelId, RunId, UserId};
use modelrun_core::run::{
    EventKind, NewRun, Page, Run, RunEvent, RunFilter, RunOutput, StatusChange, Transitioned,
    VersionCounts,
};
use modelrun_core::status::{RunStatus, may_requeue};
use modelrun_core::store::{RunStore, StoreError, StoreResult};
use modelrun_core::task::{DispatchRun, Job, Queued};
use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::types::Json;

use super::costs::insert_estimate;
use super::listing;
use super::queue::insert_task;
use super::security::insert_audit;
use super::transitions::{RUN_STATE, RunState, write_changes};
use crate::SqlStore;
use crate::backend::{AsConn, Db, Tx, on_conn};
use crate::convert::parse;
use crate::dialect::{Dialect, Sql, push_list, sql};
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

pub(super) async fn fetch_run(conn: &mut impl AsConn, id: RunId) -> StoreResult<Option<Run>> {
    Ok(fetch_runs(conn, &[id.0]).await?.remove(&id.0))
}

/// The runs of `ids` that exist, by id, in one query.
pub(crate) async fn fetch_runs(
    conn: &mut impl AsConn,
    ids: &[i64],
) -> StoreResult<HashMap<i64, Run>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<RunRow> = on_conn!(conn, |c| {
        let mut query = QueryBuilder::new(concat!(select_runs!(), "WHERE r.id IN ("));
        push_list(&mut query, ids.iter().copied());
        query.push(")");
        query.build_query_as().fetch_all(c).await
    })?;
    let mut runs = HashMap::with_capacity(rows.len());
    for row in rows {
        let run = Run::try_from(row)?;
        runs.insert(run.id.0, run);
    }
    Ok(runs)
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

/// The alias a run is written with, from its version as the writing
/// transaction reads it (`FOR SHARE` on Postgres): `Conflict` for a
/// retired version, and for a run that must be of production
/// ([`NewRun::production_only`]) whose version a promotion has just
/// demoted.
pub(super) fn alias_at_write(
    run: &NewRun,
    label: &str,
    retired: bool,
    production: bool,
) -> StoreResult<Alias> {
    if retired {
        return Err(StoreError::Conflict(format!(
            "version {label} is retired and takes no new runs"
        )));
    }
    if production {
        return Ok(Alias::Production);
    }
    if run.production_only {
        return Err(StoreError::Conflict(format!(
            "version {label} stopped being production while this run was being submitted \
             (another version was promoted), so nothing was run: start it again on the \
             production version"
        )));
    }
    Ok(Alias::Candidate)
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
    let alias = alias_at_write(run, &label, retired_at.is_some(), production)?;
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
        // Reads that come together (a burst's dispatches) are one query.
        let db = self.db.clone();
        self.run_reads
            .read(id.0, move |ids| {
                let db = db.clone();
                async move { fetch_runs(&mut db.reader().await?, &ids).await }
            })
            .await
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
        // A batch of one, with the same answers.
        let mut answers = self
            .db
            .write(move |db| write_changes(db, vec![change]))
            .await?;
        answers.pop().unwrap_or(Err(StoreError::NotFound))
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
