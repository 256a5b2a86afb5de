//! The task queue on SQLite. Claims are single `UPDATE … RETURNING`
//! statements on the one writer connection, so two workers in this process
//! can never take the same task, and `BEGIN IMMEDIATE` keeps it so across
//! processes.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::TaskId;
use modelrun_core::store::{StoreError, StoreResult, TaskQueue};
use modelrun_core::task::{Claimed, Failure, NewTask, Task, TaskState};
use sqlx::SqliteConnection;

use super::SqliteStore;
use super::rows::{TaskRow, convert_all};
use crate::convert::{db_error, is_unique_violation, to_json, to_ms};

/// The columns of a [`TaskRow`].
macro_rules! task_columns {
    () => {
        "id, kind, payload, state, attempts, max_attempts, run_after, locked_until, last_error, \
         dedupe_key, created_at, updated_at"
    };
}

/// Inserts a task inside the caller's transaction. With a dedupe key that a
/// queued task already holds, returns that task instead.
pub(super) async fn insert_task(
    conn: &mut SqliteConnection,
    task: &NewTask,
    now: DateTime<Utc>,
) -> StoreResult<Task> {
    let inserted = sqlx::query_as::<_, TaskRow>(concat!(
        "INSERT INTO tasks (kind, payload, state, attempts, max_attempts, run_after, dedupe_key, \
         created_at, updated_at) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?, ?) \
         ON CONFLICT (dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL DO NOTHING",
        " RETURNING ",
        task_columns!()
    ))
    .bind(task.kind.as_str())
    .bind(to_json(&task.payload)?)
    .bind(task.max_attempts)
    .bind(to_ms(task.run_after.unwrap_or(now)))
    .bind(&task.dedupe_key)
    .bind(to_ms(now))
    .bind(to_ms(now))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    if let Some(row) = inserted {
        return row.try_into();
    }
    sqlx::query_as::<_, TaskRow>(concat!(
        "SELECT ",
        task_columns!(),
        " FROM tasks WHERE dedupe_key = ? AND state = 'queued'"
    ))
    .bind(&task.dedupe_key)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?
    .try_into()
}

impl SqliteStore {
    /// Runs an update on a leased task; no row touched means the lease is gone.
    async fn with_lease(
        &self,
        claimed: &Claimed,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> StoreResult<()> {
        let done = query.execute(&self.writer).await.map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost(claimed.task.id));
        }
        Ok(())
    }
}

#[async_trait]
impl TaskQueue for SqliteStore {
    async fn enqueue(&self, task: NewTask) -> StoreResult<Task> {
        let mut tx = self.write().await?;
        let task = insert_task(&mut tx, &task, Utc::now()).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(task)
    }

    async fn claim(&self, now: DateTime<Utc>, lease: Duration) -> StoreResult<Option<Claimed>> {
        let token = random_hex(16);
        let now_ms = to_ms(now);
        let row = sqlx::query_as::<_, TaskRow>(concat!(
            "UPDATE tasks SET attempts = attempts + 1, locked_until = ?, lease = ?, updated_at = ? \
             WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND run_after <= ? \
             AND (locked_until IS NULL OR locked_until <= ?) ORDER BY run_after, id LIMIT 1)",
            " RETURNING ",
            task_columns!()
        ))
        .bind(to_ms(now + lease))
        .bind(&token)
        .bind(now_ms)
        .bind(now_ms)
        .bind(now_ms)
        .fetch_optional(&self.writer)
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
                "UPDATE tasks SET state = 'done', locked_until = NULL, lease = NULL, updated_at = ? \
                 WHERE id = ? AND lease = ? AND state = 'queued'",
            )
            .bind(to_ms(now))
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
            Failure::RetryAt(at) => ("queued", to_ms(at)),
            Failure::Dead => ("dead", to_ms(now)),
        };
        self.with_lease(
            claimed,
            sqlx::query(
                "UPDATE tasks SET state = ?, run_after = ?, last_error = ?, locked_until = NULL, \
                 lease = NULL, updated_at = ? WHERE id = ? AND lease = ? AND state = 'queued'",
            )
            .bind(state)
            .bind(run_after)
            .bind(error)
            .bind(to_ms(now))
            .bind(claimed.task.id.0)
            .bind(&claimed.lease),
        )
        .await
    }

    async fn release(&self, claimed: &Claimed, now: DateTime<Utc>) -> StoreResult<()> {
        self.with_lease(
            claimed,
            sqlx::query(
                "UPDATE tasks SET attempts = max(attempts - 1, 0), run_after = ?, locked_until = NULL, \
                 lease = NULL, updated_at = ? WHERE id = ? AND lease = ? AND state = 'queued'",
            )
            .bind(to_ms(now))
            .bind(to_ms(now))
            .bind(claimed.task.id.0)
            .bind(&claimed.lease),
        )
        .await
    }

    async fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        sqlx::query_as::<_, TaskRow>(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE id = ?"
        ))
        .bind(id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        .map(Task::try_from)
        .transpose()
    }

    async fn list_tasks(&self, state: Option<TaskState>, limit: u32) -> StoreResult<Vec<Task>> {
        let rows = sqlx::query_as::<_, TaskRow>(concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2"
        ))
        .bind(state.map(TaskState::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn retry_task(&self, id: TaskId, now: DateTime<Utc>) -> StoreResult<Task> {
        let row = sqlx::query_as::<_, TaskRow>(concat!(
            "UPDATE tasks SET state = 'queued', attempts = 0, run_after = ?, locked_until = NULL, \
             lease = NULL, updated_at = ? WHERE id = ? AND state = 'dead'",
            " RETURNING ",
            task_columns!()
        ))
        .bind(to_ms(now))
        .bind(to_ms(now))
        .bind(id.0)
        .fetch_optional(&self.writer)
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
        match row {
            Some(row) => row.try_into(),
            None => Err(StoreError::Conflict(format!(
                "task {id} is not dead, or does not exist"
            ))),
        }
    }
}
