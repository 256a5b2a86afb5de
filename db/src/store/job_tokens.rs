//! Job tokens of runs on AWS Batch, kept as their SHA-256.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::ids::RunId;
use modelrun_core::store::{JobTokens, StoreResult};

use crate::SqlStore;
use crate::backend::on_conn;
use crate::types::Timestamp;

#[async_trait]
impl<B> JobTokens for SqlStore<B> {
    async fn add_job_token(
        &self,
        run: RunId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "INSERT INTO run_job_tokens (token_hash, run_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(token_hash)
            .bind(run.0)
            .bind(Timestamp(now))
            .execute(c)
            .await
            .map(|_| ())
        })
    }

    async fn job_token_run(&self, token_hash: &str) -> StoreResult<Option<RunId>> {
        let run: Option<i64> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_scalar("SELECT run_id FROM run_job_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(c)
                .await
        })?;
        Ok(run.map(RunId))
    }
}
