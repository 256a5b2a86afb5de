//! The latest progress of each run ([`modelrun_core::progress`]): one row
//! a run, replaced by each report.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::ids::RunId;
use modelrun_core::progress::{Progress, RunProgress};
use modelrun_core::store::{ProgressStore, StoreResult};

use crate::SqlStore;
use crate::backend::on_conn;
use crate::types::Timestamp;

/// The columns every read selects, in [`ProgressRow`]'s order.
macro_rules! columns {
    () => {
        "run_id, fraction, message, reported_at"
    };
}

#[derive(sqlx::FromRow)]
struct ProgressRow {
    run_id: i64,
    fraction: f64,
    message: Option<String>,
    reported_at: Timestamp,
}

impl ProgressRow {
    fn into_progress(self) -> (RunId, RunProgress) {
        let progress = RunProgress {
            fraction: self.fraction,
            message: self.message,
            at: self.reported_at.into(),
        };
        (RunId(self.run_id), progress)
    }
}

/// `$1, $2, …, $n`: the placeholders of an `IN` list of `n` values.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<B> ProgressStore for SqlStore<B> {
    async fn record_progress(
        &self,
        run: RunId,
        progress: &Progress,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "INSERT INTO run_progress (run_id, fraction, message, reported_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (run_id) DO UPDATE SET fraction = excluded.fraction, \
                 message = excluded.message, reported_at = excluded.reported_at",
            )
            .bind(run.0)
            .bind(progress.fraction)
            .bind(progress.message.as_deref())
            .bind(Timestamp(at))
            .execute(c)
            .await
            .map(|_| ())
        })
    }

    async fn run_progress(&self, run: RunId) -> StoreResult<Option<RunProgress>> {
        const QUERY: &str = concat!(
            "SELECT ",
            columns!(),
            " FROM run_progress WHERE run_id = $1"
        );
        let row: Option<ProgressRow> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as(QUERY).bind(run.0).fetch_optional(c).await
        })?;
        Ok(row.map(|row| row.into_progress().1))
    }

    async fn runs_progress(&self, runs: &[RunId]) -> StoreResult<HashMap<RunId, RunProgress>> {
        if runs.is_empty() {
            return Ok(HashMap::new());
        }
        // Only placeholders are written into the text; the ids are bound.
        let query = format!(
            concat!(
                "SELECT ",
                columns!(),
                " FROM run_progress WHERE run_id IN ({})"
            ),
            placeholders(runs.len())
        );
        let rows: Vec<ProgressRow> = on_conn!(&mut self.db.reader().await?, |c| {
            runs.iter()
                .fold(
                    sqlx::query_as(sqlx::AssertSqlSafe(query.clone())),
                    |query, run| query.bind(run.0),
                )
                .fetch_all(c)
                .await
        })?;
        Ok(rows.into_iter().map(ProgressRow::into_progress).collect())
    }
}
