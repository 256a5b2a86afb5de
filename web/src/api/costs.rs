//! `GET /api/v1/models/{model}/estimate`: what runs of a version are likely
//! to take and cost, with the budgets they would cross; and
//! `GET`/`PUT /api/v1/budgets`: the monthly budgets (admin role).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use modelrun_core::budget::{BudgetScope, BudgetStatus, MAX_CENTS};
use modelrun_core::estimate::{Estimate, MAX_COUNT};
use modelrun_core::resources::ResourceRequest;
use modelrun_core::schema::ValidationErrors;
use serde::{Deserialize, Serialize};

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::costs::{self, BudgetsJson, budgets_json, user_id};
use crate::error::{ApiResult, AppError};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::policy::{Action, require};
use crate::run_resources;
use crate::state::AppState;
use crate::submit::pick_version;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::MODEL_ESTIMATE, get(estimate))
        .route(paths::BUDGETS, get(list_budgets).put(set_budget))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EstimateQuery {
    version: Option<String>,
    vcpu: Option<String>,
    memory_mib: Option<String>,
    timeout_seconds: Option<String>,
    count: Option<String>,
}

#[derive(Serialize)]
struct EstimateJson {
    model: String,
    version: String,
    #[serde(flatten)]
    estimate: Estimate,
    /// The budgets covering the caller, with this submission's expected cost.
    budgets: Vec<BudgetStatus>,
    /// One sentence per budget the submission would cross.
    warnings: Vec<String>,
}

/// `count=` as a number of runs, from 1 to [`MAX_COUNT`].
fn parse_count(text: Option<&str>) -> Result<u32, AppError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else { return Ok(1) };
    text.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .ok_or_else(|| {
            AppError::invalid_field(
                "the estimate's parameters are not valid",
                "count",
                format!("must be a whole number of runs from 1 to {MAX_COUNT}"),
            )
        })
}

/// Resource refusals named as the query names them (`vcpu`, not `.vcpu`).
fn query_errors(mut errors: ValidationErrors) -> AppError {
    for error in &mut errors.errors {
        error.field = error.field.trim_start_matches('.').to_owned();
    }
    AppError::Invalid {
        summary: run_resources::SUMMARY,
        errors,
    }
}

async fn estimate(
    api: ApiUser,
    State(state): State<AppState>,
    ApiPath(model): ApiPath<String>,
    ApiQuery(query): ApiQuery<EstimateQuery>,
) -> ApiResult<Json<EstimateJson>> {
    let model = state.store.model(&model).await?.ok_or(AppError::NotFound)?;
    let version = pick_version(&model, query.version.as_deref())?;
    let count = parse_count(query.count.as_deref())?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut errors = ValidationErrors::default();
    let asked = ResourceRequest::read_text(
        &text(&query.vcpu),
        &text(&query.memory_mib),
        &text(&query.timeout_seconds),
        "",
        &mut errors,
    );
    let resources = run_resources::resolve(&state, version, &asked, version.resources, "", errors)
        .map_err(query_errors)?;
    let estimate = costs::estimate(&state, version, resources, count).await?;
    let budgets =
        costs::budget_statuses(&state, &api.user, estimate.expected_cost(), Utc::now()).await?;
    Ok(Json(EstimateJson {
        model: model.model.name.clone(),
        version: version.label.clone(),
        warnings: costs::warnings(&budgets),
        estimate,
        budgets,
    }))
}

async fn list_budgets(api: ApiUser, State(state): State<AppState>) -> ApiResult<Json<BudgetsJson>> {
    require(api.role, Action::ManageBudgets)?;
    Ok(Json(budgets_json(&state, Utc::now()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBudget {
    /// A user's email; left out for the team's budget.
    user: Option<String>,
    /// Dollars a month; `null` removes the budget. Required.
    monthly_usd: serde_json::Value,
}

/// The amount of a [`SetBudget`] in cents; `None` removes.
fn cents_of(value: &serde_json::Value) -> Result<Option<i64>, AppError> {
    let invalid =
        |why: String| AppError::invalid_field("the budget is not valid", "monthly_usd", why);
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => {
            let dollars = n.as_f64().unwrap_or(f64::NAN);
            let cents = (dollars * 100.0).round();
            if !(1.0..=MAX_CENTS as f64).contains(&cents) {
                return Err(invalid(
                    "must be from 0.01 to 100000000 dollars a month, or null to remove the budget"
                        .to_owned(),
                ));
            }
            Ok(Some(cents as i64))
        }
        _ => Err(invalid(
            "must be a number of dollars, such as 250, or null to remove the budget".to_owned(),
        )),
    }
}

async fn set_budget(
    api: ApiUser,
    client: crate::guard::ClientAddr,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SetBudget>,
) -> ApiResult<Json<BudgetsJson>> {
    require(api.role, Action::ManageBudgets)?;
    let cents = cents_of(&request.monthly_usd)?;
    let scope = match request.user.as_deref().map(str::trim) {
        None | Some("") => BudgetScope::Installation,
        Some(email) => BudgetScope::User(user_id(&state, email).await?),
    };
    state
        .store
        .set_budget(scope, cents, &api.user.email, Utc::now())
        .await?;
    tracing::info!(scope = %scope.key(), cents = ?cents, by = %api.user.email, "budget set");
    let who = request
        .user
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    crate::costs::record_budget(
        &state,
        &api.user,
        &client,
        scope,
        who.unwrap_or("the team"),
        cents,
    )
    .await;
    Ok(Json(budgets_json(&state, Utc::now()).await?))
}
