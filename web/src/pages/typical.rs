//! How long a version's runs usually take, to put one run's duration in
//! context: the median of its latest successful runs.

use modelrun_core::run::{Run, RunFilter};
use modelrun_core::status::RunStatus;

use crate::error::AppResult;
use crate::format;
use crate::state::AppState;

/// Successful runs the median is taken over, newest first.
const SAMPLE: u32 = 100;
/// Fewer than this many and there is no "typical" to speak of.
const MIN_SAMPLE: usize = 3;

/// The median duration of a version's latest successful runs, and how
/// many runs it was taken over (none: no successful run).
pub async fn median_duration(
    state: &AppState,
    model: &str,
    version: &str,
) -> AppResult<Option<(chrono::Duration, usize)>> {
    let filter = RunFilter {
        model: Some(model.to_owned()),
        version: Some(version.to_owned()),
        status: Some(RunStatus::Succeeded),
        limit: SAMPLE,
        ..RunFilter::default()
    };
    let page = state.store.list_runs(&filter).await?;
    let mut durations: Vec<i64> = page
        .items
        .iter()
        .filter_map(|r| r.duration(r.finished_at?))
        .map(|d| d.num_milliseconds())
        .collect();
    durations.sort_unstable();
    Ok(durations
        .get(durations.len() / 2)
        .map(|ms| (chrono::Duration::milliseconds(*ms), durations.len())))
}

/// "Typical for this version: 2.1 s (median of 12 successful runs); this
/// run took 40 % longer." `None` while the run is active or the version has
/// too few successful runs.
pub async fn compare_duration(state: &AppState, run: &Run) -> Option<String> {
    if !run.status.is_terminal() {
        return None;
    }
    let took = run.duration(run.finished_at?)?;
    let (typical, count) = match median_duration(state, &run.model_name, &run.version_label).await {
        Ok(median) => median?,
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read the version's runs");
            return None;
        }
    };
    if count < MIN_SAMPLE {
        return None;
    }
    let mut text = format!(
        "Typical for this version: {} (median of its last {count} successful runs)",
        format::duration(typical)
    );
    let ratio = took.num_milliseconds() as f64 / typical.num_milliseconds().max(1) as f64;
    if ratio >= 1.2 {
        text.push_str(&format!(
            "; this run took {:.0} % longer.",
            (ratio - 1.0) * 100.0
        ));
    } else if ratio <= 0.8 {
        text.push_str(&format!(
            "; this run was {:.0} % quicker.",
            (1.0 - ratio) * 100.0
        ));
    } else {
        text.push_str("; this run was about as long.");
    }
    Some(text)
}
