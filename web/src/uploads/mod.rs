//! Uploaded input files.
//!
//! A file reaches the blob store before the run that uses it exists, at
//! `uploads/<id>/<name>` ([`BlobKey::upload`]): from the browser or an API
//! client straight to the store where it signs requests (S3, so that no
//! file passes through AWS Lambda and its 6 MB payload limit), or through
//! the app on one machine, where a form without JavaScript also sends its
//! files with the rest (`multipart/form-data`). A submission names the
//! upload by its id; the server looks it up here and puts a [`FileRef`]
//! in the run's inputs. Uploads are kept: every run that used one keeps
//! its file, and "Run again" offers it again.

mod meta;
mod multipart;
mod receive;
pub mod routes;

use modelrun_core::blob::{BlobError, BlobKey};
use modelrun_core::schema::{
    FileRef, InputSchema, Inputs, UploadId, Uploads, ValidationErrors, check_file_name,
};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub use multipart::RunFormBody;
pub use receive::{Expected, NewUpload, receive};

/// The upload `id`, if it holds its file: its one object below
/// `uploads/<id>/`.
pub async fn find(state: &AppState, id: &UploadId) -> AppResult<Option<FileRef>> {
    let objects = match state.blob.list(&BlobKey::upload_prefix(id)).await {
        Ok(objects) => objects,
        Err(BlobError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let prefix = BlobKey::upload_prefix(id);
    let Some((name, size, stored_type)) = objects.into_iter().find_map(|object| {
        let name = object.key.strip_prefix(&prefix)?.to_owned();
        check_file_name(&name).ok()?;
        Some((name, object.size, object.content_type))
    }) else {
        return Ok(None);
    };
    // The type its uploader declared; a local directory keeps none itself.
    let announced = meta::read(state, id).await?;
    let media_type = announced
        .filter(|a| a.name == name)
        .map(|a| a.media_type)
        .or(stored_type)
        .unwrap_or_else(|| modelrun_core::schema::media_type_of(&name));
    Ok(Some(FileRef {
        upload: id.clone(),
        name,
        bytes: size,
        media_type,
    }))
}

/// Every upload of `ids` that exists.
pub async fn lookup(state: &AppState, ids: Vec<UploadId>) -> AppResult<Uploads> {
    let mut uploads = Uploads::new();
    for id in ids {
        if uploads.contains_key(&id) {
            continue;
        }
        if let Some(file) = find(state, &id).await? {
            uploads.insert(id, file);
        }
    }
    Ok(uploads)
}

/// Refuses a file larger than the server's cap, naming the field.
pub(crate) fn check_cap(
    state: &AppState,
    schema: &InputSchema,
    inputs: &Inputs,
) -> Result<(), ValidationErrors> {
    let cap = state.config.max_upload_bytes;
    let mut errors = ValidationErrors::default();
    for field in schema.fields() {
        if let Some(file) = inputs.get(&field.name).and_then(FileRef::from_value)
            && file.bytes > cap
        {
            errors.push(
                &field.name,
                format!(
                    "must be at most {} (this server's limit); {} is {}",
                    modelrun_core::schema::size_text(cap),
                    file.name,
                    modelrun_core::schema::size_text(file.bytes)
                ),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Checks inputs sent as JSON (the API), each file input's upload looked up.
pub async fn validate(
    state: &AppState,
    schema: &InputSchema,
    submitted: &Map<String, Value>,
) -> AppResult<Inputs> {
    let uploads = lookup(state, schema.named_uploads(submitted)).await?;
    let inputs = schema
        .validate_with(submitted, &uploads)
        .map_err(AppError::invalid_inputs)?;
    check_cap(state, schema, &inputs).map_err(AppError::invalid_inputs)?;
    Ok(inputs)
}

/// Checks a form, each file input's upload looked up; the uploads found
/// come back too, for the form shown again after a refusal.
pub async fn validate_form(
    state: &AppState,
    schema: &InputSchema,
    form: &[(String, String)],
) -> AppResult<(Result<Inputs, ValidationErrors>, Uploads)> {
    let uploads = lookup(state, schema.form_named_uploads(form)).await?;
    let checked = schema
        .validate_form_with(form, &uploads)
        .and_then(|inputs| check_cap(state, schema, &inputs).map(|()| inputs));
    Ok((checked, uploads))
}
