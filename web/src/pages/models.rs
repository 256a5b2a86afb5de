//! The models people can run, with their versions.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::get;
use chrono::Utc;
use modelrun_core::environment::EnvironmentStatus;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::RunFilter;
use modelrun_core::schema::diff::changes;
use modelrun_core::user::Role;

use super::runs::RunRow;
use super::typical::median_duration;
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::locale::Locale;
use crate::policy::may_run_version;
use crate::secrets::{self, SecretState};
use crate::state::AppState;
use crate::{format, markdown};

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
    /// Production or candidate.
    pub alias: modelrun_core::alias::Alias,
    pub resources: String,
    /// The most one run may ask for, when it is more than `resources`.
    pub max_resources: Option<String>,
    pub inputs: usize,
    /// What changed in the inputs since the version before.
    pub changes: Vec<String>,
    /// Runs, success rate and median duration, on the model page.
    pub stats: Option<VersionStats>,
    /// How its environment's build went, if it declares one.
    pub environment: Option<EnvironmentStatus>,
    /// Why it cannot be retired now (it is production), if so.
    pub retire_refused: Option<String>,
}

#[derive(Debug)]
pub struct VersionStats {
    pub runs: i64,
    pub success: String,
    pub median: String,
}

impl VersionView {
    /// `version` of `model`; `locale` words the hover of when it was
    /// registered.
    pub fn new(model: &ModelWithVersions, version: &ModelVersion, locale: &Locale) -> Self {
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
        VersionView {
            label: version.label.clone(),
            registered: locale.hover(version.registered_at),
            registered_ago: format::ago(version.registered_at, Utc::now()),
            source,
            active: version.is_active(),
            alias: version.alias,
            resources: crate::run_resources::text(&version.resources),
            max_resources: (version.max_resources != version.resources)
                .then(|| crate::run_resources::text(&version.max_resources)),
            inputs: version.inputs.fields().len(),
            changes: Vec::new(),
            stats: None,
            environment: None,
            retire_refused: model.retire_refusal(version),
        }
    }
}

struct ModelCard {
    name: String,
    title: String,
    summary: String,
    owner: String,
    versions: Vec<VersionView>,
    /// Whether the person may start a run of its production version: the
    /// "New run" button's condition.
    runnable: bool,
}

impl ModelCard {
    fn new(model: &ModelWithVersions, locale: &Locale, role: Role) -> Self {
        ModelCard {
            name: model.model.name.clone(),
            title: model.model.title.clone(),
            summary: paragraphs(&model.model.description)
                .into_iter()
                .next()
                .unwrap_or_default(),
            owner: model.model.owner.clone(),
            versions: model
                .versions
                .iter()
                .map(|version| VersionView::new(model, version, locale))
                .collect(),
            runnable: model
                .production()
                .is_some_and(|production| may_run_version(role, production)),
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

async fn list(current: CurrentUser, State(state): State<AppState>) -> AppResult<ModelsPage> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let models = state.store.models().await?;
    Ok(ModelsPage {
        nav: Nav::new(&user, &csrf, Section::Models),
        models: models
            .iter()
            .map(|model| ModelCard::new(model, &locale, user.role))
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "model.html")]
struct ModelPage {
    nav: Nav,
    model: ModelCard,
    /// The description, rendered from Markdown (safe: see [`markdown`]).
    description: String,
    runs: Vec<RunRow>,
    /// The zone of the runs' times.
    runs_zone: &'static str,
    /// The secrets its versions read, and which are set.
    secrets: Vec<SecretView>,
}

/// A secret as the model page shows it: never its value.
struct SecretView {
    name: String,
    declared: bool,
    /// "set 2 hours ago by ann@example.com" (and whether this server can
    /// read it), or empty when not set.
    set: String,
}

impl From<SecretState> for SecretView {
    fn from(state: SecretState) -> Self {
        SecretView {
            set: state
                .set
                .map(|info| {
                    let ago = format::ago(info.updated_at, Utc::now());
                    let set = match info.updated_by.as_str() {
                        "" => format!("set {ago}"),
                        by => format!("set {ago} by {by}"),
                    };
                    match info.unreadable {
                        Some(_) => format!("{set}, but this server cannot read it: set it again"),
                        None => set,
                    }
                })
                .unwrap_or_default(),
            declared: state.declared,
            name: state.name,
        }
    }
}

/// Versions with statistics: at most this many, newest first.
const STATS_VERSIONS: usize = 10;

/// Each version's changes from the one before it, and its runs' record.
async fn version_history(
    state: &AppState,
    model: &ModelWithVersions,
    card: &mut ModelCard,
) -> AppResult<()> {
    let counts = state.store.version_counts(model.model.id).await?;
    for (index, view) in card.versions.iter_mut().enumerate() {
        let version = &model.versions[index];
        if let Some(digest) = &version.environment {
            view.environment = state.store.environment(digest).await?.map(|e| e.status);
        }
        if let Some(older) = model.versions.get(index + 1) {
            view.changes = changes(&older.inputs, &version.inputs);
        }
        if index >= STATS_VERSIONS {
            continue;
        }
        let Some(count) = counts.iter().find(|c| c.version_id == version.id) else {
            continue;
        };
        let median = median_duration(state, &model.model.name, &version.label).await?;
        view.stats = Some(VersionStats {
            runs: count.total,
            success: count
                .success_rate()
                .map(|rate| format!("{:.0} %", rate * 100.0))
                .unwrap_or_else(|| "–".to_owned()),
            median: median
                .map(|(duration, _)| format::duration(duration))
                .unwrap_or_else(|| "–".to_owned()),
        });
    }
    Ok(())
}

async fn detail(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> AppResult<ModelPage> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let model = state.store.model(&name).await?.ok_or(AppError::NotFound)?;
    let runs = state
        .store
        .list_runs(&RunFilter {
            model: Some(name),
            submitted_by: crate::policy::visible_submitter(&state, &user),
            limit: 10,
            ..RunFilter::default()
        })
        .await?;
    let mut card = ModelCard::new(&model, &locale, user.role);
    version_history(&state, &model, &mut card).await?;
    let secrets = secrets::states(&state.vault, &model.model.name, &model.versions).await?;
    Ok(ModelPage {
        secrets: secrets.into_iter().map(SecretView::from).collect(),
        nav: Nav::new(&user, &csrf, Section::Models),
        description: markdown::render(&model.model.description),
        model: card,
        runs: runs
            .items
            .iter()
            .map(|run| RunRow::new(run, &locale))
            .collect(),
        runs_zone: locale.zone_name(),
    })
}
