//! Which version of a model is production. It is one column of the model
//! (`models.production_version_id`), so a model never has two: promoting
//! is one `UPDATE` in a transaction that first locks the version (so it
//! cannot be retired meanwhile) and then the model (so promotions of one
//! model apply one after the other). Retiring locks in the same order.

use chrono::{DateTime, Utc};
use modelrun_core::alias::Promotion;
use modelrun_core::ids::VersionId;
use modelrun_core::store::{StoreError, StoreResult};

use crate::backend::{Tx, on_conn};
use crate::convert::touched;
use crate::dialect::{Dialect, Sql, sql};
use crate::types::Timestamp;

/// The version promoted: it must not be retired until the promotion is written.
const PROMOTED_VERSION: Sql = sql!(
    "SELECT model_id, label, retired_at FROM model_versions WHERE id = $1",
    for_share
);

/// The version retired, locked before its model like a promotion's.
const RETIRED_VERSION: Sql = sql!(
    "SELECT model_id, label, retired_at FROM model_versions WHERE id = $1",
    for_update
);

/// A model's production version, locked until the transaction ends.
const PRODUCTION: Sql = sql!(
    "SELECT production_version_id FROM models WHERE id = $1",
    for_update
);

type VersionState = (i64, String, Option<Timestamp>);

async fn production(tx: &mut Tx, model: i64) -> StoreResult<Option<i64>> {
    on_conn!(tx, |c| {
        sqlx::query_scalar(c.sql(&PRODUCTION))
            .bind(model)
            .fetch_one(c)
            .await
    })
}

async fn set_production(tx: &mut Tx, model: i64, version: Option<i64>) -> StoreResult<()> {
    let set = on_conn!(tx, |c| {
        sqlx::query("UPDATE models SET production_version_id = $1 WHERE id = $2")
            .bind(version)
            .bind(model)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
    })?;
    touched(set)
}

/// Makes a just-registered version production when its model has none
/// (its first version, or the first after the last one was retired).
/// `true` when it did.
pub(super) async fn adopt_if_none(tx: &mut Tx, model: i64, version: i64) -> StoreResult<bool> {
    let set = on_conn!(tx, |c| {
        sqlx::query(
            "UPDATE models SET production_version_id = $1 \
             WHERE id = $2 AND production_version_id IS NULL",
        )
        .bind(version)
        .bind(model)
        .execute(c)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(set == 1)
}

/// See [`modelrun_core::store::ModelStore::promote_version`].
pub(super) async fn promote(tx: &mut Tx, id: VersionId) -> StoreResult<Promotion> {
    let version: Option<VersionState> = on_conn!(tx, |c| {
        sqlx::query_as(c.sql(&PROMOTED_VERSION))
            .bind(id.0)
            .fetch_optional(c)
            .await
    })?;
    let Some((model, label, retired_at)) = version else {
        return Err(StoreError::NotFound);
    };
    if retired_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "version {label} is retired and cannot become production: \
             promote an active version"
        )));
    }
    let previous = production(tx, model).await?;
    if previous != Some(id.0) {
        set_production(tx, model, Some(id.0)).await?;
    }
    Ok(Promotion {
        previous: previous.map(VersionId),
    })
}

/// See [`modelrun_core::store::ModelStore::retire_version`].
pub(super) async fn retire(tx: &mut Tx, id: VersionId, now: DateTime<Utc>) -> StoreResult<()> {
    let version: Option<VersionState> = on_conn!(tx, |c| {
        sqlx::query_as(c.sql(&RETIRED_VERSION))
            .bind(id.0)
            .fetch_optional(c)
            .await
    })?;
    let Some((model, label, retired_at)) = version else {
        return Err(StoreError::NotFound);
    };
    if retired_at.is_some() {
        return Ok(());
    }
    if production(tx, model).await? == Some(id.0) {
        let others: i64 = on_conn!(tx, |c| {
            sqlx::query_scalar(
                "SELECT count(*) FROM model_versions \
                 WHERE model_id = $1 AND id <> $2 AND retired_at IS NULL",
            )
            .bind(model)
            .bind(id.0)
            .fetch_one(c)
            .await
        })?;
        if others > 0 {
            return Err(StoreError::Conflict(format!(
                "version {label} is production: promote another version first, \
                 then retire this one"
            )));
        }
        set_production(tx, model, None).await?;
    }
    let retired = on_conn!(tx, |c| {
        sqlx::query("UPDATE model_versions SET retired_at = $1 WHERE id = $2")
            .bind(Timestamp(now))
            .bind(id.0)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
    })?;
    touched(retired)
}
