//! All runs, newest first, filtered by model and status, a page at a time.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
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
    pub model: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
    /// The submitter's email.
    pub submitter: Option<String>,
    /// Created on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Created on or before this day (YYYY-MM-DD).
    pub to: Option<String>,
    /// `newest` (default) or `oldest`.
    pub sort: Option<String>,
    /// The cursor of the previous page.
    pub before: Option<String>,
}

impl RunsQuery {
    /// The filter as query pairs, for links to the next page.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("model", &self.model),
            ("version", &self.version),
            ("status", &self.status),
            ("submitter", &self.submitter),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter_map(|(key, value)| given(value).map(|value| (key, value)))
        .collect()
    }
}

/// Empty form fields mean "any".
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn day(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    value
        .map(|text| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                AppError::BadRequest(format!(
                    "{field} must be a date such as 2026-11-01, not {text:?}"
                ))
            })
        })
        .transpose()
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
    let oldest_first = match given(&query.sort) {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "sort must be newest or oldest, not {other:?}"
            )));
        }
    };
    let midnight = |date: NaiveDate| Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN));
    let from = day("from", given(&query.from))?;
    let to = day("to", given(&query.to))?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(AppError::BadRequest(format!(
            "from ({from}) must not be after to ({to})"
        )));
    }
    Ok(RunFilter {
        model: given(&query.model).map(str::to_owned),
        version: given(&query.version).map(str::to_owned),
        status,
        submitter: given(&query.submitter).map(|email| email.to_lowercase()),
        created_from: from.map(midnight),
        created_until: to.and_then(|to| to.succ_opt()).map(midnight),
        oldest_first,
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
    query: RunsQuery,
    filtered: bool,
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
    let next = page.next.map(|before| {
        let mut link = format!("before={before}");
        for (key, value) in query.pairs() {
            let value =
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
            link.push_str(&format!("&{key}={value}"));
        }
        link
    });
    Ok(RunsPage {
        nav: Nav::new(&user, &csrf, "runs"),
        runs: page.items.iter().map(RunRow::new).collect(),
        models,
        statuses: RunStatus::ALL
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        filtered: !query.pairs().is_empty(),
        query,
        next,
    })
}
