//! What runs took and cost: a version's succeeded durations, the estimate
//! kept with each run, the runs a month's budget counts, and the budgets.
//! The arithmetic (percentiles, prices, months) is `modelrun-core`'s.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::budget::{Budget, BudgetScope, RunUsage};
use modelrun_core::estimate::Estimate;
use modelrun_core::ids::{RunId, UserId, VersionId};
use modelrun_core::manifest::Resources;
use modelrun_core::store::{CostStore, StoreError, StoreResult};
use sqlx::types::Json;

use crate::SqlStore;
use crate::backend::{AsConn, on_conn};
use crate::dialect::limit;
use crate::types::Timestamp;

/// A run as a budget counts it.
#[derive(sqlx::FromRow)]
struct UsageRow {
    submitted_by: i64,
    vcpu: f64,
    memory_mib: i64,
    timeout_seconds: i64,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    estimate: Option<Json<Estimate>>,
}

impl From<UsageRow> for RunUsage {
    fn from(row: UsageRow) -> Self {
        RunUsage {
            submitted_by: UserId(row.submitted_by),
            resources: Resources {
                vcpu: row.vcpu,
                memory_mib: row.memory_mib,
                timeout_seconds: row.timeout_seconds,
            },
            started_at: row.started_at.map(Into::into),
            finished_at: row.finished_at.map(Into::into),
            prices: row.estimate.and_then(|estimate| estimate.0.prices),
        }
    }
}

#[derive(sqlx::FromRow)]
struct BudgetRow {
    user_id: Option<i64>,
    email: Option<String>,
    monthly_cents: i64,
    set_by: String,
    set_at: Timestamp,
}

impl From<BudgetRow> for Budget {
    fn from(row: BudgetRow) -> Self {
        Budget {
            scope: row.user_id.map_or(BudgetScope::Installation, |id| {
                BudgetScope::User(UserId(id))
            }),
            user_email: row.email,
            monthly_cents: row.monthly_cents,
            set_by: row.set_by,
            set_at: row.set_at.into(),
        }
    }
}

#[async_trait]
impl<B> CostStore for SqlStore<B> {
    async fn succeeded_durations(&self, version: VersionId, count: u32) -> StoreResult<Vec<i64>> {
        // Every submit of a burst asks at once: one query answers them.
        self.reads
            .durations
            .read(format!("{version}:{count}"), || {
                self.read_succeeded_durations(version, count)
            })
            .await
    }

    async fn record_estimate(&self, runs: &[RunId], estimate: &Estimate) -> StoreResult<()> {
        let now = Timestamp(Utc::now());
        // One run (every submit) is one statement, a transaction of its own;
        // a sweep's runs are kept together.
        if let [run] = runs {
            return insert_estimate(&mut self.db.writer().await?, *run, estimate, now).await;
        }
        let mut tx = self.db.begin().await?;
        for run in runs {
            insert_estimate(&mut tx, *run, estimate, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn run_estimate(&self, run: RunId) -> StoreResult<Option<Estimate>> {
        let row: Option<(Json<Estimate>,)> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as("SELECT estimate FROM run_estimates WHERE run_id = $1")
                .bind(run.0)
                .fetch_optional(c)
                .await
        })?;
        Ok(row.map(|(estimate,)| estimate.0))
    }

    async fn usage(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<RunUsage>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, UsageRow>(
                "SELECT r.submitted_by, r.vcpu, r.memory_mib, r.timeout_seconds, r.started_at, \
                 r.finished_at, e.estimate FROM runs r \
                 LEFT JOIN run_estimates e ON e.run_id = r.id \
                 WHERE r.started_at >= $1 AND r.started_at < $2",
            )
            .bind(Timestamp(from))
            .bind(Timestamp(to))
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn budgets(&self) -> StoreResult<Vec<Budget>> {
        let rows = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as::<_, BudgetRow>(
                "SELECT b.user_id, u.email, b.monthly_cents, b.set_by, b.set_at FROM budgets b \
                 LEFT JOIN users u ON u.id = b.user_id \
                 ORDER BY b.user_id IS NOT NULL, u.email",
            )
            .fetch_all(c)
            .await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_budget(
        &self,
        scope: BudgetScope,
        monthly_cents: Option<i64>,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let key = scope.key();
        let Some(cents) = monthly_cents else {
            on_conn!(&mut self.db.writer().await?, |c| {
                sqlx::query("DELETE FROM budgets WHERE scope = $1")
                    .bind(&key)
                    .execute(c)
                    .await
                    .map(|_| ())
            })?;
            return Ok(());
        };
        if cents < 1 {
            return Err(StoreError::Conflict(
                "a budget is at least one cent a month".to_owned(),
            ));
        }
        let user = match scope {
            BudgetScope::Installation => None,
            BudgetScope::User(id) => Some(id.0),
        };
        // Through `users`, so that a user who does not exist writes nothing.
        let written = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(
                "INSERT INTO budgets (scope, user_id, monthly_cents, set_by, set_at) \
                 SELECT $1, $2, $3, $4, $5 \
                 WHERE $2 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $2) \
                 ON CONFLICT (scope) DO UPDATE SET monthly_cents = excluded.monthly_cents, \
                 set_by = excluded.set_by, set_at = excluded.set_at",
            )
            .bind(&key)
            .bind(user)
            .bind(cents)
            .bind(by)
            .bind(Timestamp(now))
            .execute(c)
            .await
            .map(|done| done.rows_affected())
        })?;
        match written {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}

pub(super) async fn insert_estimate(
    conn: &mut impl AsConn,
    run: RunId,
    estimate: &Estimate,
    now: Timestamp,
) -> StoreResult<()> {
    on_conn!(conn, |c| {
        sqlx::query(
            "INSERT INTO run_estimates (run_id, estimate, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (run_id) DO NOTHING",
        )
        .bind(run.0)
        .bind(Json(estimate))
        .bind(now)
        .execute(c)
        .await
        .map(|_| ())
    })
}

impl<B> SqlStore<B> {
    async fn read_succeeded_durations(
        &self,
        version: VersionId,
        count: u32,
    ) -> StoreResult<Vec<i64>> {
        let query = format!(
            "SELECT started_at, finished_at FROM runs \
             WHERE version_id = $1 AND status = 'succeeded' \
             AND started_at IS NOT NULL AND finished_at IS NOT NULL \
             ORDER BY finished_at DESC{}",
            limit(count)
        );
        // The limit is a number the caller gave, never text from a request.
        let rows: Vec<(Timestamp, Timestamp)> = on_conn!(&mut self.db.reader().await?, |c| {
            sqlx::query_as(sqlx::AssertSqlSafe(query.clone()))
                .bind(version.0)
                .fetch_all(c)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(start, end)| (end.0 - start.0).num_milliseconds().max(0))
            .collect())
    }
}
