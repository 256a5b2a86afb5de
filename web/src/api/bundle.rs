//! `GET /api/v1/runs/{id}/bundle` and `GET /api/v1/runs/{id}/outputs.zip`:
//! an ended run's reproducibility bundle, and the zip of all its outputs.
//! `200` with the zip (one machine), `303` to a short-lived presigned URL
//! (S3), or `202` with `Retry-After` while the worker builds it; `409` for
//! a run that has not ended.

use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::json;

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::bundle::{Fetched, RETRY_AFTER_SECONDS, RunZip, fetch};
use crate::error::ApiResult;
use crate::extract::ApiPath;
use crate::guard::ClientAddr;
use crate::policy::visible_run;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            paths::RUN_BUNDLE,
            get(download).layer(Extension(RunZip::Bundle)),
        )
        .route(
            paths::RUN_OUTPUTS_ZIP,
            get(download).layer(Extension(RunZip::Outputs)),
        )
}

async fn download(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    Extension(zip): Extension<RunZip>,
) -> ApiResult<Response> {
    let user = api.acting();
    let run = visible_run(&state, &user, &id).await?;
    Ok(
        match fetch(&state, &user, &client, &run, zip, &headers).await? {
            Fetched::Ready(response) => response,
            Fetched::Preparing => preparing(&zip.what(&run)),
        },
    )
}

/// `202` with `Retry-After`: `what` ("the bundle of run 4") is being made.
pub(super) fn preparing(what: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        [(RETRY_AFTER, RETRY_AFTER_SECONDS.to_string())],
        Json(json!({
            "status": "preparing",
            "message": format!("{what} is being made; ask again in {RETRY_AFTER_SECONDS} s"),
            "retry_after_seconds": RETRY_AFTER_SECONDS,
        })),
    )
        .into_response()
}
