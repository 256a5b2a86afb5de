//! A run's key figures: the numbers of its `metrics.json`, named and
//! written as its version declares (`[outputs.metrics]`: label, format,
//! order), else by their own names, rounded sensibly. The run page, the
//! compare page and a sweep's results table all show them through here;
//! the API gives the raw numbers.

use modelrun_core::blob::BlobKey;
use modelrun_core::display::NumberStyle;
use modelrun_core::model::ModelVersion;
use modelrun_core::outputs::Outputs;
use modelrun_core::run::{Run, RunOutput};
use serde_json::Value;

use crate::format;
use crate::state::AppState;

/// `metrics.json` larger than this is not read for key figures.
const MAX_METRICS_BYTES: usize = 64 * 1024;

/// The run's key figures as numbers: (name as `metrics.json` writes it,
/// value), in the file's order. Anything that is not a number is left out;
/// a file that cannot be read or parsed gives none.
pub async fn figures(state: &AppState, run: &Run, outputs: &[RunOutput]) -> Vec<(String, f64)> {
    read(state, run, outputs)
        .await
        .into_iter()
        .filter_map(|(key, value)| Some((key, value.as_f64()?)))
        .collect()
}

/// `metrics.json`'s entries as written, in the file's order; none when the
/// file is missing, too large, unreadable or not a JSON object.
async fn read(state: &AppState, run: &Run, outputs: &[RunOutput]) -> Vec<(String, Value)> {
    let Some(output) = outputs.iter().find(|o| {
        o.name == "metrics.json"
            && usize::try_from(o.size).is_ok_and(|size| size <= MAX_METRICS_BYTES)
    }) else {
        return Vec::new();
    };
    let read = async {
        let key = BlobKey::run_output(run.id, &output.name)?;
        state.blob.read_all(&key, MAX_METRICS_BYTES).await
    };
    match read.await {
        Ok(bytes) => serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes)
            .map(|map| map.into_iter().collect())
            .unwrap_or_default(),
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read metrics.json");
            Vec::new()
        }
    }
}

/// Figures as a page shows them: (label, value written out), the declared
/// ones first in their declared order, then the rest in the file's order.
/// A declared figure the run wrote as something other than a number shows
/// as written, with a note ("abc (not a number)"), since its author
/// expects it there; an undeclared one that is not a number is left out,
/// as most such entries are not figures (a model's name, a date).
pub fn shown(
    mut figures: Vec<(String, Value)>,
    declared: &Outputs,
    style: NumberStyle,
) -> Vec<(String, String)> {
    let mut names: Vec<String> = figures.iter().map(|(name, _)| name.clone()).collect();
    declared.order(&mut names);
    names
        .into_iter()
        .filter_map(|name| {
            let at = figures.iter().position(|(n, _)| *n == name)?;
            let (name, value) = figures.swap_remove(at);
            let written = match value.as_f64() {
                Some(number) => format::metric(number, &declared.format(&name), style),
                None if declared.metric(&name).is_some() => {
                    format!("{} (not a number)", format::value(&value))
                }
                None => return None,
            };
            Some((declared.label(&name), written))
        })
        .collect()
}

/// The run's key figures as its version declares them.
pub async fn of_version(
    state: &AppState,
    run: &Run,
    version: Option<&ModelVersion>,
    outputs: &[RunOutput],
    style: NumberStyle,
) -> Vec<(String, String)> {
    let none = Outputs::default();
    let declared = version.map_or(&none, |version| &version.outputs);
    shown(read(state, run, outputs).await, declared, style)
}

/// The run's key figures as its version declares them, the version looked
/// up (as none when it cannot be: the figures still show, by their names).
pub async fn metrics(
    state: &AppState,
    run: &Run,
    outputs: &[RunOutput],
    style: NumberStyle,
) -> Vec<(String, String)> {
    let version = match state.store.version(run.version_id).await {
        Ok(version) => version,
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not read the run's version");
            None
        }
    };
    of_version(state, run, version.as_ref(), outputs, style).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declared_figures_come_first_labelled_and_formatted() {
        let declared: Outputs = serde_json::from_value(json!({
            "metrics": [
                { "name": "cagr", "label": "Annual growth", "format": { "kind": "percent", "places": 1 } },
                { "name": "total", "label": null, "format": { "kind": "currency", "symbol": "€", "places": 2 } },
                { "name": "absent", "label": "Not written", "format": { "kind": "integer" } }
            ]
        }))
        .expect("declaration");
        let figures = vec![
            ("final_month".to_owned(), json!(12_345.678)),
            ("total".to_owned(), json!(1_704_285.064)),
            ("cagr".to_owned(), json!(0.591823)),
            ("model".to_owned(), json!("v2")),
        ];
        assert_eq!(
            shown(figures, &declared, NumberStyle::PointDecimal),
            [
                ("Annual growth".to_owned(), "59.2%".to_owned()),
                ("total".to_owned(), "€1,704,285.06".to_owned()),
                ("final month".to_owned(), "12,345.68".to_owned()),
            ]
        );
    }

    #[test]
    fn a_huge_figure_stays_short_in_any_format() {
        let declared: Outputs = serde_json::from_value(json!({
            "metrics": [
                { "name": "total", "label": "Total", "format": { "kind": "currency", "symbol": "€", "places": 2 } }
            ]
        }))
        .expect("declaration");
        let figures = vec![
            ("total".to_owned(), json!(1e300)),
            ("count".to_owned(), json!(-1e300)),
        ];
        assert_eq!(
            shown(figures, &declared, NumberStyle::PointDecimal),
            [
                ("Total".to_owned(), "€1e300".to_owned()),
                ("count".to_owned(), "-1e300".to_owned()),
            ]
        );
    }

    #[test]
    fn a_declared_figure_that_is_not_a_number_shows_as_written_with_a_note() {
        let declared: Outputs = serde_json::from_value(json!({
            "metrics": [
                { "name": "pct", "label": "Share", "format": { "kind": "percent", "places": 2 } },
                { "name": "tiny", "label": "Tiny pct", "format": { "kind": "percent", "places": 2 } }
            ]
        }))
        .expect("declaration");
        let figures = vec![
            ("tiny".to_owned(), json!(0.000012)),
            ("pct".to_owned(), json!("abc")),
            ("note".to_owned(), json!("undeclared text")),
        ];
        assert_eq!(
            shown(figures, &declared, NumberStyle::PointDecimal),
            [
                ("Share".to_owned(), "abc (not a number)".to_owned()),
                ("Tiny pct".to_owned(), "0.0012%".to_owned()),
            ]
        );
    }
}
