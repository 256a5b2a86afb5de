//! The JSON API for scripts, behind `Authorization: Bearer <token>`.
//! Errors are `{"error": {"status": …, "message": …}}`, with `fields` for
//! inputs that were refused.

mod jobs;
mod models;
pub mod openapi;
mod runs;
mod secrets;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(jobs::router())
        .merge(models::router())
        .merge(runs::router())
        .merge(secrets::router())
        .merge(openapi::router())
}
