//! Sweeps: a sweep, its runs and their dispatch are written in one
//! transaction, so a sweep is never half made.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::alongside::{Alongside, AuditFor};
use modelrun_core::crypto::random_hex;
use modelrun_core::estimate::Estimate;
use modelrun_core::ids::{ModelId, RunId, SweepId, UserId, VersionId};
use modelrun_core::run::Run;
use modelrun_core::schema::Inputs;
use modelrun_core::status::RunStatus;
use modelrun_core::store::{StoreError, StoreResult};
use modelrun_core::sweep::{
    Axis, DispatchSweep, NewSweep, Sweep, SweepCreated, SweepStore, SweepSummary, Tally,
};
use modelrun_core::task::{DispatchRun, Job};
use sqlx::types::Json;

use super::costs::insert_estimate;
use super::queue::insert_task;
use super::runs::insert_new_run;
use super::security::{Counting, insert_audit};
use crate::SqlStore;
use crate::backend::{AsConn, on_conn};
use crate::convert::parse;
use crate::dialect::limit;
use crate::rows::{RunRow, convert_all, select_runs};
use crate::types::Timestamp;

macro_rules! select_sweeps {
    () => {
        "SELECT s.id, s.model_id, m.name AS model_name, s.version_id, v.label AS version_label, \
         s.submitted_by, u.email AS submitter_email, s.inputs, s.axes, s.run_count, s.job_id, \
         s.job_key, s.created_at, s.cancelled_at \
         FROM sweeps s JOIN models m ON m.id = s.model_id \
         JOIN model_versions v ON v.id = s.version_id \
         JOIN users u ON u.id = s.submitted_by "
    };
}

#[derive(sqlx::FromRow)]
struct SweepRow {
    id: i64,
    model_id: i64,
    model_name: String,
    version_id: i64,
    version_label: String,
    submitted_by: i64,
    submitter_email: String,
    inputs: Json<Inputs>,
    axes: Json<Vec<Axis>>,
    run_count: i64,
    job_id: Option<String>,
    job_key: String,
    created_at: Timestamp,
    cancelled_at: Option<Timestamp>,
}

impl From<SweepRow> for Sweep {
    fn from(row: SweepRow) -> Self {
        Sweep {
            id: SweepId(row.id),
            model_id: ModelId(row.model_id),
            model_name: row.model_name,
            version_id: VersionId(row.version_id),
            version_label: row.version_label,
            submitted_by: UserId(row.submitted_by),
            submitter_email: row.submitter_email,
            inputs: row.inputs.0,
            axes: row.axes.0,
            run_count: row.run_count,
            job_id: row.job_id,
            job_key: row.job_key,
            created_at: row.created_at.into(),
            cancelled_at: row.cancelled_at.map(Into::into),
        }
    }
}

async fn fetch_sweep(conn: &mut impl AsConn, id: SweepId) -> StoreResult<Option<Sweep>> {
    let row = on_conn!(conn, |c| {
        sqlx::query_as::<_, SweepRow>(concat!(select_sweeps!(), "WHERE s.id = $1"))
            .bind(id.0)
            .fetch_optional(c)
            .await
    })?;
    Ok(row.map(Sweep::from))
}

fn index(position: usize) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

impl<B> SqlStore<B> {
    /// The writes of [`SweepStore::create_sweep`], in one transaction.
    async fn write_sweep(
        &self,
        sweep: NewSweep,
        estimate: Option<Estimate>,
        audit: Option<AuditFor<Sweep>>,
        counting: &Counting<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<SweepCreated> {
        let mut tx = self.db.begin().await?;

        let model_id: Option<i64> = on_conn!(&mut tx, |c| {
            sqlx::query_scalar("SELECT model_id FROM model_versions WHERE id = $1")
                .bind(sweep.version_id.0)
                .fetch_optional(c)
                .await
        })?;
        let model_id = model_id.ok_or(StoreError::NotFound)?;
        let id: Option<i64> = on_conn!(&mut tx, |c| {
            sqlx::query_scalar(
                "INSERT INTO sweeps (model_id, version_id, submitted_by, inputs, axes, run_count, \
                 submit_key, job_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (submitted_by, submit_key) WHERE submit_key IS NOT NULL DO NOTHING \
                 RETURNING id",
            )
            .bind(model_id)
            .bind(sweep.version_id.0)
            .bind(sweep.submitted_by.0)
            .bind(Json(&sweep.inputs))
            .bind(Json(&sweep.axes))
            .bind(index(sweep.runs.len()))
            .bind(sweep.submit_key.as_deref())
            .bind(random_hex(8))
            .bind(Timestamp(now))
            .fetch_optional(c)
            .await
        })?;
        let Some(id) = id.map(SweepId) else {
            let earlier: i64 = on_conn!(&mut tx, |c| {
                sqlx::query_scalar(
                    "SELECT id FROM sweeps WHERE submitted_by = $1 AND submit_key = $2",
                )
                .bind(sweep.submitted_by.0)
                .bind(sweep.submit_key.as_deref())
                .fetch_one(c)
                .await
            })?;
            tx.rollback().await?;
            return Ok(SweepCreated::Repeated(SweepId(earlier)));
        };
        let mut tasks = Vec::new();
        for (position, new_run) in sweep.runs.iter().enumerate() {
            let run = insert_new_run(&mut tx, new_run, now).await?;
            if let Some(estimate) = &estimate {
                insert_estimate(&mut tx, run.id, estimate, Timestamp(now)).await?;
            }
            on_conn!(&mut tx, |c| {
                sqlx::query(
                    "INSERT INTO sweep_runs (sweep_id, position, run_id) VALUES ($1, $2, $3)",
                )
                .bind(id.0)
                .bind(index(position))
                .bind(run.id.0)
                .execute(c)
                .await
                .map(|_| ())
            })?;
            if !sweep.array {
                let task = DispatchRun { run_id: run.id }.task();
                tasks.push(insert_task(&mut tx, &task, now).await?.id);
            }
        }
        if sweep.array {
            let task = DispatchSweep { sweep_id: id }.task();
            tasks.push(insert_task(&mut tx, &task, now).await?.id);
        }
        tx.announce_tasks().await?;
        let created = fetch_sweep(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if let Some(audit) = audit {
            insert_audit(&mut tx, &audit(&created)).await?;
        }
        self.db.commit_counted(tx, counting, now).await?;
        Ok(SweepCreated::New {
            sweep: Box::new(created),
            tasks,
        })
    }
}

#[async_trait]
impl<B> SweepStore for SqlStore<B> {
    async fn create_sweep(
        &self,
        sweep: NewSweep,
        alongside: Alongside<Sweep>,
    ) -> StoreResult<SweepCreated> {
        let now = Utc::now();
        let Alongside {
            estimate,
            audit,
            limit,
        } = alongside;
        let counting = self.db.start_counting(limit.as_ref(), now).await?;
        let written = self
            .write_sweep(sweep, estimate, audit, &counting, now)
            .await;
        if !matches!(written, Ok(SweepCreated::New { .. })) {
            self.db.give_back(&counting).await;
        }
        written
    }

    async fn sweep(&self, id: SweepId) -> StoreResult<Option<Sweep>> {
        fetch_sweep(&mut self.db.reader().await?, id).await
    }

    async fn sweep_with_key(&self, user: UserId, key: &str) -> StoreResult<Option<SweepId>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_scalar("SELECT id FROM sweeps WHERE submitted_by = $1 AND submit_key = $2")
                .bind(user.0)
                .bind(key)
                .fetch_optional(c)
                .await
        })
        .map(|id| id.map(SweepId))
    }

    async fn sweeps(
        &self,
        submitted_by: Option<UserId>,
        count: u32,
    ) -> StoreResult<Vec<SweepSummary>> {
        let query = format!(
            "{}WHERE ($1 IS NULL OR s.submitted_by = $1) ORDER BY s.id DESC{}",
            select_sweeps!(),
            limit(count)
        );
        let mut conn = self.db.reader().await?;
        let rows = on_conn!(&mut conn, |c| {
            sqlx::query_as::<_, SweepRow>(sqlx::AssertSqlSafe(query.clone()))
                .bind(submitted_by.map(|id| id.0))
                .fetch_all(c)
                .await
        })?;
        let sweeps: Vec<Sweep> = rows.into_iter().map(Sweep::from).collect();
        let (Some(first), Some(last)) = (sweeps.last(), sweeps.first()) else {
            return Ok(Vec::new());
        };
        // Every listed sweep's counts in one query: the ids between the
        // oldest and the newest listed (newest first), grouped.
        let counts: Vec<(i64, String, i64)> = on_conn!(&mut conn, |c| {
            sqlx::query_as(
                "SELECT sr.sweep_id, r.status, count(*) FROM sweep_runs sr \
                 JOIN runs r ON r.id = sr.run_id \
                 WHERE sr.sweep_id BETWEEN $1 AND $2 GROUP BY sr.sweep_id, r.status",
            )
            .bind(first.id.0)
            .bind(last.id.0)
            .fetch_all(c)
            .await
        })?;
        let mut summaries: Vec<SweepSummary> = sweeps
            .into_iter()
            .map(|sweep| SweepSummary {
                sweep,
                runs: Tally::default(),
            })
            .collect();
        for (id, status, count) in counts {
            if let Some(summary) = summaries.iter_mut().find(|s| s.sweep.id.0 == id) {
                summary
                    .runs
                    .add(parse::<RunStatus>("run status", &status)?, count);
            }
        }
        Ok(summaries)
    }

    async fn sweep_runs(&self, id: SweepId) -> StoreResult<Vec<Run>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, RunRow>(concat!(
                select_runs!(),
                "JOIN sweep_runs sr ON sr.run_id = r.id WHERE sr.sweep_id = $1 ORDER BY sr.position"
            ))
            .bind(id.0)
            .fetch_all(c)
            .await
        })?;
        convert_all(rows)
    }

    async fn run_sweep(&self, run: RunId) -> StoreResult<Option<(SweepId, usize)>> {
        let row: Option<(i64, i64)> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as("SELECT sweep_id, position FROM sweep_runs WHERE run_id = $1")
                .bind(run.0)
                .fetch_optional(c)
                .await
        })?;
        Ok(row.map(|(sweep, position)| {
            (
                SweepId(sweep),
                usize::try_from(position).unwrap_or(usize::MAX),
            )
        }))
    }

    async fn sweep_run_at(&self, id: SweepId, position: usize) -> StoreResult<Option<RunId>> {
        let run: Option<i64> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_scalar(
                "SELECT run_id FROM sweep_runs WHERE sweep_id = $1 AND position = $2",
            )
            .bind(id.0)
            .bind(index(position))
            .fetch_optional(c)
            .await
        })?;
        Ok(run.map(RunId))
    }

    async fn set_sweep_job(&self, id: SweepId, job_id: &str) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query("UPDATE sweeps SET job_id = $1 WHERE id = $2")
                .bind(job_id)
                .bind(id.0)
                .execute(c)
                .await
                .map(|_| ())
        })
    }

    async fn claim_sweep_notice(&self, id: SweepId, now: DateTime<Utc>) -> StoreResult<bool> {
        let claimed = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query("UPDATE sweeps SET notified_at = $1 WHERE id = $2 AND notified_at IS NULL")
                .bind(Timestamp(now))
                .bind(id.0)
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(claimed == 1)
    }

    async fn mark_sweep_cancelled(&self, id: SweepId, now: DateTime<Utc>) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE sweeps SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL",
            )
            .bind(Timestamp(now))
            .bind(id.0)
            .execute(c)
            .await
            .map(|_| ())
        })
    }
}
