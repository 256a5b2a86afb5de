//! The web app of modelrun: pages for people and a JSON API for scripts,
//! over the store, blob store, executor and kicker traits of
//! `modelrun-core`. It knows no implementation of them: the `modelrun-app`
//! crate picks those and serves the same [`app`] locally (with
//! [`server::serve`]), in the tests and on AWS Lambda.

pub mod api;
mod assets;
pub mod auth;
mod body_limit;
mod bundle;
pub mod costs;
pub mod disk;
mod downloads;
pub mod error;
mod extract;
mod format;
mod forms;
pub mod fresh;
pub mod guard;
mod health;
mod lifecycle;
mod locale;
mod log_download;
pub mod markdown;
pub mod pages;
pub mod policy;
pub mod preview;
mod ranges;
mod run_resources;
pub mod schedules;
pub mod secrets;
pub mod server;
pub mod state;
mod submit;
mod sweep_archive;
pub mod sweeps;
#[cfg(test)]
mod testing;
pub mod uploads;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::middleware;
use axum::response::Response;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;

/// The whole HTTP app.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .merge(auth::routes::router())
        .merge(pages::models::router())
        .merge(pages::model_secrets::router())
        .merge(pages::new_run::router())
        .merge(pages::run::router())
        .merge(pages::bundle::router())
        .merge(pages::sweep_archive::router())
        .merge(pages::preview::router())
        .merge(pages::input_files::router())
        .merge(pages::compare::router())
        .merge(pages::budgets::router())
        .merge(pages::runs::router())
        .merge(pages::schedules::router())
        .merge(pages::sweeps::router())
        .merge(pages::admin::router())
        .merge(pages::account::router())
        .merge(pages::users::router())
        .merge(pages::audit::router())
        .merge(pages::versions::router())
        .merge(pages::promote::router())
        .merge(pages::tasks::router())
        .merge(pages::confirm::router())
        .merge(uploads::routes::router())
        .merge(api::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::csrf::check,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_limit::refuse_oversized,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::timeout::within_request_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::headers::secure_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    AppError::NotFound.respond_to(uri.path())
}
