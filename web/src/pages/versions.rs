//! One version of a model: what it is, what it needs (its environment and
//! secrets) and how its environment's build went. Administrators retire
//! versions (a retired version stays visible with its runs and takes no
//! new runs) and ask for an environment to be built again.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::environment::{Environment, EnvironmentStatus};

use super::confirm::{Answer, Question, ask};
use super::models::VersionView;
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::format;
use crate::guard::{ClientAddr, audit};
use crate::policy::{Action, may_run_version, require};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/models/{name}/versions/{label}", get(page))
        .route("/models/{name}/versions/{label}/retire", post(retire))
        .route(
            "/models/{name}/versions/{label}/environment",
            post(prepare_again),
        )
}

/// An environment as the page shows it.
struct EnvironmentView {
    status: EnvironmentStatus,
    python: String,
    requirements: String,
    log: String,
    updated: String,
}

impl From<Environment> for EnvironmentView {
    fn from(environment: Environment) -> Self {
        let spec = environment.spec;
        EnvironmentView {
            status: environment.status,
            python: match spec.python {
                Some(asked) => format!("{} (asked for {asked})", spec.interpreter),
                None => spec.interpreter,
            },
            requirements: spec.requirements,
            log: environment.log,
            updated: format::ago(environment.updated_at, Utc::now()),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "version.html")]
struct VersionPage {
    nav: Nav,
    model_name: String,
    model_title: String,
    version: VersionView,
    secrets: Vec<String>,
    environment: Option<EnvironmentView>,
    /// Whether the page refreshes itself: the environment is being built.
    building: bool,
    /// Whether the person may promote this version to production.
    may_promote: bool,
    /// Whether the person may start a run of this version.
    may_run: bool,
}

async fn page(
    current: CurrentUser,
    State(state): State<AppState>,
    Path((name, label)): Path<(String, String)>,
) -> AppResult<VersionPage> {
    let locale = crate::locale::Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let (model, version) = crate::lifecycle::find_version(&state, &name, &label).await?;
    let environment = match &version.environment {
        Some(digest) => state
            .store
            .environment(digest)
            .await?
            .map(EnvironmentView::from),
        None => None,
    };
    let view = VersionView::new(&model, &version, &locale);
    Ok(VersionPage {
        may_promote: modelrun_core::alias::may_promote(&user, &model.model),
        may_run: may_run_version(user.role, &version),
        nav: Nav::new(&user, &csrf, Section::Models),
        model_name: model.model.name,
        model_title: model.model.title,
        building: environment
            .as_ref()
            .is_some_and(|e| e.status == EnvironmentStatus::Preparing),
        environment,
        secrets: version.secrets.clone(),
        version: view,
    })
}

async fn retire(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((name, label)): Path<(String, String)>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let user = &current.user;
    require(user.role, Action::RetireVersions)?;
    let (_, version) = crate::lifecycle::find_version(&state, &name, &label).await?;
    if version.is_active() && !answer.given() {
        let question = Question {
            text: format!("Retire version {label}? It will take no new runs."),
            yes: "Retire the version",
            no: "Keep it",
            back: format!("/models/{name}/versions/{label}"),
        };
        let action = format!("/models/{name}/versions/{label}/retire");
        return Ok(ask(&current, Section::Models, question, action, Vec::new()));
    }
    if version.is_active() {
        state.store.retire_version(version.id, Utc::now()).await?;
        let entry = NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::VersionRetire,
            format!("version {}", version.id),
        )
        .detail(serde_json::json!({ "model": name, "label": label }))
        .from_address(client.as_str());
        audit(&state, entry).await;
    }
    Ok(Redirect::to(&format!("/models/{name}")).into_response())
}

/// Builds a failed (or not yet built) environment again: after the
/// requirements' index came back, or a wheel was added to the wheelhouse.
async fn prepare_again(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((name, label)): Path<(String, String)>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let user = &current.user;
    require(user.role, Action::BuildEnvironments)?;
    let (_, version) = crate::lifecycle::find_version(&state, &name, &label).await?;
    let digest = version.environment.ok_or(AppError::NotFound)?;
    if !answer.given() {
        let question = Question {
            text: format!(
                "Build the environment of version {label} again? Runs of it wait until the \
                 build ends."
            ),
            yes: "Build it again",
            no: "Leave it",
            back: format!("/models/{name}/versions/{label}#environment"),
        };
        let action = format!("/models/{name}/versions/{label}/environment");
        return Ok(ask(&current, Section::Models, question, action, Vec::new()));
    }
    if let Some(task) = state.store.request_environment(&digest, Utc::now()).await? {
        state.kicker.kick(&[task]).await;
        let entry = NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::EnvironmentPrepare,
            format!("version {}", version.id),
        )
        .detail(serde_json::json!({ "model": name, "label": label, "environment": digest }))
        .from_address(client.as_str());
        audit(&state, entry).await;
    }
    Ok(Redirect::to(&format!("/models/{name}/versions/{label}#environment")).into_response())
}
