//! Models and versions.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::alias::{Alias, Promotion};
use modelrun_core::ids::VersionId;
use modelrun_core::model::{Model, ModelVersion, ModelWithVersions, NewVersion, Registered};
use modelrun_core::store::{ModelStore, StoreError, StoreResult};
use modelrun_core::task::NewTask;
use sqlx::types::Json;

use super::aliases;
use super::environments::{record_environment, request};
use super::queue::insert_task;
use crate::SqlStore;
use crate::backend::{AsConn, on_conn};
use crate::convert::to_json;
use crate::rows::{ModelRow, VersionRow, convert_all};
use crate::types::{JsonText, Timestamp};

macro_rules! version_columns {
    () => {
        "id, model_id, label, digest, runtime, input_schema, vcpu, memory_mib, timeout_seconds, \
         max_vcpu, max_memory_mib, max_timeout_seconds, source_commit, registered_via, registered_at, job_definition_arn, retired_at, \
         environment, secrets, network, outputs, \
         (SELECT name FROM models WHERE models.id = model_versions.model_id) AS model_name, \
         coalesce((SELECT production_version_id FROM models \
         WHERE models.id = model_versions.model_id) = model_versions.id, false) AS is_production"
    };
}

macro_rules! model_columns {
    () => {
        "id, name, title, description, owner, created_at"
    };
}

async fn version_by_label(
    conn: &mut impl AsConn,
    model: &str,
    label: &str,
) -> StoreResult<Option<ModelVersion>> {
    on_conn!(conn, |c| {
        sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions \
             WHERE label = $2 AND model_id = (SELECT id FROM models WHERE name = $1)"
        ))
        .bind(model)
        .bind(label)
        .fetch_optional(c)
        .await
    })?
    .map(ModelVersion::try_from)
    .transpose()
}

/// The newest version of the model that already is what `version` carries
/// under another label ([`NewVersion::repeats`]), if any.
async fn repeated_version(
    conn: &mut impl AsConn,
    version: &NewVersion,
) -> StoreResult<Option<ModelVersion>> {
    let rows = on_conn!(conn, |c| {
        sqlx::query_as::<_, VersionRow>(concat!(
            "SELECT ",
            version_columns!(),
            " FROM model_versions \
             WHERE digest = $2 AND model_id = (SELECT id FROM models WHERE name = $1) \
             ORDER BY id DESC"
        ))
        .bind(&version.model.name)
        .bind(&version.digest)
        .fetch_all(c)
        .await
    })?;
    for row in rows {
        let existing = ModelVersion::try_from(row)?;
        if version.repeats(&existing) {
            return Ok(Some(existing));
        }
    }
    Ok(None)
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

impl<B> SqlStore<B> {
    /// One attempt; `None` when another registration inserted this label
    /// between our look and our insert.
    async fn try_register(
        &self,
        version: &NewVersion,
        follow_ups: &[NewTask],
    ) -> StoreResult<Option<Registered>> {
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        if let Some(existing) =
            version_by_label(&mut tx, &version.model.name, &version.label).await?
        {
            return existing_outcome(existing, version).map(Some);
        }
        if let Some(same) = repeated_version(&mut tx, version).await? {
            return Ok(Some(Registered::Unchanged(same)));
        }
        let meta = &version.model;
        // The owner decides who promotes, so a candidate's manifest must not
        // name it: only a version that becomes production on registering
        // (the first, or one registered while none is production) does.
        let model_id: i64 = on_conn!(&mut tx, |c| {
            sqlx::query_scalar(
                "INSERT INTO models (name, title, description, owner, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (name) DO UPDATE SET title = excluded.title, \
                 description = excluded.description, \
                 owner = CASE WHEN models.production_version_id IS NULL \
                 THEN excluded.owner ELSE models.owner END, \
                 updated_at = excluded.updated_at \
                 RETURNING id",
            )
            .bind(&meta.name)
            .bind(&meta.title)
            .bind(&meta.description)
            .bind(&meta.owner)
            .bind(Timestamp(now))
            .fetch_one(c)
            .await
        })?;
        let environment = match &version.environment {
            Some(spec) => Some(record_environment(&mut tx, spec, now).await?),
            None => None,
        };
        let schema = JsonText(to_json(version.inputs.as_json())?);
        let inserted = on_conn!(&mut tx, |c| {
            sqlx::query_as::<_, VersionRow>(concat!(
                "INSERT INTO model_versions (model_id, label, digest, runtime, input_schema, vcpu, \
                 memory_mib, timeout_seconds, max_vcpu, max_memory_mib, max_timeout_seconds, \
                 source_commit, registered_via, registered_at, environment, secrets, network, \
                 outputs) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                 $17, $18) RETURNING ",
                version_columns!()
            ))
            .bind(model_id)
            .bind(&version.label)
            .bind(&version.digest)
            .bind(Json(&version.runtime))
            .bind(&schema)
            .bind(version.resources.vcpu)
            .bind(version.resources.memory_mib)
            .bind(version.resources.timeout_seconds)
            .bind(version.max_resources.vcpu)
            .bind(version.max_resources.memory_mib)
            .bind(version.max_resources.timeout_seconds)
            .bind(&version.source_commit)
            .bind(&version.registered_via)
            .bind(Timestamp(now))
            .bind(&environment)
            .bind(Json(&version.secrets))
            .bind(version.network)
            .bind(Json(&version.outputs))
            .fetch_one(c)
            .await
        });
        let row = match inserted {
            Ok(row) => row,
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        let promoted = aliases::adopt_if_none(&mut tx, model_id, row.id()).await?;
        for task in follow_ups {
            insert_task(&mut tx, task, now).await?;
        }
        if let Some(digest) = environment.as_deref()
            && version.prepare_environment
        {
            request(&mut tx, digest, now).await?;
        }
        tx.commit().await?;
        let mut created = ModelVersion::try_from(row)?;
        if promoted {
            created.alias = Alias::Production;
        }
        Ok(Some(Registered::Created(created)))
    }
}

#[async_trait]
impl<B> ModelStore for SqlStore<B> {
    async fn register_version(
        &self,
        version: NewVersion,
        follow_ups: Vec<NewTask>,
    ) -> StoreResult<Registered> {
        match self.try_register(&version, &follow_ups).await? {
            Some(registered) => Ok(registered),
            None => {
                let mut conn = self.db.reader().await?;
                let existing = version_by_label(&mut conn, &version.model.name, &version.label)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                existing_outcome(existing, &version)
            }
        }
    }

    async fn model_names(&self) -> StoreResult<Vec<String>> {
        let names: Vec<(String,)> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as("SELECT name FROM models ORDER BY name")
                .fetch_all(c)
                .await
        })?;
        Ok(names.into_iter().map(|(name,)| name).collect())
    }

    async fn models(&self) -> StoreResult<Vec<ModelWithVersions>> {
        let mut conn = self.db.reader().await?;
        let models = on_conn!(&mut conn, |c| {
            sqlx::query_as::<_, ModelRow>(concat!(
                "SELECT ",
                model_columns!(),
                " FROM models ORDER BY name"
            ))
            .fetch_all(c)
            .await
        })?;
        let versions = on_conn!(&mut conn, |c| {
            sqlx::query_as::<_, VersionRow>(concat!(
                "SELECT ",
                version_columns!(),
                " FROM model_versions ORDER BY id DESC"
            ))
            .fetch_all(c)
            .await
        })?;
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
        // Every submit of a burst asks at once (`crate::flight`).
        self.reads
            .models
            .read(name.to_owned(), || self.read_model(name))
            .await
    }

    async fn version(&self, id: VersionId) -> StoreResult<Option<ModelVersion>> {
        self.reads
            .versions
            .read(id.0.to_string(), || self.read_version(id))
            .await
    }

    async fn set_job_definition(&self, id: VersionId, arn: &str) -> StoreResult<()> {
        let set = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "UPDATE model_versions SET job_definition_arn = $1 WHERE id = $2 \
                 AND (job_definition_arn IS NULL OR job_definition_arn = $1)",
            )
            .bind(arn)
            .bind(id.0)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        if set == 1 {
            return Ok(());
        }
        let existing: Option<Option<String>> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_scalar("SELECT job_definition_arn FROM model_versions WHERE id = $1")
                .bind(id.0)
                .fetch_optional(c)
                .await
        })?;
        match existing {
            None => Err(StoreError::NotFound),
            Some(other) => Err(StoreError::Conflict(format!(
                "version {id} already has the job definition {}",
                other.unwrap_or_default()
            ))),
        }
    }

    async fn retire_version(&self, id: VersionId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        aliases::retire(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn promote_version(&self, id: VersionId) -> StoreResult<Promotion> {
        let mut tx = self.db.begin().await?;
        let promotion = aliases::promote(&mut tx, id).await?;
        tx.commit().await?;
        Ok(promotion)
    }
}

/// The reads behind [`ModelStore::model`] and [`ModelStore::version`].
impl<B> SqlStore<B> {
    async fn read_model(&self, name: &str) -> StoreResult<Option<ModelWithVersions>> {
        let mut conn = self.db.reader().await?;
        let Some(row) = on_conn!(&mut conn, |c| {
            sqlx::query_as::<_, ModelRow>(concat!(
                "SELECT ",
                model_columns!(),
                " FROM models WHERE name = $1"
            ))
            .bind(name)
            .fetch_optional(c)
            .await
        })?
        else {
            return Ok(None);
        };
        let model = Model::from(row);
        let versions = on_conn!(&mut conn, |c| {
            sqlx::query_as::<_, VersionRow>(concat!(
                "SELECT ",
                version_columns!(),
                " FROM model_versions WHERE model_id = $1 ORDER BY id DESC"
            ))
            .bind(model.id.0)
            .fetch_all(c)
            .await
        })?;
        Ok(Some(ModelWithVersions {
            model,
            versions: convert_all(versions)?,
        }))
    }

    async fn read_version(&self, id: VersionId) -> StoreResult<Option<ModelVersion>> {
        on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, VersionRow>(concat!(
                "SELECT ",
                version_columns!(),
                " FROM model_versions WHERE id = $1"
            ))
            .bind(id.0)
            .fetch_optional(c)
            .await
        })?
        .map(ModelVersion::try_from)
        .transpose()
    }
}
