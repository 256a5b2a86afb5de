//! The audit log and rate-limit counters on Postgres.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::audit::{Actor, AuditEntry, AuditFilter, NewAuditEntry};
use modelrun_core::ids::UserId;
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::store::{AuditLog, RateLimits, StoreError, StoreResult};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};

use super::PgStore;
use crate::convert::{db_error, parse};
use crate::limits::verdict;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target: String,
    detail: Value,
    address: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: row.id,
            at: row.at,
            actor: Actor {
                user_id: row.actor_id.map(UserId),
                name: row.actor,
            },
            action: parse("audit action", &row.action)?,
            target: row.target,
            detail: row.detail,
            address: row.address,
        })
    }
}

#[async_trait]
impl AuditLog for PgStore {
    async fn record_audit(&self, entry: NewAuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Utc::now())
        .bind(entry.actor.user_id.map(|id| id.0))
        .bind(&entry.actor.name)
        .bind(entry.action.as_str())
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(&entry.address)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT id, at, actor_id, actor, action, target, detail, address \
             FROM audit_log WHERE true",
        );
        if let Some(action) = filter.action {
            query.push(" AND action = ").push_bind(action.as_str());
        }
        if let Some(actor) = &filter.actor {
            query
                .push(" AND strpos(lower(actor), lower(")
                .push_bind(actor.clone())
                .push(")) > 0");
        }
        if let Some(since) = filter.since {
            query.push(" AND at >= ").push_bind(since);
        }
        if let Some(before) = filter.before {
            query.push(" AND id < ").push_bind(before);
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows: Vec<AuditRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(AuditEntry::try_from).collect()
    }
}

#[async_trait]
impl RateLimits for PgStore {
    async fn hit(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> StoreResult<Verdict> {
        let window_ms = i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX);
        // SET expressions read the row as it was, so the window either
        // restarts with this attempt or counts it. The row lock serialises
        // concurrent attempts on one key.
        let (window_start, hits): (DateTime<Utc>, i64) = sqlx::query_as(
            "INSERT INTO rate_limits AS l (key, window_start, window_ms, hits) \
             VALUES ($1, $2, $3, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN l.window_start + make_interval(secs => $3 / 1000.0) <= $2 \
                           THEN 1 ELSE l.hits + 1 END, \
               window_start = CASE WHEN l.window_start + make_interval(secs => $3 / 1000.0) <= $2 \
                                   THEN $2 ELSE l.window_start END, \
               window_ms = $3 \
             RETURNING window_start, hits",
        )
        .bind(key)
        .bind(now)
        .bind(window_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(verdict(limit, hits, window_start, now))
    }

    async fn forgive(&self, key: &str) -> StoreResult<()> {
        sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM rate_limits \
             WHERE window_start + make_interval(secs => window_ms / 1000.0) < $1",
        )
        .bind(before)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
