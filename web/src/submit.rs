//! Submitting a run: the one path that the form and the API share.

use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::{NewRun, Run};
use modelrun_core::schema::Inputs;
use modelrun_core::user::{Role, User};

use crate::auth::require;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The version a submission names, or the latest active one.
pub fn pick_version<'a>(
    model: &'a ModelWithVersions,
    label: Option<&str>,
) -> AppResult<&'a ModelVersion> {
    match label.map(str::trim).filter(|l| !l.is_empty()) {
        None => model.latest_active().ok_or_else(|| {
            AppError::Conflict(format!(
                "{} has no active version to run",
                model.model.title
            ))
        }),
        Some(label) => {
            let version = model
                .versions
                .iter()
                .find(|v| v.label == label)
                .ok_or_else(|| {
                    AppError::BadRequest(format!("{} has no version {label:?}", model.model.name))
                })?;
            if version.is_active() {
                Ok(version)
            } else {
                Err(AppError::Conflict(format!(
                    "version {label} is retired and takes no new runs"
                )))
            }
        }
    }
}

/// Refuses inputs whose JSON is larger than the configured limit.
pub fn check_inputs_size(inputs: &Inputs, limit: usize) -> AppResult<()> {
    let size = serde_json::to_vec(inputs)
        .map_err(AppError::internal)?
        .len();
    if size > limit {
        return Err(AppError::TooLarge(format!(
            "the inputs take {size} bytes; at most {limit} bytes are accepted"
        )));
    }
    Ok(())
}

/// Creates the run (with its first event and its dispatch task, in one
/// transaction) and wakes the worker. The inputs are already validated.
pub async fn submit(
    state: &AppState,
    user: &User,
    role: Role,
    version: &ModelVersion,
    inputs: Inputs,
) -> AppResult<Run> {
    require(role, Role::Runner, "submit runs")?;
    check_inputs_size(&inputs, state.config.max_inputs_bytes)?;
    let queued = state
        .store
        .create_run(NewRun {
            version_id: version.id,
            submitted_by: user.id,
            inputs,
            resources: version.resources,
        })
        .await?;
    let run = queued.item;
    tracing::info!(run_id = %run.id, model = %run.model_name, version = %run.version_label, user_id = %user.id, "run submitted");
    state.kicker.kick(&[queued.task]).await;
    Ok(run)
}
