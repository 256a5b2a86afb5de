//! One run: status, history, inputs, log, outputs and key figures. While
//! the run is active the page refreshes itself: by script when it can, by
//! a `<noscript>` refresh when it cannot. The page shows the end of the log
//! (the latest lines are what a person follows), the whole log is a
//! download away.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::diagnosis::{Check, Diagnosis, Findings};
use modelrun_core::display::NumberStyle;
use modelrun_core::executor::LogTail;
use modelrun_core::ids::SweepId;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{Run, RunEvent, RunOutput};
use modelrun_core::schema::Inputs;
use modelrun_core::status::RunStatus;

use super::confirm::{Answer, Question, ask};
pub use super::figures::{figures, metrics};
use super::progress::ProgressView;
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::guard::ClientAddr;
use crate::locale::{LocalTime, Locale};
use crate::policy::{Action, can_cancel, may, request_cancel, require, visible_run};
use crate::preview::Kind;
use crate::preview::declared::{self, DeclaredChart};
use crate::state::AppState;
use crate::{downloads, format, log_download};

/// Most bytes of a log's end the page shows; the whole log is a download.
const LOG_TAIL_BYTES: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/runs/{id}", get(page))
        .route("/runs/{id}/log", get(log))
        .route("/runs/{id}/outputs/{*name}", get(output))
        .route("/runs/{id}/cancel", post(cancel))
}

struct EventView {
    at: LocalTime,
    status: Option<RunStatus>,
    message: String,
    facts: Vec<(String, String)>,
}

impl EventView {
    fn new(event: &RunEvent, locale: &Locale) -> Self {
        let facts = event
            .data
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.replace('_', " "), format::value_in(v, locale.numbers)))
                    .collect()
            })
            .unwrap_or_default();
        EventView {
            at: locale.clock(event.at),
            status: event.status,
            message: event.message.clone(),
            facts,
        }
    }
}

/// What the check of a waiting run found, for the banner.
struct WaitingView {
    at: LocalTime,
    summary: String,
    findings: Vec<String>,
    /// The causes the evidence supports: the cause, and what to do.
    causes: Vec<(String, String)>,
    /// What was checked, one line each, "not checked" ones included.
    checks: Vec<String>,
}

impl WaitingView {
    /// The diagnosis of the run's current status, while it still waits.
    fn find(run: &Run, events: &[RunEvent], locale: &Locale) -> Option<Self> {
        if !matches!(run.status, RunStatus::Runnable | RunStatus::Starting) {
            return None;
        }
        let (at, diagnosis) = Diagnosis::latest(events, run.status)?;
        Some(WaitingView {
            at: locale.time(at),
            findings: finding_lines(&diagnosis.findings),
            summary: diagnosis.summary,
            checks: diagnosis.checks.iter().map(Check::line).collect(),
            causes: diagnosis
                .causes
                .into_iter()
                .map(|c| (c.cause, c.check))
                .collect(),
        })
    }
}

/// The findings a person reads: the job's own reason and each compute
/// environment's state; the local executor's slots are in the summary.
fn finding_lines(findings: &Findings) -> Vec<String> {
    let Findings::Batch {
        job_status_reason,
        compute_environments,
        ..
    } = findings
    else {
        return Vec::new();
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let job = job_status_reason
        .iter()
        .map(|reason| format!("The job: {reason}"));
    let environments = compute_environments.iter().map(|environment| {
        let mut line = format!(
            "Compute environment {}: {}, {}",
            text(&environment.name),
            text(&environment.state),
            text(&environment.status)
        );
        if let Some(reason) = &environment.status_reason {
            line.push_str(&format!(" ({reason})"));
        }
        line
    });
    job.chain(environments).collect()
}

struct OutputView {
    name: String,
    size: String,
    content_type: String,
    sha256: String,
    preview: bool,
}

impl OutputView {
    fn new(output: &RunOutput) -> Self {
        OutputView {
            name: output.name.clone(),
            size: format::bytes(output.size),
            content_type: output.content_type.clone(),
            sha256: output.sha256.clone().unwrap_or_default(),
            preview: Kind::of(&output.name, &output.content_type) != Kind::None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "run.html")]
struct RunPage {
    nav: Nav,
    run: Run,
    active: bool,
    waiting: Option<WaitingView>,
    /// The model's latest progress, as a bar.
    progress: Option<ProgressView>,
    can_cancel: bool,
    can_rerun: bool,
    /// How the duration compares to the version's typical one.
    typical: Option<String>,
    /// The first CSV output's chart, when the version declares none.
    chart: Option<super::preview::RunChart>,
    /// The charts the version declares (`[[outputs.charts]]`), once the
    /// run has outputs.
    declared_charts: Vec<DeclaredChart>,
    submitted: LocalTime,
    /// The zone of the page's times.
    zone: &'static str,
    duration: String,
    /// Queued, running, finished…: the history as a planner reads it.
    phases: Vec<super::timeline::PhaseView>,
    events: Vec<EventView>,
    inputs: Vec<(String, String)>,
    /// The files of its file inputs.
    input_files: Vec<super::input_files::InputFileView>,
    /// Said beside its resources when the run asked for other than its
    /// version's defaults.
    resources_note: Option<String>,
    outputs: Vec<OutputView>,
    metrics: Vec<(String, String)>,
    /// The end of the log.
    log: String,
    /// Whether earlier lines of the log are left out of `log`.
    log_earlier: bool,
    /// The schedule that made the run, if one did.
    scheduled_by: Option<modelrun_core::schedule::ScheduledBy>,
    /// The sweep it is part of, and its place there.
    sweep: Option<(SweepId, String)>,
    /// Its actual duration and cost beside its estimate.
    cost: super::estimate::RunCostView,
}

/// The inputs as (label, value) rows, in the order of the version's form;
/// anything the schema does not name comes last.
pub fn input_rows(
    inputs: &Inputs,
    version: Option<&ModelVersion>,
    style: NumberStyle,
) -> Vec<(String, String)> {
    let fields = version.map(|v| v.inputs.fields()).unwrap_or_default();
    let mut rows: Vec<(String, String)> = fields
        .iter()
        .filter_map(|field| {
            Some((
                field.label().to_owned(),
                format::input_value(Some(field), inputs.get(&field.name)?, style),
            ))
        })
        .collect();
    for (key, value) in inputs {
        if !fields.iter().any(|field| &field.name == key) {
            rows.push((key.clone(), format::value_in(value, style)));
        }
    }
    rows
}

async fn page(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<RunPage> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let run = visible_run(&state, &user, &id).await?;
    let (events, outputs, version, progress) = tokio::try_join!(
        state.store.run_events(run.id),
        state.store.run_outputs(run.id),
        state.store.version(run.version_id),
        state.store.run_progress(run.id),
    )?;
    let inputs = input_rows(&run.inputs, version.as_ref(), locale.numbers);
    let input_files = super::input_files::list(&run, version.as_ref());
    let log = match state.executor.log_tail(&run, LOG_TAIL_BYTES).await {
        Ok(tail) => tail,
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read the log");
            LogTail {
                text: format!("(the log cannot be read right now: {error})"),
                earlier: false,
            }
        }
    };
    let now = Utc::now();
    let cost = crate::costs::run_cost(&state, &run, now).await?;
    // One text for the run's duration in the summary and beside its estimate.
    let duration = run.duration(now).map(format::duration);
    let holders = super::timeline::slot_holders(&state, &user, &run, &events).await?;
    let declared = version
        .as_ref()
        .map_or(&[][..], |version| version.outputs.charts.as_slice());
    Ok(RunPage {
        cost: super::estimate::RunCostView::new(&cost, duration.clone()),
        nav: Nav::new(&user, &csrf, Section::Runs),
        active: !run.status.is_terminal(),
        waiting: WaitingView::find(&run, &events, &locale),
        progress: ProgressView::of(run.status, progress, &locale),
        can_cancel: can_cancel(&user, &run),
        can_rerun: may(user.role, Action::SubmitRuns),
        typical: super::typical::compare_duration(&state, &run).await,
        submitted: locale.time(run.created_at),
        zone: locale.zone_name(),
        duration: duration.unwrap_or_default(),
        phases: super::timeline::phases(&events, &locale, Utc::now(), &holders),
        events: events
            .iter()
            .map(|event| EventView::new(event, &locale))
            .collect(),
        inputs,
        input_files,
        resources_note: crate::run_resources::asked_note(&run.resources, version.as_ref()),
        metrics: super::figures::of_version(
            &state,
            &run,
            version.as_ref(),
            &outputs,
            locale.numbers,
        )
        .await,
        chart: match declared.is_empty() {
            true => super::preview::main_chart(&state, &run, &outputs, locale.numbers).await,
            false => None,
        },
        declared_charts: match outputs.is_empty() {
            true => Vec::new(),
            false => declared::draw(&state, &run, &outputs, declared, locale.numbers).await,
        },
        outputs: outputs.iter().map(OutputView::new).collect(),
        log: log.text,
        log_earlier: log.earlier,
        scheduled_by: state.store.run_schedule(run.id).await?,
        sweep: sweep_of(&state, &run).await?,
        run,
    })
}

/// The sweep `run` is part of and its place in the sweep's grid:
/// (sweep, "growth_rate = 0.02, seasonality = retail").
async fn sweep_of(state: &AppState, run: &Run) -> AppResult<Option<(SweepId, String)>> {
    let Some((id, position)) = state.store.run_sweep(run.id).await? else {
        return Ok(None);
    };
    let Some(sweep) = state.store.sweep(id).await? else {
        return Ok(None);
    };
    let values = modelrun_core::sweep::point(&sweep.axes, position);
    Ok(Some((
        id,
        modelrun_core::sweep::label(&sweep.axes, &values),
    )))
}

async fn log(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    downloads::audit_download(&state, &user, &client, &run, "log").await;
    Ok(log_download::log(&state, run))
}

async fn output(
    CurrentUser { user, .. }: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> AppResult<Response> {
    let run = visible_run(&state, &user, &id).await?;
    downloads::output(&state, &user, &client, &run, &name, &headers).await
}

/// Cancels the run once the person has said yes (`confirmed=1`); until
/// then, to whoever may, the question on a page of its own.
async fn cancel(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let user = &current.user;
    require(user.role, Action::CancelRuns)?;
    let run = visible_run(&state, user, &id).await?;
    let back = format!("/runs/{}", run.id);
    if !answer.given() && can_cancel(user, &run) {
        let question = Question {
            text: format!("Cancel run #{}? Work in progress is lost.", run.id),
            yes: "Cancel the run",
            no: "Keep it running",
            back,
        };
        let action = format!("/runs/{}/cancel", run.id);
        return Ok(ask(&current, Section::Runs, question, action, Vec::new()));
    }
    request_cancel(&state, user, &client, &run).await?;
    Ok(Redirect::to(&back).into_response())
}
