//! Submitting a run: the one path that the form and the API share.

use axum::http::StatusCode;
use modelrun_core::alias::{may_run, runs_only_production};
use modelrun_core::alongside::{Alongside, AuditFor, Counted};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::estimate::Estimate;
use modelrun_core::ids::RunId;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelVersion, ModelWithVersions};
use modelrun_core::run::{NewRun, Run};
use modelrun_core::schema::Inputs;
use modelrun_core::store::StoreError;
use modelrun_core::user::User;

use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, refusal};
use crate::policy::{Action, require};
use crate::run_resources;
use crate::secrets::check_runnable;
use crate::state::AppState;

/// Whether a submission's version label asks for production: `production`,
/// or no label at all (what planners run).
pub fn names_production(label: Option<&str>) -> bool {
    matches!(
        label.map(str::trim).filter(|l| !l.is_empty()),
        None | Some("production")
    )
}

/// The version a submission names: a label, `production` (also what no
/// label means: see [`names_production`]) or `latest` (the newest active
/// version, production or not).
pub fn pick_version<'a>(
    model: &'a ModelWithVersions,
    label: Option<&str>,
) -> AppResult<&'a ModelVersion> {
    if names_production(label) {
        return model.production().ok_or_else(|| {
            AppError::Conflict(format!(
                "{} has no production version to run",
                model.model.title
            ))
        });
    }
    match label.map(str::trim).unwrap_or_default() {
        "latest" => model.latest_active().ok_or_else(|| {
            AppError::Conflict(format!(
                "{} has no active version to run",
                model.model.title
            ))
        }),
        label => {
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

/// What a run of `version` with `resources` is expected to take and cost,
/// for its page to set against what it took. Advice only: when it cannot
/// be made, the run still runs (and gets `None`).
pub(crate) async fn make_estimate(
    state: &AppState,
    version: &ModelVersion,
    resources: Resources,
) -> Option<Estimate> {
    crate::costs::estimate(state, version, resources, 1)
        .await
        .inspect_err(|error| {
            tracing::warn!(version_id = %version.id, error = %modelrun_core::error_chain(error), "no estimate for the run");
        })
        .ok()
}

/// The audit entry of a submitted run, made from the run once it exists.
fn submit_entry(user: &User, client: &ClientAddr) -> AuditFor<Run> {
    let actor = Actor::user(user.id, &user.email);
    let address = client.as_str().to_owned();
    Box::new(move |run| {
        NewAuditEntry::new(
            actor.clone(),
            AuditAction::RunSubmit,
            format!("run {}", run.id),
        )
        .detail(serde_json::json!({
            "model": run.model_name,
            "version": run.version_label,
            "rerun_of": run.rerun_of,
            "resources": run.resources,
            "alias": run.alias,
        }))
        .from_address(address.clone())
    })
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

/// Longest one-time key accepted from a form or an `Idempotency-Key`.
pub const MAX_KEY_CHARS: usize = 128;

/// What a submission did.
#[derive(Debug)]
pub enum Submitted {
    /// A new run: `queued`, with its first event and no outputs, progress,
    /// schedule or sweep; `estimate` is the one recorded for it (`None`
    /// when none could be made or kept).
    Created {
        run: Run,
        estimate: Option<Box<Estimate>>,
    },
    /// The run that this one-time key already created.
    Repeated(Run),
}

impl Submitted {
    pub fn run(&self) -> &Run {
        match self {
            Submitted::Created { run, .. } | Submitted::Repeated(run) => run,
        }
    }
}

/// Whether two runs' inputs are one request's: equal, but for a file sent
/// again with a repeated form (a double click, a browser's resend), which
/// is a new upload of the same file: the same name, size and type.
fn same_inputs(a: &Inputs, b: &Inputs) -> bool {
    use modelrun_core::schema::FileRef;
    a.len() == b.len()
        && a.iter().all(|(key, value)| {
            b.get(key).is_some_and(|other| {
                match (FileRef::from_value(value), FileRef::from_value(other)) {
                    (Some(x), Some(y)) => {
                        (x.name, x.bytes, x.media_type) == (y.name, y.bytes, y.media_type)
                    }
                    _ => value == other,
                }
            })
        })
}

/// A one-time key names one request: repeating it for another version, with
/// other inputs or from another origin is refused with 422 rather than
/// answered with a run the request did not ask for. The run's validated
/// inputs are the request's digest: two requests that validate to the same
/// inputs for the same version make the same run.
fn check_same_request(run: &Run, request: &Submission<'_>) -> AppResult<()> {
    let differs = if run.version_id != request.version.id {
        Some(format!(
            "a run of {} version {}",
            run.model_name, run.version_label
        ))
    } else if !same_inputs(&run.inputs, &request.inputs) {
        Some("which has other inputs".to_owned())
    } else if run.resources != request.resources {
        Some("which asked for other resources".to_owned())
    } else if run.rerun_of != request.rerun_of {
        Some("which started from another run".to_owned())
    } else {
        None
    };
    match differs {
        None => Ok(()),
        Some(what) => Err(AppError::Rejected(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "this Idempotency-Key was already used for run #{}, {what}: \
                 a repeat must be the same request, and a new request needs a new key",
                run.id
            ),
        )),
    }
}

/// One request for a run, from the form or the API.
#[derive(Debug)]
pub struct Submission<'a> {
    pub version: &'a ModelVersion,
    /// Already validated against the version's schema.
    pub inputs: Inputs,
    /// What the run asks for; checked here against the version's bounds.
    pub resources: Resources,
    /// A one-time key: the form's, or the API's `Idempotency-Key`.
    pub key: Option<String>,
    /// The run it repeats ("Run again").
    pub rerun_of: Option<RunId>,
    /// It asked for production (no label, `production`, or Compare with
    /// production) rather than a version: written only while `version`
    /// still is production ([`NewRun::production_only`]). A person who
    /// runs only production is held to that whatever this says.
    pub production_only: bool,
}

/// What every submission passes before anything is written, a single
/// run's or a sweep's: the runner role, a version the person may run,
/// inputs within the size limit, resources within the version's bounds,
/// and a version that can run now. The submit rate is counted with what
/// the submission writes ([`submit_rate`]).
pub async fn admit(
    state: &AppState,
    user: &User,
    version: &ModelVersion,
    inputs: &[&Inputs],
    resources: Resources,
) -> AppResult<()> {
    require(user.role, Action::SubmitRuns)?;
    may_run(user.role, version).map_err(AppError::Forbidden)?;
    for inputs in inputs {
        check_inputs_size(inputs, state.config.max_inputs_bytes)?;
    }
    run_resources::resolve_api(state, version, &Default::default(), resources)?;
    check_runnable(&state.store, &state.vault, &state.kicker, version).await
}

/// What to say of a refused submit rate.
const SUBMITTED: &str = "runs submitted";

/// The submit rate, counted in the transaction that writes a submission,
/// a single run's or a sweep's (one submission, however many runs): an
/// attempt over it creates nothing, and a submission refused for another
/// reason counts nothing.
pub(crate) fn submit_rate(state: &AppState, user: &User) -> Counted {
    Counted {
        key: format!("submit:user:{}", user.id),
        limit: state.config.limits.submits_per_user,
    }
}

/// The answer to a submission the store refused: over the submit rate, a
/// 429 that names the limit and says when to try again.
pub(crate) fn refused(rate: &Counted, error: StoreError) -> AppError {
    match error {
        StoreError::OverLimit { retry_after, first } => {
            refusal(&rate.key, rate.limit, SUBMITTED, retry_after, first).error
        }
        other => other.into(),
    }
}

/// Creates the run (with its first event and its dispatch task, in one
/// transaction) and wakes the worker. `user` carries the role they act
/// with. A `key` already used by this person for the same request gives
/// back the run it created, and nothing new; for another request it is
/// refused (see [`check_same_request`]).
pub async fn submit(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    request: Submission<'_>,
) -> AppResult<Submitted> {
    // From here to its answer, models started in this process give way to
    // this submit (`modelrun_core::intake`); its request is signed in and
    // read by now, so a slow upload holds nothing.
    let _answering = state.intake.answering();
    let version = request.version;
    // A repeated key is answered before the submit rate counts anything: a
    // retry of a request that was made is not another submission.
    if let Some(key) = &request.key {
        require(user.role, Action::SubmitRuns)?;
        if let Some(id) = state.store.run_with_key(user.id, key).await? {
            return repeated(state, user, id, &request).await;
        }
    }
    admit(state, user, version, &[&request.inputs], request.resources).await?;
    let estimate = make_estimate(state, version, request.resources).await;
    // The run, its first event, its dispatch task, its estimate, its
    // audit entry and the submit rate's count are one write.
    let rate = submit_rate(state, user);
    let created = state
        .store
        .create_run_with(
            NewRun {
                version_id: version.id,
                submitted_by: user.id,
                inputs: request.inputs.clone(),
                resources: request.resources,
                submit_key: request.key.clone(),
                rerun_of: request.rerun_of,
                production_only: request.production_only || runs_only_production(user.role),
            },
            Alongside {
                estimate: estimate.clone(),
                audit: Some(submit_entry(user, client)),
                limit: Some(rate.clone()),
            },
        )
        .await;
    let queued = match created {
        Ok(queued) => queued,
        // Made meanwhile by a request with the same key.
        Err(StoreError::AlreadySubmitted(id)) => return repeated(state, user, id, &request).await,
        Err(other) => return Err(refused(&rate, other)),
    };
    let run = queued.item;
    state.kicker.kick(&[queued.task]).await;
    tracing::info!(run_id = %run.id, model = %run.model_name, version = %run.version_label, user_id = %user.id, "run submitted");
    Ok(Submitted::Created {
        run,
        estimate: estimate.map(Box::new),
    })
}

/// The run `id` that `request`'s one-time key already made, when `request`
/// is the same request (else 422, see [`check_same_request`]).
async fn repeated(
    state: &AppState,
    user: &User,
    id: RunId,
    request: &Submission<'_>,
) -> AppResult<Submitted> {
    let run = state.store.run(id).await?.ok_or(AppError::NotFound)?;
    check_same_request(&run, request)?;
    tracing::info!(run_id = %run.id, user_id = %user.id, "repeated submit: the run exists");
    Ok(Submitted::Repeated(run))
}

#[cfg(test)]
mod tests {
    use super::names_production;

    #[test]
    fn no_label_and_production_ask_for_production() {
        for label in [
            None,
            Some(""),
            Some("  "),
            Some("production"),
            Some(" production "),
        ] {
            assert!(names_production(label), "{label:?}");
        }
        for label in [Some("latest"), Some("v1"), Some("Production")] {
            assert!(!names_production(label), "{label:?}");
        }
    }
}
