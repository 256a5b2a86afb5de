//! Extractors whose refusals say what was wrong in our own error format:
//! JSON under `/api/` (naming the parameter, field or limit), a page for
//! forms. axum's own refusals are plain text, which a script cannot read
//! as it reads every other error of the API.

use std::error::Error as _;

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, AppError};
use crate::state::AppState;

fn refusal(status: StatusCode, text: String, limit: usize) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge(format!(
            "the request body is larger than the limit of {limit} bytes"
        )),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::Rejected(status, text),
        StatusCode::UNPROCESSABLE_ENTITY => AppError::Rejected(status, text),
        _ => AppError::BadRequest(text),
    }
}

/// A JSON body for the API: always a JSON object. serde reads a struct
/// from an array too (`[null, null]` as its fields in order), which would
/// let a body the OpenAPI document refuses through; it is refused here,
/// 422, before it is read.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.max_body_bytes;
        if !is_json(request.headers()) {
            // axum's refusal of the content type, in our format.
            return match axum::Json::<T>::from_request(request, state).await {
                Ok(axum::Json(value)) => Ok(ApiJson(value)),
                Err(rejection) => Err(ApiError(refusal(
                    rejection.status(),
                    rejection.body_text(),
                    limit,
                ))),
            };
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError(refusal(rejection.status(), rejection.body_text(), limit))
            })?;
        let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
        if first.is_some_and(|byte| *byte != b'{') {
            return Err(ApiError(AppError::Rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request body must be a JSON object".to_owned(),
            )));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(refusal(
                rejection.status(),
                rejection.body_text(),
                limit,
            ))),
        }
    }
}

/// Whether the request says its body is JSON, as axum's `Json` decides it:
/// `application/json` or `application/<anything>+json`, parameters aside.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parameters of an API route's path.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                Err(ApiError(AppError::BadRequest(match error.kind() {
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        format!("{key} in the path is not UTF-8 once percent-decoded")
                    }
                    other => format!("the path is not valid: {other}"),
                })))
            }
            // A route without the parameters its handler reads: ours, not the client's.
            Err(other) => Err(ApiError(AppError::internal(other))),
        }
    }
}

/// The query string of an API route, each parameter given at most once: a
/// repeated one (`limit=1&limit=2`) is refused, naming it, rather than one
/// of its values chosen silently.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let mut seen = Vec::new();
        for (key, _) in form_urlencoded::parse(query.as_bytes()) {
            if seen.contains(&key) {
                return Err(ApiError(AppError::BadRequest(format!(
                    "{key} is given more than once in the query; give it once"
                ))));
            }
            seen.push(key);
        }
        match axum::extract::Query::<T>::try_from_uri(&parts.uri) {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => {
                let why = rejection
                    .source()
                    .map_or_else(|| rejection.body_text(), ToString::to_string);
                Err(ApiError(AppError::BadRequest(format!(
                    "the query is not valid: {why}"
                ))))
            }
        }
    }
}

/// A form body for the pages.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(PageForm(value)),
            Err(rejection) => Err(refusal(
                rejection.status(),
                rejection.body_text(),
                state.config.max_body_bytes,
            )),
        }
    }
}
