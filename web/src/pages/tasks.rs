//! The task queue, for administrators: what the worker has to do, what it
//! did, and what died; a dead task can be given fresh attempts.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::ids::TaskId;
use modelrun_core::task::{Task, TaskState};
use serde::Deserialize;

use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::locale::{LocalTime, Locale};
use crate::policy::{Action, require};
use crate::state::AppState;

const LIMIT: u32 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/tasks", get(list))
        .route("/admin/tasks/{id}/retry", post(retry))
}

struct TaskRow {
    id: TaskId,
    kind: &'static str,
    payload: String,
    state: &'static str,
    attempts: String,
    due: LocalTime,
    error: String,
    dead: bool,
}

impl TaskRow {
    fn new(task: &Task, locale: &Locale) -> Self {
        TaskRow {
            id: task.id,
            kind: task.kind.as_str(),
            payload: task.payload.to_string(),
            state: task.state.as_str(),
            attempts: format!("{} of {}", task.attempts, task.max_attempts),
            due: locale.time(task.run_after),
            error: task.last_error.clone().unwrap_or_default(),
            dead: task.state == TaskState::Dead,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks.html")]
struct TasksPage {
    nav: Nav,
    tasks: Vec<TaskRow>,
    state: String,
    /// The zone of the due times.
    zone: &'static str,
    limit: u32,
}

/// The filter: `state`, or `status` as people also call it.
#[derive(Debug, Deserialize)]
struct TasksQuery {
    state: Option<String>,
    status: Option<String>,
}

/// The state asked for, if any; a refusal names the field as it was given.
fn wanted_state(query: &TasksQuery) -> AppResult<Option<TaskState>> {
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let (field, text) = match (given(&query.state), given(&query.status)) {
        (Some(text), _) => ("state", text),
        (None, Some(text)) => ("status", text),
        (None, None) => return Ok(None),
    };
    text.parse::<TaskState>().map(Some).map_err(|_| {
        AppError::BadRequest(format!(
            "{field}: must be queued, done or dead, not {text:?}"
        ))
    })
}

async fn list(
    current: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<TasksQuery>,
) -> AppResult<TasksPage> {
    require(current.user.role, Action::ManageTasks)?;
    let wanted = wanted_state(&query)?;
    let tasks = state.store.list_tasks(wanted, LIMIT).await?;
    let locale = Locale::of(&current);
    Ok(TasksPage {
        nav: Nav::admin(&current.user, &current.csrf, Section::Tasks, &state),
        tasks: tasks
            .iter()
            .map(|task| TaskRow::new(task, &locale))
            .collect(),
        zone: locale.zone_name(),
        state: wanted.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        limit: LIMIT,
    })
}

async fn retry(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    require(current.user.role, Action::ManageTasks)?;
    let id = id.parse::<TaskId>().map_err(|_| AppError::NotFound)?;
    let task = state.store.retry_task(id, Utc::now()).await?;
    tracing::info!(task_id = %task.id, user_id = %current.user.id, "dead task retried");
    state.kicker.kick(&[task.id]).await;
    Ok(Redirect::to("/admin/tasks?state=queued").into_response())
}
