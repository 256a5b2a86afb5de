//! The JSON API for scripts, behind `Authorization: Bearer <token>`.
//! Every error is `{"error": {"status": …, "message": …}}`, with `fields`
//! for inputs that were refused: refusals of a request's path, query or
//! body and of its method too.

mod bundle;
mod costs;
mod jobs;
mod models;
pub mod openapi;
mod promote;
mod run_fields;
mod run_submit;
mod runs;
mod schedules;
mod secrets;
mod sweeps;

use axum::Router;
use axum::http::{Method, StatusCode};

use crate::error::{ApiError, AppError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(costs::router())
        .merge(bundle::router())
        .merge(jobs::router())
        .merge(models::router())
        .merge(promote::router())
        .merge(runs::router())
        .merge(run_submit::router())
        .merge(schedules::router())
        .merge(secrets::router())
        .merge(sweeps::router())
        .merge(openapi::router())
        .method_not_allowed_fallback(method_not_allowed)
}

/// 405 for a method a route does not answer; axum adds the `Allow` header.
async fn method_not_allowed(method: Method) -> ApiError {
    ApiError(AppError::Rejected(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "this address does not answer {method}; the Allow header lists the methods it does"
        ),
    ))
}
