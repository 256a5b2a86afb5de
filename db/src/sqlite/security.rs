//! The audit log and rate-limit counters on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::audit::{Actor, AuditEntry, AuditFilter, NewAuditEntry};
use modelrun_core::ids::UserId;
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::store::{AuditLog, RateLimits, StoreError, StoreResult};
use sqlx::{QueryBuilder, Sqlite};

use super::SqliteStore;
use crate::convert::{db_error, from_ms, parse, parse_json, to_json, to_ms};
use crate::limits::verdict;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target: String,
    detail: String,
    address: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEntry {
            id: row.id,
            at: from_ms(row.at)?,
            actor: Actor {
                user_id: row.actor_id.map(UserId),
                name: row.actor,
            },
            action: parse("audit action", &row.action)?,
            target: row.target,
            detail: parse_json("audit detail", &row.detail)?,
            address: row.address,
        })
    }
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn record_audit(&self, entry: NewAuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, address) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(to_ms(Utc::now()))
        .bind(entry.actor.user_id.map(|id| id.0))
        .bind(&entry.actor.name)
        .bind(entry.action.as_str())
        .bind(&entry.target)
        .bind(to_json(&entry.detail)?)
        .bind(&entry.address)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT id, at, actor_id, actor, action, target, detail, address \
             FROM audit_log WHERE 1 = 1",
        );
        if let Some(action) = filter.action {
            query.push(" AND action = ").push_bind(action.as_str());
        }
        if let Some(actor) = &filter.actor {
            query
                .push(" AND instr(lower(actor), lower(")
                .push_bind(actor.clone())
                .push(")) > 0");
        }
        if let Some(since) = filter.since {
            query.push(" AND at >= ").push_bind(to_ms(since));
        }
        if let Some(before) = filter.before {
            query.push(" AND id < ").push_bind(before);
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(filter.limit));
        let rows: Vec<AuditRow> = query
            .build_query_as()
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        rows.into_iter().map(AuditEntry::try_from).collect()
    }
}

#[async_trait]
impl RateLimits for SqliteStore {
    async fn hit(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> StoreResult<Verdict> {
        let window_ms = i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX);
        // SET expressions read the row as it was, so the window either
        // restarts with this attempt or counts it.
        let (window_start, hits): (i64, i64) = sqlx::query_as(
            "INSERT INTO rate_limits (key, window_start, window_ms, hits) VALUES (?1, ?2, ?3, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start + ?3 <= ?2 THEN 1 \
                           ELSE rate_limits.hits + 1 END, \
               window_start = CASE WHEN rate_limits.window_start + ?3 <= ?2 THEN ?2 \
                                   ELSE rate_limits.window_start END, \
               window_ms = ?3 \
             RETURNING window_start, hits",
        )
        .bind(key)
        .bind(to_ms(now))
        .bind(window_ms)
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(verdict(limit, hits, from_ms(window_start)?, now))
    }

    async fn forgive(&self, key: &str) -> StoreResult<()> {
        sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM rate_limits WHERE window_start + window_ms < ?")
            .bind(to_ms(before))
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}
