//! Sealed model secrets on one machine. The store holds only what the
//! installation's key sealed; it never sees a value in the clear.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::model_secrets::SecretInfo;
use modelrun_core::store::{SealedSecrets, StoreError, StoreResult};

use crate::SqlStore;
use crate::backend::on_conn;
use crate::rows::SealedSecretRow;
use crate::types::Timestamp;

#[async_trait]
impl<B> SealedSecrets for SqlStore<B> {
    async fn put_sealed_secret(
        &self,
        model: &str,
        name: &str,
        sealed: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let written = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "INSERT INTO model_secrets (model_id, name, sealed, updated_at, updated_by) \
                 SELECT id, $2, $3, $4, $5 FROM models WHERE name = $1 \
                 ON CONFLICT (model_id, name) DO UPDATE SET sealed = excluded.sealed, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(model)
            .bind(name)
            .bind(sealed)
            .bind(Timestamp(now))
            .bind(by)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        match written {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn delete_sealed_secret(&self, model: &str, name: &str) -> StoreResult<bool> {
        let deleted = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "DELETE FROM model_secrets WHERE name = $2 \
                 AND model_id = (SELECT id FROM models WHERE name = $1)",
            )
            .bind(model)
            .bind(name)
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(deleted > 0)
    }

    async fn sealed_secrets(&self, model: &str) -> StoreResult<Vec<(SecretInfo, String)>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, SealedSecretRow>(
                "SELECT s.name, s.sealed, s.updated_at, s.updated_by FROM model_secrets s \
                 JOIN models m ON m.id = s.model_id WHERE m.name = $1 ORDER BY s.name",
            )
            .bind(model)
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
