//! Runs, events and outputs on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::ids::{ModelId, RunId, TaskId, VersionId};
use modelrun_core::run::{
    FollowUp, NewRun, Page, Run, RunEvent, RunFilter, RunOutput, StatusChange, Transitioned,
    VersionCounts,
};
use modelrun_core::status::{Plan, RunStatus, plan};
use modelrun_core::store::{RunStore, StoreError, StoreResult};
use modelrun_core::task::{NewTask, Queued};
use serde_json::Value;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::SqliteStore;
use super::outbox::insert_email;
use super::queue::insert_task;
use super::rows::{EventRow, OutputRow, RunRow, convert_all, select_runs};
use crate::convert::{db_error, parse, to_json, to_ms};

/// Most runs one page may hold.
const MAX_PAGE: u32 = 200;

async fn fetch_run(conn: &mut SqliteConnection, id: RunId) -> StoreResult<Option<Run>> {
    sqlx::query_as::<_, RunRow>(concat!(select_runs!(), "WHERE r.id = ?"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?
        .map(Run::try_from)
        .transpose()
}

async fn insert_event(
    conn: &mut SqliteConnection,
    run: RunId,
    at: DateTime<Utc>,
    status: Option<RunStatus>,
    message: &str,
    data: &Value,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO run_events (run_id, at, kind, status, message, data) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(run.0)
    .bind(to_ms(at))
    .bind(if status.is_some() { "status" } else { "fact" })
    .bind(status.map(RunStatus::as_str))
    .bind(message)
    .bind(to_json(data)?)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn insert_follow_ups(
    conn: &mut SqliteConnection,
    follow_ups: &[FollowUp],
    now: DateTime<Utc>,
) -> StoreResult<Vec<TaskId>> {
    let mut tasks = Vec::with_capacity(follow_ups.len());
    for follow_up in follow_ups {
        let task = match follow_up {
            FollowUp::Task(task) => insert_task(conn, task, now).await?.id,
            FollowUp::Email(email) => insert_email(conn, email, now).await?.task,
        };
        tasks.push(task);
    }
    Ok(tasks)
}

/// The words of a status event: the reason when there is one.
fn status_message(to: RunStatus, reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!("{to}: {reason}"),
        None => to.to_string(),
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn create_run(&self, run: NewRun) -> StoreResult<Queued<Run>> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let version: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT model_id, retired_at FROM model_versions WHERE id = ?")
                .bind(run.version_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        let Some((model_id, retired_at)) = version else {
            return Err(StoreError::NotFound);
        };
        if retired_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "version {} is retired and takes no new runs",
                run.version_id
            )));
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO runs (model_id, version_id, submitted_by, inputs, vcpu, memory_mib, \
             timeout_seconds, status, created_at, updated_at, submit_key, rerun_of) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?) \
             ON CONFLICT (submitted_by, submit_key) WHERE submit_key IS NOT NULL DO NOTHING \
             RETURNING id",
        )
        .bind(model_id)
        .bind(run.version_id.0)
        .bind(run.submitted_by.0)
        .bind(to_json(&run.inputs)?)
        .bind(run.resources.vcpu)
        .bind(run.resources.memory_mib)
        .bind(run.resources.timeout_seconds)
        .bind(to_ms(now))
        .bind(to_ms(now))
        .bind(run.submit_key.as_deref())
        .bind(run.rerun_of.map(|id| id.0))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(id) = id else {
            let first: i64 =
                sqlx::query_scalar("SELECT id FROM runs WHERE submitted_by = ? AND submit_key = ?")
                    .bind(run.submitted_by.0)
                    .bind(run.submit_key.as_deref())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
            return Err(StoreError::AlreadySubmitted(RunId(first)));
        };
        let id = RunId(id);
        let created = fetch_run(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let message = format!("queued: submitted by {}", created.submitter_email);
        let no_facts = serde_json::json!({});
        insert_event(
            &mut tx,
            id,
            now,
            Some(RunStatus::Queued),
            &message,
            &no_facts,
        )
        .await?;
        let task = insert_task(&mut tx, &NewTask::dispatch_run(id), now).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Queued {
            item: created,
            task: task.id,
        })
    }

    async fn run(&self, id: RunId) -> StoreResult<Option<Run>> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        fetch_run(&mut conn, id).await
    }

    async fn run_events(&self, id: RunId) -> StoreResult<Vec<RunEvent>> {
        let rows = sqlx::query_as::<_, EventRow>(
            "SELECT at, kind, status, message, data FROM run_events WHERE run_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn run_outputs(&self, id: RunId) -> StoreResult<Vec<RunOutput>> {
        let rows = sqlx::query_as::<_, OutputRow>(
            "SELECT name, size, content_type, sha256 FROM run_outputs WHERE run_id = ? ORDER BY name",
        )
        .bind(id.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(RunOutput::from).collect())
    }

    async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Page<Run>> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut query = QueryBuilder::<Sqlite>::new(concat!(select_runs!(), "WHERE 1 = 1"));
        if let Some(model) = &filter.model {
            query
                .push(" AND r.model_id = (SELECT id FROM models WHERE name = ")
                .push_bind(model.clone())
                .push(")");
        }
        if let Some(status) = filter.status {
            query.push(" AND r.status = ").push_bind(status.as_str());
        }
        if let Some(user) = filter.submitted_by {
            query.push(" AND r.submitted_by = ").push_bind(user.0);
        }
        if let Some(label) = &filter.version {
            query.push(" AND v.label = ").push_bind(label.clone());
        }
        if let Some(email) = &filter.submitter {
            query.push(" AND u.email = ").push_bind(email.clone());
        }
        if let Some(from) = filter.created_from {
            query.push(" AND r.created_at >= ").push_bind(to_ms(from));
        }
        if let Some(until) = filter.created_until {
            query.push(" AND r.created_at < ").push_bind(to_ms(until));
        }
        if let Some(cursor) = filter.before {
            let after = if filter.oldest_first {
                " AND r.id > "
            } else {
                " AND r.id < "
            };
            query.push(after).push_bind(cursor.0);
        }
        let order = if filter.oldest_first {
            " ORDER BY r.id ASC"
        } else {
            " ORDER BY r.id DESC"
        };
        query
            .push(order)
            .push(" LIMIT ")
            .push_bind(i64::from(limit) + 1);
        let rows: Vec<RunRow> = query
            .build_query_as()
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        let mut items: Vec<Run> = convert_all(rows)?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|run| run.id)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn version_counts(&self, model: ModelId) -> StoreResult<Vec<VersionCounts>> {
        let rows: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT version_id, count(*), \
             sum(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END), \
             sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), \
             sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) \
             FROM runs WHERE model_id = ? GROUP BY version_id ORDER BY version_id",
        )
        .bind(model.0)
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(
                |(version, total, succeeded, failed, cancelled)| VersionCounts {
                    version_id: VersionId(version),
                    total,
                    succeeded,
                    failed,
                    cancelled,
                },
            )
            .collect())
    }

    async fn active_runs(&self) -> StoreResult<Vec<Run>> {
        let rows = sqlx::query_as::<_, RunRow>(concat!(
            select_runs!(),
            "WHERE r.status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY r.id"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        convert_all(rows)
    }

    async fn transition(&self, change: StatusChange) -> StoreResult<Transitioned> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let current: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT status, job_id FROM runs WHERE id = ?")
                .bind(change.run_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        let (status, known_job) = current.ok_or(StoreError::NotFound)?;
        let from: RunStatus = parse("run status", &status)?;
        if plan(from, change.to)? == Plan::Ignore {
            let run = fetch_run(&mut tx, change.run_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            tx.rollback().await.map_err(db_error)?;
            return Ok(Transitioned::Ignored(run));
        }
        let now_ms = to_ms(now);
        sqlx::query(
            "UPDATE runs SET status = ?1, status_reason = ?2, job_id = coalesce(?3, job_id), \
             log_stream = coalesce(?6, log_stream), updated_at = ?4, \
             started_at = CASE WHEN ?1 = 'running' THEN coalesce(started_at, ?4) ELSE started_at END, \
             finished_at = CASE WHEN ?1 IN ('succeeded', 'failed', 'cancelled') THEN ?4 \
                           ELSE finished_at END \
             WHERE id = ?5",
        )
        .bind(change.to.as_str())
        .bind(&change.reason)
        .bind(&change.job_id)
        .bind(now_ms)
        .bind(change.run_id.0)
        .bind(&change.log_stream)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let mut data = change.data.clone();
        // The job id is a fact worth one mention: when it is first known.
        if let (Some(job_id), Value::Object(map)) = (&change.job_id, &mut data)
            && known_job.as_ref() != Some(job_id)
        {
            map.insert("job_id".to_owned(), Value::from(job_id.as_str()));
        }
        let message = status_message(change.to, change.reason.as_deref());
        insert_event(
            &mut tx,
            change.run_id,
            now,
            Some(change.to),
            &message,
            &data,
        )
        .await?;
        for output in &change.outputs {
            sqlx::query(
                "INSERT INTO run_outputs (run_id, name, size, content_type, sha256) VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (run_id, name) DO NOTHING",
            )
            .bind(change.run_id.0)
            .bind(&output.name)
            .bind(output.size)
            .bind(&output.content_type)
            .bind(&output.sha256)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let tasks = insert_follow_ups(&mut tx, &change.follow_ups, now).await?;
        let run = fetch_run(&mut tx, change.run_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Transitioned::Applied { run, tasks })
    }

    async fn add_fact(&self, run: RunId, message: &str, data: Value) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE id = ?")
            .bind(run.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        insert_event(&mut tx, run, Utc::now(), None, message, &data).await?;
        if let Some(stream) = data.get("log_stream").and_then(Value::as_str) {
            sqlx::query("UPDATE runs SET log_stream = ? WHERE id = ?")
                .bind(stream)
                .bind(run.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }
}
