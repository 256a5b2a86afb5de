//! Lists of runs: one filtered page, the runs still active, and how each
//! version's runs ended. Which statuses are active, and how a status
//! counts, come from `modelrun-core`.

use modelrun_core::ids::{ModelId, VersionId};
use modelrun_core::run::{Page, Run, RunFilter, VersionCounts};
use modelrun_core::status::RunStatus;
use modelrun_core::store::StoreResult;
use sqlx::QueryBuilder;

use crate::backend::{AsConn, on_conn};
use crate::convert::parse;
use crate::dialect::push_list;
use crate::rows::{RunRow, convert_all, select_runs};
use crate::types::Timestamp;

/// Most runs one page may hold.
const MAX_PAGE: u32 = 200;

pub(super) async fn list_runs(
    conn: &mut impl AsConn,
    filter: &RunFilter,
) -> StoreResult<Page<Run>> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let rows: Vec<RunRow> = on_conn!(conn, |c| {
        let mut query = QueryBuilder::new(concat!(select_runs!(), "WHERE 1 = 1"));
        if let Some(model) = &filter.model {
            query
                .push(" AND r.model_id = (SELECT id FROM models WHERE name = ")
                .push_bind(model)
                .push(")");
        }
        if let Some(status) = filter.status {
            query.push(" AND r.status = ").push_bind(status.as_str());
        }
        if let Some(user) = filter.submitted_by {
            query.push(" AND r.submitted_by = ").push_bind(user.0);
        }
        if let Some(label) = &filter.version {
            query.push(" AND v.label = ").push_bind(label);
        }
        if let Some(email) = &filter.submitter {
            query.push(" AND u.email = ").push_bind(email);
        }
        if let Some(from) = filter.created_from {
            query
                .push(" AND r.created_at >= ")
                .push_bind(Timestamp(from));
        }
        if let Some(until) = filter.created_until {
            query
                .push(" AND r.created_at < ")
                .push_bind(Timestamp(until));
        }
        let (after, order) = if filter.oldest_first {
            (" AND r.id > ", " ORDER BY r.id ASC")
        } else {
            (" AND r.id < ", " ORDER BY r.id DESC")
        };
        if let Some(cursor) = filter.before {
            query.push(after).push_bind(cursor.0);
        }
        query.push(order).push(crate::dialect::limit(limit + 1));
        query.build_query_as().fetch_all(c).await
    })?;
    let mut items: Vec<Run> = convert_all(rows)?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|run| run.id)
    } else {
        None
    };
    Ok(Page { items, next })
}

/// Runs that have not ended, oldest first.
pub(super) async fn active_runs(conn: &mut impl AsConn) -> StoreResult<Vec<Run>> {
    let rows: Vec<RunRow> = on_conn!(conn, |c| {
        let mut query = QueryBuilder::new(concat!(select_runs!(), "WHERE r.status IN ("));
        push_list(
            &mut query,
            RunStatus::ACTIVE.iter().map(|status| status.as_str()),
        );
        query.push(") ORDER BY r.id");
        query.build_query_as().fetch_all(c).await
    })?;
    convert_all(rows)
}

/// How the runs of each version of `model` ended, by version.
pub(super) async fn version_counts(
    conn: &mut impl AsConn,
    model: ModelId,
) -> StoreResult<Vec<VersionCounts>> {
    let rows: Vec<(i64, String, i64)> = on_conn!(conn, |c| {
        sqlx::query_as(
            "SELECT version_id, status, count(*) FROM runs WHERE model_id = $1 \
             GROUP BY version_id, status ORDER BY version_id",
        )
        .bind(model.0)
        .fetch_all(c)
        .await
    })?;
    let mut counts: Vec<VersionCounts> = Vec::new();
    for (version, status, runs) in rows {
        let version = VersionId(version);
        if counts.last().is_none_or(|last| last.version_id != version) {
            counts.push(VersionCounts::new(version));
        }
        if let Some(last) = counts.last_mut() {
            last.add(parse("run status", &status)?, runs);
        }
    }
    Ok(counts)
}
