//! The web app of modelrun: pages for people and a JSON API for scripts,
//! over the store, blob store, executor and kicker traits of
//! `modelrun-core`. It knows no implementation of them: the `modelrun-app`
//! crate picks those and serves the same [`app`] locally, in the tests and
//! on AWS Lambda.

pub mod api;
mod assets;
pub mod auth;
mod body_limit;
mod downloads;
pub mod error;
mod extract;
mod format;
mod forms;
pub mod guard;
mod health;
mod log_download;
pub mod markdown;
pub mod pages;
pub mod policy;
pub mod preview;
pub mod secrets;
pub mod state;
mod submit;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum::http::Uri;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use tower_http::trace::TraceLayer;

use crate::error::{ApiError, AppError};
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
        .merge(pages::preview::router())
        .merge(pages::compare::router())
        .merge(pages::runs::router())
        .merge(pages::admin::router())
        .merge(pages::account::router())
        .merge(pages::users::router())
        .merge(pages::audit::router())
        .merge(pages::versions::router())
        .merge(pages::tasks::router())
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
            guard::headers::secure_headers,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The app as a server's service: each request knows its peer's address.
pub fn service(state: AppState) -> IntoMakeServiceWithConnectInfo<Router, SocketAddr> {
    app(state).into_make_service_with_connect_info::<SocketAddr>()
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(AppError::NotFound).into_response()
    } else {
        AppError::NotFound.into_response()
    }
}
