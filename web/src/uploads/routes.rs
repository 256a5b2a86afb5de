//! Uploading a file: `POST /api/v1/uploads` announces it and answers where
//! to send it; the client then sends its body there, exactly as told (the
//! method, the URL and every header). Where the blob store signs requests
//! (S3) that is a presigned `PUT` straight to the bucket, which checks the
//! size and SHA-256 itself; on one machine it is `PUT /api/v1/uploads/{id}/{name}`
//! on the app. Pages use the same pair under `/uploads`, with their session.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use modelrun_core::blob::{BlobKey, PutObject};
use modelrun_core::job_access::Presigned;
use modelrun_core::schema::{FileRef, UploadId};
use modelrun_core::user::User;
use serde::Serialize;

use super::meta::Announcement;
use super::receive::{Expected, NewUpload, receive};
use crate::api::openapi as paths;
use crate::auth::{ApiUser, CurrentUser};
use crate::error::{ApiResult, AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use crate::policy::{Action, require};
use crate::state::AppState;

/// How long the address to send a file to stays good.
pub const UPLOAD_TTL: Duration = Duration::from_secs(15 * 60);

/// The header that carries the announced SHA-256 to the app.
pub const SHA256_HEADER: &str = "x-modelrun-sha256";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::UPLOADS, post(api_announce))
        .route(paths::UPLOAD, put(api_content))
        .route("/uploads", post(page_announce))
        .route("/uploads/{upload}/{name}", put(page_content))
}

/// The answer to an announcement: the upload's id (what a submission
/// names), and the request that sends the file.
#[derive(Debug, Serialize)]
pub struct Announced {
    pub upload: UploadId,
    pub name: String,
    pub bytes: u64,
    pub media_type: String,
    /// Send the file's bytes as the body of this request, with these headers.
    pub send: Presigned,
}

async fn announce(
    state: &AppState,
    user: &User,
    mut new: NewUpload,
    base: &str,
) -> AppResult<Response> {
    require(user.role, Action::SubmitRuns)?;
    new.check(state.config.max_upload_bytes)?;
    let id = UploadId::generate();
    let key = BlobKey::upload(&id, &new.name)?;
    let put = PutObject {
        size: new.bytes,
        sha256: &new.sha256,
        content_type: new.media_type(),
    };
    let announcement = Announcement {
        name: new.name.clone(),
        bytes: new.bytes,
        sha256: new.sha256.clone(),
        media_type: new.media_type().to_owned(),
        by: user.id.0,
    };
    super::meta::write(state, &id, &announcement).await?;
    let send = match state.blob.presign_put(&key, &put, UPLOAD_TTL).await? {
        Some(presigned) => presigned,
        None => Presigned {
            method: "PUT".to_owned(),
            url: format!(
                "{base}/{id}/{}",
                percent_encoding::utf8_percent_encode(
                    &new.name,
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
            headers: BTreeMap::from([
                ("content-type".to_owned(), new.media_type().to_owned()),
                (SHA256_HEADER.to_owned(), new.sha256.clone()),
            ]),
        },
    };
    tracing::info!(upload = %id, user_id = %user.id, bytes = new.bytes, "upload announced");
    let body = Announced {
        upload: id,
        name: new.name.clone(),
        bytes: new.bytes,
        media_type: new.media_type().to_owned(),
        send,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn content(
    state: &AppState,
    user: &User,
    id: &str,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> AppResult<Json<FileRef>> {
    require(user.role, Action::SubmitRuns)?;
    let id = UploadId::try_from(id.to_owned())
        .map_err(|why| AppError::invalid_field("the upload is not valid", "id", why))?;
    if super::find(state, &id).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "upload {id} already holds its file; announce a new upload for another"
        )));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(announced) = super::meta::read(state, &id).await? else {
        return Err(AppError::Rejected(
            StatusCode::NOT_FOUND,
            format!("no upload {id} was announced: POST /api/v1/uploads first"),
        ));
    };
    if name != announced.name {
        return Err(AppError::BadRequest(format!(
            "upload {id} was announced as {:?}, not {name:?}",
            announced.name
        )));
    }
    let sha256 = header(SHA256_HEADER)
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            AppError::BadRequest(format!("send the {SHA256_HEADER} header announced"))
        })?;
    if sha256 != announced.sha256 {
        return Err(AppError::BadRequest(format!(
            "upload {id} was announced with another SHA-256"
        )));
    }
    let (file, _) = receive(
        state,
        &id,
        &announced.name,
        &announced.media_type,
        body.into_data_stream(),
        state.config.max_upload_bytes,
        Some(Expected {
            bytes: announced.bytes,
            sha256: &announced.sha256,
        }),
    )
    .await?;
    tracing::info!(upload = %id, user_id = %user.id, bytes = file.bytes, "upload received");
    Ok(Json(file))
}

async fn api_announce(
    api: ApiUser,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewUpload>,
) -> ApiResult<Response> {
    Ok(announce(&state, &api.acting(), new, "/api/v1/uploads").await?)
}

async fn api_content(
    api: ApiUser,
    State(state): State<AppState>,
    ApiPath((id, name)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<FileRef>> {
    Ok(content(&state, &api.acting(), &id, &name, &headers, body).await?)
}

async fn page_announce(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewUpload>,
) -> ApiResult<Response> {
    Ok(announce(&state, &user.user, new, "/uploads").await?)
}

async fn page_content(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath((id, name)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<FileRef>> {
    Ok(content(&state, &user.user, &id, &name, &headers, body).await?)
}
