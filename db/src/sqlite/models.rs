//! Models and versions on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::ids::{ModelId, VersionId};
use modelrun_core::model::{Model, ModelVersion, ModelWithVersions, NewVersion, Registered};
use modelrun_core::store::{ModelStore, StoreError, StoreResult};
use modelrun_core::task::NewTask;
use sqlx::SqliteConnection;

use super::SqliteStore;
use super::queue::insert_task;
use super::rows::{ModelRow, VersionRow, convert_all};
use crate::convert::{db_error, to_json, to_ms};

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
    conn: &mut SqliteConnection,
    model: ModelId,
    label: &str,
) -> StoreResult<Option<ModelVersion>> {
    sqlx::query_as::<_, VersionRow>(concat!(
        "SELECT ",
        version_columns!(),
        " FROM model_versions WHERE model_id = ? AND label = ?"
    ))
    .bind(model.0)
    .bind(label)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .map(ModelVersion::try_from)
    .transpose()
}

/// The model's id, creating the model or refreshing its description.
async fn upsert_model(
    conn: &mut SqliteConnection,
    version: &NewVersion,
    now: i64,
) -> StoreResult<ModelId> {
    let meta = &version.model;
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO models (name, title, description, owner, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET title = excluded.title, \
         description = excluded.description, owner = excluded.owner, updated_at = excluded.updated_at \
         RETURNING id",
    )
    .bind(&meta.name)
    .bind(&meta.title)
    .bind(&meta.description)
    .bind(&meta.owner)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map(ModelId)
    .map_err(db_error)
}

#[async_trait]
impl ModelStore for SqliteStore {
    async fn register_version(
        &self,
        version: NewVersion,
        follow_ups: Vec<NewTask>,
    ) -> StoreResult<Registered> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let existing_model: Option<i64> =
            sqlx::query_scalar("SELECT id FROM models WHERE name = ?")
                .bind(&version.model.name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        if let Some(model_id) = existing_model
            && let Some(existing) =
                version_by_label(&mut tx, ModelId(model_id), &version.label).await?
        {
            tx.rollback().await.map_err(db_error)?;
            return if existing.digest == version.digest {
                Ok(Registered::Unchanged(existing))
            } else {
                Err(StoreError::Conflict(format!(
                    "version {} of model {} is already registered with different content; \
                     versions cannot change, so register the new content under a new label",
                    version.label, version.model.name
                )))
            };
        }
        let model_id = upsert_model(&mut tx, &version, to_ms(now)).await?;
        let row = sqlx::query_as::<_, VersionRow>(concat!(
            "INSERT INTO model_versions (model_id, label, digest, runtime, input_schema, vcpu, \
             memory_mib, timeout_seconds, source_commit, registered_via, registered_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            version_columns!()
        ))
        .bind(model_id.0)
        .bind(&version.label)
        .bind(&version.digest)
        .bind(to_json(&version.runtime)?)
        .bind(to_json(version.inputs.as_json())?)
        .bind(version.resources.vcpu)
        .bind(version.resources.memory_mib)
        .bind(version.resources.timeout_seconds)
        .bind(&version.source_commit)
        .bind(&version.registered_via)
        .bind(to_ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        for task in &follow_ups {
            insert_task(&mut tx, task, now).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Registered::Created(row.try_into()?))
    }

    async fn models(&self) -> StoreResult<Vec<ModelWithVersions>> {
        let models = sqlx::query_as::<_, ModelRow>(concat!(
            "SELECT ",
            model_columns!(),
            " FROM models ORDER BY name"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let versions = sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions ORDER BY id DESC"
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        let mut by_model: HashMap<i64, Vec<ModelVersion>> = HashMap::new();
        for row in versions {
            let model_id = row.model_id;
            by_model.entry(model_id).or_default().push(row.try_into()?);
        }
        models
            .into_iter()
            .map(|row| {
                let model = Model::try_from(row)?;
                let versions = by_model.remove(&model.id.0).unwrap_or_default();
                Ok(ModelWithVersions { model, versions })
            })
            .collect()
    }

    async fn model(&self, name: &str) -> StoreResult<Option<ModelWithVersions>> {
        let Some(row) = sqlx::query_as::<_, ModelRow>(concat!(
            "SELECT ",
            model_columns!(),
            " FROM models WHERE name = ?"
        ))
        .bind(name)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        else {
            return Ok(None);
        };
        let model = Model::try_from(row)?;
        let versions = sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions WHERE model_id = ? ORDER BY id DESC"
        ))
        .bind(model.id.0)
        .fetch_all(&self.reader)
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
            " FROM model_versions WHERE id = ?"
        ))
        .bind(id.0)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error)?
        .map(ModelVersion::try_from)
        .transpose()
    }

    async fn set_job_definition(&self, id: VersionId, arn: &str) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE model_versions SET job_definition_arn = ?1 WHERE id = ?2 \
             AND (job_definition_arn IS NULL OR job_definition_arn = ?1)",
        )
        .bind(arn)
        .bind(id.0)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let existing: Option<Option<String>> =
            sqlx::query_scalar("SELECT job_definition_arn FROM model_versions WHERE id = ?")
                .bind(id.0)
                .fetch_optional(&self.reader)
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
            "UPDATE model_versions SET retired_at = coalesce(retired_at, ?) WHERE id = ?",
        )
        .bind(to_ms(now))
        .bind(id.0)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
