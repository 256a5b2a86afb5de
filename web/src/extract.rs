//! Body extractors whose refusals say what was wrong in our own error
//! format, naming the limit when a body is too large.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
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
