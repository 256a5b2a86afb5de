//! Runs through the API: submit, list, get, download, cancel, log.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use modelrun_core::alias::Alias;
use modelrun_core::manifest::Resources;
use modelrun_core::progress::RunProgress;
use modelrun_core::run::{Run, RunEvent, RunFilter, RunOutput};
use modelrun_core::schema::Inputs;
use modelrun_core::status::RunStatus;
use serde::{Deserialize, Serialize};

use super::openapi as paths;
use super::run_fields::Fields;
use crate::auth::ApiUser;
use crate::error::{ApiResult, AppError};
use crate::extract::{ApiPath, ApiQuery};
use crate::fresh::Built;
use crate::guard::ClientAddr;
use crate::policy::{
    Action, RunsQuery, parse_filter, parse_limit, request_cancel, require, visible_run,
    visible_submitter,
};
use crate::state::AppState;
use crate::{downloads, log_download};

const DEFAULT_LIMIT: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::RUNS, get(list))
        .route(paths::RUN, get(detail))
        .route(paths::RUN_OUTPUT, get(output))
        .route(paths::RUN_FILE, get(input_file))
        .route(paths::RUN_CANCEL, post(cancel))
        .route(paths::RUN_LOG, get(log))
}

#[derive(Serialize)]
struct OutputJson {
    name: String,
    size: i64,
    content_type: String,
    sha256: Option<String>,
    url: String,
}

#[derive(Serialize)]
struct ScheduledByJson {
    id: i64,
    name: String,
    url: String,
}

/// The sweep a run is part of, and its place in the grid.
#[derive(Serialize)]
struct SweepOfJson {
    id: i64,
    /// From 0; on AWS Batch its array index.
    position: usize,
    url: String,
}

#[derive(Serialize)]
pub(super) struct RunJson {
    id: i64,
    model: String,
    version: String,
    /// Whether its version was production or a candidate when it was
    /// submitted; null for runs from before versions had aliases.
    alias: Option<Alias>,
    status: RunStatus,
    status_reason: Option<String>,
    submitted_by: String,
    inputs: Inputs,
    resources: Resources,
    job_id: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    duration_seconds: Option<f64>,
    /// The run this one was started from ("Run again"), if any.
    rerun_of: Option<i64>,
    /// Which attempt of its job the run is on, from 1 (AWS Batch retries
    /// a job after an infrastructure fault).
    attempt: i64,
    /// The latest progress the model reported, as it reported it (a
    /// succeeded run's page shows it complete).
    progress: Option<RunProgress>,
    url: String,
    /// The estimate it was submitted with, beside its actual duration and
    /// cost (a run's own answer only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cost: Option<crate::costs::RunCost>,
    /// The schedule that made the run, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_by: Option<ScheduledByJson>,
    /// The sweep the run is part of, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    sweep: Option<SweepOfJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<RunEvent>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<Vec<OutputJson>>,
}

impl RunJson {
    pub(super) fn new(run: &Run) -> Self {
        RunJson {
            id: run.id.0,
            rerun_of: run.rerun_of.map(|id| id.0),
            model: run.model_name.clone(),
            version: run.version_label.clone(),
            alias: run.alias,
            status: run.status,
            status_reason: run.status_reason.clone(),
            submitted_by: run.submitter_email.clone(),
            inputs: run.inputs.clone(),
            resources: run.resources,
            job_id: run.job_id.clone(),
            created_at: run.created_at,
            started_at: run.started_at,
            finished_at: run.finished_at,
            duration_seconds: run
                .duration(Utc::now())
                .map(|d| d.num_milliseconds() as f64 / 1000.0),
            attempt: run.attempt,
            progress: None,
            url: format!("/runs/{}", run.id),
            cost: None,
            scheduled_by: None,
            sweep: None,
            events: None,
            outputs: None,
        }
    }

    pub(super) fn with_details(mut self, events: Vec<RunEvent>, outputs: &[RunOutput]) -> Self {
        self.events = Some(events);
        self.outputs = Some(
            outputs
                .iter()
                .map(|o| OutputJson {
                    name: o.name.clone(),
                    size: o.size,
                    content_type: o.content_type.clone(),
                    sha256: o.sha256.clone(),
                    url: format!(
                        "/api/v1/runs/{}/outputs/{}",
                        self.id,
                        percent_encoding::utf8_percent_encode(&o.name, PATH_SEGMENTS)
                    ),
                })
                .collect(),
        );
        self
    }
}

/// Escapes what cannot stand in a URL path, keeping `/` between segments.
const PATH_SEGMENTS: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

pub(super) async fn detailed(state: &AppState, run: &Run) -> ApiResult<RunJson> {
    let (events, outputs, progress) = tokio::try_join!(
        state.store.run_events(run.id),
        state.store.run_outputs(run.id),
        state.store.run_progress(run.id)
    )?;
    let mut json = RunJson::new(run).with_details(events, &outputs);
    json.scheduled_by = state
        .store
        .run_schedule(run.id)
        .await?
        .map(|by| ScheduledByJson {
            id: by.id.0,
            url: format!("/schedules/{}", by.id),
            name: by.name,
        });
    json.sweep = state
        .store
        .run_sweep(run.id)
        .await?
        .map(|(id, position)| SweepOfJson {
            id: id.0,
            position,
            url: format!("/sweeps/{id}"),
        });
    json.progress = progress;
    json.cost = Some(crate::costs::run_cost(state, run, Utc::now()).await?);
    Ok(json)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    model: Option<String>,
    version: Option<String>,
    status: Option<String>,
    submitter: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
    /// The properties of each row (`fields=id,status,created_at`); all by default.
    fields: Option<String>,
}

#[derive(Serialize)]
struct RunsJson<Row> {
    runs: Vec<Row>,
    next_cursor: Option<String>,
}

async fn list(
    api: ApiUser,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let limit = parse_limit(query.limit.as_deref(), DEFAULT_LIMIT)?;
    let runs_query = RunsQuery {
        model: query.model,
        version: query.version,
        status: query.status,
        submitter: query.submitter,
        from: query.from,
        to: query.to,
        sort: query.sort,
        before: query.cursor,
    };
    let fields = Fields::parse(query.fields.as_deref())?;
    let mut filter = parse_filter(&runs_query, limit, chrono_tz::Tz::UTC)?;
    filter.submitted_by = visible_submitter(&state, &api.acting());
    // The filter (with whose runs are visible) and the fields are all the
    // body depends on.
    let key = format!("{filter:?}|{fields:?}");
    let body = state
        .caches
        .runs_json
        .get_or_build(state.store.as_ref(), key, || {
            list_body(&state, &filter, fields.as_ref())
        })
        .await?;
    Ok(([(CONTENT_TYPE, "application/json")], Bytes::clone(&body)).into_response())
}

/// The JSON of one page of runs, each with its latest progress; kept
/// unless a run on it is running, whose `duration_seconds` grows with the
/// clock.
async fn list_body(
    state: &AppState,
    filter: &RunFilter,
    fields: Option<&Fields>,
) -> Result<Built<Bytes>, AppError> {
    let page = state.store.list_runs(filter).await?;
    let keep = page.items.iter().all(|run| !run.duration_grows());
    let next_cursor = page.next.map(|id| id.to_string());
    let ids: Vec<_> = page.items.iter().map(|run| run.id).collect();
    let mut progress = state.store.runs_progress(&ids).await?;
    let rows = page.items.iter().map(|run| RunJson {
        progress: progress.remove(&run.id),
        ..RunJson::new(run)
    });
    let body = match fields {
        None => serde_json::to_vec(&RunsJson {
            runs: rows.collect(),
            next_cursor,
        }),
        Some(fields) => {
            let runs = rows
                .map(
                    |row| Ok(fields.select(serde_json::to_value(row).map_err(AppError::internal)?)),
                )
                .collect::<Result<Vec<_>, AppError>>()?;
            serde_json::to_vec(&RunsJson { runs, next_cursor })
        }
    };
    Ok(Built {
        answer: body.map(Bytes::from).map_err(AppError::internal)?,
        keep,
    })
}

async fn detail(
    api: ApiUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RunJson>> {
    let run = visible_run(&state, &api.acting(), &id).await?;
    Ok(Json(detailed(&state, &run).await?))
}

async fn output(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((id, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let user = api.acting();
    let run = visible_run(&state, &user, &id).await?;
    Ok(downloads::output(&state, &user, &client, &run, &name, &headers).await?)
}

/// The file a file input of the run was given.
async fn input_file(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((id, input)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let user = api.acting();
    let run = visible_run(&state, &user, &id).await?;
    Ok(downloads::input_file(&state, &user, &client, &run, &input, &headers).await?)
}

async fn log(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let user = api.acting();
    let run = visible_run(&state, &user, &id).await?;
    downloads::audit_download(&state, &user, &client, &run, "log").await;
    Ok(log_download::log(&state, run))
}

async fn cancel(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    require(api.role, Action::CancelRuns)?;
    let user = api.acting();
    let run = visible_run(&state, &user, &id).await?;
    request_cancel(&state, &user, &client, &run).await?;
    let run = state.store.run(run.id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::ACCEPTED, Json(detailed(&state, &run).await?)).into_response())
}
