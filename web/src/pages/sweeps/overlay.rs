//! What a sweep's page reads of its runs' outputs, and its chart. Each
//! ended run gives its key figures; at most [`CHART_RUNS`] succeeded runs
//! (the first in grid order) give their main chart, so that a sweep of 200
//! runs still makes a page of bounded size and time. A few runs are read
//! at once.

use futures_util::{StreamExt, TryStreamExt, stream};
use modelrun_core::model::ModelVersion;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;
use modelrun_core::sweep::{Sweep, point};

use crate::error::AppResult;
use crate::format;
use crate::locale::Locale;
use crate::pages::preview::main_lines;
use crate::pages::run::figures;
use crate::preview::chart::Chart;
use crate::preview::sweep_chart::{GroupedRun, MAX_LEGEND, grouped};
use crate::state::AppState;

/// The most runs the chart draws.
pub const CHART_RUNS: usize = 50;

/// Runs whose outputs are read at the same time.
const READS_AT_ONCE: usize = 8;

/// A run's key figures: (name, value), in its `metrics.json` order.
pub type Figures = Vec<(String, f64)>;

/// Per run, in grid order: its key figures, and its main chart when it is
/// one of those the chart draws.
pub struct Read {
    pub figures: Vec<Figures>,
    pub charts: Vec<Option<Chart>>,
}

/// Reads what the page shows of each run's outputs; `version` (the
/// sweep's) says which chart is each run's main one.
pub async fn read(
    state: &AppState,
    runs: &[Run],
    version: Option<&ModelVersion>,
) -> AppResult<Read> {
    let drawn = drawn(runs.iter().map(|run| run.status));
    // By index: a closure over borrowed runs is not general enough for
    // the future an axum handler must be.
    let read: Vec<(Figures, Option<Chart>)> = stream::iter(0..runs.len())
        .map(|index| read_one(state, &runs[index], version, drawn[index]))
        .buffered(READS_AT_ONCE)
        .try_collect()
        .await?;
    let (figures, charts) = read.into_iter().unzip();
    Ok(Read { figures, charts })
}

/// Which runs the chart draws, by status in grid order: the first
/// [`CHART_RUNS`] that succeeded.
fn drawn(statuses: impl Iterator<Item = RunStatus>) -> Vec<bool> {
    let mut charted = 0;
    statuses
        .map(|status| {
            let chart = status == RunStatus::Succeeded && charted < CHART_RUNS;
            charted += usize::from(chart);
            chart
        })
        .collect()
}

/// What the chart leaves out of `succeeded` runs, if anything.
fn left_out(succeeded: usize) -> Option<String> {
    (succeeded > CHART_RUNS).then(|| {
        format!(
            "The chart draws the first {CHART_RUNS} of the {succeeded} succeeded runs, in grid order; the table has them all."
        )
    })
}

/// One run's key figures, and its main chart when `chart`; nothing for a
/// run that has not ended.
async fn read_one(
    state: &AppState,
    run: &Run,
    version: Option<&ModelVersion>,
    chart: bool,
) -> AppResult<(Figures, Option<Chart>)> {
    if !run.status.is_terminal() {
        return Ok((Vec::new(), None));
    }
    let outputs = state.store.run_outputs(run.id).await?;
    let figures = figures(state, run, &outputs).await;
    let chart = if chart {
        main_lines(state, run, &outputs, version).await
    } else {
        None
    };
    Ok((figures, chart))
}

/// The chart as the page shows it: the SVG and what it leaves out.
pub struct SweepChart {
    pub svg: String,
    pub notes: Vec<String>,
}

/// The runs' main lines overlaid, coloured by the sweep's first varied
/// input (`charts` is [`Read::charts`]). None when no run has a chart.
pub fn chart(
    sweep: &Sweep,
    version: Option<&ModelVersion>,
    runs: &[Run],
    charts: Vec<Option<Chart>>,
    locale: &Locale,
) -> Option<SweepChart> {
    let axis = sweep.axes.first()?;
    let field = version.and_then(|v| v.inputs.field(&axis.field));
    let label = field.map_or(axis.field.as_str(), |f| f.label());
    let groups: Vec<String> = axis
        .values
        .iter()
        .map(|value| {
            format!(
                "{label}: {}",
                format::input_value(field, value, locale.numbers)
            )
        })
        .collect();
    let lines: Vec<GroupedRun> = runs
        .iter()
        .zip(charts)
        .enumerate()
        .filter_map(|(position, (run, chart))| {
            let value = *point(&sweep.axes, position).first()?;
            Some(GroupedRun {
                group: axis.values.iter().position(|v| v == value)?,
                label: format!("#{}", run.id),
                chart: chart?,
            })
        })
        .collect();
    let chart = grouped(&lines, &groups)?;
    let succeeded = runs
        .iter()
        .filter(|run| run.status == RunStatus::Succeeded)
        .count();
    let mut notes: Vec<String> = left_out(succeeded).into_iter().collect();
    let values = chart.legend.as_ref().map_or(0, Vec::len);
    let present = lines
        .iter()
        .map(|line| line.group)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if present > MAX_LEGEND {
        notes.push(format!(
            "The legend names {values} of the {present} values of {label}, light to dark in their order."
        ));
    }
    let svg = chart.svg(
        "sweep-chart",
        &format!(
            "{}: sweep #{}, {} runs overlaid, coloured by {label}",
            sweep.model_name,
            sweep.id,
            chart.series.len()
        ),
        locale.numbers,
    );
    Some(SweepChart { svg, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_the_first_succeeded_runs_and_says_what_it_leaves_out() {
        let statuses = [RunStatus::Failed, RunStatus::Running]
            .into_iter()
            .chain(std::iter::repeat_n(RunStatus::Succeeded, CHART_RUNS + 5));
        let drawn = drawn(statuses);
        assert_eq!(drawn.len(), CHART_RUNS + 7);
        assert_eq!(drawn.iter().filter(|&&d| d).count(), CHART_RUNS);
        assert!(!drawn[0] && !drawn[1] && drawn[2] && !drawn[CHART_RUNS + 6]);
        assert_eq!(left_out(CHART_RUNS), None);
        let note = left_out(CHART_RUNS + 5).expect("a note");
        assert!(note.contains(&format!("first {CHART_RUNS} of the {}", CHART_RUNS + 5)));
    }
}
