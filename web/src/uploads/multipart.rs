//! The run form as a browser sends it: `application/x-www-form-urlencoded`,
//! or `multipart/form-data` when it has file inputs. On one machine a
//! chosen file is stored as a new upload while it arrives and stands in the
//! form as its upload id, replacing the id of a file kept from an earlier
//! run; a file input left empty sends nothing. Where uploads go straight to
//! S3, a file sent with the form is refused at its field.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use modelrun_core::schema::{UploadId, size_text, tidy_file_name};

use super::meta::Announcement;
use super::receive;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::extract::PageForm;
use crate::policy::{Action, require};
use crate::state::AppState;

/// Most parts a multipart form may have: a form of [`modelrun_core::schema::MAX_FIELDS`]
/// inputs with room for lists and the form's own fields.
const MAX_PARTS: usize = 1000;

/// A submitted run form.
#[derive(Debug, Default)]
pub struct RunFormBody {
    /// Its pairs; a file sent with it stands as its upload's id.
    pub pairs: Vec<(String, String)>,
    /// Inputs whose file was chosen in this form (not kept from before).
    pub chosen: Vec<String>,
    /// Inputs whose file could not be taken, with why (completing
    /// "<input> …"): the form comes back with the message at the field.
    pub refused: Vec<(String, String)>,
}

impl FromRequest<AppState> for RunFormBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let multipart = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            // This route takes files, so the app-wide body limit is off for
            // it: a form without files keeps that limit here.
            let (parts, body) = request.into_parts();
            let limit = state.config.max_body_bytes;
            let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
                AppError::TooLarge(format!(
                    "the request body is larger than the limit of {limit} bytes"
                ))
            })?;
            let request = Request::from_parts(parts, axum::body::Body::from(bytes));
            let PageForm(pairs) = PageForm::from_request(request, state).await?;
            return Ok(RunFormBody {
                pairs,
                ..RunFormBody::default()
            });
        }
        let (mut parts, body) = request.into_parts();
        let user = CurrentUser::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| AppError::Forbidden("sign in to submit runs".to_owned()))?;
        require(user.user.role, Action::SubmitRuns)?;
        let request = Request::from_parts(parts, body);
        let mut form = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        let mut body = RunFormBody::default();
        let mut files: Vec<(String, String)> = Vec::new();
        // Where the store signs uploads (AWS), files go straight to it from
        // the page, never through this function (Lambda's 6 MB limit).
        let direct = state.blob.upload_origins().is_some();
        let text_limit = state.config.max_body_bytes;
        let mut count = 0;
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|error| AppError::BadRequest(format!("the form could not be read: {error}")))?
        {
            count += 1;
            if count > MAX_PARTS {
                return Err(AppError::TooLarge(format!(
                    "the form has more than {MAX_PARTS} parts"
                )));
            }
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(sent) => {
                    // An empty file input sends a part without a name.
                    if sent.trim().is_empty() {
                        continue;
                    }
                    if direct {
                        body.refused.push((
                            name,
                            "takes files from the page's own upload on this server: \
                             turn JavaScript on, or send it with the API or the CLI"
                                .to_owned(),
                        ));
                        continue;
                    }
                    // Some browsers send the path a file was chosen from.
                    let file_name = tidy_file_name(&sent);
                    let media_type = field
                        .content_type()
                        .filter(|m| !m.is_empty())
                        .map(str::to_owned)
                        .unwrap_or_else(|| modelrun_core::schema::media_type_of(&file_name));
                    let id = UploadId::generate();
                    let received = receive(
                        state,
                        &id,
                        &file_name,
                        &media_type,
                        &mut field,
                        state.config.max_upload_bytes,
                        None,
                    )
                    .await;
                    let (file, sha256) = match received {
                        Ok(received) => received,
                        Err(AppError::TooLarge(_)) => {
                            body.refused.push((
                                name,
                                format!(
                                    "must be at most {} (this server's limit); {file_name} is larger",
                                    size_text(state.config.max_upload_bytes)
                                ),
                            ));
                            continue;
                        }
                        Err(other) => return Err(other),
                    };
                    let announcement = Announcement {
                        name: file.name.clone(),
                        bytes: file.bytes,
                        sha256,
                        media_type: file.media_type.clone(),
                        by: user.user.id.0,
                    };
                    super::meta::write(state, &id, &announcement).await?;
                    tracing::info!(upload = %id, user_id = %user.user.id, bytes = file.bytes, "upload received with a form");
                    body.chosen.push(name.clone());
                    files.push((name, id.to_string()));
                }
                None => {
                    let mut text = Vec::new();
                    while let Some(chunk) = field.chunk().await.map_err(|error| {
                        AppError::BadRequest(format!("the form could not be read: {error}"))
                    })? {
                        text.extend_from_slice(&chunk);
                        if text.len() > text_limit {
                            return Err(AppError::TooLarge(format!(
                                "the form's field {name} is larger than {text_limit} bytes"
                            )));
                        }
                    }
                    let text = String::from_utf8(text).map_err(|_| {
                        AppError::BadRequest(format!("the form's field {name} is not UTF-8 text"))
                    })?;
                    body.pairs.push((name, text));
                }
            }
        }
        // A chosen file replaces the one kept from an earlier run.
        body.pairs
            .retain(|(name, _)| !files.iter().any(|(file, _)| file == name));
        body.pairs.extend(files);
        Ok(body)
    }
}
