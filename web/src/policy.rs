//! Who may see and do what with runs, and which runs a list shows: the one
//! place the pages and the API ask.
//!
//! * Visibility: with `team` visibility every signed-in person sees every
//!   run; with `own`, people see the runs they submitted and admins see all.
//!   A run a person may not see is "not found", like one that does not exist.
//! * Actions: what each role may do ([`Action`]), asked by the handlers
//!   ([`require`]) and by the templates (`Nav::may`) alike, so that a page
//!   never offers a button whose request would be refused.
//! * Cancel: the submitter (a runner or more) or an administrator, while the
//!   run is active.
//! * The runs list's filter, read from a query string the same way for the
//!   page (`/runs?…`) and the API (`/api/v1/runs?…`).

use chrono::NaiveDate;
use chrono_tz::Tz;
use modelrun_core::alias::may_run;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::config::RunVisibility;
use modelrun_core::ids::{RunId, UserId};
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{FollowUp, Run, RunFilter, StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::task::{CancelRun, Job};
use modelrun_core::user::{Role, User};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::locale::start_of_day;
use crate::state::AppState;

/// Something a person does that their role allows or not. Each names the
/// least role that may do it; a higher role may too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Submit runs and sweeps of production versions, run again, upload
    /// files for them.
    SubmitRuns,
    /// Cancel runs and sweeps (their own: see [`can_cancel`]).
    CancelRuns,
    /// Create schedules.
    ScheduleRuns,
    /// Pause, resume and delete schedules (their own: see
    /// `schedules::may_change`).
    ChangeSchedules,
    /// Run candidate versions, not yet promoted to production.
    RunCandidates,
    /// Create accounts, change roles, reset passwords, disable accounts.
    ManageUsers,
    /// Retire versions.
    RetireVersions,
    /// Build a version's environment again.
    BuildEnvironments,
    /// Look up a registry's new images.
    SyncImages,
    /// Set and delete model secrets.
    ManageSecrets,
    /// See and set budgets.
    ManageBudgets,
    /// Read the audit log.
    ReadAuditLog,
    /// See the task queue and retry dead tasks.
    ManageTasks,
    /// Read the outbox.
    ReadOutbox,
}

impl Action {
    /// The least role that may do it.
    pub fn least_role(self) -> Role {
        match self {
            Action::SubmitRuns
            | Action::CancelRuns
            | Action::ScheduleRuns
            | Action::ChangeSchedules => Role::Runner,
            Action::RunCandidates => modelrun_core::alias::RUNS_CANDIDATES,
            Action::ManageUsers
            | Action::RetireVersions
            | Action::BuildEnvironments
            | Action::SyncImages
            | Action::ManageSecrets
            | Action::ManageBudgets
            | Action::ReadAuditLog
            | Action::ManageTasks
            | Action::ReadOutbox => Role::Admin,
        }
    }

    /// What it is, after "may not" in a refusal.
    fn what(self) -> &'static str {
        match self {
            Action::SubmitRuns => "submit runs",
            Action::CancelRuns => "cancel runs",
            Action::ScheduleRuns => "schedule runs",
            Action::ChangeSchedules => "change schedules",
            Action::RunCandidates => "run candidate versions",
            Action::ManageUsers => "manage users",
            Action::RetireVersions => "retire versions",
            Action::BuildEnvironments => "build environments",
            Action::SyncImages => "sync images",
            Action::ManageSecrets => "set or delete model secrets",
            Action::ManageBudgets => "manage budgets",
            Action::ReadAuditLog => "read the audit log",
            Action::ManageTasks => "see or retry tasks",
            Action::ReadOutbox => "read the outbox",
        }
    }
}

/// Whether `role` may do `action`.
pub fn may(role: Role, action: Action) -> bool {
    role >= action.least_role()
}

/// Refuses a person whose role may not do `action` (403, naming the role
/// it needs).
pub fn require(role: Role, action: Action) -> Result<(), AppError> {
    if may(role, action) {
        Ok(())
    } else {
        let (what, needed) = (action.what(), action.least_role());
        Err(AppError::Forbidden(format!(
            "Your role ({role}) may not {what}; it needs the {needed} role. Ask an administrator."
        )))
    }
}

/// Whether `role` may start a run of `version`: a runner for production,
/// a data scientist for a candidate, and only while it is not retired.
pub fn may_run_version(role: Role, version: &ModelVersion) -> bool {
    version.is_active() && may(role, Action::SubmitRuns) && may_run(role, version).is_ok()
}

/// Whether `user` may stop what `submitted_by` submitted: their own (as a
/// runner or more) or anyone's as an administrator.
pub fn may_stop(user: &User, submitted_by: UserId) -> bool {
    user.role == Role::Admin || (may(user.role, Action::CancelRuns) && user.id == submitted_by)
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

/// Whether `user` may stop `run`: its submitter (a runner or more) or an
/// administrator, while the run is active and not already being stopped.
pub fn can_cancel(user: &User, run: &Run) -> bool {
    !run.status.is_terminal()
        && run.status != RunStatus::Cancelling
        && may_stop(user, run.submitted_by)
}

/// Asks for a run to stop: `cancelling` now, with who asked; `cancelled`
/// once the executor confirms. A run cancelling or cancelled already is
/// what was asked: `Ok`, nothing written.
///
/// Errors: 409 [`AppError::Conflict`] when the run has ended otherwise
/// (succeeded or failed), before or while it is asked ("Run 7 already
/// finished (succeeded); nothing to cancel."); 403 when `user` is neither
/// its submitter nor an administrator.
pub async fn request_cancel(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
) -> AppResult<()> {
    match ask_to_stop(state, user, client, run).await? {
        Some(ended) => Err(AppError::Conflict(format!(
            "Run {} already finished ({ended}); nothing to cancel.",
            run.id
        ))),
        None => Ok(()),
    }
}

/// [`request_cancel`], with a run that had ended otherwise than cancelled
/// given back as its status (`Some`, nothing written) rather than a 409:
/// what a sweep's cancel, which stops many runs, passes over.
pub async fn ask_to_stop(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
) -> AppResult<Option<RunStatus>> {
    if let Some(ended) = finished(run) {
        return Ok(Some(ended));
    }
    if !can_cancel(user, run) {
        if matches!(run.status, RunStatus::Cancelling | RunStatus::Cancelled) {
            return Ok(None);
        }
        return Err(AppError::Forbidden(
            "Only the person who submitted a run, or an administrator, may cancel it.".to_owned(),
        ));
    }
    let mut change = StatusChange::new(run.id, RunStatus::Cancelling)
        .reason(format!("cancel requested by {}", user.email))
        .fact("by", user.email.as_str());
    change.follow_ups.push(FollowUp::Task(
        CancelRun {
            run_id: run.id,
            by: Some(user.email.clone()),
        }
        .task(),
    ));
    let outcome = state.store.transition(change).await?;
    if let Transitioned::Ignored(now) = &outcome {
        // It ended, or was cancelled, between the read and the change.
        return Ok(finished(now));
    }
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
    Ok(None)
}

/// The status of a run that ended otherwise than cancelled: nothing to
/// cancel.
fn finished(run: &Run) -> Option<RunStatus> {
    matches!(run.status, RunStatus::Succeeded | RunStatus::Failed).then_some(run.status)
}

#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    pub model: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
    /// The submitter's email.
    pub submitter: Option<String>,
    /// Created on or after this day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Created on or before this day (YYYY-MM-DD).
    pub to: Option<String>,
    /// `newest` (default) or `oldest`.
    pub sort: Option<String>,
    /// The cursor of the previous page.
    pub before: Option<String>,
}

impl RunsQuery {
    /// The filter as query pairs, for links to the next page.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("model", &self.model),
            ("version", &self.version),
            ("status", &self.status),
            ("submitter", &self.submitter),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter_map(|(key, value)| given(value).map(|value| (key, value)))
        .collect()
    }
}

/// The most runs one page of the list holds, on the page and in the API.
pub const MAX_RUNS_LIMIT: u32 = 200;

/// A list's `limit`: `default` when absent or empty; else a whole number
/// from 1 to [`MAX_RUNS_LIMIT`], or a refusal naming `limit` and its range.
pub fn parse_limit(text: Option<&str>, default: u32) -> Result<u32, AppError> {
    match text.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_RUNS_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_RUNS_LIMIT}, not {text:?}"
                ))
            }),
    }
}

/// Empty form fields mean "any".
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn day(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    value.map(|text| parse_day(field, text)).transpose()
}

/// A day typed in a filter box (the runs list's From and To, the audit
/// log's Since): exactly four, two and two digits, `2026-11-01`, naming a
/// day of the calendar. A refusal names `field` and says which rule failed.
pub fn parse_day(field: &str, text: &str) -> Result<NaiveDate, AppError> {
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let shaped = match text.split('-').collect::<Vec<_>>()[..] {
        [year, month, day] => digits(year, 4) && digits(month, 2) && digits(day, 2),
        _ => false,
    };
    if !shaped {
        return Err(AppError::BadRequest(format!(
            "{field} must be a day written YYYY-MM-DD, such as 2026-11-01, not {text:?}"
        )));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::BadRequest(format!("{field}: {text} is not a day of the calendar")))
}

/// Reads the filter from the query string, refusing what cannot be a filter.
/// Its days are days in `zone`: the person's on a page, UTC in the API.
pub fn parse_filter(query: &RunsQuery, limit: u32, zone: Tz) -> Result<RunFilter, AppError> {
    let status = given(&query.status)
        .map(|s| {
            s.parse::<RunStatus>().map_err(|_| {
                let all: Vec<_> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
                AppError::BadRequest(format!("status must be one of: {}", all.join(", ")))
            })
        })
        .transpose()?;
    let before = given(&query.before)
        .map(|b| {
            b.parse::<RunId>()
                .map_err(|_| AppError::BadRequest("the cursor must be a run number".to_owned()))
        })
        .transpose()?;
    let oldest_first = match given(&query.sort) {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "sort must be newest or oldest, not {other:?}"
            )));
        }
    };
    let midnight = |date: NaiveDate| start_of_day(zone, date);
    let from = day("from", given(&query.from))?;
    let to = day("to", given(&query.to))?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(AppError::BadRequest(format!(
            "from ({from}) must not be after to ({to})"
        )));
    }
    Ok(RunFilter {
        model: given(&query.model).map(str::to_owned),
        version: given(&query.version).map(str::to_owned),
        status,
        submitter: given(&query.submitter).map(|email| email.to_lowercase()),
        created_from: from.map(midnight),
        created_until: to.and_then(|to| to.succ_opt()).map(midnight),
        oldest_first,
        before,
        limit,
        ..RunFilter::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_ACTION: [Action; 14] = [
        Action::SubmitRuns,
        Action::CancelRuns,
        Action::ScheduleRuns,
        Action::ChangeSchedules,
        Action::RunCandidates,
        Action::ManageUsers,
        Action::RetireVersions,
        Action::BuildEnvironments,
        Action::SyncImages,
        Action::ManageSecrets,
        Action::ManageBudgets,
        Action::ReadAuditLog,
        Action::ManageTasks,
        Action::ReadOutbox,
    ];

    #[test]
    fn a_filter_day_is_four_two_two_digits_and_on_the_calendar() {
        let day = |text| super::parse_day("from", text).map_err(|e| e.to_string());
        assert_eq!(
            day("2026-02-28"),
            Ok(NaiveDate::from_ymd_opt(2026, 2, 28).expect("day"))
        );
        for loose in [
            "2026-12-1",
            "26-12-01",
            "2026-1-01",
            "2026/12/01",
            "+2026-12-01",
        ] {
            let refusal = day(loose).expect_err(loose);
            assert!(
                refusal.contains("from must be a day written YYYY-MM-DD"),
                "{refusal}"
            );
        }
        let refusal = day("2026-02-30").expect_err("no such day");
        assert!(
            refusal.contains("from: 2026-02-30 is not a day of the calendar"),
            "{refusal}"
        );
    }

    #[test]
    fn a_viewer_may_do_nothing_and_an_administrator_everything() {
        for action in EVERY_ACTION {
            assert!(!may(Role::Viewer, action), "{action:?}");
            assert!(may(Role::Admin, action), "{action:?}");
        }
    }

    #[test]
    fn a_runner_runs_production_and_a_scientist_candidates_too() {
        assert!(may(Role::Runner, Action::SubmitRuns));
        assert!(may(Role::Runner, Action::CancelRuns));
        assert!(!may(Role::Runner, Action::RunCandidates));
        assert!(may(Role::Scientist, Action::RunCandidates));
        assert!(!may(Role::Scientist, Action::ManageUsers));
    }

    #[test]
    fn a_refusal_names_the_role_and_the_role_it_needs() {
        let refusal = require(Role::Viewer, Action::SubmitRuns).expect_err("refused");
        let AppError::Forbidden(message) = refusal else {
            panic!("a 403: {refusal:?}");
        };
        assert!(
            message.contains("(viewer) may not submit runs"),
            "{message}"
        );
        assert!(message.contains("needs the runner role"), "{message}");
        assert!(require(Role::Runner, Action::SubmitRuns).is_ok());
    }
}
