//! Fires the schedules that are due: one run per slot, as the schedule's
//! owner, with its fixed inputs. Not a queued task: the worker calls it on
//! every poll (and the worker function on its one-minute schedule), and the
//! store's key (schedule, fire time) makes a slot that two workers fire at
//! once one run. After downtime only the latest missed slot fires.

use chrono::{DateTime, Utc};
use modelrun_core::alias::{may_run, runs_only_production};
use modelrun_core::error_chain;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::NewRun;
use modelrun_core::schedule::{Due, Fire, FireOutcome, Fired, Schedule, VersionChoice};
use modelrun_core::store::StoreError;
use modelrun_core::user::Role;

use crate::{Services, WorkerError};

/// What one pass made.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fires {
    /// Runs created, with their dispatch tasks.
    pub runs: Vec<(modelrun_core::ids::RunId, modelrun_core::ids::TaskId)>,
    /// Slots recorded without a run (skipped or failed).
    pub recorded: usize,
    /// Slots another worker had fired already.
    pub already: usize,
}

/// Fires every schedule due at `now`. A schedule that cannot be fired is
/// logged and left for the next pass; the others go on.
pub(crate) async fn fire_due(
    services: &Services,
    now: DateTime<Utc>,
) -> Result<Fires, WorkerError> {
    let mut fires = Fires::default();
    for schedule in services.store.due_schedules(now).await? {
        match fire_one(services, &schedule, now).await {
            Ok(Fired::Run { run, task }) => {
                tracing::info!(schedule_id = %schedule.id, run_id = %run, "schedule fired a run");
                fires.runs.push((run, task));
            }
            Ok(Fired::Recorded) => fires.recorded += 1,
            Ok(Fired::AlreadyFired) => fires.already += 1,
            Err(error) => tracing::warn!(
                schedule_id = %schedule.id,
                error = %error_chain(&error),
                "could not fire a schedule; the next pass tries again"
            ),
        }
    }
    Ok(fires)
}

async fn fire_one(
    services: &Services,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<Fired, WorkerError> {
    let Some(next) = schedule.next_fire_at else {
        return Ok(Fired::AlreadyFired);
    };
    let (due, first) = match schedule.rule() {
        Ok(rule) => {
            let Some(due) = rule.due(next, now) else {
                return Ok(Fired::AlreadyFired);
            };
            (due, outcome(services, schedule, due).await?)
        }
        // A zone a newer time zone database dropped: the fire fails
        // visibly and the schedule stops, rather than guessing a time.
        Err(error) => (
            Due {
                fire_at: next,
                missed: 0,
                next: None,
            },
            FireOutcome::Failed(format!("its rule no longer reads ({error}); it stops")),
        ),
    };
    let fire = Fire {
        schedule: schedule.id,
        fire_at: due.fire_at,
        next_fire_at: due.next,
        outcome: first,
    };
    match services.store.fire_schedule(fire.clone()).await {
        // The version was retired, or production moved, between the check
        // and the write: the version is read again once, and a second
        // refusal is recorded as the fire's failure.
        Err(StoreError::Conflict(why)) if matches!(fire.outcome, FireOutcome::Run(_)) => {
            tracing::info!(schedule_id = %schedule.id, why, "the version changed as the schedule fired; reading it again");
            let again = outcome(services, schedule, due).await?;
            match services
                .store
                .fire_schedule(Fire {
                    outcome: again,
                    ..fire.clone()
                })
                .await
            {
                Err(StoreError::Conflict(why)) => Ok(services
                    .store
                    .fire_schedule(Fire {
                        outcome: FireOutcome::Failed(why),
                        ..fire
                    })
                    .await?),
                other => Ok(other?),
            }
        }
        other => Ok(other?),
    }
}

/// A run as the owner, or why there is none.
async fn outcome(
    services: &Services,
    schedule: &Schedule,
    due: Due,
) -> Result<FireOutcome, WorkerError> {
    let owner = services.store.user(schedule.owner).await?;
    match owner {
        None => {
            return Ok(FireOutcome::Skipped(
                "its owner's account is gone".to_owned(),
            ));
        }
        Some(user) if user.is_disabled() => {
            return Ok(FireOutcome::Skipped(format!(
                "its owner {} is disabled",
                user.email
            )));
        }
        Some(user) if user.role < Role::Runner => {
            return Ok(FireOutcome::Skipped(format!(
                "its owner {} may no longer submit runs (role {})",
                user.email, user.role
            )));
        }
        Some(_) => {}
    }
    let role = owner.map_or(Role::Viewer, |user| user.role);
    let version = match version(services, schedule).await? {
        Ok(version) => version,
        Err(why) => return Ok(FireOutcome::Failed(why)),
    };
    // A pinned candidate is run for a data scientist only, as at creation;
    // one whose owner lost that role fails visibly instead.
    if let Err(why) = may_run(role, &version) {
        return Ok(FireOutcome::Failed(why));
    }
    let inputs = match version.inputs.validate(&schedule.inputs) {
        Ok(inputs) => inputs,
        Err(errors) => {
            return Ok(FireOutcome::Failed(format!(
                "the inputs do not fit version {}'s inputs any more: {errors}",
                version.label
            )));
        }
    };
    // A run of production, or of a person who runs only production, is
    // refused by the store if a promotion moved production meanwhile.
    let production_only =
        runs_only_production(role) || matches!(schedule.version, VersionChoice::Production);
    if due.missed > 0 {
        tracing::info!(schedule_id = %schedule.id, missed = due.missed, "missed slots passed over; the latest fires");
    }
    Ok(FireOutcome::Run(NewRun {
        version_id: version.id,
        submitted_by: schedule.owner,
        inputs,
        resources: version.resources,
        submit_key: None,
        rerun_of: None,
        production_only,
    }))
}

/// The version to run now, or why there is none.
async fn version(
    services: &Services,
    schedule: &Schedule,
) -> Result<Result<ModelVersion, String>, WorkerError> {
    Ok(match &schedule.version {
        VersionChoice::Pinned { id, label } => match services.store.version(*id).await? {
            Some(version) if version.is_active() => Ok(version),
            _ => Err(format!("version {label} is retired and takes no new runs")),
        },
        VersionChoice::Production => match services.store.model(&schedule.model_name).await? {
            Some(model) => model
                .production()
                .cloned()
                .ok_or_else(|| format!("{} has no production version", schedule.model_name)),
            None => Err(format!("the model {} is gone", schedule.model_name)),
        },
    })
}
