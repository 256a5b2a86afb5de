//! Estimates and budgets as the form, the run page and the API show them:
//! the version's duration statistics read from the store, priced with the
//! installation's prices, and this month's spending against the budgets
//! that cover a person. The arithmetic is `modelrun_core::estimate` and
//! `modelrun_core::budget`.

use chrono::{DateTime, Utc};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::budget::{BudgetScope, BudgetStatus, month_bounds, spent};
use modelrun_core::estimate::{DurationStats, Estimate, HISTORY_RUNS, actual_cost};
use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::Run;
use modelrun_core::store::StoreResult;
use modelrun_core::user::User;
use serde::Serialize;

use crate::guard::{ClientAddr, audit};
use crate::state::AppState;

/// Records in the audit log that `user` set the budget of `scope` to
/// `cents` a month, or removed it (`None`). `who` names the scope for a
/// person: "the team" or the person's email address.
pub async fn record_budget(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    scope: BudgetScope,
    who: &str,
    cents: Option<i64>,
) {
    let entry = NewAuditEntry::new(
        Actor::user(user.id, &user.email),
        AuditAction::BudgetSet,
        format!("budget of {who}"),
    )
    .detail(serde_json::json!({
        "scope": scope.key(),
        "monthly_usd": cents.map(|cents| cents as f64 / 100.0),
    }))
    .from_address(client.as_str());
    audit(state, entry).await;
}

/// What `count` runs of `version` with `resources` are likely to take: the
/// latest [`HISTORY_RUNS`] succeeded runs' median and 90th percentile
/// (nearest rank), priced where runs have a price. `count` is 1 for one
/// run; a sweep passes its size and the totals multiply.
pub async fn estimate(
    state: &AppState,
    version: &ModelVersion,
    resources: Resources,
    count: u32,
) -> StoreResult<Estimate> {
    let milliseconds = state
        .store
        .succeeded_durations(version.id, HISTORY_RUNS)
        .await?;
    let seconds = milliseconds
        .into_iter()
        .map(|ms| (ms + 500) / 1000)
        .collect();
    Ok(Estimate::new(
        resources,
        count,
        DurationStats::of(seconds),
        state.config.costs.prices.clone(),
    ))
}

/// The budgets that cover `user` (the installation's, then their own),
/// with this month's spending and a submission expected to cost
/// `expected` dollars. Empty when no budget is set.
pub async fn budget_statuses(
    state: &AppState,
    user: &User,
    expected: f64,
    now: DateTime<Utc>,
) -> StoreResult<Vec<BudgetStatus>> {
    let budgets = state.store.budgets().await?;
    let covering: Vec<_> = budgets
        .iter()
        .filter(|budget| match budget.scope {
            BudgetScope::Installation => true,
            BudgetScope::User(id) => id == user.id,
        })
        .collect();
    if covering.is_empty() {
        return Ok(Vec::new());
    }
    let (from, to) = month_bounds(now, state.config.costs.time_zone);
    let usage = state.store.usage(from, to).await?;
    Ok(covering
        .into_iter()
        .map(|budget| BudgetStatus::new(budget, spent(&usage, budget.scope, now), expected))
        .collect())
}

/// A warning for each budget a submission would cross, in words.
pub fn warnings(statuses: &[BudgetStatus]) -> Vec<String> {
    use modelrun_core::estimate::dollars;
    statuses
        .iter()
        .filter(|status| status.would_cross)
        .map(|status| {
            let whose = match status.scope {
                BudgetScope::Installation => "the team's monthly budget",
                BudgetScope::User(_) => "your monthly budget",
            };
            format!(
                "This submission would take spending past {whose} of {}: {} spent this month, \
                 about {} with this submission.",
                dollars(status.monthly_usd),
                dollars(status.spent_usd),
                dollars(status.after_usd)
            )
        })
        .collect()
}

/// A run's actual duration and cost beside the estimate it was submitted
/// with, for the run page and the API.
#[derive(Debug, Clone, Serialize)]
pub struct RunCost {
    /// The estimate recorded at submission; `null` for runs without one.
    pub estimate: Option<Estimate>,
    /// Seconds from start to end (to now while it runs); `null` before it starts.
    pub actual_seconds: Option<i64>,
    /// Dollars at the prices of its estimate; `null` without a price.
    pub actual_cost_usd: Option<f64>,
}

/// The [`RunCost`] of `run`, with the estimate recorded for it.
pub async fn run_cost(state: &AppState, run: &Run, now: DateTime<Utc>) -> StoreResult<RunCost> {
    let estimate = state.store.run_estimate(run.id).await?;
    Ok(RunCost::of(run, estimate, now))
}

impl RunCost {
    /// The cost of `run` at `now`, given the `estimate` recorded for it.
    pub fn of(run: &Run, estimate: Option<Estimate>, now: DateTime<Utc>) -> RunCost {
        let prices = estimate.as_ref().and_then(|e| e.prices.as_ref());
        RunCost {
            actual_seconds: run.duration(now).map(|d| d.num_seconds().max(0)),
            actual_cost_usd: actual_cost(
                &run.resources,
                prices,
                run.started_at,
                run.finished_at,
                now,
            ),
            estimate,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BudgetJson {
    /// `installation` (the team) or `user`.
    pub scope: &'static str,
    /// The user's email, for a user's budget.
    pub user: Option<String>,
    pub monthly_usd: f64,
    /// Spent this month so far.
    pub spent_usd: f64,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct BudgetsJson {
    /// Where months start.
    pub time_zone: String,
    pub month_start: DateTime<Utc>,
    pub month_end: DateTime<Utc>,
    /// Whether runs here have a price: without one, budgets count nothing.
    pub priced: bool,
    pub budgets: Vec<BudgetJson>,
}

/// Every budget with this month's spending.
pub async fn budgets_json(state: &AppState, now: DateTime<Utc>) -> StoreResult<BudgetsJson> {
    let zone = state.config.costs.time_zone;
    let (from, to) = month_bounds(now, zone);
    let usage = state.store.usage(from, to).await?;
    let budgets = state.store.budgets().await?;
    Ok(BudgetsJson {
        time_zone: zone.name().to_owned(),
        month_start: from,
        month_end: to,
        priced: state.config.costs.prices.is_some(),
        budgets: budgets
            .into_iter()
            .map(|budget| BudgetJson {
                scope: match budget.scope {
                    BudgetScope::Installation => "installation",
                    BudgetScope::User(_) => "user",
                },
                spent_usd: spent(&usage, budget.scope, now),
                user: budget.user_email,
                monthly_usd: budget.monthly_cents as f64 / 100.0,
                set_by: budget.set_by,
                set_at: budget.set_at,
            })
            .collect(),
    })
}

/// The id of the user with `email`, or a 422 naming `user`.
pub async fn user_id(
    state: &AppState,
    email: &str,
) -> Result<modelrun_core::ids::UserId, crate::error::AppError> {
    let users = state.store.list_users().await?;
    users
        .iter()
        .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
        .map(|user| user.id)
        .ok_or_else(|| {
            crate::error::AppError::invalid_field(
                "the budget is not valid",
                "user",
                format!("{email:?} is not the email of a user here"),
            )
        })
}
