//! Submitting runs through the API: a new run of a model, and a new run
//! from an earlier one ("Run again"), both answered with the run.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use modelrun_core::estimate::Estimate;
use modelrun_core::run::{Run, RunEvent};
use modelrun_core::schema::Inputs;
use serde::Deserialize;

use super::openapi as paths;
use super::runs::{RunJson, detailed};
use crate::auth::ApiUser;
use crate::costs::RunCost;
use crate::error::{ApiResult, AppError};
use crate::extract::{ApiJson, ApiPath};
use crate::guard::ClientAddr;
use crate::policy::{Action, require, visible_run};
use crate::state::AppState;
use crate::submit::{MAX_KEY_CHARS, Submission, Submitted, names_production, pick_version, submit};
use crate::{run_resources, uploads};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::MODEL_RUNS, post(create))
        .route(paths::RUN_RERUN, post(rerun))
}

/// What [`detailed`] says of a run its request just created, as it was
/// created: `queued`, with its first event, no outputs, progress, schedule
/// or sweep, and the estimate the submission recorded. Nothing is read
/// back: events the worker may have added meanwhile are left to the run's
/// own endpoint, so that the answer never shows a `queued` run with a
/// later status's event.
fn created(run: &Run, estimate: Option<Estimate>) -> RunJson {
    let mut json = RunJson::new(run).with_details(vec![RunEvent::submitted(run)], &[]);
    json.cost = Some(RunCost::of(run, estimate, Utc::now()));
    json
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitRequest {
    #[serde(default)]
    inputs: serde_json::Map<String, serde_json::Value>,
    version: Option<String>,
    /// Compute for this run; each part left out is the version's value.
    resources: Option<serde_json::Map<String, serde_json::Value>>,
}

async fn create(
    api: ApiUser,
    client: ClientAddr,
    headers: HeaderMap,
    State(state): State<AppState>,
    ApiPath(model): ApiPath<String>,
    ApiJson(request): ApiJson<SubmitRequest>,
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
    let inputs = uploads::validate(&state, &version.inputs, &request.inputs).await;
    let (inputs, resources) = run_resources::with_inputs(inputs, resources)?;
    let submission = Submission {
        version,
        inputs,
        resources,
        key: idempotency_key(&headers)?,
        rerun_of: None,
        production_only: names_production(request.version.as_deref()),
    };
    let submitted = submit(&state, &api.acting(), &client, submission).await?;
    submitted_response(&state, submitted).await
}

/// 201 with the new run, or 200 with the run a repeated key made; with
/// its address in `Location`.
async fn submitted_response(state: &AppState, submitted: Submitted) -> ApiResult<Response> {
    let (status, body, run) = match submitted {
        Submitted::Created { run, estimate } => (
            StatusCode::CREATED,
            created(&run, estimate.map(|e| *e)),
            run,
        ),
        Submitted::Repeated(run) => (StatusCode::OK, detailed(state, &run).await?, run),
    };
    let location = format!("/api/v1/runs/{}", run.id);
    Ok((status, [(LOCATION, location)], Json(body)).into_response())
}

/// The optional `Idempotency-Key` header: a retried request with the same
/// key answers with the run the first one created (200 instead of 201).
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| (1..=MAX_KEY_CHARS).contains(&key.len()))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_owned()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RerunRequest {
    /// Inputs to change; the others are the origin's.
    #[serde(default)]
    inputs: Inputs,
    /// `same` (default: the origin's version), `latest`, or a label.
    version: Option<String>,
    /// Resources to change; the others are the origin's.
    resources: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A new run from an earlier one: its inputs, with changes, on its version
/// or another. The new run names its origin.
async fn rerun(
    api: ApiUser,
    client: ClientAddr,
    headers: HeaderMap,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RerunRequest>,
) -> ApiResult<Response> {
    let user = api.acting();
    require(user.role, Action::SubmitRuns)?;
    let origin = visible_run(&state, &user, &id).await?;
    let model = state
        .store
        .model(&origin.model_name)
        .await?
        .ok_or(AppError::NotFound)?;
    // "same" (or none) keeps the origin's version; another label is picked
    // as a submit's is.
    let label = request
        .version
        .as_deref()
        .map(str::trim)
        .filter(|label| *label != "same");
    let version = match label {
        None => model
            .versions
            .iter()
            .find(|v| v.id == origin.version_id)
            .filter(|v| v.is_active())
            .ok_or_else(|| {
                AppError::Conflict(format!(
                    "version {} is retired; pass \"version\": \"production\", \"latest\" or a label",
                    origin.version_label
                ))
            })?,
        Some(label) => pick_version(&model, Some(label))?,
    };
    let mut inputs: Inputs = origin
        .inputs
        .iter()
        .filter(|(name, _)| version.inputs.field(name).is_some())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    inputs.extend(request.inputs);
    // The origin's resources, unless changed, within this version's bounds.
    let resources = run_resources::from_api(
        &state,
        version,
        request.resources.as_ref(),
        origin.resources,
    );
    let inputs = uploads::validate(&state, &version.inputs, &inputs).await;
    let (inputs, resources) = run_resources::with_inputs(inputs, resources)?;
    let submission = Submission {
        version,
        inputs,
        resources,
        key: idempotency_key(&headers)?,
        rerun_of: Some(origin.id),
        production_only: label.is_some() && names_production(label),
    };
    let submitted = submit(&state, &user, &client, submission).await?;
    submitted_response(&state, submitted).await
}
