//! The task queue. A claim is one `UPDATE … RETURNING` of the next due task.
//! On Postgres it passes over the rows other workers are claiming
//! (`FOR UPDATE SKIP LOCKED`), so workers in any number of processes never
//! wait for each other or take the same task; on SQLite claims run one at a
//! time on the single writer connection.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::TaskId;
use modelrun_core::store::{StoreError, StoreResult, TaskQueue};
use modelrun_core::task::{Claimed, Failure, NewTask, Task, TaskState};

use crate::SqlStore;
use crate::backend::{Tx, on_conn};
use crate::convert::conflict;
use crate::dialect::{Dialect, Sql, sql};
use crate::rows::{TaskRow, convert_all};
use crate::types::Timestamp;

/// The columns of a [`TaskRow`].
macro_rules! task_columns {
    () => {
        "id, kind, payload, state, attempts, max_attempts, run_after, locked_until, last_error, \
         dedupe_key, created_at, updated_at"
    };
}

/// Leases due tasks, oldest due first, up to a ` LIMIT n` written after
/// it: `$1` lease end, `$2` lease token, `$3` now.
const CLAIM_DUE: &str = "UPDATE tasks SET attempts = attempts + 1, locked_until = $1, lease = $2, \
     updated_at = $3 WHERE id IN (SELECT id FROM tasks WHERE state = 'queued' AND run_after <= $3 \
     AND (locked_until IS NULL OR locked_until <= $3) ORDER BY run_after, id";

/// What follows [`CLAIM_DUE`]'s limit.
const CLAIMED: Sql = sql!("", skip_locked, concat!(") RETURNING ", task_columns!()));

/// Inserts a task inside the caller's transaction, and announces it to
/// listening workers when the transaction commits. With a dedupe key that a
/// queued task already holds, returns that task instead.
pub(crate) async fn insert_task(
    tx: &mut Tx,
    task: &NewTask,
    now: DateTime<Utc>,
) -> StoreResult<Task> {
    let inserted = on_conn!(tx, |c| {
        sqlx::query_as::<_, TaskRow>(concat!(
            "INSERT INTO tasks (kind, payload, state, attempts, max_attempts, run_after, \
             dedupe_key, created_at, updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $6) \
             ON CONFLICT (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL \
             DO NOTHING RETURNING ",
            task_columns!()
        ))
        .bind(task.kind.as_str())
        .bind(&task.payload)
        .bind(task.max_attempts)
        .bind(Timestamp(task.run_after.unwrap_or(now)))
        .bind(&task.dedupe_key)
        .bind(Timestamp(now))
        .fetch_optional(c)
        .await
    })?;
    let Some(row) = inserted else {
        return on_conn!(tx, |c| {
            sqlx::query_as::<_, TaskRow>(concat!(
                "SELECT ",
                task_columns!(),
                " FROM tasks WHERE dedupe_key = $1 AND state = 'queued'"
            ))
            .bind(&task.dedupe_key)
            .fetch_one(c)
            .await
        })?
        .try_into();
    };
    tx.announce_tasks().await?;
    row.try_into()
}

/// A write to a leased task that touched no row: the lease is gone.
fn lease_held(claimed: &Claimed, rows: u64) -> StoreResult<()> {
    if rows == 0 {
        return Err(StoreError::LeaseLost(claimed.task.id));
    }
    Ok(())
}

#[async_trait]
impl<B> TaskQueue for SqlStore<B> {
    async fn enqueue(&self, task: NewTask) -> StoreResult<Task> {
        let mut tx = self.db.begin().await?;
        let task = insert_task(&mut tx, &task, Utc::now()).await?;
        tx.commit().await?;
        Ok(task)
    }

    async fn claim(&self, now: DateTime<Utc>, lease: Duration) -> StoreResult<Option<Claimed>> {
        Ok(self.claim_many(now, lease, 1).await?.pop())
    }

    async fn claim_many(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        most: u32,
    ) -> StoreResult<Vec<Claimed>> {
        if most == 0 {
            return Ok(Vec::new());
        }
        let token = random_hex(16);
        let leased = token.clone();
        let mut rows = self
            .db
            .write(move |db| async move {
                on_conn!(&mut db.writer().await?, |c| {
                    let text = format!(
                        "{CLAIM_DUE}{}{}",
                        crate::dialect::limit(most),
                        c.sql(&CLAIMED)
                    );
                    sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(text))
                        .bind(Timestamp(now + lease))
                        .bind(&leased)
                        .bind(Timestamp(now))
                        .fetch_all(c)
                        .await
                })
            })
            .await?
            .into_iter()
            .map(|row| {
                Ok(Claimed {
                    task: row.try_into()?,
                    lease: token.clone(),
                })
            })
            .collect::<StoreResult<Vec<Claimed>>>()?;
        // `RETURNING` keeps no order: the oldest due first, as claimed.
        rows.sort_by_key(|claimed| (claimed.task.run_after, claimed.task.id.0));
        Ok(rows)
    }

    async fn complete(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()> {
        let (id, lease) = (claimed.task.id.0, claimed.lease.clone());
        let done = self
            .db
            .write(move |db| async move {
                on_conn!(&mut db.writer().await?, |c| {
                    sqlx::query(
                        "UPDATE tasks SET state = 'done', locked_until = NULL, lease = NULL, \
                         updated_at = $1 WHERE id = $2 AND lease = $3 AND state = 'queued'",
                    )
                    .bind(Timestamp(now))
                    .bind(id)
                    .bind(&lease)
                    .execute(c)
                    .await
                    .map(|done| done.rows_affected())
                })
            })
            .await?;
        lease_held(claimed, done)
    }

    async fn fail(
        &self,
        claimed: &Claimed,
        error: &str,
        failure: Failure,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (state, run_after) = match failure {
            Failure::RetryAt(at) => (TaskState::Queued, at),
            Failure::Dead => (TaskState::Dead, now),
        };
        let failed = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE tasks SET state = $1, run_after = $2, last_error = $3, \
                 locked_until = NULL, lease = NULL, updated_at = $4 \
                 WHERE id = $5 AND lease = $6 AND state = 'queued'",
            )
            .bind(state.as_str())
            .bind(Timestamp(run_after))
            .bind(error)
            .bind(Timestamp(now))
            .bind(claimed.task.id.0)
            .bind(&claimed.lease)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        lease_held(claimed, failed)
    }

    async fn release(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()> {
        self.postpone(claimed, now, now).await
    }

    async fn extend_lease(&self, claimed: &Claimed, until: DateTime<Utc>) -> StoreResult<()> {
        let extended = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE tasks SET locked_until = $1 \
                 WHERE id = $2 AND lease = $3 AND state = 'queued'",
            )
            .bind(Timestamp(until))
            .bind(claimed.task.id.0)
            .bind(&claimed.lease)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        lease_held(claimed, extended)
    }

    async fn postpone(
        &self,
        claimed: &Claimed,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let postponed = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE tasks SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                 run_after = $1, locked_until = NULL, lease = NULL, updated_at = $2 \
                 WHERE id = $3 AND lease = $4 AND state = 'queued'",
            )
            .bind(Timestamp(until))
            .bind(Timestamp(now))
            .bind(claimed.task.id.0)
            .bind(&claimed.lease)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        lease_held(claimed, postponed)
    }

    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, TaskRow>(concat!(
                "SELECT ",
                task_columns!(),
                " FROM tasks WHERE id = $1"
            ))
            .bind(id.0)
            .fetch_optional(c)
            .await
        })?
        .map(Task::try_from)
        .transpose()
    }

    async fn list_tasks(&self, state: Option<TaskState>, limit: u32) -> StoreResult<Vec<Task>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            let sql = format!(
                "{}{}",
                concat!(
                    "SELECT ",
                    task_columns!(),
                    " FROM tasks WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC"
                ),
                crate::dialect::limit(limit)
            );
            sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(sql))
                .bind(state.map(TaskState::as_str))
                .fetch_all(c)
                .await
        })?;
        convert_all(rows)
    }

    async fn retry_task(&self, id: TaskId, now: DateTime<Utc>) -> StoreResult<Task> {
        let mut tx = self.db.begin().await?;
        let row = on_conn!(&mut tx, |c| {
            sqlx::query_as::<_, TaskRow>(concat!(
                "UPDATE tasks SET state = 'queued', attempts = 0, run_after = $1, \
                 locked_until = NULL, lease = NULL, updated_at = $1 \
                 WHERE id = $2 AND state = 'dead' RETURNING ",
                task_columns!()
            ))
            .bind(Timestamp(now))
            .bind(id.0)
            .fetch_optional(c)
            .await
        })
        .map_err(conflict(|| {
            format!("task {id} cannot be retried: a queued task is already doing the same work")
        }))?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!(
                "task {id} is not dead, or does not exist"
            )));
        };
        tx.announce_tasks().await?;
        tx.commit().await?;
        row.try_into()
    }
}
