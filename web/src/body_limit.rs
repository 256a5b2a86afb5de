//! Refusing a body that announces itself as too large before reading any
//! of it. Clients that send `Expect: 100-continue` (curl does) never send
//! it at all. Bodies without a length are cut off at the same limit as they
//! are read (axum's `DefaultBodyLimit`).

use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::AppError;
use crate::state::AppState;

pub async fn refuse_oversized(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.config.max_body_bytes;
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match announced {
        Some(length) if length > limit as u64 => {
            let error = AppError::TooLarge(format!(
                "the request body is larger than the limit of {limit} bytes"
            ));
            error.respond_to(request.uri().path())
        }
        _ => next.run(request).await,
    }
}
