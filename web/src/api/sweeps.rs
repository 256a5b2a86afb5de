//! Sweeps through the API: submit one (`POST /api/v1/models/{model}/sweeps`),
//! list them, get one with its runs, cancel it, download every output of
//! an ended one (`GET /api/v1/sweeps/{id}/archive`: the zip, a redirect to
//! it, or 202 with `Retry-After` while it is built).

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use modelrun_core::run::Run;
use modelrun_core::schema::{Inputs, ValidationErrors};
use modelrun_core::sweep::{Axis, Sweep, Tally, Variation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::bundle::Fetched;
use crate::error::{ApiResult, AppError};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::guard::ClientAddr;
use crate::policy::{Action, require, visible_submitter};
use crate::run_resources;
use crate::state::AppState;
use crate::submit::{names_production, pick_version};
use crate::sweeps::{self, SweepSubmission, SweepSubmitted};

/// Most sweeps one list answers with.
pub const MAX_LIST: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::MODEL_SWEEPS, post(create))
        .route(paths::SWEEPS, get(list))
        .route(paths::SWEEP, get(detail))
        .route(paths::SWEEP_CANCEL, post(cancel))
        .route(paths::SWEEP_ARCHIVE, get(archive))
}

#[derive(Serialize)]
struct SweepRunJson {
    id: i64,
    /// Its place in the grid, from 0 (on AWS Batch: its array index).
    position: usize,
    status: String,
    /// The values of the varied inputs, by input name.
    values: Map<String, Value>,
    url: String,
}

#[derive(Serialize)]
struct SweepJson {
    id: i64,
    model: String,
    version: String,
    submitted_by: String,
    /// `waiting`, `running`, `succeeded`, `failed` or `cancelled`: what
    /// the runs add up to.
    status: &'static str,
    /// The inputs every run shares.
    inputs: Inputs,
    /// What varies, first axis slowest.
    axes: Vec<Axis>,
    run_count: i64,
    /// How many runs are where.
    tally: Tally,
    created_at: DateTime<Utc>,
    cancelled_at: Option<DateTime<Utc>>,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    runs: Option<Vec<SweepRunJson>>,
}

impl SweepJson {
    fn new(sweep: &Sweep, tally: Tally) -> Self {
        SweepJson {
            id: sweep.id.0,
            model: sweep.model_name.clone(),
            version: sweep.version_label.clone(),
            submitted_by: sweep.submitter_email.clone(),
            status: tally.status(),
            inputs: sweep.inputs.clone(),
            axes: sweep.axes.clone(),
            run_count: sweep.run_count,
            tally,
            created_at: sweep.created_at,
            cancelled_at: sweep.cancelled_at,
            url: format!("/sweeps/{}", sweep.id),
            runs: None,
        }
    }

    fn with_runs(sweep: &Sweep, runs: &[Run]) -> Self {
        let mut json = SweepJson::new(sweep, Tally::of(runs));
        json.runs = Some(
            runs.iter()
                .enumerate()
                .map(|(position, run)| SweepRunJson {
                    id: run.id.0,
                    position,
                    status: run.status.to_string(),
                    values: sweep
                        .axes
                        .iter()
                        .map(|axis| {
                            let value = run.inputs.get(&axis.field).cloned().unwrap_or(Value::Null);
                            (axis.field.clone(), value)
                        })
                        .collect(),
                    url: format!("/runs/{}", run.id),
                })
                .collect(),
        );
        json
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    /// A label, `production` (the default) or `latest`.
    version: Option<String>,
    /// The inputs every run shares.
    #[serde(default)]
    inputs: Map<String, Value>,
    /// Each varied input: `{"from": …, "to": …, "step": …}` or a list.
    vary: Map<String, Value>,
    resources: Option<Map<String, Value>>,
}

/// The variations of `vary`, in the order given, or every one that is not
/// a range or a list.
fn variations(vary: &Map<String, Value>) -> Result<Vec<(String, Variation)>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut variations = Vec::with_capacity(vary.len());
    for (name, value) in vary {
        match serde_json::from_value::<Variation>(value.clone()) {
            Ok(variation) => variations.push((name.clone(), variation)),
            Err(_) => errors.push(
                name,
                "must be a range {\"from\": …, \"to\": …, \"step\": …} of numbers, or a list of values",
            ),
        }
    }
    if errors.is_empty() {
        Ok(variations)
    } else {
        Err(errors)
    }
}

async fn create(
    api: ApiUser,
    client: ClientAddr,
    headers: HeaderMap,
    State(state): State<AppState>,
    ApiPath(model): ApiPath<String>,
    ApiJson(request): ApiJson<CreateRequest>,
) -> ApiResult<Response> {
    require(api.role, Action::SubmitRuns)?;
    let model = state.store.model(&model).await?.ok_or(AppError::NotFound)?;
    let version = pick_version(&model, request.version.as_deref())?;
    let resources = run_resources::from_api(
        &state,
        version,
        request.resources.as_ref(),
        version.resources,
    );
    let uploads =
        crate::uploads::lookup(&state, version.inputs.named_uploads(&request.inputs)).await?;
    let plan = variations(&request.vary)
        .and_then(|vary| sweeps::plan(&state, version, &request.inputs, &vary, &uploads))
        .map_err(|errors| AppError::Invalid {
            summary: "the sweep is not valid",
            errors,
        });
    let (plan, resources) = run_resources::with_inputs(plan, resources)?;
    let submission = SweepSubmission {
        version,
        plan,
        resources,
        key: super::run_submit::idempotency_key(&headers)?,
        production_only: names_production(request.version.as_deref()),
    };
    let submitted = sweeps::submit_sweep(&state, &api.acting(), &client, submission).await?;
    let status = match &submitted {
        SweepSubmitted::Created(_) => StatusCode::CREATED,
        SweepSubmitted::Repeated(_) => StatusCode::OK,
    };
    let sweep = submitted.sweep();
    let runs = state.store.sweep_runs(sweep.id).await?;
    let location = format!("/api/v1/sweeps/{}", sweep.id);
    Ok((
        status,
        [(LOCATION, location)],
        Json(SweepJson::with_runs(sweep, &runs)),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<String>,
}

#[derive(Serialize)]
struct SweepList {
    sweeps: Vec<SweepJson>,
}

async fn list(
    api: ApiUser,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<SweepList>> {
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIST).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIST}"))
            })?,
    };
    let user = api.acting();
    let sweeps = state
        .store
        .sweeps(visible_submitter(&state, &user), limit)
        .await?;
    Ok(Json(SweepList {
        sweeps: sweeps
            .iter()
            .map(|summary| SweepJson::new(&summary.sweep, summary.runs))
            .collect(),
    }))
}

async fn detail(
    api: ApiUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SweepJson>> {
    let sweep = sweeps::visible_sweep(&state, &api.acting(), &id).await?;
    let runs = state.store.sweep_runs(sweep.id).await?;
    Ok(Json(SweepJson::with_runs(&sweep, &runs)))
}

async fn cancel(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SweepJson>> {
    let user = api.acting();
    let sweep = sweeps::visible_sweep(&state, &user, &id).await?;
    sweeps::cancel_sweep(&state, &user, &client, &sweep).await?;
    let sweep = state
        .store
        .sweep(sweep.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let runs = state.store.sweep_runs(sweep.id).await?;
    Ok(Json(SweepJson::with_runs(&sweep, &runs)))
}

async fn archive(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let user = api.acting();
    let sweep = sweeps::visible_sweep(&state, &user, &id).await?;
    Ok(
        match crate::sweep_archive::fetch(&state, &user, &client, &sweep, &headers).await? {
            Fetched::Ready(response) => response,
            Fetched::Preparing => {
                super::bundle::preparing(&format!("the archive of sweep {}", sweep.id))
            }
        },
    )
}
