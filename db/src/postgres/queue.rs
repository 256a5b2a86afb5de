//! The task queue on Postgres: claims take the next due task with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers, in any number of
//! processes, skip each other's rows instead of waiting or colliding.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::TaskId;
use modelrun_core::store::{StoreError, StoreResult, TaskQueue};
use modelrun_core::task::{Claimed, Failure, NewTask, Task, TaskState};
use sqlx::PgConnection;

use super::rows::{TaskRow, convert_all};
use super::{PgStore, TASKS_CHANNEL};
use crate::convert::{db_error, is_unique_violation};

/// The columns of a [`TaskRow`].
macro_rules! task_columns {
    () => {
        "id, kind, payload, state, attempts, max_attempts, run_after, locked_until, last_error, \
         dedupe_key, created_at, updated_at"
    };
}

/// Inserts a task inside the caller's transaction, and announces it to
/// listening workers when the transaction commits. With a dedupe key that a
/// queued task already holds, returns that task instead.
pub(super) async fn insert_task(
    conn: &mut PgConnection,
    task: &NewTask,
    now: DateTime<Utc>,
    notify: bool,
) -> StoreResult<Task> {
    let inserted = sqlx::query_as::<_, TaskRow>(concat!(
        "INSERT INTO tasks (kind, payload, state, attempts, max_attempts, run_after, dedupe_key, \
         created_at, updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $6, $6) \
         ON CONFLICT (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL DO NOTHING \
         RETURNING ",
        task_columns!()
    ))
    .bind(task.kind.as_str())
    .bind(&task.payload)
    .bind(task.max_attempts)
    .bind(task.run_after.unwrap_or(now))
    .bind(&task.dedupe_key)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(row) = inserted else {
        return sqlx::query_as::<_, TaskRow>(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE dedupe_key = $1 AND state = 'queued'"
        ))
        .bind(&task.dedupe_key)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?
        .try_into();
    };
    if notify {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(TASKS_CHANNEL)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    row.try_into()
}

impl PgStore {
    /// Runs an update on a leased task; no row touched means the lease is gone.
    async fn with_lease(
        &self,
        claimed: &Claimed,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> StoreResult<()> {
        let done = query.execute(&self.pool).await.map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost(claimed.task.id));
        }
        Ok(())
    }
}

#[async_trait]
impl TaskQueue for PgStore {
    async fn enqueue(&self, task: NewTask) -> StoreResult<Task> {
        let mut tx = self.write().await?;
        let task = insert_task(&mut tx, &task, Utc::now(), self.notify).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(task)
    }

    async fn claim(&self, now: DateTime<Utc>, lease: Duration) -> StoreResult<Option<Claimed>> {
        let token = random_hex(16);
        let row = sqlx::query_as::<_, TaskRow>(concat!(
            "UPDATE tasks SET attempts = attempts + 1, locked_until = $1, lease = $2, updated_at = $3 \
             WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND run_after <= $3 \
             AND (locked_until IS NULL OR locked_until <= $3) ORDER BY run_after, id LIMIT 1 \
             FOR UPDATE SKIP LOCKED) RETURNING ",
            task_columns!()
        ))
        .bind(now + lease)
        .bind(&token)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(|row| {
            Ok(Claimed {
                task: row.try_into()?,
                lease: token,
            })
        })
        .transpose()
    }

    async fn complete(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()> {
        self.with_lease(
            claimed,
            sqlx::query(
                "UPDATE tasks SET state = 'done', locked_until = NULL, lease = NULL, updated_at = $1 \
                 WHERE id = $2 AND lease = $3 AND state = 'queued'",
            )
            .bind(now)
            .bind(claimed.task.id.0)
            .bind(&claimed.lease),
        )
        .await
    }

    async fn fail(
        &self,
        claimed: &Claimed,
        error: &str,
        failure: Failure,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (state, run_after) = match failure {
            Failure::RetryAt(at) => ("queued", at),
            Failure::Dead => ("dead", now),
        };
        self.with_lease(
            claimed,
            sqlx::query(
                "UPDATE tasks SET state = $1, run_after = $2, last_error = $3, locked_until = NULL, \
                 lease = NULL, updated_at = $4 WHERE id = $5 AND lease = $6 AND state = 'queued'",
            )
            .bind(state)
            .bind(run_after)
            .bind(error)
            .bind(now)
            .bind(claimed.task.id.0)
            .bind(&claimed.lease),
        )
        .await
    }

    async fn release(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()> {
        self.with_lease(
            claimed,
            sqlx::query(
                "UPDATE tasks SET attempts = greatest(attempts - 1, 0), run_after = $1, \
                 locked_until = NULL, lease = NULL, updated_at = $1 \
                 WHERE id = $2 AND lease = $3 AND state = 'queued'",
            )
            .bind(now)
            .bind(claimed.task.id.0)
            .bind(&claimed.lease),
        )
        .await
    }

    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        sqlx::query_as::<_, TaskRow>(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(Task::try_from)
        .transpose()
    }

    async fn list_tasks(&self, state: Option<TaskState>, limit: u32) -> StoreResult<Vec<Task>> {
        let rows = sqlx::query_as::<_, TaskRow>(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE ($1::text IS NULL OR state = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(state.map(TaskState::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn retry_task(&self, id: TaskId, now: DateTime<Utc>) -> StoreResult<Task> {
        let mut tx = self.write().await?;
        let row = sqlx::query_as::<_, TaskRow>(concat!(
            "UPDATE tasks SET state = 'queued', attempts = 0, run_after = $1, locked_until = NULL, \
             lease = NULL, updated_at = $1 WHERE id = $2 AND state = 'dead' RETURNING ",
            task_columns!()
        ))
        .bind(now)
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|error| {
            if is_unique_violation(&error) {
                StoreError::Conflict(format!(
                    "task {id} cannot be retried: a queued task is already doing the same work"
                ))
            } else {
                db_error(error)
            }
        })?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!(
                "task {id} is not dead, or does not exist"
            )));
        };
        if self.notify {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(TASKS_CHANNEL)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }
}
