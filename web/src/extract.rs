//! Extractors whose refusals say what was wrong in our own error format:
//! JSON under `/api/` (naming the parameter, field or limit), a page for
//! forms. axum's own refusals are plain text, which a script cannot read
//! as it reads every other error of the API.

use std::error::Error as _;

use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
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

/// A JSON body for the API.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(refusal(
                rejection.status(),
                rejection.body_text(),
                state.config.max_body_bytes,
            ))),
        }
    }
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
