//! Downloading a run's outputs and input files. An output is found by its
//! exact recorded name, never by a path built from the request, so no name
//! can reach outside its run. Bodies are streamed, never held whole. From a
//! local directory a file is served as a file (tower-http's `ServeFile`):
//! large reads, and `Range` requests answered `206` so that an interrupted
//! download resumes; from S3, a presigned URL, which S3 serves the same way.

use std::time::Duration;

use axum::body::Body;
use std::path::Path;

use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, IF_MODIFIED_SINCE, IF_RANGE,
    IF_UNMODIFIED_SINCE, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::blob::{BlobKey, attachment_disposition};
use modelrun_core::run::Run;
use modelrun_core::user::User;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::ranges;
use crate::state::AppState;

/// How long a presigned download URL lives.
pub const PRESIGNED_TTL: Duration = Duration::from_secs(10 * 60);

/// `attachment`, with the output's name.
pub fn attachment(name: &str) -> HeaderValue {
    HeaderValue::from_str(&attachment_disposition(name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Records a download in the audit log: which run, and which file; not
/// the later parts of a download already begun
/// ([`ranges::continues_download`]).
pub async fn audit_file_download(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    file: &str,
    request: &HeaderMap,
) {
    if !ranges::continues_download(request) {
        audit_download(state, user, client, run, file).await;
    }
}

/// Records a download in the audit log: which run, and which file.
pub async fn audit_download(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    file: &str,
) {
    let entry = NewAuditEntry::new(
        Actor::user(user.id, &user.email),
        AuditAction::Download,
        format!("run {}", run.id),
    )
    .detail(serde_json::json!({ "file": file }))
    .from_address(client.as_str());
    audit(state, entry).await;
}

/// One output of a run, as a download (or the ranges of it `request` asks
/// for), recorded in the audit log. The
/// presigned URL itself is never logged.
pub async fn output(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    name: &str,
    request: &HeaderMap,
) -> AppResult<Response> {
    let outputs = state.store.run_outputs(run.id).await?;
    let output = outputs
        .into_iter()
        .find(|o| o.name == name)
        .ok_or(AppError::NotFound)?;
    let key = BlobKey::run_output(run.id, &output.name)?;
    audit_file_download(state, user, client, run, &output.name, request).await;
    stored(state, &key, &output.name, &output.content_type, request).await
}

/// The file of a run's file input, as a download, recorded in the audit
/// log as `inputs/<input>/<name>`.
pub async fn input_file(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    input: &str,
    request: &HeaderMap,
) -> AppResult<Response> {
    let file = run
        .inputs
        .get(input)
        .and_then(modelrun_core::schema::FileRef::from_value)
        .ok_or(AppError::NotFound)?;
    let key = BlobKey::input_file(&file)?;
    audit_file_download(
        state,
        user,
        client,
        run,
        &format!("inputs/{input}/{}", file.name),
        request,
    )
    .await;
    stored(state, &key, &file.name, &file.media_type, request).await
}

/// Bytes read from a local file at a time: large reads keep a download at
/// disk speed (4 KiB reads spent half their time switching threads).
const READ_CHUNK: usize = 256 * 1024;

/// The request headers a file download honours: ranges and their conditions.
const CONDITIONS: [HeaderName; 4] = [RANGE, IF_RANGE, IF_MODIFIED_SINCE, IF_UNMODIFIED_SINCE];

/// A local file as an attachment: the whole file (`200`), the one range
/// asked for (`206`, see [`ranges::part_to_serve`]), `416` for a range
/// that starts past its end, `304` when unchanged.
async fn serve_file(
    path: &Path,
    name: &str,
    content_type: &str,
    request: &HeaderMap,
) -> AppResult<Response> {
    let mut builder = Request::builder().method(Method::GET).uri("/");
    let part: Option<String> = match tokio::fs::metadata(path).await {
        Ok(meta) => {
            let modified = meta.modified().ok().map(|at| {
                chrono::DateTime::<chrono::Utc>::from(at)
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string()
            });
            ranges::part_to_serve(request, meta.len(), modified.as_deref().unwrap_or(""))
        }
        Err(_) => None,
    };
    for header in &CONDITIONS {
        if header == RANGE || (part.is_none() && header == IF_RANGE) {
            continue;
        }
        if let Some(value) = request.get(header) {
            builder = builder.header(header, value);
        }
    }
    if let Some(range) = &part {
        builder = builder.header(RANGE, range.as_str());
    }
    let request = builder.body(Body::empty()).map_err(AppError::internal)?;
    let response = ServeFile::new(path)
        .with_buf_chunk_size(READ_CHUNK)
        .oneshot(request)
        .await
        .map_err(AppError::internal)?;
    if response.status() == StatusCode::NOT_FOUND {
        return Err(AppError::NotFound);
    }
    let (mut parts, body) = response.into_parts();
    if parts.status.is_success() {
        let content_type = HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
        parts.headers.insert(CONTENT_TYPE, content_type);
        parts.headers.insert(CONTENT_DISPOSITION, attachment(name));
    }
    parts
        .headers
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    parts
        .headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// A stored file as an attachment named `name`: a redirect to a presigned
/// URL where the store signs them, the file itself from a local directory
/// (see [`serve_file`]), else streamed.
pub async fn stored(
    state: &AppState,
    key: &BlobKey,
    name: &str,
    content_type: &str,
    request: &HeaderMap,
) -> AppResult<Response> {
    if let Some(url) = state.blob.presign_get(key, name, PRESIGNED_TTL).await? {
        return Ok(Redirect::to(&url).into_response());
    }
    if let Some(path) = state.blob.local_path(key) {
        return serve_file(&path, name, content_type, request).await;
    }
    let blob = state.blob.get(key).await?;
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_LENGTH, HeaderValue::from(blob.meta.size)),
            (CONTENT_DISPOSITION, attachment(name)),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        Body::from_stream(blob.body),
    )
        .into_response())
}
