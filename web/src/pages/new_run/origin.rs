//! "Run again": the run a new run's form starts from, and what the form
//! says about where its values come from.

use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::Run;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::policy::visible_run;
use crate::state::AppState;

/// The run a new one starts from: one the person may see, of this model.
pub(super) async fn origin(
    state: &AppState,
    user: &CurrentUser,
    model: &ModelWithVersions,
    from: Option<&str>,
) -> AppResult<Option<Run>> {
    let Some(from) = from.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let run = visible_run(state, &user.user, from).await?;
    if run.model_id != model.model.id {
        return Err(AppError::BadRequest(format!(
            "run {} is a run of {}, not of {}",
            run.id, run.model_name, model.model.name
        )));
    }
    Ok(Some(run))
}

/// What the form of "Run again" says about where its values come from.
pub(super) fn origin_note(
    run: &Run,
    version: &ModelVersion,
    model: &ModelWithVersions,
    dropped: &[&str],
) -> String {
    let mut note = format!(
        "Filled in with the inputs of run #{} (version {}).",
        run.id, run.version_label
    );
    if version.id != run.version_id {
        note.push_str(&format!(" This form is for version {}.", version.label));
    } else if model
        .latest_active()
        .is_some_and(|latest| latest.id != version.id)
    {
        note.push_str(" A newer version exists: pick it above to run that one.");
    }
    if run.resources != version.resources {
        note.push_str(&format!(
            " Its resources are kept ({}): see Advanced: resources.",
            crate::run_resources::text(&run.resources)
        ));
    }
    if !dropped.is_empty() {
        note.push_str(&format!(
            " Version {} does not take {}; left out.",
            version.label,
            dropped.join(", ")
        ));
    }
    note
}
