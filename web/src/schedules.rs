//! Creating and changing schedules: the one path that the pages and the
//! API share, who may see which schedule and who may change it.

use chrono::Utc;
use modelrun_core::alias::may_run;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::ids::ScheduleId;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::schedule::{CronRule, NewSchedule, Schedule, check_name};
use modelrun_core::schema::{FieldKind, Inputs, ValidationErrors};
use modelrun_core::store::StoreError;
use modelrun_core::user::{Role, User};

use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::policy::{Action, require, visible_submitter};
use crate::state::AppState;
use crate::submit::{check_inputs_size, pick_version};

/// What the schedule form or the API asks for.
#[derive(Debug)]
pub struct ScheduleRequest<'a> {
    pub name: &'a str,
    pub model: &'a ModelWithVersions,
    /// A version label, or `None` (or `production`) for the model's
    /// production version at each fire.
    pub version: Option<&'a str>,
    /// The inputs as sent, checked here against the version's schema.
    pub inputs: &'a serde_json::Map<String, serde_json::Value>,
    pub cron: &'a str,
    pub time_zone: &'a str,
}

/// The label that means "the model's production version when it fires".
pub const PRODUCTION: &str = "production";

/// The version a schedule of `model` by someone of `role` runs now:
/// `label`, or production for `None`. `latest` is refused (422 naming
/// `version`): a schedule runs unattended, so it follows production, where
/// a promotion moves it, or a label pinned on purpose. A candidate needs
/// the data-science role ([`may_run`]), at creation and at every fire.
pub fn schedule_version<'a>(
    model: &'a ModelWithVersions,
    label: Option<&str>,
    role: Role,
) -> AppResult<&'a ModelVersion> {
    if label == Some("latest") {
        return Err(AppError::invalid_field(
            "the schedule is not valid",
            "version",
            "a schedule runs production or a version label; `latest` would run whatever \
             version arrived last, unchecked"
                .to_owned(),
        ));
    }
    let version = pick_version(model, label).map_err(|error| match error {
        AppError::BadRequest(message) => {
            AppError::invalid_field("the schedule is not valid", "version", message)
        }
        other => other,
    })?;
    may_run(role, version).map_err(AppError::Forbidden)?;
    Ok(version)
}

/// Checks the name, the rule and the inputs, each error naming its field
/// (422), then creates the schedule as `user`.
pub async fn create(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    request: ScheduleRequest<'_>,
) -> AppResult<Schedule> {
    require(user.role, Action::ScheduleRuns)?;
    let mut errors = ValidationErrors::default();
    let name = check_name(request.name).map_err(|e| errors.push(e.field, e.message));
    let rule = CronRule::parse(request.cron, request.time_zone).map_err(|wrong| {
        for e in wrong {
            errors.push(e.field, e.message);
        }
    });
    let label = request
        .version
        .map(str::trim)
        .filter(|label| !label.is_empty() && *label != PRODUCTION);
    let version = schedule_version(request.model, label, user.role)?;
    let inputs = check_inputs(state, version, request.inputs).map_err(|e| {
        errors.errors.extend(e.errors);
    });
    let (Ok(name), Ok(rule), Ok(inputs)) = (name, rule, inputs) else {
        return Err(AppError::Invalid {
            summary: "the schedule is not valid",
            errors,
        });
    };
    let created = state
        .store
        .create_schedule(NewSchedule {
            name,
            model_id: request.model.model.id,
            version_id: label.map(|_| version.id),
            inputs,
            cron: rule.expression().to_owned(),
            time_zone: rule.zone().name().to_owned(),
            owner: user.id,
            next_fire_at: rule.next_after(Utc::now()),
        })
        .await;
    match created {
        Err(StoreError::Conflict(message)) => Err(AppError::invalid_field(
            "the schedule is not valid",
            "name",
            message,
        )),
        other => {
            let schedule = other?;
            tracing::info!(schedule_id = %schedule.id, user_id = %user.id, "schedule created");
            let detail = serde_json::json!({
                "model": schedule.model_name,
                "version": schedule.version,
                "cron": schedule.cron,
                "time_zone": schedule.time_zone,
            });
            record(
                state,
                user,
                client,
                AuditAction::ScheduleCreate,
                &schedule,
                detail,
            )
            .await;
            Ok(schedule)
        }
    }
}

/// The inputs checked against the version's schema. A file input must be
/// left empty (and so optional): an upload belongs to one run.
fn check_inputs(
    state: &AppState,
    version: &modelrun_core::model::ModelVersion,
    inputs: &serde_json::Map<String, serde_json::Value>,
) -> Result<Inputs, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for field in version.inputs.fields() {
        let given = inputs
            .get(&field.name)
            .is_some_and(|value| !value.is_null() && value != "");
        if matches!(field.kind, FieldKind::File { .. }) && (field.required || given) {
            errors.push(
                &field.name,
                "is a file input, which a schedule cannot take: each run needs its own upload",
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let valid = version.inputs.validate(inputs)?;
    check_inputs_size(&valid, state.config.max_inputs_bytes).map_err(|error| {
        let mut errors = ValidationErrors::default();
        errors.push("inputs", error.to_string());
        errors
    })?;
    Ok(valid)
}

/// Who may pause, resume or delete a schedule: its owner, or an
/// administrator.
pub fn may_change(user: &User, schedule: &Schedule) -> AppResult<()> {
    require(user.role, Action::ChangeSchedules)?;
    if user.id == schedule.owner || user.role >= Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "only {} or an administrator may change the schedule {:?}",
            schedule.owner_email, schedule.name
        )))
    }
}

/// Pauses or resumes a schedule. On resume the next slot is the first one
/// from now: slots passed while paused do not fire.
pub async fn set_paused(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    schedule: &Schedule,
    paused: bool,
) -> AppResult<Schedule> {
    may_change(user, schedule)?;
    let next = schedule
        .rule()
        .map_err(|error| AppError::Conflict(error.to_string()))?
        .next_after(Utc::now());
    let changed = state
        .store
        .set_schedule_paused(schedule.id, paused, next)
        .await?;
    let action = if paused {
        AuditAction::SchedulePause
    } else {
        AuditAction::ScheduleResume
    };
    record(state, user, client, action, schedule, serde_json::json!({})).await;
    Ok(changed)
}

/// Deletes a schedule; its runs and fires stay.
pub async fn delete(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    schedule: &Schedule,
) -> AppResult<()> {
    may_change(user, schedule)?;
    state.store.delete_schedule(schedule.id, Utc::now()).await?;
    let action = AuditAction::ScheduleDelete;
    record(state, user, client, action, schedule, serde_json::json!({})).await;
    Ok(())
}

/// Writes who changed which schedule into the audit log.
async fn record(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    action: AuditAction,
    schedule: &Schedule,
    detail: serde_json::Value,
) {
    let entry = NewAuditEntry::new(
        Actor::user(user.id, &user.email),
        action,
        format!("schedule {} ({})", schedule.id, schedule.name),
    )
    .detail(detail)
    .from_address(client.as_str());
    audit(state, entry).await;
}

/// Whether `user` may see `schedule`: everyone with team-wide visibility;
/// with own-only, its owner and administrators, as for runs
/// ([`visible_submitter`]).
pub fn may_see(state: &AppState, user: &User, schedule: &Schedule) -> bool {
    visible_submitter(state, user).is_none_or(|owner| owner == schedule.owner)
}

/// A schedule, deleted or not, if `user` may see it; otherwise 404, like
/// one that does not exist.
pub async fn visible(state: &AppState, user: &User, id: ScheduleId) -> AppResult<Schedule> {
    state
        .store
        .schedule(id)
        .await?
        .filter(|schedule| may_see(state, user, schedule))
        .ok_or(AppError::NotFound)
}

/// A schedule not deleted that `user` may see, or 404.
pub async fn load(state: &AppState, user: &User, id: ScheduleId) -> AppResult<Schedule> {
    Some(visible(state, user, id).await?)
        .filter(|schedule| schedule.deleted_at.is_none())
        .ok_or(AppError::NotFound)
}

/// The schedules not deleted that `user` may see, by name.
pub async fn list(state: &AppState, user: &User) -> AppResult<Vec<Schedule>> {
    let mut schedules = state.store.schedules().await?;
    schedules.retain(|schedule| may_see(state, user, schedule));
    Ok(schedules)
}
