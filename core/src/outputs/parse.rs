//! Reading `[outputs]` from a manifest's TOML: every problem is reported
//! with its path (`outputs.charts[1].series[0].column`) and the limit it
//! breaks, never only the first.

use super::metric::parse_metric;
use super::{
    BandDecl, ChartDecl, MAX_CHART_FILES, MAX_CHARTS, MAX_LABEL_CHARS, MAX_METRICS, MAX_NAME_CHARS,
    MAX_SERIES, MAX_UNITS_CHARS, Outputs, Problems, SeriesDecl,
};
use crate::blob::check_relative_path;
use crate::toml_fields::{Fields, check_shown, kind};

/// Reads `[outputs]` (the TOML value under the key), adding what is wrong
/// to `problems`; what it returns is only meaningful when none were added.
pub fn parse(value: toml::Value, problems: &mut Problems) -> Outputs {
    let Some(mut fields) = Fields::open(
        value,
        "outputs",
        "[outputs] with charts and metrics",
        problems,
    ) else {
        return Outputs::default();
    };
    let charts = fields
        .list("charts", "a list of charts ([[outputs.charts]])", problems)
        .unwrap_or_default();
    let metrics = fields
        .table(
            "metrics",
            "a table of key figures ([outputs.metrics.NAME])",
            problems,
        )
        .unwrap_or_default();
    fields.finish(&["charts", "metrics"], problems);
    if charts.len() > MAX_CHARTS {
        problems.push((
            "outputs.charts".to_owned(),
            format!(
                "{} are declared; at most {MAX_CHARTS} are allowed",
                charts.len()
            ),
        ));
    }
    let charts = charts
        .into_iter()
        .enumerate()
        .filter_map(|(index, chart)| {
            parse_chart(chart, &format!("outputs.charts[{index}]"), problems)
        })
        .collect();
    if metrics.len() > MAX_METRICS {
        problems.push((
            "outputs.metrics".to_owned(),
            format!(
                "{} are declared; at most {MAX_METRICS} are allowed",
                metrics.len()
            ),
        ));
    }
    let metrics = metrics
        .into_iter()
        .filter_map(|(name, metric)| parse_metric(name, metric, problems))
        .collect();
    Outputs { charts, metrics }
}

/// A text that is not blank, of at most `max` characters, without control
/// or format characters; else a problem at `path` saying which.
pub(super) fn check_text(text: &str, max: usize, path: &str, problems: &mut Problems) {
    let length = text.chars().count();
    if text.trim().is_empty() {
        problems.push((
            path.to_owned(),
            format!("is blank; it must be 1–{max} characters"),
        ));
    } else if length > max {
        problems.push((
            path.to_owned(),
            format!("is {length} characters; at most {max}"),
        ));
    }
    check_shown(text, path, false, problems);
}

fn check_file(file: &str, path: &str, problems: &mut Problems) {
    check_shown(file, path, false, problems);
    if let Err(why) = check_relative_path(file, 255) {
        problems.push((
            path.to_owned(),
            format!("must name an output file, as the model writes it: the name {why}"),
        ));
    }
}

fn parse_chart(value: toml::Value, path: &str, problems: &mut Problems) -> Option<ChartDecl> {
    let mut fields = Fields::open(
        value,
        path,
        "[[outputs.charts]] with file, x and series",
        problems,
    )?;
    let file = fields.needed_text("file", problems);
    let x = fields.needed_text("x", problems);
    let series = if fields.need("series", problems) {
        fields.list("series", "a list of lines ([\"revenue\"])", problems)
    } else {
        None
    };
    let band = fields.table(
        "band",
        "a table ({ low = \"low\", high = \"high\" })",
        problems,
    );
    let title = fields.text("title", problems);
    let units = fields.text("units", problems);
    let band_path = fields.at("band");
    fields.finish(&["file", "x", "series", "band", "title", "units"], problems);
    if let Some(file) = &file {
        check_file(file, &format!("{path}.file"), problems);
    }
    if let Some(x) = &x {
        check_text(x, MAX_NAME_CHARS, &format!("{path}.x"), problems);
    }
    if let Some(title) = &title {
        check_text(title, MAX_NAME_CHARS, &format!("{path}.title"), problems);
    }
    if let Some(units) = &units {
        check_text(units, MAX_UNITS_CHARS, &format!("{path}.units"), problems);
    }
    let chart_file = file.unwrap_or_default();
    let series = parse_lines(series, &chart_file, path, problems);
    let band = band
        .and_then(|band| parse_band(toml::Value::Table(band), &chart_file, &band_path, problems));
    check_chart_files(&chart_file, &series, band.as_ref(), path, problems);
    Some(ChartDecl {
        file: chart_file,
        x: x.unwrap_or_default(),
        series,
        band,
        title,
        units,
    })
}

/// A chart's `series`: from 1 to [`MAX_SERIES`] lines, none drawn twice.
fn parse_lines(
    entries: Option<Vec<toml::Value>>,
    chart_file: &str,
    path: &str,
    problems: &mut Problems,
) -> Vec<SeriesDecl> {
    let Some(entries) = entries else {
        return Vec::new();
    };
    if entries.is_empty() || entries.len() > MAX_SERIES {
        problems.push((
            format!("{path}.series"),
            format!(
                "lists {} lines; a chart draws from 1 to {MAX_SERIES}",
                entries.len()
            ),
        ));
    }
    let mut series: Vec<SeriesDecl> = Vec::new();
    for (index, entry) in entries.into_iter().enumerate() {
        let at = format!("{path}.series[{index}]");
        let Some(line) = parse_series(entry, chart_file, &at, problems) else {
            continue;
        };
        if series
            .iter()
            .any(|s| s.file == line.file && s.column == line.column)
        {
            problems.push((
                at,
                format!("{} of {} is drawn twice", line.column, line.file),
            ));
        }
        series.push(line);
    }
    series
}

/// `band = { file, low, high }`: its file is the chart's unless it names one.
fn parse_band(
    value: toml::Value,
    chart_file: &str,
    path: &str,
    problems: &mut Problems,
) -> Option<BandDecl> {
    let mut fields = Fields::open(value, path, "{ low = \"low\", high = \"high\" }", problems)?;
    let file = fields.text("file", problems);
    let low = fields.needed_text("low", problems);
    let high = fields.needed_text("high", problems);
    fields.finish(&["file", "low", "high"], problems);
    if let Some(file) = &file {
        check_file(file, &format!("{path}.file"), problems);
    }
    for (key, column) in [("low", &low), ("high", &high)] {
        if let Some(column) = column {
            check_text(column, MAX_NAME_CHARS, &format!("{path}.{key}"), problems);
        }
    }
    Some(BandDecl {
        file: file.unwrap_or_else(|| chart_file.to_owned()),
        low: low.unwrap_or_default(),
        high: high.unwrap_or_default(),
    })
}

/// At most [`MAX_CHART_FILES`] files per chart, and a band around a line.
fn check_chart_files(
    chart_file: &str,
    series: &[SeriesDecl],
    band: Option<&BandDecl>,
    path: &str,
    problems: &mut Problems,
) {
    let mut files: Vec<&str> = vec![chart_file];
    let used = series
        .iter()
        .map(|s| s.file.as_str())
        .chain(band.iter().map(|b| b.file.as_str()));
    for file in used {
        if !files.contains(&file) {
            files.push(file);
        }
    }
    if files.len() > MAX_CHART_FILES {
        problems.push((
            path.to_owned(),
            format!(
                "reads {} files; one chart may read at most {MAX_CHART_FILES}",
                files.len()
            ),
        ));
    }
    if let Some(band) = band
        && !series.iter().any(|s| s.file == band.file)
    {
        problems.push((
            format!("{path}.band"),
            format!(
                "shades around a line of {}, and the chart draws none from it",
                band.file
            ),
        ));
    }
}

/// A line: `"revenue"`, or `{ file, column, label, dashed }`.
fn parse_series(
    value: toml::Value,
    chart_file: &str,
    path: &str,
    problems: &mut Problems,
) -> Option<SeriesDecl> {
    let mut fields = match value {
        toml::Value::String(column) => {
            check_text(&column, MAX_NAME_CHARS, path, problems);
            return Some(SeriesDecl {
                file: chart_file.to_owned(),
                column,
                label: None,
                dashed: false,
            });
        }
        table @ toml::Value::Table(_) => Fields::open(table, path, "", problems)?,
        other => {
            problems.push((
                path.to_owned(),
                format!(
                    "is {}; write a column's name (\"revenue\") or a table \
                     ({{ file = \"history.csv\", column = \"revenue\", label = \"Actual\" }})",
                    kind(&other)
                ),
            ));
            return None;
        }
    };
    let file = fields.text("file", problems);
    let column = fields.needed_text("column", problems);
    let label = fields.text("label", problems);
    let dashed = fields.flag("dashed", problems);
    fields.finish(&["file", "column", "label", "dashed"], problems);
    if let Some(file) = &file {
        check_file(file, &format!("{path}.file"), problems);
    }
    if let Some(column) = &column {
        check_text(column, MAX_NAME_CHARS, &format!("{path}.column"), problems);
    }
    if let Some(label) = &label {
        check_text(label, MAX_LABEL_CHARS, &format!("{path}.label"), problems);
    }
    let file = file.unwrap_or_else(|| chart_file.to_owned());
    Some(SeriesDecl {
        dashed: dashed.unwrap_or(file != chart_file),
        file,
        column: column.unwrap_or_default(),
        label,
    })
}
