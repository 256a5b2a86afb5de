//! All runs, newest first, filtered by model and status, a page at a time.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::Utc;
use chrono_tz::Tz;
use modelrun_core::ids::RunId;
use modelrun_core::progress::RunProgress;
use modelrun_core::run::{Page, Run, RunFilter};
use modelrun_core::status::RunStatus;
use serde::Deserialize;

use super::progress::ProgressView;
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::fresh::Built;
use crate::locale::{LocalTime, Locale};
use crate::policy::{RunsQuery, parse_filter, parse_limit};
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
    pub created: LocalTime,
    pub created_ago: String,
    pub duration: String,
    /// A small bar, for an active run whose model reports progress.
    pub progress: Option<ProgressView>,
}

impl RunRow {
    /// The row as `locale` reads it.
    pub fn new(run: &Run, locale: &Locale) -> Self {
        let now = Utc::now();
        RunRow {
            id: run.id,
            model: run.model_name.clone(),
            version: run.version_label.clone(),
            status: run.status,
            submitter: run.submitter_email.clone(),
            created: locale.time(run.created_at),
            created_ago: format::ago(run.created_at, now),
            duration: run.duration(now).map(format::duration).unwrap_or_default(),
            progress: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "runs.html")]
struct RunsPage {
    nav: Nav,
    runs: Vec<RunRow>,
    models: Vec<String>,
    statuses: Vec<String>,
    query: RunsQuery,
    /// The zone of the table's times and of the date filter.
    runs_zone: &'static str,
    filtered: bool,
    next: Option<String>,
    /// Why the filter was refused (a day not written YYYY-MM-DD…): said
    /// above the form, which keeps what was typed.
    error: Option<String>,
}

/// The API's paging words, which the page reads as the API does: `limit`
/// (rows a page) and `cursor` (the same as the page's own `before`).
#[derive(Debug, Deserialize)]
struct Paging {
    limit: Option<String>,
    cursor: Option<String>,
}

/// The page's filter, refused as the API refuses it.
fn filter_of(query: &mut RunsQuery, paging: Paging, zone: Tz) -> AppResult<RunFilter> {
    let limit = parse_limit(paging.limit.as_deref(), PAGE)?;
    if let Some(cursor) = paging.cursor.filter(|c| !c.trim().is_empty()) {
        cursor.trim().parse::<RunId>().map_err(|_| {
            AppError::BadRequest(format!("the cursor must be a run number, not {cursor:?}"))
        })?;
        // Two names for one place in the list: one of them, or the same.
        if let Some(before) = query.before.as_deref().filter(|b| !b.trim().is_empty())
            && before.trim() != cursor.trim()
        {
            return Err(AppError::BadRequest(format!(
                "before ({before}) and cursor ({cursor}) name the same place in the list; give one"
            )));
        }
        query.before = Some(cursor);
    }
    parse_filter(query, limit, zone)
}

/// What the page shows of the database, the same for everyone who may see
/// these runs: kept while the database has not changed (see
/// [`crate::fresh`]).
#[derive(Debug)]
pub struct Listed {
    page: Page<Run>,
    /// The latest progress of the runs still active.
    progress: HashMap<RunId, RunProgress>,
    models: Vec<String>,
}

/// Always kept: the times shown are worked out from it at each request.
async fn listed(state: &AppState, filter: &RunFilter) -> AppResult<Built<Listed>> {
    let models = state.store.model_names().await?;
    let page = state.store.list_runs(filter).await?;
    let active: Vec<RunId> = page
        .items
        .iter()
        .filter(|run| !run.status.is_terminal())
        .map(|run| run.id)
        .collect();
    let progress = state.store.runs_progress(&active).await?;
    Ok(Built {
        answer: Listed {
            page,
            progress,
            models,
        },
        keep: true,
    })
}

async fn list(
    current: CurrentUser,
    State(state): State<AppState>,
    Query(mut query): Query<RunsQuery>,
    Query(paging): Query<Paging>,
) -> AppResult<(StatusCode, RunsPage)> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let mut filter = match filter_of(&mut query, paging, locale.zone) {
        Ok(filter) => filter,
        Err(AppError::BadRequest(error)) => {
            let page = RunsPage {
                nav: Nav::new(&user, &csrf, Section::Runs),
                runs: Vec::new(),
                runs_zone: locale.zone_name(),
                models: state.store.model_names().await?,
                statuses: statuses(),
                filtered: !query.pairs().is_empty(),
                query,
                next: None,
                error: Some(error),
            };
            return Ok((StatusCode::BAD_REQUEST, page));
        }
        Err(other) => return Err(other),
    };
    filter.submitted_by = crate::policy::visible_submitter(&state, &user);
    // The filter (days in the reader's zone, whose runs are visible) is
    // all the kept part depends on.
    let listed = state
        .caches
        .runs_page
        .get_or_build(state.store.as_ref(), format!("{filter:?}"), || {
            listed(&state, &filter)
        })
        .await?;
    let next = listed.page.next.map(|before| {
        let mut link = format!("before={before}");
        if filter.limit != PAGE {
            link.push_str(&format!("&limit={}", filter.limit));
        }
        for (key, value) in query.pairs() {
            let value =
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
            link.push_str(&format!("&{key}={value}"));
        }
        link
    });
    let page = RunsPage {
        nav: Nav::new(&user, &csrf, Section::Runs),
        runs: listed
            .page
            .items
            .iter()
            .map(|run| RunRow {
                progress: ProgressView::of(
                    run.status,
                    listed.progress.get(&run.id).cloned(),
                    &locale,
                ),
                ..RunRow::new(run, &locale)
            })
            .collect(),
        runs_zone: locale.zone_name(),
        models: listed.models.clone(),
        statuses: statuses(),
        filtered: !query.pairs().is_empty(),
        query,
        next,
        error: None,
    };
    Ok((StatusCode::OK, page))
}

/// Every status, for the filter's choice.
fn statuses() -> Vec<String> {
    RunStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect()
}
