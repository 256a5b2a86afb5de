//! Refusing a body that announces itself as too large. Clients that send
//! `Expect: 100-continue` (curl does) are answered before they send it.
//! Others (Python's `http.client` and `urllib`, most scripts) send the
//! whole body before they read the answer: closing the connection on an
//! unread body makes the kernel reset it, and they see a broken pipe instead
//! of the 413. So a body up to [`DRAIN_BYTES`] is read and thrown away, for
//! at most [`DRAIN_TIME`], before the answer; a larger one is refused at
//! once, unread. Bodies without a length are cut off at the same limit as
//! they are read (axum's `DefaultBodyLimit`).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, EXPECT};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;

use crate::error::AppError;
use crate::state::AppState;

/// The largest refused body that is read before the answer: a few MiB
/// take well under a second on a local network, and cost nothing to keep.
const DRAIN_BYTES: u64 = 4 * 1024 * 1024;

/// How long a refused body is read at most: a slow client gets its answer
/// on time, and may then see its connection reset.
const DRAIN_TIME: Duration = Duration::from_secs(5);

pub async fn refuse_oversized(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = limit_for(&request, &state.config);
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match announced {
        Some(length) if length > limit as u64 => {
            let path = request.uri().path().to_owned();
            if length <= DRAIN_BYTES && !waits_for_continue(request.headers()) {
                drain(request.into_body()).await;
            }
            AppError::TooLarge(format!(
                "the request body is larger than the limit of {limit} bytes"
            ))
            .respond_to(&path)
        }
        _ => next.run(request).await,
    }
}

/// The largest body a request may announce: a file's upload and a run form
/// that carries files (`multipart/form-data`) take up to `max_upload_bytes`
/// more (each file is counted again as it arrives); everything else
/// `max_body_bytes`.
fn limit_for(request: &Request, config: &modelrun_core::config::WebConfig) -> usize {
    let path = request.uri().path();
    let method = request.method();
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let takes_files = (method == axum::http::Method::PUT
        && (path.starts_with("/uploads/") || path.starts_with("/api/v1/uploads/")))
        || (method == axum::http::Method::POST
            && multipart
            && path.starts_with("/models/")
            && path.ends_with("/runs/new"));
    if takes_files {
        usize::try_from(config.max_upload_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(config.max_body_bytes)
    } else {
        config.max_body_bytes
    }
}

/// Whether the client waits for `100 Continue` before it sends the body:
/// reading the body would ask it to send what is refused anyway.
fn waits_for_continue(headers: &HeaderMap) -> bool {
    headers
        .get(EXPECT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("100-continue"))
}

/// Reads the body to its end and drops it, within [`DRAIN_TIME`]. hyper
/// stops at the announced length, so this reads at most that.
async fn drain(body: Body) {
    let mut frames = body.into_data_stream();
    let read_all = async { while let Some(Ok(_)) = frames.next().await {} };
    if tokio::time::timeout(DRAIN_TIME, read_all).await.is_err() {
        tracing::debug!("a refused body was still arriving when its answer was sent");
    }
}
