//! The job API: how a job on AWS Batch, with its run's job token
//! ([`modelrun_core::job_access`]), reads its inputs and stores its outputs.
//! Each answer is a presigned S3 request, good for
//! [`JOB_URL_TTL`]. A job token answers for its own run only, and only until
//! the run ends; no other part of the API accepts it.
//!
//! - `GET /api/v1/jobs/{run}/inputs` → `{"method": "GET", "url": …, "headers": {}}`
//! - `GET /api/v1/jobs/{run}/files/{input}` → the same, for the upload that
//!   the run's file input `input` holds; 404 for any other name.
//! - `POST /api/v1/jobs/{run}/outputs` with `{"name", "size", "sha256",
//!   "content_type"}` → `{"method": "PUT", "url": …, "headers": {…}}`, a
//!   request that stores exactly that file under the run's outputs.
//! - `POST /api/v1/jobs/{run}/progress` with `{"fraction", "message"}` →
//!   204: the model's latest progress ([`modelrun_core::progress`]), which
//!   `modelrun exec` sends at most once a second.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use modelrun_core::blob::{BlobKey, PutObject};
use modelrun_core::ids::RunId;
use modelrun_core::job_access::{
    JOB_FILE_ROUTE, JOB_TOKEN_PREFIX, JOB_URL_TTL, OutputUpload, Presigned, hash_job_token,
    hash_sweep_job_token,
};
use modelrun_core::progress::Progress;
use modelrun_core::run::Run;
use modelrun_core::schema::FileRef;

use super::openapi::{JOB_INPUTS, JOB_OUTPUTS, JOB_PROGRESS};
use crate::auth::bearer_token;
use crate::error::{ApiError, ApiResult, AppError};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(JOB_INPUTS, get(inputs))
        .route(JOB_OUTPUTS, post(output))
        .route(JOB_PROGRESS, post(progress))
        .route(JOB_FILE_ROUTE, get(input_file))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError(AppError::Rejected(
        StatusCode::UNAUTHORIZED,
        message.to_owned(),
    ))
}

/// The run whose job presents its token, checked before the body is read:
/// 401 without a valid job token (a sweep's token is valid for the runs of
/// its sweep only), 403 for another run's path, 409 once the run has ended.
struct JobRun(Run);

impl FromRequestParts<AppState> for JobRun {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .filter(|token| token.starts_with(JOB_TOKEN_PREFIX))
            .map(str::to_owned)
            .ok_or_else(|| {
                unauthorized("send the run's job token as `Authorization: Bearer mrj_…`")
            })?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(AppError::NotFound))?;
        let id = params.get("id").and_then(|id| id.parse::<RunId>().ok());
        let owner = match (
            state.store.job_token_run(&hash_job_token(&token)).await?,
            id,
        ) {
            (Some(owner), _) => Some(owner),
            // A sweep's one token is kept once for each run of the sweep.
            (None, Some(id)) => {
                let hash = hash_sweep_job_token(&token, id);
                state.store.job_token_run(&hash).await?
            }
            (None, None) => None,
        };
        let Some(owner) = owner else {
            return Err(unauthorized("the job token is not valid"));
        };
        if id != Some(owner) {
            return Err(ApiError(AppError::Forbidden(format!(
                "this job token is for run {owner} only"
            ))));
        }
        let run = state.store.run(owner).await?.ok_or(AppError::NotFound)?;
        if run.status.is_terminal() {
            return Err(ApiError(AppError::Conflict(format!(
                "run {owner} has ended ({}); its job token no longer works",
                run.status
            ))));
        }
        Ok(JobRun(run))
    }
}

fn signed(presigned: Option<Presigned>) -> ApiResult<Json<Presigned>> {
    presigned.map(Json).ok_or_else(|| {
        ApiError(AppError::Conflict(
            "this server keeps run files in a local directory: the job API serves jobs on AWS \
             Batch, whose files are in S3"
                .to_owned(),
        ))
    })
}

async fn inputs(State(state): State<AppState>, JobRun(run): JobRun) -> ApiResult<Json<Presigned>> {
    let url = state
        .blob
        .presign_get(&BlobKey::run_inputs(run.id), "inputs.json", JOB_URL_TTL)
        .await?;
    signed(url.map(|url| Presigned {
        method: "GET".to_owned(),
        url,
        headers: Default::default(),
    }))
}

/// A presigned GET of the file that the run's input `input` holds.
async fn input_file(
    State(state): State<AppState>,
    JobRun(run): JobRun,
    Path((_, input)): Path<(String, String)>,
) -> ApiResult<Json<Presigned>> {
    let Some(file) = run.inputs.get(&input).and_then(FileRef::from_value) else {
        return Err(ApiError(AppError::Rejected(
            StatusCode::NOT_FOUND,
            format!("run {} has no file input named {input:?}", run.id),
        )));
    };
    let key = BlobKey::input_file(&file)?;
    let url = state
        .blob
        .presign_get(&key, &file.name, JOB_URL_TTL)
        .await?;
    signed(url.map(|url| Presigned {
        method: "GET".to_owned(),
        url,
        headers: Default::default(),
    }))
}

async fn output(
    State(state): State<AppState>,
    JobRun(run): JobRun,
    ApiJson(upload): ApiJson<OutputUpload>,
) -> ApiResult<Json<Presigned>> {
    upload.check().map_err(AppError::BadRequest)?;
    let key = BlobKey::run_output(run.id, &upload.name)
        .map_err(|error| AppError::BadRequest(format!("name: {error}")))?;
    let put = PutObject {
        size: upload.size,
        sha256: &upload.sha256.to_ascii_lowercase(),
        content_type: &upload.content_type,
    };
    signed(state.blob.presign_put(&key, &put, JOB_URL_TTL).await?)
}

/// Records the model's latest progress: 422 naming the field for a
/// fraction outside 0–1.
async fn progress(
    State(state): State<AppState>,
    JobRun(run): JobRun,
    ApiJson(report): ApiJson<Progress>,
) -> ApiResult<StatusCode> {
    let progress = report
        .normalized()
        .map_err(|message| AppError::Rejected(StatusCode::UNPROCESSABLE_ENTITY, message))?;
    state
        .store
        .record_progress(run.id, &progress, chrono::Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
