//! Errors at the HTTP edge. Pages answer with an HTML page, the API with
//! JSON; both say what happened and what to do. A 5xx logs its cause chain
//! and shows a generic message, never the cause.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use modelrun_core::blob::BlobError;
use modelrun_core::error_chain;
use modelrun_core::executor::ExecutorError;
use modelrun_core::model_secrets::VaultError;
use modelrun_core::schema::ValidationErrors;
use modelrun_core::store::{BoxError, StoreError};
use serde_json::json;

use crate::pages::Nav;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// A rate limit was reached; answered with `Retry-After`.
    #[error("{message}")]
    TooMany {
        message: String,
        retry_after: std::time::Duration,
    },
    /// A request the HTTP layer refused (wrong content type, undecodable body).
    #[error("{1}")]
    Rejected(StatusCode, String),
    /// Named fields of a request that are not valid; `summary` says what
    /// they are ("the inputs are not valid"), and the API lists each field.
    #[error("{summary}")]
    Invalid {
        summary: &'static str,
        errors: ValidationErrors,
    },
    #[error("the service is unavailable")]
    Unavailable(#[source] BoxError),
    /// The disk of the database is full: nothing was saved. 503, saying so.
    #[error("the disk is full")]
    DiskFull(#[source] BoxError),
    #[error("internal error")]
    Internal(#[source] BoxError),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn internal(error: impl Into<BoxError>) -> Self {
        AppError::Internal(error.into())
    }

    /// Inputs of a run that its version's schema refuses.
    pub fn invalid_inputs(errors: ValidationErrors) -> Self {
        AppError::Invalid {
            summary: "the inputs are not valid",
            errors,
        }
    }

    /// One named field of a request that is not valid, completing the
    /// sentence "<field> …".
    pub fn invalid_field(summary: &'static str, field: &str, message: String) -> Self {
        let mut errors = ValidationErrors::default();
        errors.push(field, message);
        AppError::Invalid { summary, errors }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Rejected(status, _) => *status,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unavailable(_) | AppError::DiskFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a person is told.
    pub fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "There is nothing here, or you may not see it.".to_owned(),
            AppError::Unavailable(_) => {
                "The database is busy or unreachable. Try again in a moment.".to_owned()
            }
            AppError::DiskFull(_) => "The server's disk is full (no space left on device), so \
                                      nothing was saved. Tell your administrator; it works \
                                      again as soon as space is freed."
                .to_owned(),
            AppError::Internal(_) => {
                "Something went wrong on our side. It has been logged; try again, and tell \
                 your administrator if it keeps happening."
                    .to_owned()
            }
            AppError::Invalid { summary, errors } => format!("{}: {errors}.", capitalized(summary)),
            other => other.to_string(),
        }
    }

    /// `Retry-After` for a refusal that ends.
    fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            AppError::TooMany { retry_after, .. } => {
                HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()).ok()
            }
            _ => None,
        }
    }

    /// Logs server-side failures with their whole cause chain.
    fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %error_chain(self), "request failed");
        }
    }
}

/// `text` with its first letter in capitals, to open a sentence.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(message) => AppError::Conflict(message),
            StoreError::AlreadySubmitted(id) => {
                AppError::Conflict(format!("run {id} was already submitted with this key"))
            }
            StoreError::IllegalTransition(illegal) => AppError::Conflict(illegal.to_string()),
            StoreError::Unavailable(_) => AppError::Unavailable(Box::new(error)),
            StoreError::Unstorable(message) => AppError::BadRequest(message),
            StoreError::DiskFull(_) => AppError::DiskFull(Box::new(error)),
            StoreError::OverLimit { retry_after, .. } => AppError::TooMany {
                message: format!(
                    "Too many attempts. Try again in {} s.",
                    retry_after.as_secs()
                ),
                retry_after,
            },
            other => AppError::Internal(Box::new(other)),
        }
    }
}

impl From<VaultError> for AppError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Unavailable(_) => AppError::Unavailable(Box::new(error)),
            other => AppError::Internal(Box::new(other)),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(error: BlobError) -> Self {
        match error {
            BlobError::NotFound(_) | BlobError::InvalidKey(_) => AppError::NotFound,
            BlobError::Io(io) => AppError::io(io),
            other => AppError::Internal(Box::new(other)),
        }
    }
}

impl AppError {
    /// A file the app could not read or write: `503` saying the disk is
    /// full when it is (`ENOSPC`), as for the database; else a fault.
    pub fn io(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::StorageFull {
            AppError::DiskFull(Box::new(error))
        } else {
            AppError::Internal(Box::new(BlobError::Io(error)))
        }
    }
}

impl From<ExecutorError> for AppError {
    fn from(error: ExecutorError) -> Self {
        match error {
            ExecutorError::Unavailable(_) => AppError::Unavailable(Box::new(error)),
            ExecutorError::Refused(message) => AppError::BadRequest(message),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    status: u16,
    title: String,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let page = ErrorPage {
            nav: Nav::anonymous(),
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.public_message(),
        };
        let mut response = (status, page).into_response();
        if let Some(value) = self.retry_after() {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    }
}

impl AppError {
    /// The error as the client of `path` reads it: JSON under `/api/`, a
    /// page elsewhere. For layers that answer before any handler.
    pub fn respond_to(self, path: &str) -> Response {
        if path.starts_with("/api/") {
            ApiError(self).into_response()
        } else {
            self.into_response()
        }
    }
}

/// An [`AppError`] answered as JSON:
/// `{"error": {"status": 422, "message": "...", "fields": [...]}}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

pub type ApiResult<T> = Result<T, ApiError>;

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        error.log();
        let status = error.status();
        let mut body = json!({ "status": status.as_u16(), "message": error.public_message() });
        if let AppError::Invalid { summary, errors } = &error {
            body["message"] = json!(summary);
            body["fields"] = json!(errors.errors);
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        if let Some(value) = error.retry_after() {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_said_as_such_and_other_file_faults_are_ours() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(
            AppError::from(BlobError::Io(full)).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(
            AppError::io(denied).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
