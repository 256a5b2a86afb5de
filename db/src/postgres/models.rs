//! Models and versions on Postgres.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::ids::VersionId;
use modelrun_core::model::{Model, ModelVersion, ModelWithVersions, NewVersion, Registered};
use modelrun_core::store::{ModelStore, StoreError, StoreResult};
use modelrun_core::task::NewTask;
use sqlx::PgConnection;
use sqlx::types::Json;

use super::PgStore;
use super::queue::insert_task;
use super::rows::{ModelRow, VersionRow, convert_all};
use crate::convert::{db_error, is_unique_violation};

macro_rules! version_columns {
    () => {
        "id, model_id, label, digest, runtime, input_schema, vcpu, memory_mib, timeout_seconds, \
         source_commit, registered_via, registered_at, job_definition_arn, retired_at"
    };
}

macro_rules! model_columns {
    () => {
        "id, name, title, description, owner, created_at"
    };
}

async fn version_by_label(
    conn: &mut PgConnection,
    model: &str,
    label: &str,
) -> StoreResult<Option<ModelVersion>> {
    sqlx::query_as::<_, VersionRow>(concat!(
        "SELECT ",
        version_columns!(),
        " FROM model_versions WHERE label = $2 AND model_id = (SELECT id FROM models WHERE name = $1)"
    ))
    .bind(model)
    .bind(label)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .map(ModelVersion::try_from)
    .transpose()
}

/// Same digest: nothing to do; another digest: versions are immutable.
fn existing_outcome(existing: ModelVersion, version: &NewVersion) -> StoreResult<Registered> {
    if existing.digest == version.digest {
        Ok(Registered::Unchanged(existing))
    } else {
        Err(StoreError::Conflict(format!(
            "version {} of model {} is already registered with different content; \
             versions cannot change, so register the new content under a new label",
            version.label, version.model.name
        )))
    }
}

impl PgStore {
    /// One attempt; `None` when another registration inserted this label
    /// between our look and our insert.
    async fn try_register(
        &self,
        version: &NewVersion,
        follow_ups: &[NewTask],
    ) -> StoreResult<Option<Registered>> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        if let Some(existing) =
            version_by_label(&mut tx, &version.model.name, &version.label).await?
        {
            return existing_outcome(existing, version).map(Some);
        }
        let meta = &version.model;
        let model_id: i64 = sqlx::query_scalar(
            "INSERT INTO models (name, title, description, owner, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (name) DO UPDATE SET title = excluded.title, \
             description = excluded.description, owner = excluded.owner, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(&meta.name)
        .bind(&meta.title)
        .bind(&meta.description)
        .bind(&meta.owner)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let inserted = sqlx::query_as::<_, VersionRow>(concat!(
            "INSERT INTO model_versions (model_id, label, digest, runtime, input_schema, vcpu, \
             memory_mib, timeout_seconds, source_commit, registered_via, registered_at) \
             VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8, $9, $10, $11) RETURNING ",
            version_columns!()
        ))
        .bind(model_id)
        .bind(&version.label)
        .bind(&version.digest)
        .bind(Json(&version.runtime))
        // As text: a jsonb parameter would lose the order of the properties.
        .bind(
            serde_json::to_string(version.inputs.as_json())
                .map_err(|error| StoreError::Backend(Box::new(error)))?,
        )
        .bind(version.resources.vcpu)
        .bind(version.resources.memory_mib)
        .bind(version.resources.timeout_seconds)
        .bind(&version.source_commit)
        .bind(&version.registered_via)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let row = match inserted {
            Ok(row) => row,
            Err(error) if is_unique_violation(&error) => return Ok(None),
            Err(error) => return Err(db_error(error)),
        };
        for task in follow_ups {
            insert_task(&mut tx, task, now, self.notify).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Some(Registered::Created(row.try_into()?)))
    }
}

#[async_trait]
impl ModelStore for PgStore {
    async fn register_version(
        &self,
        version: NewVersion,
        follow_ups: Vec<NewTask>,
    ) -> StoreResult<Registered> {
        match self.try_register(&version, &follow_ups).await? {
            Some(registered) => Ok(registered),
            None => {
                let mut conn = self.pool.acquire().await.map_err(db_error)?;
                let existing = version_by_label(&mut conn, &version.model.name, &version.label)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                existing_outcome(existing, &version)
            }
        }
    }

    async fn models(&self) -> StoreResult<Vec<ModelWithVersions>> {
        let models = sqlx::query_as::<_, ModelRow>(concat!(
            "SELECT ",
            model_columns!(),
            " FROM models ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let versions = sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions ORDER BY id DESC"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut by_model: HashMap<i64, Vec<ModelVersion>> = HashMap::new();
        for row in versions {
            let model_id = row.model_id;
            by_model.entry(model_id).or_default().push(row.try_into()?);
        }
        Ok(models
            .into_iter()
            .map(|row| {
                let model = Model::from(row);
                let versions = by_model.remove(&model.id.0).unwrap_or_default();
                ModelWithVersions { model, versions }
            })
            .collect())
    }

    async fn model(&self, name: &str) -> StoreResult<Option<ModelWithVersions>> {
        let Some(row) = sqlx::query_as::<_, ModelRow>(concat!(
            "SELECT ",
            model_columns!(),
            " FROM models WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        else {
            return Ok(None);
        };
        let model = Model::from(row);
        let versions = sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions WHERE model_id = $1 ORDER BY id DESC"
        ))
        .bind(model.id.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(Some(ModelWithVersions {
            model,
            versions: convert_all(versions)?,
        }))
    }

    async fn version(&self, id: VersionId) -> StoreResult<Option<ModelVersion>> {
        sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(ModelVersion::try_from)
        .transpose()
    }

    async fn set_job_definition(&self, id: VersionId, arn: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE model_versions SET job_definition_arn = $1 WHERE id = $2 \
             AND (job_definition_arn IS NULL OR job_definition_arn = $1)",
        )
        .bind(arn)
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let existing: Option<Option<String>> =
            sqlx::query_scalar("SELECT job_definition_arn FROM model_versions WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        match existing {
            None => Err(StoreError::NotFound),
            Some(other) => Err(StoreError::Conflict(format!(
                "version {id} already has the job definition {}",
                other.unwrap_or_default()
            ))),
        }
    }

    async fn retire_version(&self, id: VersionId, now: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE model_versions SET retired_at = coalesce(retired_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
