//! One run: status, history, inputs, log, outputs and key figures. While
//! the run is active the page refreshes itself: by script when it can, by
//! a `<noscript>` refresh when it cannot.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use futures_util::TryStreamExt;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::blob::BlobKey;
use modelrun_core::config::RunVisibility;
use modelrun_core::ids::{RunId, UserId};
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{FollowUp, Run, RunEvent, RunOutput, StatusChange};
use modelrun_core::status::RunStatus;
use modelrun_core::task::NewTask;
use modelrun_core::user::{Role, User};

use super::Nav;
use crate::auth::{CurrentUser, require};
use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::preview::Kind;
use crate::state::AppState;
use crate::{downloads, format, log_download};

/// `metrics.json` larger than this is not read for key figures.
const MAX_METRICS_BYTES: i64 = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/runs/{id}", get(page))
        .route("/runs/{id}/log", get(log))
        .route("/runs/{id}/outputs/{*name}", get(output))
        .route("/runs/{id}/cancel", post(cancel))
}

/// The run a person asked for, if they may see it: with team-wide
/// visibility every signed-in person sees every run; with own-only, people
/// see their own runs and admins see all. A run they may not see is not
/// found, like an id that does not exist or is not a number.
pub async fn visible_run(state: &AppState, user: &User, id: &str) -> AppResult<Run> {
    let id: RunId = id.parse().map_err(|_| AppError::NotFound)?;
    let run = state.store.run(id).await?.ok_or(AppError::NotFound)?;
    if may_see(state, user, &run) {
        Ok(run)
    } else {
        Err(AppError::NotFound)
    }
}

fn may_see(state: &AppState, user: &User, run: &Run) -> bool {
    match state.config.run_visibility {
        RunVisibility::Team => true,
        RunVisibility::Own => user.role == Role::Admin || run.submitted_by == user.id,
    }
}

/// The submitter a list of runs is limited to, for a person who may only
/// see their own.
pub fn visible_submitter(state: &AppState, user: &User) -> Option<UserId> {
    match state.config.run_visibility {
        RunVisibility::Own if user.role != Role::Admin => Some(user.id),
        _ => None,
    }
}

struct EventView {
    at: String,
    status: Option<RunStatus>,
    message: String,
    facts: Vec<(String, String)>,
}

impl EventView {
    fn new(event: &RunEvent) -> Self {
        let facts = event
            .data
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.replace('_', " "), format::value(v)))
                    .collect()
            })
            .unwrap_or_default();
        EventView {
            at: event.at.format("%H:%M:%S").to_string(),
            status: event.status,
            message: event.message.clone(),
            facts,
        }
    }
}

/// What the check of a waiting run found, for the banner.
struct WaitingView {
    at: String,
    summary: String,
    findings: Vec<String>,
    causes: Vec<(String, String)>,
}

impl WaitingView {
    /// The diagnosis of the run's current status, while it still waits.
    fn find(run: &Run, events: &[RunEvent]) -> Option<Self> {
        if !matches!(run.status, RunStatus::Runnable | RunStatus::Starting) {
            return None;
        }
        let event = events.iter().rev().find(|e| {
            e.data.get("diagnosis").and_then(|d| d.as_str()) == Some(run.status.as_str())
        })?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let mut findings = Vec::new();
        let found = &event.data["findings"];
        if let Some(reason) = text(&found["job_status_reason"]) {
            findings.push(format!("The job: {reason}"));
        }
        for environment in found["compute_environments"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let mut line = format!(
                "Compute environment {}: {}, {}",
                text(&environment["name"]).unwrap_or_default(),
                text(&environment["state"]).unwrap_or_default(),
                text(&environment["status"]).unwrap_or_default()
            );
            if let Some(reason) = text(&environment["status_reason"]) {
                line.push_str(&format!(" ({reason})"));
            }
            findings.push(line);
        }
        let causes = event.data["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((text(&c["cause"])?, text(&c["check"])?)))
            .collect();
        Some(WaitingView {
            at: format::timestamp(event.at),
            summary: text(&event.data["summary"]).unwrap_or_default(),
            findings,
            causes,
        })
    }
}

struct OutputView {
    name: String,
    size: String,
    content_type: String,
    sha256: String,
    preview: bool,
}

impl OutputView {
    fn new(output: &RunOutput) -> Self {
        OutputView {
            name: output.name.clone(),
            size: format::bytes(output.size),
            content_type: output.content_type.clone(),
            sha256: output.sha256.clone().unwrap_or_default(),
            preview: Kind::of(&output.name, &output.content_type) != Kind::None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "run.html")]
struct RunPage {
    nav: Nav,
    run: Run,
    active: bool,
    waiting: Option<WaitingView>,
    can_cancel: bool,
    can_rerun: bool,
    /// How the duration compares to the version's typical one.
    typical: Option<String>,
    /// The first CSV output's chart: its name and the SVG.
    chart: Option<(String, String)>,
    submitted: String,
    duration: String,
    events: Vec<EventView>,
    inputs: Vec<(String, String)>,
    outputs: Vec<OutputView>,
    metrics: Vec<(String, String)>,
    log: String,
    log_truncated: bool,
}

/// Numbers from the run's `metrics.json`, in its order. Anything else in
/// the file is not a key figure and is left out.
pub async fn metrics(state: &AppState, run: &Run, outputs: &[RunOutput]) -> Vec<(String, String)> {
    let Some(output) = outputs
        .iter()
        .find(|o| o.name == "metrics.json" && o.size <= MAX_METRICS_BYTES)
    else {
        return Vec::new();
    };
    let read = async {
        let key = BlobKey::run_output(run.id, &output.name)?;
        let blob = state.blob.get(&key).await?;
        let bytes: Vec<u8> = blob
            .body
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .map_err(modelrun_core::blob::BlobError::Io)?;
        Ok::<_, modelrun_core::blob::BlobError>(bytes)
    };
    match read.await {
        Ok(bytes) => {
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes) {
                Ok(map) => map
                    .iter()
                    .filter_map(|(key, value)| {
                        Some((key.replace('_', " "), format::figure(value.as_f64()?)))
                    })
                    .collect(),
                Err(_) => Vec::new(),
            }
        }
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read metrics.json");
            Vec::new()
        }
    }
}

/// The inputs as (label, value) rows, in the order of the version's form;
/// anything the schema does not name comes last.
fn input_rows(run: &Run, version: Option<&ModelVersion>) -> Vec<(String, String)> {
    let fields = version.map(|v| v.inputs.fields()).unwrap_or_default();
    let mut rows: Vec<(String, String)> = fields
        .iter()
        .filter_map(|field| {
            Some((
                field.label().to_owned(),
                format::value(run.inputs.get(&field.name)?),
            ))
        })
        .collect();
    for (key, value) in &run.inputs {
        if !fields.iter().any(|field| &field.name == key) {
            rows.push((key.clone(), format::value(value)));
        }
    }
    rows
}

fn can_cancel(user: &User, run: &Run) -> bool {
    !run.status.is_terminal()
        && run.status != RunStatus::Cancelling
        && (user.role == Role::Admin || (user.role >= Role::Runner && user.id == run.submitted_by))
}

async fn page(
    CurrentUser { user, csrf, .. }: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<RunPage> {
    let run = visible_run(&state, &user, &id).await?;
    let (events, outputs, version) = tokio::try_join!(
        state.store.run_events(run.id),
        state.store.run_outputs(run.id),
        state.store.version(run.version_id),
    )?;
    let inputs = input_rows(&run, version.as_ref());
    let log = match state.executor.log(&run, None).await {
        Ok(page) => page,
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read the log");
            modelrun_core::executor::LogPage {
                text: format!("(the log cannot be read right now: {error})"),
                ..Default::default()
            }
        }
    };
    Ok(RunPage {
        nav: Nav::new(&user, &csrf, "runs"),
        active: !run.status.is_terminal(),
        waiting: WaitingView::find(&run, &events),
        can_cancel: can_cancel(&user, &run),
        can_rerun: user.role >= Role::Runner,
        typical: super::typical::compare_duration(&state, &run).await,
        submitted: format::timestamp(run.created_at),
        duration: run
            .duration(Utc::now())
            .map(format::duration)
            .unwrap_or_default(),
        events: events.iter().map(EventView::new).collect(),
        inputs,
        metrics: metrics(&state, &run, &outputs).await,
        chart: super::preview::main_chart(&state, &run, &outputs).await,
        outputs: outputs.iter().map(OutputView::new).collect(),
        log: log.text,
        log_truncated: log.truncated,
        run,
    })
}

async fn log(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    downloads::audit_download(&state, &user, &client, &run, "log").await;
    Ok(log_download::log(&state, run))
}

async fn output(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    downloads::output(&state, &user, &client, &run, &name).await
}

/// Asks for a run to stop: `cancelling` now, with who asked; `cancelled`
/// once the executor confirms.
pub async fn request_cancel(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
) -> AppResult<()> {
    if !can_cancel(user, run) {
        if run.status.is_terminal() || run.status == RunStatus::Cancelling {
            return Ok(());
        }
        return Err(AppError::Forbidden(
            "Only the person who submitted a run, or an administrator, may cancel it.".to_owned(),
        ));
    }
    let mut change = StatusChange::new(run.id, RunStatus::Cancelling)
        .reason(format!("cancel requested by {}", user.email))
        .fact("by", user.email.as_str());
    change
        .follow_ups
        .push(FollowUp::Task(NewTask::cancel_run(run.id, &user.email)));
    let outcome = state.store.transition(change).await?;
    tracing::info!(run_id = %run.id, user_id = %user.id, "cancel requested");
    audit(
        state,
        NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::RunCancel,
            format!("run {}", run.id),
        )
        .detail(serde_json::json!({ "model": run.model_name, "status": run.status }))
        .from_address(client.as_str()),
    )
    .await;
    state.kicker.kick(outcome.tasks()).await;
    Ok(())
}

async fn cancel(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    require(user.role, Role::Runner, "cancel runs")?;
    let run = visible_run(&state, &user, &id).await?;
    request_cancel(&state, &user, &client, &run).await?;
    Ok(Redirect::to(&format!("/runs/{}", run.id)).into_response())
}
