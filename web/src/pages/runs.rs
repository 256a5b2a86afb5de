//! All runs, newest first, filtered by model and status, a page at a time.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use chrono::Utc;
use modelrun_core::ids::RunId;
use modelrun_core::run::{Run, RunFilter};
use modelrun_core::status::RunStatus;
use serde::Deserialize;

use super::Nav;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::state::AppState;

const PAGE: u32 = 25;

pub fn router() -> Router<AppState> {
    Router::new().route("/runs", get(list))
}

/// A run as one row of a table.
#[derive(Debug)]
pub struct RunRow {
    pub id: RunId,
    pub model: String,
    pub version: String,
    pub status: RunStatus,
    pub submitter: String,
    pub created: String,
    pub created_ago: String,
    pub duration: String,
}

impl RunRow {
    pub fn new(run: &Run) -> Self {
        let now = Utc::now();
        RunRow {
            id: run.id,
            model: run.model_name.clone(),
            version: run.version_label.clone(),
            status: run.status,
            submitter: run.submitter_email.clone(),
            created: format::timestamp(run.created_at),
            created_ago: format::ago(run.created_at, now),
            duration: run.duration(now).map(format::duration).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    model: Option<String>,
    status: Option<String>,
    before: Option<String>,
}

impl RunsQuery {
    pub fn new(model: Option<String>, status: Option<String>, before: Option<String>) -> Self {
        RunsQuery {
            model,
            status,
            before,
        }
    }
}

/// Empty form fields mean "any".
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Reads the filter from the query string, refusing what cannot be a filter.
pub fn parse_filter(query: &RunsQuery, limit: u32) -> Result<RunFilter, AppError> {
    let status = given(&query.status)
        .map(|s| {
            s.parse::<RunStatus>().map_err(|_| {
                let all: Vec<_> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
                AppError::BadRequest(format!("status must be one of: {}", all.join(", ")))
            })
        })
        .transpose()?;
    let before = given(&query.before)
        .map(|b| {
            b.parse::<RunId>()
                .map_err(|_| AppError::BadRequest("the cursor must be a run number".to_owned()))
        })
        .transpose()?;
    Ok(RunFilter {
        model: given(&query.model).map(str::to_owned),
        status,
        before,
        limit,
        ..RunFilter::default()
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "runs.html")]
struct RunsPage {
    nav: Nav,
    runs: Vec<RunRow>,
    models: Vec<String>,
    statuses: Vec<String>,
    model: String,
    status: String,
    next: Option<String>,
}

async fn list(
    CurrentUser { user, csrf, .. }: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<RunsQuery>,
) -> AppResult<RunsPage> {
    let mut filter = parse_filter(&query, PAGE)?;
    filter.submitted_by = super::run::visible_submitter(&state, &user);
    let page = state.store.list_runs(&filter).await?;
    let models = state
        .store
        .models()
        .await?
        .into_iter()
        .map(|m| m.model.name)
        .collect();
    let model = filter.model.clone().unwrap_or_default();
    let status = filter
        .status
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let next = page.next.map(|before| {
        let mut query = format!("before={before}");
        for (key, value) in [("model", &model), ("status", &status)] {
            if !value.is_empty() {
                query.push_str(&format!(
                    "&{key}={}",
                    percent_encoding::utf8_percent_encode(
                        value,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                ));
            }
        }
        query
    });
    Ok(RunsPage {
        nav: Nav::new(&user, &csrf, "runs"),
        runs: page.items.iter().map(RunRow::new).collect(),
        models,
        statuses: RunStatus::ALL
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        model,
        status,
        next,
    })
}
