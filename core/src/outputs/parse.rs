//! Reading `[outputs]` from a manifest's TOML: every problem is reported
//! with its path (`outputs.charts[1].series[0].column`) and the limit it
//! breaks, never only the first.

use serde::Deserialize;

use super::{
    BandDecl, ChartDecl, MAX_CHART_FILES, MAX_CHARTS, MAX_LABEL_CHARS, MAX_METRICS, MAX_NAME_CHARS,
    MAX_PLACES, MAX_SERIES, MAX_SYMBOL_CHARS, MAX_UNITS_CHARS, MetricDecl, MetricFormat, Outputs,
    Problems, SeriesDecl,
};
use crate::blob::check_relative_path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutputs {
    charts: Option<Vec<toml::Value>>,
    metrics: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChart {
    file: String,
    x: String,
    series: Vec<toml::Value>,
    band: Option<RawBand>,
    title: Option<String>,
    units: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    file: Option<String>,
    column: String,
    label: Option<String>,
    dashed: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    file: Option<String>,
    low: String,
    high: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    label: Option<String>,
    format: Option<String>,
    symbol: Option<String>,
    places: Option<i64>,
}

/// Reads `[outputs]` (the TOML value under the key), adding what is wrong
/// to `problems`; what it returns is only meaningful when none were added.
pub fn parse(value: toml::Value, problems: &mut Problems) -> Outputs {
    let raw: RawOutputs = match value.try_into() {
        Ok(raw) => raw,
        Err(error) => {
            problems.push(("outputs".to_owned(), error.message().to_owned()));
            return Outputs::default();
        }
    };
    let charts = raw.charts.unwrap_or_default();
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
    let metrics = raw.metrics.unwrap_or_default();
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

/// A non-empty text of at most `max` characters, or a problem at `path`.
fn check_text(text: &str, max: usize, path: &str, problems: &mut Problems) {
    if text.trim().is_empty() || text.chars().count() > max || text.contains(char::is_control) {
        problems.push((
            path.to_owned(),
            format!("must be 1–{max} characters, without control characters"),
        ));
    }
}

fn check_file(file: &str, path: &str, problems: &mut Problems) {
    if let Err(why) = check_relative_path(file, 255) {
        problems.push((
            path.to_owned(),
            format!("must name an output file, as the model writes it: the name {why}"),
        ));
    }
}

fn parse_chart(value: toml::Value, path: &str, problems: &mut Problems) -> Option<ChartDecl> {
    let raw: RawChart = match value.try_into() {
        Ok(raw) => raw,
        Err(error) => {
            problems.push((path.to_owned(), error.message().to_owned()));
            return None;
        }
    };
    check_file(&raw.file, &format!("{path}.file"), problems);
    check_text(&raw.x, MAX_NAME_CHARS, &format!("{path}.x"), problems);
    if let Some(title) = &raw.title {
        check_text(title, MAX_NAME_CHARS, &format!("{path}.title"), problems);
    }
    if let Some(units) = &raw.units {
        check_text(units, MAX_UNITS_CHARS, &format!("{path}.units"), problems);
    }
    if raw.series.is_empty() || raw.series.len() > MAX_SERIES {
        problems.push((
            format!("{path}.series"),
            format!(
                "lists {} lines; a chart draws from 1 to {MAX_SERIES}",
                raw.series.len()
            ),
        ));
    }
    let mut series: Vec<SeriesDecl> = Vec::new();
    for (index, entry) in raw.series.into_iter().enumerate() {
        let at = format!("{path}.series[{index}]");
        let Some(line) = parse_series(entry, &raw.file, &at, problems) else {
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
    let band = raw.band.map(|band| {
        let file = band.file.unwrap_or_else(|| raw.file.clone());
        check_file(&file, &format!("{path}.band.file"), problems);
        check_text(
            &band.low,
            MAX_NAME_CHARS,
            &format!("{path}.band.low"),
            problems,
        );
        check_text(
            &band.high,
            MAX_NAME_CHARS,
            &format!("{path}.band.high"),
            problems,
        );
        BandDecl {
            file,
            low: band.low,
            high: band.high,
        }
    });
    let mut files: Vec<&str> = vec![&raw.file];
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
    if let Some(band) = &band
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
    Some(ChartDecl {
        file: raw.file,
        x: raw.x,
        series,
        band,
        title: raw.title,
        units: raw.units,
    })
}

/// A line: `"revenue"`, or `{ file, column, label, dashed }`.
fn parse_series(
    value: toml::Value,
    chart_file: &str,
    path: &str,
    problems: &mut Problems,
) -> Option<SeriesDecl> {
    let raw = match value {
        toml::Value::String(column) => RawSeries {
            file: None,
            column,
            label: None,
            dashed: None,
        },
        table @ toml::Value::Table(_) => match table.try_into::<RawSeries>() {
            Ok(raw) => raw,
            Err(error) => {
                problems.push((path.to_owned(), error.message().to_owned()));
                return None;
            }
        },
        other => {
            problems.push((
                path.to_owned(),
                format!(
                    "is a {}; write a column's name (\"revenue\") or a table \
                     ({{ file = \"history.csv\", column = \"revenue\", label = \"Actual\" }})",
                    other.type_str()
                ),
            ));
            return None;
        }
    };
    let file = raw.file.unwrap_or_else(|| chart_file.to_owned());
    check_file(&file, &format!("{path}.file"), problems);
    check_text(
        &raw.column,
        MAX_NAME_CHARS,
        &format!("{path}.column"),
        problems,
    );
    if let Some(label) = &raw.label {
        check_text(label, MAX_LABEL_CHARS, &format!("{path}.label"), problems);
    }
    Some(SeriesDecl {
        dashed: raw.dashed.unwrap_or(file != chart_file),
        file,
        column: raw.column,
        label: raw.label,
    })
}

fn parse_metric(name: String, value: toml::Value, problems: &mut Problems) -> Option<MetricDecl> {
    let path = format!("outputs.metrics.{name}");
    check_text(&name, MAX_NAME_CHARS, &path, problems);
    let raw: RawMetric = match value.try_into() {
        Ok(raw) => raw,
        Err(error) => {
            problems.push((path, error.message().to_owned()));
            return None;
        }
    };
    if let Some(label) = &raw.label {
        check_text(label, MAX_LABEL_CHARS, &format!("{path}.label"), problems);
    }
    let places = match raw.places {
        Some(places) if !(0..=i64::from(MAX_PLACES)).contains(&places) => {
            problems.push((
                format!("{path}.places"),
                format!("is {places}; it must be from 0 to {MAX_PLACES}"),
            ));
            None
        }
        places => places.and_then(|p| u8::try_from(p).ok()),
    };
    let format = raw.format.as_deref().unwrap_or("number");
    let mut refuse = |field: &str, message: String| {
        problems.push((format!("{path}.{field}"), message));
    };
    if raw.symbol.is_some() && format != "currency" {
        refuse(
            "symbol",
            format!("is for format = \"currency\", not {format:?}"),
        );
    }
    if raw.places.is_some() && matches!(format, "number" | "integer") {
        refuse(
            "places",
            format!("is not for format = {format:?}: use \"decimals\""),
        );
    }
    let format = match format {
        "number" => MetricFormat::Number,
        "integer" => MetricFormat::Integer,
        "percent" => MetricFormat::Percent {
            places: places.unwrap_or(1),
        },
        "decimals" => match places {
            Some(places) => MetricFormat::Decimals { places },
            None => {
                refuse(
                    "places",
                    "is needed with format = \"decimals\" (places = 2)".into(),
                );
                MetricFormat::Number
            }
        },
        "currency" => {
            let symbol = raw.symbol.unwrap_or_default();
            if symbol.trim().is_empty()
                || symbol.chars().count() > MAX_SYMBOL_CHARS
                || symbol.contains(|c: char| c.is_control() || c.is_ascii_digit())
            {
                refuse(
                    "symbol",
                    format!(
                        "is needed with format = \"currency\": 1–{MAX_SYMBOL_CHARS} characters \
                         without digits, such as \"€\" or \"$\""
                    ),
                );
            }
            MetricFormat::Currency {
                symbol,
                places: places.unwrap_or(2),
            }
        }
        other => {
            refuse(
                "format",
                format!(
                    "{other:?} is not a format; use \"number\", \"percent\", \"currency\", \
                     \"integer\" or \"decimals\""
                ),
            );
            MetricFormat::Number
        }
    };
    Some(MetricDecl {
        name,
        label: raw.label,
        format,
    })
}
