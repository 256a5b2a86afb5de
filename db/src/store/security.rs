//! The audit log and rate-limit counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use modelrun_core::alongside::Counted;
use modelrun_core::audit::{AuditEntry, AuditFilter, NewAuditEntry};
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::store::{AuditLog, RateLimits, StoreError, StoreResult};
use sqlx::QueryBuilder;

use crate::SqlStore;
use crate::backend::{AsConn, Db, Tx, on_conn};
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
        self.db.hit(key, limit, now).await
    }

    async fn forgive(&self, key: &str) -> StoreResult<()> {
        self.db.forgive(key).await
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

/// Counts an attempt against `limit` under `key`, on its own or in the
/// caller's transaction.
async fn count_hit(
    conn: &mut impl AsConn,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> StoreResult<Verdict> {
    let (window_start, hits) = count_hits(conn, key, limit, 1, now).await?;
    Ok(verdict(limit, hits, window_start, now))
}

/// Counts `n` attempts against `limit` under `key` in one statement (the
/// attempts of one person that are written together); answers the
/// window's start and its hits with them, so that the `i`th of them
/// (from 1) made `hits - n + i`.
pub(super) async fn count_hits(
    conn: &mut impl AsConn,
    key: &str,
    limit: Limit,
    n: i64,
    now: DateTime<Utc>,
) -> StoreResult<(DateTime<Utc>, i64)> {
    let window_ms = i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX);
    // SET expressions read the row as it was, so the window either
    // restarts with these attempts or counts them. On Postgres the row lock
    // serialises concurrent attempts on one key; on SQLite the writer does.
    let (window_start, hits): (Timestamp, i64) = on_conn!(conn, |c| {
        sqlx::query_as(
            "INSERT INTO rate_limits AS l (key, window_start, window_ms, hits) \
             VALUES ($1, $2, $3, $5) \
             ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN l.window_start <= $4 THEN $5 ELSE l.hits + $5 END, \
               window_start = CASE WHEN l.window_start <= $4 THEN $2 ELSE l.window_start END, \
               window_ms = $3 \
             RETURNING window_start, hits",
        )
        .bind(key)
        .bind(Timestamp(now))
        .bind(window_ms)
        .bind(Timestamp(window_ended(limit, now)))
        .bind(n)
        .fetch_one(c)
        .await
    })?;
    Ok((window_start.into(), hits))
}

/// Takes one attempt under `key` back, on its own or in the caller's
/// transaction.
pub(super) async fn take_back(conn: &mut impl AsConn, key: &str) -> StoreResult<()> {
    on_conn!(conn, |c| {
        sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .execute(c)
            .await
            .map(|_| ())
    })
}

/// Where a submission's attempt is counted ([`Alongside::limit`]).
///
/// On SQLite, inside the submission's transaction, as its last write: one
/// turn of the single writer fewer per submit. On Postgres, on its own just
/// before the transaction: inside it, the counter's row would stay locked
/// to the commit, and ten submits of one person at once queued on it while
/// holding pool connections (measured: a burst's p99 doubled). There a
/// submission that then fails gives its count back ([`Db::give_back`]).
///
/// [`Alongside::limit`]: modelrun_core::alongside::Alongside::limit
pub(super) struct Counting<'a> {
    counted: Option<&'a Counted>,
    /// Counted already, before the transaction.
    before: bool,
}

impl Db {
    /// Counts an attempt on its own ([`RateLimits::hit`]).
    async fn hit(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> StoreResult<Verdict> {
        count_hit(&mut self.writer().await?, key, limit, now).await
    }

    /// Takes one attempt back ([`RateLimits::forgive`]).
    async fn forgive(&self, key: &str) -> StoreResult<()> {
        take_back(&mut self.writer().await?, key).await
    }

    /// Starts counting `counted` for a submission about to be written:
    /// on Postgres it is counted now, and an attempt over the limit fails
    /// here with [`StoreError::OverLimit`].
    pub(super) async fn start_counting<'a>(
        &self,
        counted: Option<&'a Counted>,
        now: DateTime<Utc>,
    ) -> StoreResult<Counting<'a>> {
        let before = matches!(self, Db::Postgres { .. });
        if let (Some(counted), true) = (counted, before) {
            let verdict = self.hit(&counted.key, counted.limit, now).await?;
            if let Verdict::Refused { retry_after, first } = verdict {
                return Err(StoreError::OverLimit { retry_after, first });
            }
        }
        Ok(Counting { counted, before })
    }

    /// Commits `tx`, with the attempt as its last write unless it was
    /// counted before. Over the limit, `tx` is rolled back, the refused
    /// attempt is counted on its own, as [`RateLimits::hit`] counts it, and
    /// the answer is [`StoreError::OverLimit`].
    pub(super) async fn commit_counted(
        &self,
        mut tx: Tx,
        counting: &Counting<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let Some(counted) = counting.counted.filter(|_| !counting.before) else {
            return tx.commit().await;
        };
        if count_hit(&mut tx, &counted.key, counted.limit, now).await? == Verdict::Allowed {
            return tx.commit().await;
        }
        tx.rollback().await?;
        match self.hit(&counted.key, counted.limit, now).await? {
            Verdict::Refused { retry_after, first } => {
                Err(StoreError::OverLimit { retry_after, first })
            }
            // The window ended meanwhile: the attempt just counted belongs to
            // nothing that was made, and the next one may be allowed.
            Verdict::Allowed => {
                self.forgive(&counted.key).await?;
                Err(StoreError::OverLimit {
                    retry_after: std::time::Duration::from_secs(1),
                    first: false,
                })
            }
        }
    }

    /// Gives back the count of a submission that made nothing (it failed,
    /// or its one-time key had made it already), when it was counted
    /// before its transaction.
    pub(super) async fn give_back(&self, counting: &Counting<'_>) {
        if let (Some(counted), true) = (counting.counted, counting.before)
            && let Err(error) = self.forgive(&counted.key).await
        {
            tracing::warn!(error = %modelrun_core::error_chain(&error), "could not give back the count of a submission that made nothing");
        }
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
