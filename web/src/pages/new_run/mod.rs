//! "New run": the form generated from a version's input schema, with an
//! "Advanced: resources" section, and its submission. A refused form comes
//! back with what was typed and a message at each wrong field; nothing is
//! created.

mod origin;
mod sweep;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use modelrun_core::alias::{Alias, RUNS_CANDIDATES, may_run};
use modelrun_core::crypto::random_hex;
use modelrun_core::ids::RunId;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::schema::ValidationErrors;
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::{FormField, fields_from_submission, fields_from_values};
use crate::guard::ClientAddr;
use crate::policy::{Action, require};
use crate::run_resources::{self, ResourceForm};
use crate::secrets::{Readiness, readiness};
use crate::state::AppState;
use crate::submit::{MAX_KEY_CHARS, Submission, pick_version, submit};
use crate::uploads::{self, RunFormBody};
use origin::{origin, origin_note};

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
    /// Production or candidate, said beside the label.
    alias: modelrun_core::alias::Alias,
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
    /// The "Advanced: resources" section.
    resources: ResourceForm,
    problem: Option<String>,
    /// Whether a run can start now: a reason it cannot, or that it will wait.
    readiness: Readiness,
    /// The one-time key of this form.
    key: String,
    /// Whether the picker leaves candidate versions out (a planner who
    /// did not ask for them): the page offers a link that shows them.
    candidates_hidden: bool,
    /// "Run again": the run the form started from, and what that means.
    from: Option<RunId>,
    origin_note: Option<String>,
    /// What to expect: duration, cost and budget warnings.
    estimate: Option<super::estimate::EstimateView>,
    /// The most runs a sweep from this form may make.
    max_sweep_runs: usize,
}

impl NewRunPage {
    fn new(
        user: &CurrentUser,
        model: &ModelWithVersions,
        version: &ModelVersion,
        fields: Vec<FormField>,
        resources: ResourceForm,
        max_sweep_runs: usize,
    ) -> Self {
        NewRunPage {
            max_sweep_runs,
            nav: Nav::new(&user.user, &user.csrf, Section::Models),
            name: model.model.name.clone(),
            title: model.model.title.clone(),
            version: version.label.clone(),
            versions: version_options(model, version, user.user.role >= RUNS_CANDIDATES),
            candidates_hidden: false,
            fields,
            resources,
            problem: None,
            readiness: Readiness::Ready,
            key: random_hex(16),
            from: None,
            origin_note: None,
            estimate: None,
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
        self.fields.iter().filter(|f| f.error.is_some()).count() + self.resources.invalid_count()
    }
}

/// The versions the picker offers: production first, then the active
/// candidates (newest first) when `candidates` is set, and always the
/// version the form is for.
fn version_options(
    model: &ModelWithVersions,
    version: &ModelVersion,
    candidates: bool,
) -> Vec<VersionOption> {
    let production = model.production().into_iter();
    let others = model
        .versions
        .iter()
        .filter(|v| v.is_active() && v.alias == Alias::Candidate)
        .filter(|v| candidates || v.id == version.id);
    production
        .chain(others)
        .map(|v| VersionOption {
            label: v.label.clone(),
            selected: v.label == version.label,
            alias: v.alias,
        })
        .collect()
}

#[derive(Debug, Deserialize)]
struct VersionQuery {
    version: Option<String>,
    /// `candidates=1`: the picker lists candidate versions too.
    candidates: Option<String>,
    /// "Run again": the run whose inputs fill the form.
    from: Option<String>,
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
    require(user.user.role, Action::SubmitRuns)?;
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
    // Run again keeps the origin's resources; a new run starts from the version's.
    let resources = origin
        .as_ref()
        .map_or(version.resources, |run| run.resources);
    let estimate = expect(&state, &user, version, resources).await?;
    let resources = ResourceForm::new(version, &resources);
    let mut page = NewRunPage::new(
        &user,
        &model,
        version,
        fields,
        resources,
        state.config.max_sweep_runs,
    );
    page.estimate = Some(estimate);
    page.readiness = readiness(&state.store, &state.vault, version).await?;
    show_candidates(
        &mut page,
        &user,
        &model,
        version,
        query.candidates.as_deref(),
    );
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

/// What the form says to expect of one run of `version` with `resources`,
/// with a warning for each budget of `user` it would cross.
async fn expect(
    state: &AppState,
    user: &CurrentUser,
    version: &ModelVersion,
    resources: modelrun_core::manifest::Resources,
) -> AppResult<super::estimate::EstimateView> {
    let estimate = crate::costs::estimate(state, version, resources, 1).await?;
    let budgets = crate::costs::budget_statuses(
        state,
        &user.user,
        estimate.expected_cost(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(
        super::estimate::EstimateView::new(&estimate, crate::costs::warnings(&budgets))
            .with_budgets(&budgets),
    )
}

/// A planner sees candidate versions in the picker only when they ask
/// (`candidates=1`), and is told that a candidate is not theirs to run.
fn show_candidates(
    page: &mut NewRunPage,
    user: &CurrentUser,
    model: &ModelWithVersions,
    version: &ModelVersion,
    asked: Option<&str>,
) {
    let asked = asked.is_some_and(|a| !a.is_empty() && a != "0");
    let runs_candidates = user.user.role >= RUNS_CANDIDATES;
    if asked && !runs_candidates {
        page.versions = version_options(model, version, true);
    }
    page.candidates_hidden = !runs_candidates
        && !asked
        && model
            .versions
            .iter()
            .any(|v| v.is_active() && v.alias == Alias::Candidate && v.id != version.id);
    if let Err(why) = may_run(user.user.role, version) {
        page.problem = Some(format!("{why}."));
    }
}

/// Form pairs that are not inputs of the model.
const RESERVED: [&str; 8] = [
    "version",
    crate::guard::csrf::FIELD,
    KEY_FIELD,
    FROM_FIELD,
    DROP_FIELD,
    run_resources::FORM_NAMES[0],
    run_resources::FORM_NAMES[1],
    run_resources::FORM_NAMES[2],
];

/// "Use no file": the file inputs whose kept file the person let go.
const DROP_FIELD: &str = "_drop";

/// The run a "Run again" form started from.
const FROM_FIELD: &str = "_from";

/// What the form says when its key already made a run or a sweep with
/// other values (the back button, then a change); it comes back with a
/// new key, so the next press makes a new one.
const KEY_USED: &str = "This form was already submitted with other values, so nothing new was \
     submitted. Check the values below and press Submit again to make a new run or sweep.";

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
    require(user.user.role, Action::SubmitRuns)?;
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
        .filter(|(key, _)| !RESERVED.contains(&key.as_str()) && !sweep::is_vary(key))
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
    let texts = run_resources::form_texts(&pairs);
    let asked = run_resources::from_form(&state, version, &texts);
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
    // The form as it was sent, with a message at each refused field.
    let again = |errors: &ValidationErrors, resource_errors: &ValidationErrors| {
        let fields = fields_from_submission(
            &version.inputs,
            &inputs,
            errors,
            &uploads,
            state.config.max_upload_bytes,
        );
        let resources = ResourceForm::with_texts(version, &texts, resource_errors);
        let mut page = NewRunPage::new(
            &user,
            &model,
            version,
            fields,
            resources,
            state.config.max_sweep_runs,
        );
        if let Some(key) = &key {
            page.key = key.clone();
        }
        page.from = origin;
        page
    };
    // A refused form still says what to expect, of what it can read.
    let expected = *asked.as_ref().unwrap_or(&version.resources);
    let (variations, vary_errors) = sweep::variations(&version.inputs, &pairs);
    if !variations.is_empty() || !vary_errors.is_empty() {
        // Refused resources still let the inputs be checked, to name both.
        let refused = if vary_errors.is_empty() {
            let form = sweep::SweepForm {
                version,
                inputs: &inputs,
                variations,
                resources: asked.as_ref().ok().copied(),
                key: key.clone(),
            };
            match sweep::submit(&state, &user, &client, form).await? {
                Ok(response) => return Ok(response),
                Err(refused) => refused,
            }
        } else {
            sweep::Refused::Fields(vary_errors)
        };
        let none = ValidationErrors::default();
        let (errors, problem) = match refused {
            sweep::Refused::Fields(errors) => {
                let problem = errors.message("vary").map(|m| format!("The sweep {m}."));
                (errors, problem)
            }
            sweep::Refused::Problem(problem) => (none.clone(), Some(problem)),
            sweep::Refused::KeyUsed => (none.clone(), Some(KEY_USED.to_owned())),
        };
        let resource_errors = asked.as_ref().err().cloned().unwrap_or_default();
        let mut page = again(&errors, &resource_errors);
        sweep::refill(&mut page.fields, &pairs);
        page.estimate = Some(expect(&state, &user, version, expected).await?);
        if problem.as_deref() == Some(KEY_USED) {
            page.key = random_hex(16);
        }
        page.problem = problem;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let (valid, resources) = match (checked, asked) {
        (Ok(valid), Ok(resources)) => (valid, resources),
        (checked, asked) => {
            let errors = checked.err().unwrap_or_default();
            let mut page = again(&errors, &asked.err().unwrap_or_default());
            page.estimate = Some(expect(&state, &user, version, expected).await?);
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
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let submission = Submission {
        version,
        inputs: valid,
        resources,
        key: key.clone(),
        rerun_of: origin,
        // The form names a version by its label.
        production_only: false,
    };
    let (problem, new_key) = match submit(&state, &user.user, &client, submission).await {
        Ok(submitted) => {
            return Ok(Redirect::to(&format!("/runs/{}", submitted.run().id)).into_response());
        }
        Err(AppError::TooLarge(message)) => {
            (format!("The run was not submitted: {message}."), false)
        }
        // This page was submitted before with other values (the back
        // button, then a change): a new key makes the next press a new run.
        Err(AppError::Rejected(status, _)) if status == StatusCode::UNPROCESSABLE_ENTITY => {
            (KEY_USED.to_owned(), true)
        }
        Err(other) => return Err(other),
    };
    let none = ValidationErrors::default();
    let mut page = again(&none, &none);
    page.estimate = Some(expect(&state, &user, version, expected).await?);
    if new_key {
        page.key = random_hex(16);
    }
    page.problem = Some(problem);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
