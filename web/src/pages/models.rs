//! The models people can run, with their versions.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::get;
use chrono::Utc;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::RunFilter;

use super::Nav;
use super::runs::RunRow;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::format;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/models") }))
        .route("/models", get(list))
        .route("/models/{name}", get(detail))
}

/// A version as the pages show it.
#[derive(Debug)]
pub struct VersionView {
    pub label: String,
    pub registered: String,
    pub registered_ago: String,
    pub source: String,
    pub active: bool,
    pub resources: String,
    pub inputs: usize,
}

impl VersionView {
    pub fn new(version: &ModelVersion) -> Self {
        let via = match version.registered_via.as_str() {
            "cli" => "command line",
            "example" => "built-in example",
            "ecr" => "image push",
            other => other,
        };
        let source = match &version.source_commit {
            Some(commit) => format!("{via}, commit {commit}"),
            None => via.to_owned(),
        };
        let r = &version.resources;
        VersionView {
            label: version.label.clone(),
            registered: format::timestamp(version.registered_at),
            registered_ago: format::ago(version.registered_at, Utc::now()),
            source,
            active: version.is_active(),
            resources: format!(
                "{} vCPU, {} MiB, {} s limit",
                r.vcpu, r.memory_mib, r.timeout_seconds
            ),
            inputs: version.inputs.fields().len(),
        }
    }
}

struct ModelCard {
    name: String,
    title: String,
    summary: String,
    owner: String,
    versions: Vec<VersionView>,
    runnable: bool,
}

impl ModelCard {
    fn new(model: &ModelWithVersions) -> Self {
        ModelCard {
            name: model.model.name.clone(),
            title: model.model.title.clone(),
            summary: paragraphs(&model.model.description)
                .into_iter()
                .next()
                .unwrap_or_default(),
            owner: model.model.owner.clone(),
            versions: model.versions.iter().map(VersionView::new).collect(),
            runnable: model.latest_active().is_some(),
        }
    }
}

/// Text split at blank lines, each paragraph on one line.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "models.html")]
struct ModelsPage {
    nav: Nav,
    models: Vec<ModelCard>,
}

async fn list(
    CurrentUser { user, csrf, .. }: CurrentUser,
    State(state): State<AppState>,
) -> AppResult<ModelsPage> {
    let models = state.store.models().await?;
    Ok(ModelsPage {
        nav: Nav::new(&user, &csrf, "models"),
        models: models.iter().map(ModelCard::new).collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "model.html")]
struct ModelPage {
    nav: Nav,
    model: ModelCard,
    description: Vec<String>,
    runs: Vec<RunRow>,
}

async fn detail(
    CurrentUser { user, csrf, .. }: CurrentUser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<ModelPage> {
    let model = state.store.model(&name).await?.ok_or(AppError::NotFound)?;
    let runs = state
        .store
        .list_runs(&RunFilter {
            model: Some(name),
            submitted_by: super::run::visible_submitter(&state, &user),
            limit: 10,
            ..RunFilter::default()
        })
        .await?;
    Ok(ModelPage {
        nav: Nav::new(&user, &csrf, "models"),
        description: paragraphs(&model.model.description),
        model: ModelCard::new(&model),
        runs: runs.items.iter().map(RunRow::new).collect(),
    })
}
