//! Administrators set monthly budgets: the team's (the installation's) and
//! each user's, and see this month's spending against them. A budget only
//! warns: the form says when a submission would cross it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::budget::{BudgetScope, parse_dollars};
use modelrun_core::estimate::dollars;
use serde::Deserialize;

use super::confirm::{Answer, Question, ask};
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::costs::{BudgetsJson, budgets_json, user_id};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::locale::Locale;
use crate::policy::{Action, require};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/budgets", get(list).post(set))
        .route("/admin/budgets/remove", post(remove))
}

struct BudgetRow {
    /// "Team" or the user's email.
    whose: String,
    /// What the remove form sends: empty for the team, or the email.
    user: String,
    limit: String,
    spent: String,
    /// Spent as a share of the limit, from 0 to 100 (a bar).
    percent: u32,
    over: bool,
    set: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "budgets.html")]
struct BudgetsPage {
    nav: Nav,
    rows: Vec<BudgetRow>,
    /// Whether runs here have a price at all.
    priced: bool,
    /// "November 2026 (Europe/Berlin)".
    month: String,
    emails: Vec<String>,
    error: Option<String>,
    /// What was typed, when the form comes back with an error.
    user: String,
    amount: String,
}

impl BudgetsPage {
    async fn load(state: &AppState, current: &CurrentUser) -> AppResult<Self> {
        require(current.user.role, Action::ManageBudgets)?;
        let locale = Locale::of(current);
        let BudgetsJson {
            time_zone,
            month_start,
            priced,
            budgets,
            ..
        } = budgets_json(state, Utc::now()).await?;
        let zone = state.config.costs.time_zone;
        let month = format!(
            "{} ({time_zone})",
            month_start.with_timezone(&zone).format("%B %Y")
        );
        let emails = state
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|user| user.email)
            .collect();
        Ok(BudgetsPage {
            nav: Nav::admin(&current.user, &current.csrf, Section::Budgets, state),
            rows: budgets
                .into_iter()
                .map(|budget| BudgetRow {
                    whose: budget.user.clone().unwrap_or_else(|| "Team".to_owned()),
                    user: budget.user.unwrap_or_default(),
                    limit: dollars(budget.monthly_usd),
                    spent: dollars(budget.spent_usd),
                    percent: (budget.spent_usd / budget.monthly_usd * 100.0).clamp(0.0, 100.0)
                        as u32,
                    over: budget.spent_usd > budget.monthly_usd,
                    set: format!("{} by {}", locale.time(budget.set_at).local, budget.set_by),
                })
                .collect(),
            priced,
            month,
            emails,
            error: None,
            user: String::new(),
            amount: String::new(),
        })
    }
}

async fn list(current: CurrentUser, State(state): State<AppState>) -> AppResult<BudgetsPage> {
    BudgetsPage::load(&state, &current).await
}

#[derive(Deserialize)]
struct BudgetForm {
    /// Empty: the team's budget.
    #[serde(default)]
    user: String,
    #[serde(default)]
    amount: String,
}

/// The remove button's form: whose budget, and whether the person said yes.
#[derive(Deserialize)]
struct RemoveForm {
    #[serde(flatten)]
    form: BudgetForm,
    #[serde(flatten)]
    answer: Answer,
}

/// The scope a form names: the team, or the user with that email.
/// The budget's holder as the audit log names it.
fn who(user: &str) -> &str {
    match user.trim() {
        "" => "the team",
        email => email,
    }
}

async fn scope_of(state: &AppState, user: &str) -> Result<BudgetScope, String> {
    if user.trim().is_empty() {
        return Ok(BudgetScope::Installation);
    }
    user_id(state, user)
        .await
        .map(BudgetScope::User)
        .map_err(|error| match error {
            AppError::Invalid { errors, .. } => errors
                .errors
                .first()
                .map(|e| format!("User: {}", e.message))
                .unwrap_or_default(),
            other => other.to_string(),
        })
}

async fn set(
    current: CurrentUser,
    client: crate::guard::ClientAddr,
    State(state): State<AppState>,
    PageForm(form): PageForm<BudgetForm>,
) -> AppResult<Response> {
    let mut page = BudgetsPage::load(&state, &current).await?;
    let checked = match scope_of(&state, &form.user).await {
        Ok(scope) => parse_dollars(&form.amount)
            .map(|cents| (scope, cents))
            .map_err(|why| format!("Monthly budget {why}.")),
        Err(why) => Err(format!("{why}.")),
    };
    let (scope, cents) = match checked {
        Ok(checked) => checked,
        Err(message) => {
            page.error = Some(message);
            page.user = form.user;
            page.amount = form.amount;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    state
        .store
        .set_budget(scope, Some(cents), &current.user.email, Utc::now())
        .await?;
    tracing::info!(scope = %scope.key(), cents, by = %current.user.email, "budget set");
    crate::costs::record_budget(
        &state,
        &current.user,
        &client,
        scope,
        who(&form.user),
        Some(cents),
    )
    .await;
    Ok(Redirect::to("/admin/budgets").into_response())
}

async fn remove(
    current: CurrentUser,
    client: crate::guard::ClientAddr,
    State(state): State<AppState>,
    PageForm(RemoveForm { form, answer }): PageForm<RemoveForm>,
) -> AppResult<Response> {
    require(current.user.role, Action::ManageBudgets)?;
    let scope = scope_of(&state, &form.user)
        .await
        .map_err(AppError::BadRequest)?;
    if !answer.given() {
        let question = Question {
            text: format!(
                "Remove the budget for {}? Submissions are no longer warned against it.",
                who(&form.user)
            ),
            yes: "Remove the budget",
            no: "Keep it",
            back: "/admin/budgets".to_owned(),
        };
        let fields = vec![("user".to_owned(), form.user.clone())];
        let action = "/admin/budgets/remove".to_owned();
        return Ok(ask(&current, Section::Budgets, question, action, fields));
    }
    state
        .store
        .set_budget(scope, None, &current.user.email, Utc::now())
        .await?;
    tracing::info!(scope = %scope.key(), by = %current.user.email, "budget removed");
    crate::costs::record_budget(&state, &current.user, &client, scope, who(&form.user), None).await;
    Ok(Redirect::to("/admin/budgets").into_response())
}
