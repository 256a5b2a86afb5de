//! The lifecycle's pages: promoting a version to production (a form with
//! a required note, shown to administrators and the model's owner), and
//! "Compare with production" on a candidate's run: one press submits the
//! same inputs to the production version and opens the compare page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use modelrun_core::alias::{Alias, MAX_NOTE_CHARS, may_promote};
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::Run;
use modelrun_core::schema::Inputs;
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::guard::ClientAddr;
use crate::lifecycle::{find_version, promote};
use crate::policy::{Action, require, visible_run};
use crate::state::AppState;
use crate::submit::{Submission, pick_version, submit};
use crate::{run_resources, uploads};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/models/{name}/versions/{label}/promote",
            get(form).post(promote_version),
        )
        .route("/runs/{id}/compare-production", post(compare_production))
}

#[derive(Template, WebTemplate)]
#[template(path = "promote.html")]
struct PromotePage {
    nav: Nav,
    model_name: String,
    model_title: String,
    label: String,
    /// The label of the version that is production now, if any.
    production: Option<String>,
    note: String,
    max_note: usize,
    problem: Option<String>,
    /// A retired version cannot become production: no form, only why.
    retired: bool,
}

impl PromotePage {
    fn new(user: &CurrentUser, model: &ModelWithVersions, version: &ModelVersion) -> Self {
        PromotePage {
            nav: Nav::new(&user.user, &user.csrf, Section::Models),
            model_name: model.model.name.clone(),
            model_title: model.model.title.clone(),
            label: version.label.clone(),
            production: model.production().map(|v| v.label.clone()),
            note: String::new(),
            max_note: MAX_NOTE_CHARS,
            problem: None,
            retired: !version.is_active(),
        }
    }
}

/// The version's page, where a promotion ends.
fn version_page(model: &str, label: &str) -> String {
    format!("/models/{model}/versions/{label}")
}

async fn form(
    user: CurrentUser,
    State(state): State<AppState>,
    Path((name, label)): Path<(String, String)>,
) -> AppResult<Response> {
    let (model, version) = find_version(&state, &name, &label).await?;
    if !may_promote(&user.user, &model.model) {
        return Err(AppError::Forbidden(format!(
            "only an administrator or the owner of {name} promotes its versions"
        )));
    }
    if version.alias == Alias::Production {
        return Ok(Redirect::to(&version_page(&name, &label)).into_response());
    }
    let mut page = PromotePage::new(&user, &model, &version);
    if !version.is_active() {
        page.problem = Some(format!(
            "Version {label} is retired and cannot become production."
        ));
    }
    Ok(page.into_response())
}

#[derive(Debug, Deserialize)]
struct PromoteForm {
    #[serde(default)]
    note: String,
}

async fn promote_version(
    user: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((name, label)): Path<(String, String)>,
    PageForm(form): PageForm<PromoteForm>,
) -> AppResult<Response> {
    let (model, version) = find_version(&state, &name, &label).await?;
    match promote(&state, &user.user, &client, &model, &version, &form.note).await {
        Ok(_) => Ok(Redirect::to(&version_page(&name, &label)).into_response()),
        Err(error @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let status = match error {
                AppError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let problem = match &error {
                AppError::Invalid { errors, .. } => errors
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            let mut page = PromotePage::new(&user, &model, &version);
            page.note = form.note;
            page.problem = Some(format!("Nothing was promoted. {problem}."));
            Ok((status, page).into_response())
        }
        Err(other) => Err(other),
    }
}

/// The origin's inputs that `version` takes.
fn inputs_for(origin: &Run, version: &ModelVersion) -> serde_json::Map<String, serde_json::Value> {
    origin
        .inputs
        .iter()
        .filter(|(name, _)| version.inputs.field(name).is_some())
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// Submits a candidate run's inputs to the production version and opens
/// the compare page of both. Pressed twice, it opens the same comparison:
/// the run's one-time key is made of the candidate run and the production
/// version.
async fn compare_production(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    require(user.role, Action::SubmitRuns)?;
    let origin = visible_run(&state, &user, &id).await?;
    let model = state
        .store
        .model(&origin.model_name)
        .await?
        .ok_or(AppError::NotFound)?;
    let production = pick_version(&model, None)?;
    if production.id == origin.version_id {
        return Err(AppError::Conflict(format!(
            "run #{} is already of the production version ({}): there is nothing to compare it with",
            origin.id, production.label
        )));
    }
    let inputs: Inputs =
        uploads::validate(&state, &production.inputs, &inputs_for(&origin, production)).await?;
    // The candidate's resources when production allows them, else production's own.
    let resources =
        run_resources::resolve_api(&state, production, &Default::default(), origin.resources)
            .unwrap_or(production.resources);
    let submission = Submission {
        version: production,
        inputs,
        resources,
        key: Some(format!(
            "compare-production-{}-{}",
            origin.id, production.id
        )),
        rerun_of: Some(origin.id),
        production_only: true,
    };
    let submitted = submit(&state, &user, &client, submission).await?;
    let runs = format!("{},{}", origin.id, submitted.run().id);
    Ok(Redirect::to(&format!("/compare?runs={runs}")).into_response())
}
