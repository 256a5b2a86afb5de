//! Model environments: one row per digest, shared by the versions that
//! name it. Whether an environment is `preparing` and whether its
//! `prepare_environment` task is queued change together, in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::environment::{Environment, EnvironmentSpec, EnvironmentStatus};
use modelrun_core::ids::TaskId;
use modelrun_core::store::{EnvironmentStore, StoreResult};
use modelrun_core::task::{Job, PrepareEnvironment};
use sqlx::types::Json;

use super::queue::insert_task;
use crate::SqlStore;
use crate::backend::{Tx, on_conn};
use crate::convert::touched;
use crate::rows::EnvironmentRow;
use crate::types::Timestamp;

/// Records an environment (`pending`) unless one with its digest exists;
/// returns the digest.
pub(crate) async fn record_environment(
    tx: &mut Tx,
    spec: &EnvironmentSpec,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let digest = spec.digest();
    on_conn!(tx, |c| {
        sqlx::query(
            "INSERT INTO environments (digest, spec, status, log, created_at, updated_at) \
             VALUES ($1, $2, $3, '', $4, $4) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&digest)
        .bind(Json(spec))
        .bind(EnvironmentStatus::Pending.as_str())
        .bind(Timestamp(now))
        .execute(c)
        .await
        .map(|_| ())
    })?;
    Ok(digest)
}

/// Moves a `pending` or `failed` environment to `preparing` and enqueues
/// its build; `None` when it is building or built already.
pub(crate) async fn request(
    tx: &mut Tx,
    digest: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TaskId>> {
    let moved = on_conn!(tx, |c| {
        sqlx::query(
            "UPDATE environments SET status = $1, updated_at = $2 \
             WHERE digest = $3 AND status IN ($4, $5)",
        )
        .bind(EnvironmentStatus::Preparing.as_str())
        .bind(Timestamp(now))
        .bind(digest)
        .bind(EnvironmentStatus::Pending.as_str())
        .bind(EnvironmentStatus::Failed.as_str())
        .execute(c)
        .await
        .map(|done| done.rows_affected())
    })?;
    if moved == 0 {
        return Ok(None);
    }
    let job = PrepareEnvironment {
        digest: digest.to_owned(),
    };
    Ok(Some(insert_task(tx, &job.task(), now).await?.id))
}

#[async_trait]
impl<B> EnvironmentStore for SqlStore<B> {
    async fn environment(&self, digest: &str) -> StoreResult<Option<Environment>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, EnvironmentRow>(
                "SELECT digest, spec, status, log, created_at, updated_at \
                 FROM environments WHERE digest = $1",
            )
            .bind(digest)
            .fetch_optional(c)
            .await
        })?
        .map(Environment::try_from)
        .transpose()
    }

    async fn request_environment(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TaskId>> {
        let mut tx = self.db.begin().await?;
        let task = request(&mut tx, digest, now).await?;
        tx.commit().await?;
        Ok(task)
    }

    async fn finish_environment(
        &self,
        digest: &str,
        status: EnvironmentStatus,
        log: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let updated = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE environments SET status = $1, log = $2, updated_at = $3 WHERE digest = $4",
            )
            .bind(status.as_str())
            .bind(log)
            .bind(Timestamp(now))
            .bind(digest)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        touched(updated)
    }
}
