//! The files a run's file inputs were given: listed on the run page,
//! downloaded and previewed like outputs. A file is found through the run's
//! own inputs, never by a path built from the request.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use modelrun_core::blob::BlobKey;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{Run, RunOutput};
use modelrun_core::schema::FileRef;

use super::preview::{PreviewPage, Viewed, preview};
use crate::auth::CurrentUser;
use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::guard::ClientAddr;
use crate::locale::Locale;
use crate::policy::visible_run;
use crate::preview::Kind;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/runs/{id}/files/{input}", get(download))
        .route("/runs/{id}/files/{input}/preview", get(page))
}

/// One input file, as the run page lists it.
#[derive(Debug)]
pub struct InputFileView {
    /// The input's label.
    pub label: String,
    pub name: String,
    pub size: String,
    pub download: String,
    pub preview: Option<String>,
}

/// The run's input files, in the order of the version's form.
pub fn list(run: &Run, version: Option<&ModelVersion>) -> Vec<InputFileView> {
    let label = |input: &str| {
        version
            .and_then(|v| v.inputs.field(input))
            .map_or_else(|| input.to_owned(), |f| f.label().to_owned())
    };
    let order = |input: &str| {
        version
            .and_then(|v| v.inputs.fields().iter().position(|f| f.name == input))
            .unwrap_or(usize::MAX)
    };
    let mut files: Vec<(usize, InputFileView)> = run
        .inputs
        .iter()
        .filter_map(|(input, value)| {
            let file = FileRef::from_value(value)?;
            let base = format!("/runs/{}/files/{input}", run.id);
            let previewable = Kind::of(&file.name, &file.media_type) != Kind::None;
            Some((
                order(input),
                InputFileView {
                    label: label(input),
                    size: format::bytes(i64::try_from(file.bytes).unwrap_or(i64::MAX)),
                    preview: previewable.then(|| format!("{base}/preview")),
                    download: base,
                    name: file.name,
                },
            ))
        })
        .collect();
    files.sort_by_key(|(order, _)| *order);
    files.into_iter().map(|(_, view)| view).collect()
}

async fn download(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, input)): Path<(String, String)>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    downloads::input_file(&state, &user, &client, &run, &input, &headers).await
}

async fn page(
    current: CurrentUser,
    State(state): State<AppState>,
    Path((id, input)): Path<(String, String)>,
) -> AppResult<PreviewPage> {
    let locale = Locale::of(&current);
    let run = visible_run(&state, &current.user, &id).await?;
    let file = run
        .inputs
        .get(&input)
        .and_then(FileRef::from_value)
        .ok_or(AppError::NotFound)?;
    let version = state.store.version(run.version_id).await?;
    let label = version
        .as_ref()
        .and_then(|v| v.inputs.field(&input))
        .map_or_else(|| input.clone(), |f| f.label().to_owned());
    let viewed = Viewed {
        key: BlobKey::input_file(&file)?,
        role: format!("The file of input {label}"),
        download: format!("/runs/{}/files/{input}", run.id),
        image: None,
        file: RunOutput {
            size: i64::try_from(file.bytes).unwrap_or(i64::MAX),
            content_type: file.media_type,
            sha256: None,
            name: file.name,
        },
    };
    preview(&state, &current, &locale, run, viewed).await
}
