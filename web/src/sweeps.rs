//! Submitting and cancelling a sweep: the one path that the form, the API
//! and the command line share. A sweep is checked whole before anything is
//! written: every run's inputs against the version's schema, the grid
//! against `max_sweep_runs`; then the sweep and all its runs are created in
//! one transaction.

use axum::http::StatusCode;
use chrono::Utc;
use modelrun_core::alias::runs_only_production;
use modelrun_core::alongside::{Alongside, AuditFor};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::ids::SweepId;
use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::NewRun;
use modelrun_core::schema::{Inputs, Uploads, ValidationErrors};
use modelrun_core::sweep::{self, Axis, NewSweep, Sweep, SweepCreated, Tally, Variation};
use modelrun_core::user::User;

use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::policy::{Action, ask_to_stop, can_cancel, may_stop, require, visible_submitter};
use crate::state::AppState;
use crate::submit::{admit, make_estimate, refused, submit_rate};

/// What the sweep's runs will be: the axes and each run's inputs.
#[derive(Debug)]
pub struct Plan {
    pub axes: Vec<Axis>,
    pub runs: Vec<Inputs>,
}

impl Plan {
    /// The inputs every run shares: the first run's, less what varies.
    pub fn fixed(&self) -> Inputs {
        let mut fixed = self.runs.first().cloned().unwrap_or_default();
        for axis in &self.axes {
            fixed.remove(&axis.field);
        }
        fixed
    }
}

/// Checks a sweep and makes its grid: each variation becomes an axis
/// (errors under the input's name), and `base` with each combination is
/// validated whole. `base` holds typed values, and none for a varied input
/// (refused, naming the input).
///
/// # Errors
/// Field errors, under the input's name or `vary`.
pub fn plan(
    state: &AppState,
    version: &ModelVersion,
    base: &Inputs,
    vary: &[(String, Variation)],
    uploads: &Uploads,
) -> Result<Plan, ValidationErrors> {
    let max = state.config.max_sweep_runs;
    let mut errors = ValidationErrors::default();
    let mut axes = Vec::with_capacity(vary.len());
    for (name, variation) in vary {
        match sweep::axis(&version.inputs, name, variation, max) {
            // A value given for a varied input would be dropped without a word.
            Ok(axis) if base.contains_key(&axis.field) => errors.push(
                &axis.field,
                "is varied in this sweep: leave it out of the inputs every run shares",
            ),
            Ok(axis) => axes.push(axis),
            Err(message) => errors.push(name, message),
        }
    }
    if vary.is_empty() {
        errors.push(
            "vary",
            "names no input: a sweep varies one input or more (a range of numbers, or a list)",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let runs = sweep::expand(&version.inputs, base, &axes, max, uploads)?;
    // Files are not varied: every run has the first run's.
    if let Some(first) = runs.first() {
        crate::uploads::check_cap(state, &version.inputs, first)?;
    }
    Ok(Plan { axes, runs })
}

/// One request for a sweep, from the form or the API.
#[derive(Debug)]
pub struct SweepSubmission<'a> {
    pub version: &'a ModelVersion,
    pub plan: Plan,
    /// What each run asks for; checked here against the version's bounds.
    pub resources: Resources,
    /// A one-time key: the form's, or the API's `Idempotency-Key`.
    pub key: Option<String>,
    /// It asked for production rather than a version: see
    /// [`crate::submit::Submission::production_only`].
    pub production_only: bool,
}

/// What a submission did.
#[derive(Debug)]
pub enum SweepSubmitted {
    Created(Sweep),
    /// The sweep this one-time key already made.
    Repeated(Sweep),
}

impl SweepSubmitted {
    pub fn sweep(&self) -> &Sweep {
        match self {
            SweepSubmitted::Created(sweep) | SweepSubmitted::Repeated(sweep) => sweep,
        }
    }
}

/// Creates the sweep with its runs and wakes the worker. It counts as one
/// submission against the submit rate. A key used before for another
/// request is refused with 422, as for runs.
pub async fn submit_sweep(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    request: SweepSubmission<'_>,
) -> AppResult<SweepSubmitted> {
    // From here to its answer, models started in this process give way to
    // this submit (`modelrun_core::intake`); its request is signed in and
    // read by now, so a slow upload holds nothing.
    let _answering = state.intake.answering();
    let version = request.version;
    let fixed = request.plan.fixed();
    // A repeated key is answered before the submit rate counts anything.
    if let Some(key) = &request.key {
        require(user.role, Action::SubmitRuns)?;
        if let Some(id) = state.store.sweep_with_key(user.id, key).await? {
            return repeated(state, id, &request, &fixed).await;
        }
    }
    let all: Vec<&Inputs> = request.plan.runs.iter().collect();
    admit(state, user, version, &all, request.resources).await?;
    let runs = request
        .plan
        .runs
        .iter()
        .map(|inputs| NewRun {
            version_id: version.id,
            submitted_by: user.id,
            inputs: inputs.clone(),
            resources: request.resources,
            submit_key: None,
            rerun_of: None,
            production_only: request.production_only || runs_only_production(user.role),
        })
        .collect();
    // Its runs' estimate (one: the runs are alike), its audit entry and
    // the submit rate's count are written with it.
    let estimate = make_estimate(state, version, request.resources).await;
    let rate = submit_rate(state, user);
    let created = state
        .store
        .create_sweep(
            NewSweep {
                version_id: version.id,
                submitted_by: user.id,
                inputs: fixed.clone(),
                axes: request.plan.axes.clone(),
                runs,
                submit_key: request.key.clone(),
                array: state.executor.runs_array_jobs(),
            },
            Alongside {
                estimate,
                audit: Some(submit_entry(user, client, request.resources)),
                limit: Some(rate.clone()),
            },
        )
        .await
        .map_err(|error| refused(&rate, error))?;
    let (sweep, tasks) = match created {
        SweepCreated::New { sweep, tasks } => (*sweep, tasks),
        // Made meanwhile by a request with the same key.
        SweepCreated::Repeated(id) => return repeated(state, id, &request, &fixed).await,
    };
    tracing::info!(sweep_id = %sweep.id, runs = sweep.run_count, model = %sweep.model_name, user_id = %user.id, "sweep submitted");
    state.kicker.kick(&tasks).await;
    Ok(SweepSubmitted::Created(sweep))
}

/// The audit entry of a submitted sweep, made from the sweep once it exists.
fn submit_entry(user: &User, client: &ClientAddr, resources: Resources) -> AuditFor<Sweep> {
    let actor = Actor::user(user.id, &user.email);
    let address = client.as_str().to_owned();
    Box::new(move |sweep| {
        NewAuditEntry::new(
            actor.clone(),
            AuditAction::SweepSubmit,
            format!("sweep {}", sweep.id),
        )
        .detail(serde_json::json!({
            "model": sweep.model_name,
            "version": sweep.version_label,
            "runs": sweep.run_count,
            "vary": sweep.axes.iter().map(|axis| axis.field.as_str()).collect::<Vec<_>>(),
            "resources": resources,
        }))
        .from_address(address.clone())
    })
}

/// The sweep a person asked for, if they may see it: as for runs, with
/// own-only visibility people see their own sweeps and admins see all.
pub async fn visible_sweep(state: &AppState, user: &User, id: &str) -> AppResult<Sweep> {
    let id: SweepId = id.parse().map_err(|_| AppError::NotFound)?;
    let sweep = state.store.sweep(id).await?.ok_or(AppError::NotFound)?;
    match visible_submitter(state, user) {
        Some(only) if only != sweep.submitted_by => Err(AppError::NotFound),
        _ => Ok(sweep),
    }
}

/// Cancels every run of the sweep that has not ended, as "Cancel" on each
/// run would (the submitter or an administrator), and marks the sweep
/// cancelled. Returns how many runs were asked to stop. Cancelling a
/// sweep cancelled already does nothing.
///
/// Errors: 409 [`AppError::Conflict`] when every run has ended and none
/// was cancelled ("Sweep 3 already ended (succeeded); nothing to
/// cancel."); 403 when `user` is neither its submitter nor an
/// administrator.
pub async fn cancel_sweep(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    sweep: &Sweep,
) -> AppResult<usize> {
    if !may_stop(user, sweep.submitted_by) {
        return Err(AppError::Forbidden(
            "Only the person who submitted a sweep, or an administrator, may cancel it.".to_owned(),
        ));
    }
    let runs = state.store.sweep_runs(sweep.id).await?;
    let active: Vec<_> = runs.iter().filter(|run| can_cancel(user, run)).collect();
    if active.is_empty() {
        let status = Tally::of(&runs).status();
        if matches!(status, "succeeded" | "failed") {
            return Err(AppError::Conflict(format!(
                "Sweep {} already ended ({status}); nothing to cancel.",
                sweep.id
            )));
        }
        return Ok(0);
    }
    state
        .store
        .mark_sweep_cancelled(sweep.id, Utc::now())
        .await?;
    audit(
        state,
        NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::SweepCancel,
            format!("sweep {}", sweep.id),
        )
        .detail(serde_json::json!({ "model": sweep.model_name, "runs": active.len() }))
        .from_address(client.as_str()),
    )
    .await;
    for run in &active {
        // A run that ended on its own meanwhile has nothing to stop.
        ask_to_stop(state, user, client, run).await?;
    }
    Ok(active.len())
}

/// The sweep `id` that `request`'s one-time key already made, when
/// `request` is the same request (its version, axes and fixed inputs);
/// else 422.
async fn repeated(
    state: &AppState,
    id: SweepId,
    request: &SweepSubmission<'_>,
    fixed: &Inputs,
) -> AppResult<SweepSubmitted> {
    let sweep = state.store.sweep(id).await?.ok_or(AppError::NotFound)?;
    if sweep.version_id != request.version.id
        || sweep.axes != request.plan.axes
        || sweep.inputs != *fixed
    {
        return Err(AppError::Rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "this key was already used for sweep #{}, which is another request: \
                 a repeat must be the same request, and a new request needs a new key",
                sweep.id
            ),
        ));
    }
    Ok(SweepSubmitted::Repeated(sweep))
}
