//! The audit log and rate-limit counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::audit::{AuditEntry, AuditFilter, NewAuditEntry};
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::store::{AuditLog, RateLimits, StoreResult};
use sqlx::QueryBuilder;

use crate::SqlStore;
use crate::backend::{AsConn, on_conn};
use crate::dialect::{Dialect, Sql, sql};
use crate::limits::{verdict, window_ended};
use crate::rows::{AuditRow, convert_all};
use crate::types::Timestamp;

/// Opens the test that the actor's name holds a text, ignoring case; the
/// text and `)) > 0` follow.
const ACTOR_HAS: Sql = sql!(" AND ", position, "(lower(actor), lower(");

/// Forgets counters whose window ended before `$1`.
const PURGE: Sql = sql!(
    "DELETE FROM rate_limits WHERE window_start + window_ms",
    milliseconds,
    " < $1"
);

#[async_trait]
impl<B> AuditLog for SqlStore<B> {
    async fn record_audit(&self, entry: NewAuditEntry) -> StoreResult<()> {
        insert_audit(&mut self.db.writer().await?, &entry).await
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = on_conn!(&mut self.db.reader().await?, |c| {
            let mut query = QueryBuilder::new(
                "SELECT id, at, actor_id, actor, action, target, detail, address \
                 FROM audit_log WHERE 1 = 1",
            );
            if let Some(action) = filter.action {
                query.push(" AND action = ").push_bind(action.as_str());
            }
            if let Some(actor) = &filter.actor {
                query
                    .push(c.sql(&ACTOR_HAS))
                    .push_bind(actor.clone())
                    .push(")) > 0");
            }
            if let Some(since) = filter.since {
                query.push(" AND at >= ").push_bind(Timestamp(since));
            }
            if let Some(before) = filter.before {
                query.push(" AND id < ").push_bind(before);
            }
            query
                .push(" ORDER BY id DESC")
                .push(crate::dialect::limit(filter.limit));
            query.build_query_as().fetch_all(c).await
        })?;
        convert_all(rows)
    }
}

#[async_trait]
impl<B> RateLimits for SqlStore<B> {
    async fn hit(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> StoreResult<Verdict> {
        let window_ms = i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX);
        // SET expressions read the row as it was, so the window either
        // restarts with this attempt or counts it. On Postgres the row lock
        // serialises concurrent attempts on one key; on SQLite the writer does.
        let (window_start, hits): (Timestamp, i64) = on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query_as(
                "INSERT INTO rate_limits AS l (key, window_start, window_ms, hits) \
                 VALUES ($1, $2, $3, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                   hits = CASE WHEN l.window_start <= $4 THEN 1 ELSE l.hits + 1 END, \
                   window_start = CASE WHEN l.window_start <= $4 THEN $2 ELSE l.window_start END, \
                   window_ms = $3 \
                 RETURNING window_start, hits",
            )
            .bind(key)
            .bind(Timestamp(now))
            .bind(window_ms)
            .bind(Timestamp(window_ended(limit, now)))
            .fetch_one(c)
            .await
        })?;
        Ok(verdict(limit, hits, window_start.into(), now))
    }

    async fn forgive(&self, key: &str) -> StoreResult<()> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0")
                .bind(key)
                .execute(c)
                .await
                .map(|_| ())
        })
    }

    async fn purge_limits(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        on_conn!(&mut self.db.writer().await?, |c| {
            sqlx::query(c.sql(&PURGE))
                .bind(Timestamp(before))
                .execute(c)
                .await
                .map(|done| done.rows_affected())
        })
    }
}

/// Writes an audit entry, on its own or in the caller's transaction.
pub(super) async fn insert_audit(conn: &mut impl AsConn, entry: &NewAuditEntry) -> StoreResult<()> {
    on_conn!(conn, |c| {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Timestamp(Utc::now()))
        .bind(entry.actor.user_id.map(|id| id.0))
        .bind(&entry.actor.name)
        .bind(entry.action.as_str())
        .bind(&entry.target)
        .bind(&entry.detail)
        .bind(&entry.address)
        .execute(c)
        .await
        .map(|_| ())
    })
}
