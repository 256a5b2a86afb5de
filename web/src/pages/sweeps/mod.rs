//! Sweeps in the browser: the list, and a sweep's page with what varies,
//! how far its runs are, a results table (one row per run, sortable, with
//! a compare form), the main chart of every succeeded run overlaid and
//! coloured by the first varied input, and "Cancel sweep". While runs are
//! active the page refreshes itself as the run page does.

mod overlay;
mod results;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use modelrun_core::display::NumberStyle;
use modelrun_core::ids::{RunId, SweepId};
use modelrun_core::model::ModelVersion;
use modelrun_core::sweep::{Axis, Sweep, SweepSummary, Tally};
use serde::Deserialize;

use super::compare::{MAX_RUNS, MIN_RUNS};
use super::confirm::{Answer, Question, ask};
use super::progress::ProgressView;
use super::{Nav, Section};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::format;
use crate::guard::ClientAddr;
use crate::locale::{LocalTime, Locale};
use crate::policy::{can_cancel, may_stop, visible_submitter};
use crate::state::AppState;
use crate::sweeps::{cancel_sweep, visible_sweep};
use results::{Column, ResultRow, RunResult};

/// How many sweeps the list shows, newest first.
const LISTED: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sweeps", get(list))
        .route("/sweeps/{id}", get(page))
        .route("/sweeps/{id}/cancel", post(cancel))
}

/// "7 of 10 runs ended: 6 succeeded, 1 failed; 3 running."
pub fn tally_text(tally: &Tally) -> String {
    let mut text = format!("{} of {} runs ended", tally.ended(), tally.total());
    let part = |count: i64, word: &str| (count > 0).then(|| format!("{count} {word}"));
    let ended: Vec<String> = [
        part(tally.succeeded, "succeeded"),
        part(tally.failed, "failed"),
        part(tally.cancelled, "cancelled"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !ended.is_empty() {
        text.push_str(&format!(": {}", ended.join(", ")));
    }
    let active: Vec<String> = [
        part(tally.running, "running"),
        part(tally.waiting, "waiting"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !active.is_empty() {
        text.push_str(&format!("; {}", active.join(", ")));
    }
    text.push('.');
    text
}

struct SweepRow {
    id: SweepId,
    model: String,
    version: String,
    submitter: String,
    created: LocalTime,
    created_ago: String,
    runs: String,
    status: &'static str,
}

impl SweepRow {
    fn new(summary: &SweepSummary, locale: &Locale) -> Self {
        let sweep = &summary.sweep;
        SweepRow {
            id: sweep.id,
            model: sweep.model_name.clone(),
            version: sweep.version_label.clone(),
            submitter: sweep.submitter_email.clone(),
            created: locale.time(sweep.created_at),
            created_ago: format::ago(sweep.created_at, Utc::now()),
            runs: tally_text(&summary.runs),
            status: summary.runs.status(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sweeps.html")]
struct SweepsPage {
    nav: Nav,
    sweeps: Vec<SweepRow>,
    zone: &'static str,
}

async fn list(current: CurrentUser, State(state): State<AppState>) -> AppResult<SweepsPage> {
    let locale = Locale::of(&current);
    let sweeps = state
        .store
        .sweeps(visible_submitter(&state, &current.user), LISTED)
        .await?;
    Ok(SweepsPage {
        nav: Nav::new(&current.user, &current.csrf, Section::Sweeps),
        sweeps: sweeps.iter().map(|s| SweepRow::new(s, &locale)).collect(),
        zone: locale.zone_name(),
    })
}

/// What the page's address may carry.
#[derive(Debug, Default, Deserialize)]
struct SweepQuery {
    sort: Option<String>,
    dir: Option<String>,
    /// How many runs "Cancel sweep" asked to stop.
    cancelled: Option<usize>,
}

/// One varied input: its label and its values as the form writes them.
struct AxisView {
    label: String,
    values: String,
}

fn axis_views(axes: &[Axis], version: Option<&ModelVersion>, style: NumberStyle) -> Vec<AxisView> {
    let between = match style {
        NumberStyle::CommaDecimal => "; ",
        NumberStyle::PointDecimal => ", ",
    };
    axes.iter()
        .map(|axis| {
            let field = version.and_then(|v| v.inputs.field(&axis.field));
            AxisView {
                label: field.map_or_else(|| axis.field.clone(), |f| f.label().to_owned()),
                values: axis
                    .values
                    .iter()
                    .map(|value| format::input_value(field, value, style))
                    .collect::<Vec<_>>()
                    .join(between),
            }
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "sweep.html")]
struct SweepPage {
    nav: Nav,
    sweep: Sweep,
    created: LocalTime,
    zone: &'static str,
    status: &'static str,
    tally: String,
    active: bool,
    ended: bool,
    can_cancel: bool,
    cancelled: Option<usize>,
    axes: Vec<AxisView>,
    fixed: Vec<(String, String)>,
    columns: Vec<Column>,
    rows: Vec<ResultRow>,
    /// The overlaid chart, and what it leaves out.
    chart: Option<overlay::SweepChart>,
    min_compare: usize,
    max_compare: usize,
}

impl SweepPage {
    /// The columns between the run and the status: the varied inputs.
    fn input_columns(&self) -> &[Column] {
        &self.columns[1..=self.sweep.axes.len()]
    }

    /// The columns after the status: the key figures, then the duration.
    fn figure_columns(&self) -> &[Column] {
        &self.columns[self.sweep.axes.len() + 2..]
    }
}

async fn page(
    current: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SweepQuery>,
) -> AppResult<SweepPage> {
    let locale = Locale::of(&current);
    let CurrentUser { user, csrf, .. } = current;
    let sweep = visible_sweep(&state, &user, &id).await?;
    let (runs, version) = tokio::try_join!(
        state.store.sweep_runs(sweep.id),
        state.store.version(sweep.version_id),
    )?;
    let tally = Tally::of(&runs);
    let active: Vec<RunId> = runs
        .iter()
        .filter(|run| !run.status.is_terminal())
        .map(|run| run.id)
        .collect();
    let mut progress = state.store.runs_progress(&active).await?;
    let read = overlay::read(&state, &runs, version.as_ref()).await?;
    let results = runs
        .iter()
        .zip(read.figures)
        .map(|(run, figures)| RunResult {
            run,
            progress: ProgressView::of(run.status, progress.remove(&run.id), &locale),
            figures,
        })
        .collect();
    let (mut columns, mut rows) = results::table(
        &sweep.axes,
        version.as_ref(),
        results,
        locale.numbers,
        Utc::now(),
    );
    if let Some(column) = &query.sort {
        results::sort(&mut columns, &mut rows, column, query.dir.as_deref())?;
    }
    let chart = overlay::chart(&sweep, version.as_ref(), &runs, read.charts, &locale);
    Ok(SweepPage {
        nav: Nav::new(&user, &csrf, Section::Sweeps),
        created: locale.time(sweep.created_at),
        zone: locale.zone_name(),
        status: tally.status(),
        tally: tally_text(&tally),
        active: tally.ended() < tally.total(),
        ended: tally.ended() == tally.total(),
        can_cancel: runs.iter().any(|run| can_cancel(&user, run)),
        cancelled: query.cancelled,
        axes: axis_views(&sweep.axes, version.as_ref(), locale.numbers),
        fixed: super::run::input_rows(&sweep.inputs, version.as_ref(), locale.numbers),
        columns,
        rows,
        chart,
        min_compare: MIN_RUNS,
        max_compare: MAX_RUNS,
        sweep,
    })
}

/// Cancels the sweep's active runs once the person has said yes
/// (`confirmed=1`); until then, to whoever may, the question on a page.
async fn cancel(
    current: CurrentUser,
    client: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageForm(answer): PageForm<Answer>,
) -> AppResult<Response> {
    let user = &current.user;
    let sweep = visible_sweep(&state, user, &id).await?;
    if !answer.given() && may_stop(user, sweep.submitted_by) {
        let question = Question {
            text: format!(
                "Cancel sweep #{}? Its active runs stop and their work in progress is lost.",
                sweep.id
            ),
            yes: "Cancel the sweep",
            no: "Keep it running",
            back: format!("/sweeps/{}", sweep.id),
        };
        let action = format!("/sweeps/{}/cancel", sweep.id);
        return Ok(ask(&current, Section::Sweeps, question, action, Vec::new()));
    }
    let stopped = cancel_sweep(&state, user, &client, &sweep).await?;
    Ok(Redirect::to(&format!("/sweeps/{}?cancelled={stopped}", sweep.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_reads_as_a_sentence() {
        let tally = Tally {
            waiting: 1,
            running: 2,
            succeeded: 6,
            failed: 1,
            cancelled: 0,
        };
        assert_eq!(
            tally_text(&tally),
            "7 of 10 runs ended: 6 succeeded, 1 failed; 2 running, 1 waiting."
        );
        assert_eq!(
            tally_text(&Tally {
                waiting: 3,
                ..Tally::default()
            }),
            "0 of 3 runs ended; 3 waiting."
        );
    }
}
