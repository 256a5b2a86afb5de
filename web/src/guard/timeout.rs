//! Every request is answered within the request timeout
//! ([`ConnectionLimits::request_timeout`](modelrun_core::config::ConnectionLimits)):
//! a client that sends its body slowly, or a handler stuck on a dependency,
//! gets `408` instead of holding a connection for ever.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::AppError;
use crate::state::AppState;

pub async fn within_request_timeout(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.config.connections.request_timeout;
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, "request timed out");
            AppError::Rejected(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request was not complete within {} s; send it again",
                    limit.as_secs()
                ),
            )
            .respond_to(&path)
        }
    }
}
