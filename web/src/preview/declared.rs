//! The charts a version declares (`[[outputs.charts]]`), drawn from a
//! run's outputs: each line from its own file and column, placed on one x
//! axis by its own x values (history and forecast side by side), a line of
//! another file than the chart's dashed, the band around the first line of
//! its file. What a declaration names and the run did not write (a file, a
//! column) becomes a note under the chart, never an error page.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use modelrun_core::blob::BlobKey;
use modelrun_core::display::NumberStyle;
use modelrun_core::outputs::ChartDecl;
use modelrun_core::run::{Run, RunOutput};

use super::chart::{Chart, Series, Values, has_points};
use super::load::head;
use super::table::{Table, parse_number};
use super::{MAX_PREVIEW_BYTES, decode};
use crate::state::AppState;

/// The most rows of one file a chart draws.
const MAX_ROWS: usize = 5000;

/// One declared chart, as the run page shows it.
#[derive(Debug)]
pub struct DeclaredChart {
    pub title: String,
    /// The SVG, when there is anything to draw.
    pub svg: Option<String>,
    /// The outputs it reads, for links under it.
    pub files: Vec<String>,
    /// What could not be drawn, and why.
    pub notes: Vec<String>,
}

/// A file read for charts: its table, or why there is none.
type Read = Result<(Table, bool), String>;

/// Every chart of `declared`, drawn from the run's `outputs`. Each file is
/// read once, however many charts use it.
pub async fn draw(
    state: &AppState,
    run: &Run,
    outputs: &[RunOutput],
    declared: &[ChartDecl],
    style: NumberStyle,
) -> Vec<DeclaredChart> {
    let mut files: HashMap<String, Read> = HashMap::new();
    for chart in declared {
        for file in files_of(chart) {
            if let Entry::Vacant(slot) = files.entry(file) {
                let read = read(state, run, outputs, slot.key()).await;
                slot.insert(read);
            }
        }
    }
    declared
        .iter()
        .enumerate()
        .map(|(index, chart)| {
            // The first is the page's main chart, with the id a guessed one has.
            let id = match index {
                0 => "run-chart".to_owned(),
                _ => format!("run-chart-{index}"),
            };
            build(chart, &files, &id, style)
        })
        .collect()
}

/// The files a chart reads: its own first, then its lines' and band's.
fn files_of(chart: &ChartDecl) -> Vec<String> {
    let mut files = vec![chart.file.clone()];
    let others = chart
        .series
        .iter()
        .map(|s| &s.file)
        .chain(chart.band.iter().map(|b| &b.file));
    for file in others {
        if !files.contains(file) {
            files.push(file.clone());
        }
    }
    files
}

async fn read(state: &AppState, run: &Run, outputs: &[RunOutput], name: &str) -> Read {
    if !outputs.iter().any(|output| output.name == name) {
        return Err(format!("The run has no output {name}."));
    }
    let bytes = match BlobKey::run_output(run.id, name) {
        Ok(key) => head(state, &key, MAX_PREVIEW_BYTES).await,
        Err(error) => Err(error),
    };
    match bytes {
        Ok((bytes, partial)) => {
            let (text, _) = decode(&bytes, partial);
            let table = Table::of_file(name, &text, MAX_ROWS, partial);
            let cut = partial || table.truncated;
            Ok((table, cut))
        }
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, file = name, "could not read an output for its chart");
            Err(format!("{name} cannot be read right now."))
        }
    }
}

/// The values of column `name` of `table`, or a note saying it is not there.
fn column(table: &Table, file: &str, name: &str) -> Result<Values, String> {
    let Some(index) = table.headers.iter().position(|h| h == name) else {
        let known: Vec<&str> = table.headers.iter().map(String::as_str).take(20).collect();
        return Err(format!(
            "{file} has no column {name} (its columns: {}).",
            known.join(", ")
        ));
    };
    Ok(table
        .rows
        .iter()
        .map(|row| row.get(index).and_then(|cell| parse_number(cell)))
        .collect())
}

/// The x values of `table`, as the file writes them.
fn x_values(table: &Table, file: &str, x: &str) -> Result<Vec<String>, String> {
    let Some(index) = table.headers.iter().position(|h| h == x) else {
        return Err(format!("{file} has no x column {x}."));
    };
    Ok(table
        .rows
        .iter()
        .map(|row| row.get(index).cloned().unwrap_or_default())
        .collect())
}

/// The first chart `declared` makes of a run, not drawn, for pages that
/// overlay one line per run (compare, a sweep): the line with the band goes
/// first, as the model's estimate (a forecast beside a history that every
/// run shares). None when the run's outputs give it nothing to draw.
pub async fn first(
    state: &AppState,
    run: &Run,
    outputs: &[RunOutput],
    declared: &ChartDecl,
) -> Option<Chart> {
    let mut files: HashMap<String, Read> = HashMap::new();
    for file in files_of(declared) {
        let read = read(state, run, outputs, &file).await;
        files.insert(file, read);
    }
    let (mut chart, _) = lines(declared, &files);
    if let Some(banded) = chart.series.iter().position(|s| s.band.is_some()) {
        chart.series[..=banded].rotate_right(1);
    }
    has_points(&chart.series).then_some(chart)
}

fn build(
    declared: &ChartDecl,
    files: &HashMap<String, Read>,
    id: &str,
    style: NumberStyle,
) -> DeclaredChart {
    let (chart, mut notes) = lines(declared, files);
    let title = declared.title.clone().unwrap_or_else(|| {
        let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
        match names.is_empty() {
            true => declared.file.clone(),
            false => format!("{} by {}", names.join(", "), declared.x),
        }
    });
    let svg = has_points(&chart.series).then(|| chart.svg(id, &title, style));
    if svg.is_none() && notes.is_empty() {
        notes.push("There is nothing to draw: the lines have no values.".into());
    }
    DeclaredChart {
        title,
        svg,
        files: files_of(declared),
        notes,
    }
}

/// The chart's lines from the files read, and what could not be drawn.
fn lines(declared: &ChartDecl, files: &HashMap<String, Read>) -> (Chart, Vec<String>) {
    let mut notes: Vec<String> = Vec::new();
    let mut note = |text: String| {
        if !notes.contains(&text) {
            notes.push(text);
        }
    };
    let mut series: Vec<Series> = Vec::new();
    for line in &declared.series {
        let table = match files.get(&line.file) {
            Some(Ok((table, cut))) => {
                if *cut {
                    note(format!(
                        "Only the first {} rows of {} are drawn.",
                        table.rows.len(),
                        line.file
                    ));
                }
                table
            }
            Some(Err(why)) => {
                note(why.clone());
                continue;
            }
            None => continue,
        };
        let drawn = x_values(table, &line.file, &declared.x)
            .and_then(|x| Ok((x, column(table, &line.file, &line.column)?)));
        let (x, values) = match drawn {
            Ok(drawn) => drawn,
            Err(why) => {
                note(why);
                continue;
            }
        };
        if values.iter().all(Option::is_none) {
            note(format!(
                "Column {} of {} holds no numbers.",
                line.column, line.file
            ));
            continue;
        }
        let band = declared
            .band
            .as_ref()
            .filter(|band| band.file == line.file && !series.iter().any(|s| s.band.is_some()))
            .and_then(|band| {
                let low = column(table, &band.file, &band.low);
                let high = column(table, &band.file, &band.high);
                match (low, high) {
                    (Ok(low), Ok(high)) => Some((low, high)),
                    (Err(why), _) | (_, Err(why)) => {
                        note(why);
                        None
                    }
                }
            });
        series.push(Series {
            name: line.label.clone().unwrap_or_else(|| line.column.clone()),
            x,
            values,
            band,
            colour: None,
            dashed: line.dashed,
        });
    }
    let chart = Chart {
        x_label: declared.x.clone(),
        units: declared.units.clone(),
        series,
        ..Chart::default()
    };
    (chart, notes)
}

#[cfg(test)]
#[path = "declared_tests.rs"]
mod tests;
