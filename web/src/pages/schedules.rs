//! Schedules in the browser: the list, a schedule's page (its next fire
//! times and the runs it made), the "Schedule" form beside a model's run
//! form, and pause, resume and delete.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use modelrun_core::alias::may_run;
use modelrun_core::ids::ScheduleId;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::schedule::{CronRule, FireRecord, Schedule, VersionChoice, check_name};
use modelrun_core::schema::{Uploads, ValidationErrors};
use modelrun_core::user::Role;
use serde::Deserialize;

use super::confirm::{Answer, Question, ask};
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::forms::{FormField, fields_from_submission, fields_from_values};
use crate::guard::ClientAddr;
use crate::policy::{Action, require};
use crate::schedules::{self, PRODUCTION, ScheduleRequest, may_change};
use crate::state::AppState;

/// How many fires a schedule's page lists, newest first.
const FIRES: u32 = 100;
/// How many next fire times a schedule's page shows.
const UPCOMING: usize = 3;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schedules", get(list))
        .route("/schedules/{id}", get(detail))
        .route("/schedules/{id}/pause", post(pause))
        .route("/schedules/{id}/resume", post(resume))
        .route("/schedules/{id}/delete", post(remove))
        .route("/models/{name}/schedules/new", get(form).post(create))
}

/// A time in the schedule's own zone, with UTC for the hover.
struct ZonedTime {
    iso: String,
    local: String,
    utc: String,
}

fn zoned(at: DateTime<Utc>, zone: Option<Tz>) -> ZonedTime {
    let local = match zone {
        Some(zone) => at
            .with_timezone(&zone)
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string(),
        None => at.format("%a %Y-%m-%d %H:%M UTC").to_string(),
    };
    ZonedTime {
        iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        local,
        utc: at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

struct ScheduleRow {
    id: ScheduleId,
    name: String,
    model: String,
    version: String,
    rule: String,
    state: &'static str,
    next: Option<ZonedTime>,
    owner: String,
}

impl ScheduleRow {
    fn new(schedule: &Schedule) -> Self {
        let rule = schedule.rule().ok();
        ScheduleRow {
            id: schedule.id,
            name: schedule.name.clone(),
            model: schedule.model_name.clone(),
            version: version_text(schedule),
            rule: format!("{} ({})", schedule.cron, schedule.time_zone),
            state: schedule.state(),
            next: schedule
                .next_fire_at
                .filter(|_| schedule.is_active())
                .map(|at| zoned(at, rule.map(|r| r.zone()))),
            owner: schedule.owner_email.clone(),
        }
    }
}

fn version_text(schedule: &Schedule) -> String {
    match &schedule.version {
        VersionChoice::Pinned { label, .. } => label.clone(),
        VersionChoice::Production => "production (at each run)".to_owned(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "schedules.html")]
struct SchedulesPage {
    nav: Nav,
    schedules: Vec<ScheduleRow>,
}

async fn list(current: CurrentUser, State(state): State<AppState>) -> AppResult<SchedulesPage> {
    let schedules = schedules::list(&state, &current.user).await?;
    Ok(SchedulesPage {
        nav: Nav::new(&current.user, &current.csrf, Section::Schedules),
        schedules: schedules.iter().map(ScheduleRow::new).collect(),
    })
}

struct FireRow {
    at: ZonedTime,
    kind: &'static str,
    run: Option<i64>,
    status: String,
    message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "schedule.html")]
struct SchedulePage {
    nav: Nav,
    row: ScheduleRow,
    inputs: Vec<(String, String)>,
    upcoming: Vec<ZonedTime>,
    fires: Vec<FireRow>,
    may_change: bool,
    paused: bool,
    deleted: bool,
}

async fn detail(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<SchedulePage> {
    let id = id.parse::<ScheduleId>().map_err(|_| AppError::NotFound)?;
    let schedule = schedules::visible(&state, &current.user, id).await?;
    let fires = state.store.schedule_fires(id, FIRES).await?;
    let rule = schedule.rule().ok();
    let zone = rule.as_ref().map(CronRule::zone);
    let upcoming = match (&rule, schedule.is_active()) {
        (Some(rule), true) => rule.upcoming(Utc::now(), UPCOMING),
        _ => Vec::new(),
    };
    Ok(SchedulePage {
        nav: Nav::new(&current.user, &current.csrf, Section::Schedules),
        inputs: schedule
            .inputs
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        upcoming: upcoming.into_iter().map(|at| zoned(at, zone)).collect(),
        fires: fires.iter().map(|fire| fire_row(fire, zone)).collect(),
        may_change: schedule.deleted_at.is_none() && may_change(&current.user, &schedule).is_ok(),
        paused: schedule.paused,
        deleted: schedule.deleted_at.is_some(),
        row: ScheduleRow::new(&schedule),
    })
}

fn fire_row(fire: &FireRecord, zone: Option<Tz>) -> FireRow {
    FireRow {
        at: zoned(fire.fire_at, zone),
        kind: fire.kind.as_str(),
        run: fire.run_id.map(|id| id.0),
        status: fire.run_status.map(|s| s.to_string()).unwrap_or_default(),
        message: fire.message.clone(),
    }
}

async fn change(
    state: &AppState,
    current: &CurrentUser,
    client: &ClientAddr,
    id: &str,
    paused: bool,
) -> AppResult<Response> {
    let id = id.parse::<ScheduleId>().map_err(|_| AppError::NotFound)?;
    let schedule = schedules::load(state, &current.user, id).await?;
    schedules::set_paused(state, &current.user, client, &schedule, paused).await?;
    Ok(Redirect::to(&format!("/schedules/{id}")).into_response())
}

async fn pause(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    change(&state, &current, &client, &id, true).await
}

async fn resume(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    change(&state, &current, &client, &id, false).await
}

async fn remove(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let id = id.parse::<ScheduleId>().map_err(|_| AppError::NotFound)?;
    let schedule = schedules::load(&state, &current.user, id).await?;
    if !answer.given() && schedules::may_change(&current.user, &schedule).is_ok() {
        let question = Question {
            text: "Delete this schedule? Its runs stay.".to_owned(),
            yes: "Delete the schedule",
            no: "Keep it",
            back: format!("/schedules/{id}"),
        };
        let action = format!("/schedules/{id}/delete");
        return Ok(ask(
            &current,
            Section::Schedules,
            question,
            action,
            Vec::new(),
        ));
    }
    schedules::delete(&state, &current.user, &client, &schedule).await?;
    Ok(Redirect::to(&format!("/schedules/{id}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "schedule_new.html")]
struct NewSchedulePage {
    nav: Nav,
    model: String,
    title: String,
    /// The version picked: a label, or `production`.
    version: String,
    versions: Vec<String>,
    name: String,
    cron: String,
    time_zone: String,
    fields: Vec<FormField>,
    /// Errors of the schedule's own fields (name, cron, time_zone).
    errors: ValidationErrors,
}

impl NewSchedulePage {
    fn error(&self, field: &str) -> Option<String> {
        self.errors.message(field).map(str::to_owned)
    }

    fn invalid_count(&self) -> usize {
        self.errors.errors.len() + self.fields.iter().filter(|f| f.error.is_some()).count()
    }
}

#[derive(Debug, Deserialize)]
struct VersionQuery {
    version: Option<String>,
}

async fn load_model(state: &AppState, name: &str) -> AppResult<ModelWithVersions> {
    state.store.model(name).await?.ok_or(AppError::NotFound)
}

fn chosen<'a>(
    model: &'a ModelWithVersions,
    label: Option<&str>,
    role: Role,
) -> AppResult<&'a ModelVersion> {
    schedules::schedule_version(model, label.filter(|l| *l != PRODUCTION), role)
}

fn page(current: &CurrentUser, model: &ModelWithVersions, version: &str) -> NewSchedulePage {
    NewSchedulePage {
        nav: Nav::new(&current.user, &current.csrf, Section::Schedules),
        model: model.model.name.clone(),
        title: model.model.title.clone(),
        version: version.to_owned(),
        versions: model
            .versions
            .iter()
            .filter(|v| v.is_active() && may_run(current.user.role, v).is_ok())
            .map(|v| v.label.clone())
            .collect(),
        name: String::new(),
        cron: "0 6 * * 1-5".to_owned(),
        time_zone: current
            .display
            .time_zone
            .or(current.browser_zone)
            .map_or("UTC", |zone| zone.name())
            .to_owned(),
        fields: Vec::new(),
        errors: ValidationErrors::default(),
    }
}

async fn form(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<VersionQuery>,
) -> AppResult<NewSchedulePage> {
    require(current.user.role, Action::ScheduleRuns)?;
    let model = load_model(&state, &name).await?;
    let label = query
        .version
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let version = chosen(&model, label, current.user.role)?;
    let locale = crate::locale::Locale::of(&current);
    let mut page = page(&current, &model, label.unwrap_or(PRODUCTION));
    page.fields = without_files(fields_from_values(
        &version.inputs,
        &Default::default(),
        locale.numbers,
        state.config.max_upload_bytes,
    ));
    Ok(page)
}

/// The form's fields but file inputs, which a schedule leaves empty (an
/// upload belongs to one run); a required one is refused with its name.
fn without_files(fields: Vec<FormField>) -> Vec<FormField> {
    fields
        .into_iter()
        .filter(|field| field.control != crate::forms::Control::File || field.error.is_some())
        .collect()
}

/// Form pairs that are the schedule's own, not the model's inputs.
const OWN: [&str; 5] = ["_csrf", "version", "name", "cron", "time_zone"];

async fn create(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(name): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    require(current.user.role, Action::ScheduleRuns)?;
    let model = load_model(&state, &name).await?;
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let label = Some(value("version").trim()).filter(|l| !l.is_empty());
    let version = chosen(&model, label, current.user.role)?;
    let inputs: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !OWN.contains(&k.as_str()))
        .cloned()
        .collect();
    let again = |errors: &ValidationErrors| {
        let mut page = page(&current, &model, label.unwrap_or(PRODUCTION));
        page.name = value("name").to_owned();
        page.cron = value("cron").to_owned();
        page.time_zone = value("time_zone").to_owned();
        page.fields = without_files(fields_from_submission(
            &version.inputs,
            &inputs,
            errors,
            &Uploads::default(),
            state.config.max_upload_bytes,
        ));
        page.errors.errors = errors
            .errors
            .iter()
            .filter(|e| OWN.contains(&e.field.as_str()))
            .cloned()
            .collect();
        (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
    };
    let typed = match version.inputs.validate_form(&inputs) {
        Ok(typed) => typed,
        Err(mut errors) => {
            if let Err(e) = check_name(value("name")) {
                errors.push(e.field, e.message);
            }
            if let Err(wrong) = CronRule::parse(value("cron"), value("time_zone")) {
                for e in wrong {
                    errors.push(e.field, e.message);
                }
            }
            return Ok(again(&errors));
        }
    };
    let request = ScheduleRequest {
        name: value("name"),
        model: &model,
        version: label,
        inputs: &typed,
        cron: value("cron"),
        time_zone: value("time_zone"),
    };
    match schedules::create(&state, &current.user, &client, request).await {
        Ok(schedule) => Ok(Redirect::to(&format!("/schedules/{}", schedule.id)).into_response()),
        Err(AppError::Invalid { errors, .. }) => Ok(again(&errors)),
        Err(other) => Err(other),
    }
}
