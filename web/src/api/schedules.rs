//! Schedules through the API: create, list, get (with the next fire times
//! and the runs it made), pause, resume, delete.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use modelrun_core::ids::ScheduleId;
use modelrun_core::schedule::{CronRule, FireRecord, Schedule, VersionChoice, check_name};
use modelrun_core::schema::{Inputs, ValidationErrors};
use serde::{Deserialize, Serialize};

use super::openapi as paths;
use crate::auth::ApiUser;
use crate::error::{ApiResult, AppError};
use crate::extract::{ApiJson, ApiPath};
use crate::guard::ClientAddr;
use crate::schedules::{self, PRODUCTION, ScheduleRequest};
use crate::state::AppState;

/// How many fires a schedule's answer lists, newest first.
const FIRES: u32 = 50;
/// How many next fire times a schedule's answer lists.
const UPCOMING: usize = 3;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::SCHEDULES, get(list).post(create))
        .route(paths::SCHEDULE, get(detail).delete(remove))
        .route(paths::SCHEDULE_PAUSE, post(pause))
        .route(paths::SCHEDULE_RESUME, post(resume))
}

#[derive(Serialize)]
struct FireJson {
    fire_at: DateTime<Utc>,
    /// `run`, `skipped` or `failed`.
    outcome: &'static str,
    run_id: Option<i64>,
    run_status: Option<String>,
    message: String,
}

impl FireJson {
    fn new(fire: &FireRecord) -> Self {
        FireJson {
            fire_at: fire.fire_at,
            outcome: fire.kind.as_str(),
            run_id: fire.run_id.map(|id| id.0),
            run_status: fire.run_status.map(|status| status.to_string()),
            message: fire.message.clone(),
        }
    }
}

#[derive(Serialize)]
struct ScheduleJson {
    id: i64,
    name: String,
    model: String,
    /// A version label, or `production`: the model's production version at
    /// each fire.
    version: String,
    inputs: Inputs,
    cron: String,
    time_zone: String,
    /// Who created it; its runs are submitted as them.
    owner: String,
    /// `active`, `paused` or `deleted`.
    state: &'static str,
    /// The next times it fires (none while paused).
    next_fire_times: Vec<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fires: Option<Vec<FireJson>>,
}

impl ScheduleJson {
    fn new(schedule: &Schedule, upcoming: usize) -> Self {
        let next_fire_times = match (schedule.is_active(), schedule.rule()) {
            (true, Ok(rule)) => rule.upcoming(Utc::now(), upcoming),
            _ => Vec::new(),
        };
        ScheduleJson {
            id: schedule.id.0,
            name: schedule.name.clone(),
            model: schedule.model_name.clone(),
            version: match &schedule.version {
                VersionChoice::Pinned { label, .. } => label.clone(),
                VersionChoice::Production => PRODUCTION.to_owned(),
            },
            inputs: schedule.inputs.clone(),
            cron: schedule.cron.clone(),
            time_zone: schedule.time_zone.clone(),
            owner: schedule.owner_email.clone(),
            state: schedule.state(),
            next_fire_times,
            created_at: schedule.created_at,
            url: format!("/schedules/{}", schedule.id),
            fires: None,
        }
    }
}

#[derive(Serialize)]
struct ScheduleList {
    schedules: Vec<ScheduleJson>,
}

async fn list(api: ApiUser, State(state): State<AppState>) -> ApiResult<Json<ScheduleList>> {
    let schedules = schedules::list(&state, &api.acting()).await?;
    Ok(Json(ScheduleList {
        schedules: schedules.iter().map(|s| ScheduleJson::new(s, 1)).collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    name: String,
    model: String,
    /// A label, or `production` (the default).
    version: Option<String>,
    #[serde(default)]
    inputs: serde_json::Map<String, serde_json::Value>,
    cron: String,
    /// An IANA zone; UTC by default.
    time_zone: Option<String>,
}

async fn create(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateRequest>,
) -> ApiResult<Response> {
    let Some(model) = state.store.model(&request.model).await? else {
        // Without a model its inputs cannot be checked; the rest can.
        let mut errors = ValidationErrors::default();
        errors.push("model", format!("there is no model {:?}", request.model));
        let time_zone = request.time_zone.as_deref().unwrap_or("UTC");
        let wrong = check_name(&request.name).err().into_iter().chain(
            CronRule::parse(&request.cron, time_zone)
                .err()
                .into_iter()
                .flatten(),
        );
        for error in wrong {
            errors.push(error.field, error.message);
        }
        return Err(AppError::Invalid {
            summary: "the schedule is not valid",
            errors,
        }
        .into());
    };
    let schedule = schedules::create(
        &state,
        &api.acting(),
        &client,
        ScheduleRequest {
            name: &request.name,
            model: &model,
            version: request.version.as_deref(),
            inputs: &request.inputs,
            cron: &request.cron,
            time_zone: request.time_zone.as_deref().unwrap_or("UTC"),
        },
    )
    .await?;
    let location = format!("/api/v1/schedules/{}", schedule.id);
    let body = detailed(&state, &schedule).await?;
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(body)).into_response())
}

async fn detailed(state: &AppState, schedule: &Schedule) -> ApiResult<ScheduleJson> {
    let fires = state.store.schedule_fires(schedule.id, FIRES).await?;
    let mut json = ScheduleJson::new(schedule, UPCOMING);
    json.fires = Some(fires.iter().map(FireJson::new).collect());
    Ok(json)
}

fn schedule_id(text: &str) -> Result<ScheduleId, AppError> {
    text.parse().map_err(|_| AppError::NotFound)
}

async fn detail(
    api: ApiUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ScheduleJson>> {
    let schedule = schedules::load(&state, &api.acting(), schedule_id(&id)?).await?;
    Ok(Json(detailed(&state, &schedule).await?))
}

async fn set_paused(
    api: ApiUser,
    client: ClientAddr,
    state: AppState,
    id: &str,
    paused: bool,
) -> ApiResult<Json<ScheduleJson>> {
    let schedule = schedules::load(&state, &api.acting(), schedule_id(id)?).await?;
    let changed = schedules::set_paused(&state, &api.acting(), &client, &schedule, paused).await?;
    Ok(Json(detailed(&state, &changed).await?))
}

async fn pause(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ScheduleJson>> {
    set_paused(api, client, state, &id, true).await
}

async fn resume(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ScheduleJson>> {
    set_paused(api, client, state, &id, false).await
}

async fn remove(
    api: ApiUser,
    client: ClientAddr,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let schedule = schedules::load(&state, &api.acting(), schedule_id(&id)?).await?;
    schedules::delete(&state, &api.acting(), &client, &schedule).await?;
    Ok(StatusCode::NO_CONTENT)
}
