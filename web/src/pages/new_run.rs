//! "New run": the form generated from a version's input schema, and its
//! submission. A refused form comes back with what was typed and a message
//! at each wrong field; nothing is created.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::RunId;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::Run;
use modelrun_core::user::Role;
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::{CurrentUser, require};
use crate::error::{AppError, AppResult};
use crate::forms::{FormField, fields_from_submission, fields_from_values};
use crate::guard::ClientAddr;
use crate::policy::visible_run;
use crate::secrets::{Readiness, readiness};
use crate::state::AppState;
use crate::submit::{MAX_KEY_CHARS, pick_version, submit};
use crate::uploads::{self, RunFormBody};

pub fn router() -> Router<AppState> {
    // The form may carry files: `RunFormBody` bounds each part itself.
    Router::new().route(
        "/models/{name}/runs/new",
        get(form)
            .post(create)
            .layer(axum::extract::DefaultBodyLimit::disable()),
    )
}

struct VersionOption {
    label: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "new_run.html")]
struct NewRunPage {
    nav: Nav,
    name: String,
    title: String,
    version: String,
    versions: Vec<VersionOption>,
    fields: Vec<FormField>,
    problem: Option<String>,
    /// Whether a run can start now: a reason it cannot, or that it will wait.
    readiness: Readiness,
    /// The one-time key of this form.
    key: String,
    /// "Run again": the run the form started from, and what that means.
    from: Option<RunId>,
    origin_note: Option<String>,
}

impl NewRunPage {
    fn new(
        user: &CurrentUser,
        model: &ModelWithVersions,
        version: &str,
        fields: Vec<FormField>,
    ) -> Self {
        NewRunPage {
            nav: Nav::new(&user.user, &user.csrf, Section::Models),
            name: model.model.name.clone(),
            title: model.model.title.clone(),
            version: version.to_owned(),
            versions: model
                .versions
                .iter()
                .filter(|v| v.is_active())
                .map(|v| VersionOption {
                    label: v.label.clone(),
                    selected: v.label == version,
                })
                .collect(),
            fields,
            problem: None,
            readiness: Readiness::Ready,
            key: random_hex(16),
            from: None,
            origin_note: None,
        }
    }

    /// A kept file's size as the form shows it.
    fn file_size(&self, bytes: &u64) -> String {
        modelrun_core::schema::size_text(*bytes)
    }

    fn has_files(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.control == crate::forms::Control::File)
    }

    fn invalid_count(&self) -> usize {
        self.fields.iter().filter(|f| f.error.is_some()).count()
    }
}

#[derive(Debug, Deserialize)]
struct VersionQuery {
    version: Option<String>,
    /// "Run again": the run whose inputs fill the form.
    from: Option<String>,
}

/// The run a new one starts from: one the person may see, of this model.
async fn origin(
    state: &AppState,
    user: &CurrentUser,
    model: &ModelWithVersions,
    from: Option<&str>,
) -> AppResult<Option<Run>> {
    let Some(from) = from.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let run = visible_run(state, &user.user, from).await?;
    if run.model_id != model.model.id {
        return Err(AppError::BadRequest(format!(
            "run {} is a run of {}, not of {}",
            run.id, run.model_name, model.model.name
        )));
    }
    Ok(Some(run))
}

async fn load(state: &AppState, name: &str) -> AppResult<ModelWithVersions> {
    state.store.model(name).await?.ok_or(AppError::NotFound)
}

async fn form(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
) -> AppResult<NewRunPage> {
    require(user.user.role, Role::Runner, "submit runs")?;
    let locale = crate::locale::Locale::of(&user);
    let model = load(&state, &name).await?;
    let origin = origin(&state, &user, &model, query.from.as_deref()).await?;
    // Run again: the origin's version while it takes runs, unless another is picked.
    let same = origin
        .as_ref()
        .filter(|_| query.version.is_none())
        .and_then(|run| model.versions.iter().find(|v| v.id == run.version_id))
        .filter(|v| v.is_active());
    let version = match same {
        Some(version) => version,
        None => pick_version(&model, query.version.as_deref())?,
    };
    let prefill = origin
        .as_ref()
        .map(|run| run.inputs.clone())
        .unwrap_or_default();
    let fields = fields_from_values(
        &version.inputs,
        &prefill,
        locale.numbers,
        state.config.max_upload_bytes,
    );
    let mut page = NewRunPage::new(&user, &model, &version.label, fields);
    page.readiness = readiness(&state.store, &state.vault, version).await?;
    if let Some(run) = &origin {
        page.from = Some(run.id);
        let dropped: Vec<&str> = run
            .inputs
            .keys()
            .filter(|key| version.inputs.field(key).is_none())
            .map(String::as_str)
            .collect();
        page.origin_note = Some(origin_note(run, version, &model, &dropped));
    }
    Ok(page)
}

/// What the form of "Run again" says about where its values come from.
fn origin_note(
    run: &Run,
    version: &ModelVersion,
    model: &ModelWithVersions,
    dropped: &[&str],
) -> String {
    let mut note = format!(
        "Filled in with the inputs of run #{} (version {}).",
        run.id, run.version_label
    );
    if version.id != run.version_id {
        note.push_str(&format!(" This form is for version {}.", version.label));
    } else if model
        .latest_active()
        .is_some_and(|latest| latest.id != version.id)
    {
        note.push_str(" A newer version exists: pick it above to run that one.");
    }
    if !dropped.is_empty() {
        note.push_str(&format!(
            " Version {} does not take {}; left out.",
            version.label,
            dropped.join(", ")
        ));
    }
    note
}

/// Form pairs that are not inputs of the model.
const RESERVED: [&str; 5] = [
    "version",
    crate::guard::csrf::FIELD,
    KEY_FIELD,
    FROM_FIELD,
    DROP_FIELD,
];

/// "Use no file": the file inputs whose kept file the person let go.
const DROP_FIELD: &str = "_drop";

/// The run a "Run again" form started from.
const FROM_FIELD: &str = "_from";

/// The form's one-time key: a double click or a resubmit makes one run.
const KEY_FIELD: &str = "_key";

async fn create(
    user: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(name): Path<String>,
    RunFormBody {
        pairs,
        chosen,
        refused: unreadable_files,
    }: RunFormBody,
) -> AppResult<Response> {
    require(user.user.role, Role::Runner, "submit runs")?;
    let model = load(&state, &name).await?;
    let label = pairs
        .iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v.as_str());
    let version = pick_version(&model, label)?;
    // "Use no file" lets go of a kept file; a file chosen beside it wins.
    let dropped: Vec<&str> = pairs
        .iter()
        .filter(|(k, v)| k == DROP_FIELD && !chosen.contains(v))
        .map(|(_, v)| v.as_str())
        .collect();
    let inputs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(key, _)| !RESERVED.contains(&key.as_str()))
        .map(|(key, value)| {
            // A dropped file leaves its box empty, as if none had been kept.
            let value = if dropped.contains(&key.as_str()) {
                String::new()
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect();
    let key = pairs
        .iter()
        .find(|(k, _)| k == KEY_FIELD)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|key| !key.is_empty() && key.len() <= MAX_KEY_CHARS);
    let from = pairs
        .iter()
        .find(|(k, _)| k == FROM_FIELD)
        .map(|(_, v)| v.as_str());
    let origin = origin(&state, &user, &model, from).await?.map(|run| run.id);
    let refused = |mut page: NewRunPage| {
        if let Some(key) = &key {
            page.key = key.clone();
        }
        page.from = origin;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let (checked, uploads) = uploads::validate_form(&state, &version.inputs, &inputs).await?;
    // A file that could not be taken with the form is this field's error.
    let checked = if unreadable_files.is_empty() {
        checked
    } else {
        let mut errors = checked.err().unwrap_or_default();
        for (field, message) in &unreadable_files {
            errors.errors.retain(|error| &error.field != field);
            errors.push(field, message);
        }
        Err(errors)
    };
    match checked {
        Ok(valid) => match submit(
            &state,
            &user.user,
            &client,
            version,
            valid,
            key.clone(),
            origin,
        )
        .await
        {
            Ok(submitted) => {
                Ok(Redirect::to(&format!("/runs/{}", submitted.run().id)).into_response())
            }
            Err(AppError::TooLarge(message)) => {
                let fields = fields_from_submission(
                    &version.inputs,
                    &inputs,
                    &Default::default(),
                    &uploads,
                    state.config.max_upload_bytes,
                );
                let mut page = NewRunPage::new(&user, &model, &version.label, fields);
                page.problem = Some(format!("The run was not submitted: {message}."));
                refused(page)
            }
            // This page was submitted before with other values (the back
            // button, then a change): a new key makes the next press a new run.
            Err(AppError::Rejected(status, _)) if status == StatusCode::UNPROCESSABLE_ENTITY => {
                let fields = fields_from_submission(
                    &version.inputs,
                    &inputs,
                    &Default::default(),
                    &uploads,
                    state.config.max_upload_bytes,
                );
                let mut page = NewRunPage::new(&user, &model, &version.label, fields);
                page.problem = Some(
                    "This form was already submitted with other values, so nothing new was \
                     submitted. Check the values below and press Submit run again to make a new run."
                        .to_owned(),
                );
                page.from = origin;
                Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
            }
            Err(other) => Err(other),
        },
        Err(errors) => {
            let fields = fields_from_submission(
                &version.inputs,
                &inputs,
                &errors,
                &uploads,
                state.config.max_upload_bytes,
            );
            let mut page = NewRunPage::new(&user, &model, &version.label, fields);
            let unknown: Vec<_> = errors
                .errors
                .iter()
                .filter(|e| version.inputs.field(&e.field).is_none())
                .map(|e| format!("{} {}", e.field, e.message))
                .collect();
            if !unknown.is_empty() {
                page.problem = Some(format!(
                    "The form sent values this version does not take: {}.",
                    unknown.join("; ")
                ));
            }
            refused(page)
        }
    }
}
