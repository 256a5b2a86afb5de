//! The statements of a batch of submits (see the module above), in the
//! order they run; each answers the submits it finds something about.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use modelrun_core::alias::Alias;
use modelrun_core::alongside::Alongside;
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::{RunId, TaskId};
use modelrun_core::limit::Verdict;
use modelrun_core::run::{NewRun, Run, RunEvent};
use modelrun_core::status::RunStatus;
use modelrun_core::store::{StoreError, StoreResult};
use modelrun_core::task::{DispatchRun, Job, Queued};
use sqlx::QueryBuilder;
use sqlx::types::Json;

use super::{Item, Pending, State};
use crate::backend::{Tx, on_conn};
use crate::dialect::{Dialect, Sql, push_list, sql};
use crate::limits::verdict;
use crate::store::runs::{alias_at_write, fetch_runs};
use crate::store::security::{count_hits, take_back};
use crate::types::Timestamp;

/// The versions that runs are created on, `FOR SHARE` on Postgres (not
/// retired while the batch is written), with whether each is its model's
/// production version at this moment; the ids follow, written by the caller.
const VERSIONS: &str = "SELECT id, model_id, label, retired_at, coalesce((SELECT \
     production_version_id FROM models WHERE models.id = model_versions.model_id) = \
     model_versions.id, false) FROM model_versions WHERE id IN (";
const VERSIONS_END: Sql = sql!(")", for_share);

/// Answers the submits whose version is gone or retired; notes the others'
/// model and alias.
pub(super) async fn check_versions(tx: &mut Tx, items: &mut [Item]) -> StoreResult<()> {
    let ids: HashSet<i64> = items
        .iter()
        .map(|item| item.submit.run.version_id.0)
        .collect();
    type Version = (i64, i64, String, Option<Timestamp>, bool);
    let rows: Vec<Version> = on_conn!(&mut *tx, |c| {
        let mut query = QueryBuilder::new(VERSIONS);
        push_list(&mut query, ids.iter().copied());
        query.push(c.sql(&VERSIONS_END));
        query.build_query_as().fetch_all(c).await
    })?;
    let versions: HashMap<i64, Version> = rows.into_iter().map(|row| (row.0, row)).collect();
    for item in items {
        let Some((_, model_id, label, retired_at, production)) =
            versions.get(&item.submit.run.version_id.0)
        else {
            item.answer(Err(StoreError::NotFound));
            continue;
        };
        match alias_at_write(&item.submit.run, label, retired_at.is_some(), *production) {
            Err(refused) => item.answer(Err(refused)),
            Ok(alias) => {
                if let Some(pending) = item.pending() {
                    pending.model_id = *model_id;
                    pending.alias = Some(alias);
                }
            }
        }
    }
    Ok(())
}

/// Answers the submits whose one-time key made a run before; a key that
/// an earlier submit of the batch holds waits for the batch to be over.
pub(super) async fn check_keys(tx: &mut Tx, items: &mut [Item]) -> StoreResult<()> {
    let keys: HashSet<String> = items
        .iter_mut()
        .filter(|item| matches!(item.state, State::Pending(_)))
        .filter_map(|item| item.submit.run.submit_key.clone())
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let users: HashSet<i64> = items
        .iter()
        .filter(|item| item.submit.run.submit_key.is_some())
        .map(|item| item.submit.run.submitted_by.0)
        .collect();
    let rows: Vec<(i64, i64, String)> = on_conn!(&mut *tx, |c| {
        // Both columns, so that the index on (submitted_by, submit_key) is used.
        let mut query = QueryBuilder::new(
            "SELECT id, submitted_by, submit_key FROM runs WHERE submitted_by IN (",
        );
        push_list(&mut query, users.iter().copied());
        query.push(") AND submit_key IN (");
        push_list(&mut query, keys.iter().cloned());
        query.push(")");
        query.build_query_as().fetch_all(c).await
    })?;
    let made: HashMap<(i64, String), i64> = rows
        .into_iter()
        .map(|(id, user, key)| ((user, key), id))
        .collect();
    let mut seen = HashSet::new();
    for item in items.iter_mut() {
        let Some(key) = item.submit.run.submit_key.clone() else {
            continue;
        };
        if item.pending().is_none() {
            continue;
        }
        let whose = (item.submit.run.submitted_by.0, key);
        if let Some(id) = made.get(&whose) {
            item.answer(Err(StoreError::AlreadySubmitted(RunId(*id))));
        } else if !seen.insert(whose) {
            item.state = State::Alone;
        }
    }
    Ok(())
}

/// Counts each person's attempts in one statement per limit key, in the
/// order they came; answers those over the limit (their attempts count).
pub(super) async fn count(tx: &mut Tx, items: &mut [Item], now: DateTime<Utc>) -> StoreResult<()> {
    let mut keys: Vec<(String, modelrun_core::limit::Limit, Vec<usize>)> = Vec::new();
    for (position, item) in items.iter_mut().enumerate() {
        if item.pending().is_none() {
            continue;
        }
        let Some(counted) = &item.submit.alongside.limit else {
            continue;
        };
        match keys.iter_mut().find(|(key, _, _)| *key == counted.key) {
            Some((_, _, positions)) => positions.push(position),
            None => keys.push((counted.key.clone(), counted.limit, vec![position])),
        }
    }
    // In key order, so that batches of several processes (or several
    // writers) lock the counters in the same order on Postgres.
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, limit, positions) in keys {
        let n = i64::try_from(positions.len()).unwrap_or(i64::MAX);
        let (window_start, hits) = count_hits(&mut *tx, &key, limit, n, now).await?;
        for (i, position) in (1..).zip(positions) {
            let item = &mut items[position];
            match verdict(limit, hits - n + i, window_start, now) {
                Verdict::Allowed => {
                    if let Some(pending) = item.pending() {
                        pending.counted = true;
                    }
                }
                Verdict::Refused { retry_after, first } => {
                    item.answer(Err(StoreError::OverLimit { retry_after, first }));
                }
            }
        }
    }
    Ok(())
}

/// Inserts the pending runs in one statement. One whose key another
/// process used meanwhile gives its count back and waits for the batch.
pub(super) async fn insert_runs(
    tx: &mut Tx,
    items: &mut [Item],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    for item in items.iter_mut() {
        if let Some(pending) = item.pending() {
            pending.job_key = random_hex(8);
        }
    }
    let rows: Vec<(i64, String)> = {
        let pending: Vec<(&NewRun, &Pending)> = items
            .iter()
            .filter_map(|item| match &item.state {
                State::Pending(pending) => Some((&item.submit.run, pending)),
                _ => None,
            })
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        on_conn!(&mut *tx, |c| {
            let mut query = QueryBuilder::new(
                "INSERT INTO runs (model_id, version_id, submitted_by, inputs, vcpu, memory_mib, \
                 timeout_seconds, status, created_at, updated_at, submit_key, rerun_of, job_key, \
                 alias) ",
            );
            query.push_values(&pending, |mut row, (run, pending)| {
                row.push_bind(pending.model_id)
                    .push_bind(run.version_id.0)
                    .push_bind(run.submitted_by.0)
                    .push_bind(Json(run.inputs.clone()))
                    .push_bind(run.resources.vcpu)
                    .push_bind(run.resources.memory_mib)
                    .push_bind(run.resources.timeout_seconds)
                    .push_bind(RunStatus::Queued.as_str())
                    .push_bind(Timestamp(now))
                    .push_bind(Timestamp(now))
                    .push_bind(run.submit_key.clone())
                    .push_bind(run.rerun_of.map(|id| id.0))
                    .push_bind(pending.job_key.clone())
                    .push_bind(pending.alias.unwrap_or(Alias::Candidate).as_str());
            });
            query.push(
                " ON CONFLICT (submitted_by, submit_key) WHERE submit_key IS NOT NULL DO NOTHING \
                 RETURNING id, job_key",
            );
            query.build_query_as().fetch_all(c).await
        })?
    };
    let ids: HashMap<String, i64> = rows.into_iter().map(|(id, key)| (key, id)).collect();
    for item in items.iter_mut() {
        let limit_key = item.submit.alongside.limit.as_ref().map(|c| c.key.clone());
        let Some(pending) = item.pending() else {
            continue;
        };
        match ids.get(&pending.job_key) {
            Some(id) => pending.id = Some(RunId(*id)),
            None => {
                if let (true, Some(key)) = (pending.counted, limit_key) {
                    take_back(&mut *tx, &key).await?;
                }
                item.state = State::Alone;
            }
        }
    }
    Ok(())
}

/// Reads the runs just inserted back, as the answers show them.
pub(super) async fn read_runs(tx: &mut Tx, items: &mut [Item]) -> StoreResult<()> {
    let ids: Vec<i64> = items
        .iter_mut()
        .filter_map(|item| item.pending().and_then(|pending| pending.id))
        .map(|id| id.0)
        .collect();
    let mut runs = fetch_runs(&mut *tx, &ids).await?;
    for item in items.iter_mut() {
        if let Some(pending) = item.pending() {
            let id = pending.id.ok_or(StoreError::NotFound)?;
            pending.run = Some(runs.remove(&id.0).ok_or(StoreError::NotFound)?);
        }
    }
    Ok(())
}

/// The written runs' first events, dispatch tasks, estimates and audit
/// entries, one statement each; answers each written submit.
pub(super) async fn insert_rest(
    tx: &mut Tx,
    items: &mut [Item],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let written: Vec<(&Run, &Alongside<Run>)> = items
        .iter()
        .filter_map(|item| match &item.state {
            State::Pending(Pending { run: Some(run), .. }) => Some((run, &item.submit.alongside)),
            _ => None,
        })
        .collect();
    on_conn!(&mut *tx, |c| {
        let mut query =
            QueryBuilder::new("INSERT INTO run_events (run_id, at, kind, status, message, data) ");
        query.push_values(&written, |mut row, (run, _)| {
            let event = RunEvent::submitted(run);
            row.push_bind(run.id.0)
                .push_bind(Timestamp(event.at))
                .push_bind(event.kind.as_str())
                .push_bind(event.status.map(RunStatus::as_str))
                .push_bind(event.message)
                .push_bind(event.data);
        });
        query.build().execute(c).await.map(|_| ())
    })?;
    let tasks: Vec<(i64, Option<String>)> = on_conn!(&mut *tx, |c| {
        let mut query = QueryBuilder::new(
            "INSERT INTO tasks (kind, payload, state, attempts, max_attempts, run_after, \
             dedupe_key, created_at, updated_at) ",
        );
        query.push_values(&written, |mut row, (run, _)| {
            let task = DispatchRun { run_id: run.id }.task();
            row.push_bind(task.kind.as_str())
                .push_bind(task.payload)
                .push_bind("queued")
                .push_bind(0_i32)
                .push_bind(task.max_attempts)
                .push_bind(Timestamp(task.run_after.unwrap_or(now)))
                .push_bind(task.dedupe_key)
                .push_bind(Timestamp(now))
                .push_bind(Timestamp(now));
        });
        query.push(" RETURNING id, dedupe_key");
        query.build_query_as().fetch_all(c).await
    })?;
    tx.announce_tasks().await?;
    let estimates: Vec<_> = written
        .iter()
        .filter_map(|(run, alongside)| alongside.estimate.as_ref().map(|e| (run.id, e)))
        .collect();
    if !estimates.is_empty() {
        on_conn!(&mut *tx, |c| {
            let mut query =
                QueryBuilder::new("INSERT INTO run_estimates (run_id, estimate, created_at) ");
            query.push_values(&estimates, |mut row, (id, estimate)| {
                row.push_bind(id.0)
                    .push_bind(Json((*estimate).clone()))
                    .push_bind(Timestamp(now));
            });
            query.push(" ON CONFLICT (run_id) DO NOTHING");
            query.build().execute(c).await.map(|_| ())
        })?;
    }
    let entries: Vec<_> = written
        .iter()
        .filter_map(|(run, alongside)| alongside.audit.as_ref().map(|audit| audit(run)))
        .collect();
    if !entries.is_empty() {
        on_conn!(&mut *tx, |c| {
            let mut query = QueryBuilder::new(
                "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, address) ",
            );
            query.push_values(&entries, |mut row, entry| {
                row.push_bind(Timestamp(Utc::now()))
                    .push_bind(entry.actor.user_id.map(|id| id.0))
                    .push_bind(entry.actor.name.clone())
                    .push_bind(entry.action.as_str())
                    .push_bind(entry.target.clone())
                    .push_bind(entry.detail.clone())
                    .push_bind(entry.address.clone());
            });
            query.build().execute(c).await.map(|_| ())
        })?;
    }
    let task_of: HashMap<String, TaskId> = tasks
        .into_iter()
        .filter_map(|(id, key)| key.map(|key| (key, TaskId(id))))
        .collect();
    for item in items.iter_mut() {
        let Some(pending) = item.pending() else {
            continue;
        };
        let run = pending.run.take().ok_or(StoreError::NotFound)?;
        let key = DispatchRun { run_id: run.id }
            .dedupe_key()
            .unwrap_or_default();
        let task = *task_of.get(&key).ok_or_else(|| {
            StoreError::Conflict(format!("run {} has a dispatch task already", run.id))
        })?;
        item.answer(Ok(Queued { item: run, task }));
    }
    Ok(())
}
