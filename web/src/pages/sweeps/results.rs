//! A sweep's results table: one row per run in grid order, with a column
//! per varied input, the status, each key figure and the duration. It sorts
//! on the server by any column (`?sort=<column>&dir=asc|desc`: `run`,
//! `status`, `duration`, `input.<name>` or `figure.<name>`, so that an input
//! and a figure named alike are two columns; so it works
//! without script): numbers as numbers, text as text, blanks last whichever
//! way.

use std::cmp::Ordering;

use modelrun_core::display::NumberStyle;
use modelrun_core::ids::RunId;
use modelrun_core::model::ModelVersion;
use modelrun_core::outputs::Outputs;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;
use modelrun_core::sweep::Axis;

use crate::error::AppError;
use crate::format;
use crate::pages::progress::ProgressView;

/// What a cell sorts by.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Number(f64),
    Text(String),
    Blank,
}

impl Key {
    fn of_value(value: Option<&serde_json::Value>, shown: &str) -> Key {
        match value {
            None | Some(serde_json::Value::Null) => Key::Blank,
            Some(value) => value
                .as_f64()
                .map_or_else(|| Key::Text(shown.to_lowercase()), Key::Number),
        }
    }

    /// Blanks last in either direction; numbers before text.
    fn order(&self, other: &Key, descending: bool) -> Ordering {
        let ordered = match (self, other) {
            (Key::Blank, Key::Blank) => return Ordering::Equal,
            (Key::Blank, _) => return Ordering::Greater,
            (_, Key::Blank) => return Ordering::Less,
            (Key::Number(a), Key::Number(b)) => a.total_cmp(b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            (Key::Number(_), Key::Text(_)) => Ordering::Less,
            (Key::Text(_), Key::Number(_)) => Ordering::Greater,
        };
        if descending {
            ordered.reverse()
        } else {
            ordered
        }
    }
}

/// A header cell: its name in the URL, its text, and how it is sorted now.
#[derive(Debug)]
pub struct Column {
    pub key: String,
    pub name: String,
    /// `ascending` or `descending` when the table is sorted by it.
    pub sorted: Option<&'static str>,
    /// The query that sorts by it: ascending, or descending when it
    /// already sorts ascending.
    pub link: String,
}

/// One run's row.
#[derive(Debug)]
pub struct ResultRow {
    pub id: RunId,
    pub status: RunStatus,
    pub progress: Option<ProgressView>,
    /// One per varied input, as the run page writes inputs.
    pub values: Vec<String>,
    /// One per figure column; empty where the run has none.
    pub figures: Vec<String>,
    pub duration: String,
    /// One per column, in the columns' order.
    keys: Vec<Key>,
}

/// One run as the table gets it: the run, its bar, its figures.
pub struct RunResult<'a> {
    pub run: &'a Run,
    pub progress: Option<ProgressView>,
    pub figures: Vec<(String, f64)>,
}

/// The table of `runs` (in grid order): columns `run`, each varied input
/// (by its name), `status`, each figure any run has (keyed by its name in
/// `metrics.json`, headed by its declared label, in the version's declared
/// order), `duration`.
pub fn table(
    axes: &[Axis],
    version: Option<&ModelVersion>,
    runs: Vec<RunResult<'_>>,
    style: NumberStyle,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<Column>, Vec<ResultRow>) {
    let mut figure_names: Vec<String> = Vec::new();
    for result in &runs {
        for (name, _) in &result.figures {
            if !figure_names.contains(name) {
                figure_names.push(name.clone());
            }
        }
    }
    let none = Outputs::default();
    let declared = version.map_or(&none, |version| &version.outputs);
    declared.order(&mut figure_names);
    let field = |name: &str| version.and_then(|v| v.inputs.field(name));
    let mut columns = vec![column("run", "Run")];
    for axis in axes {
        let name = field(&axis.field).map_or(axis.field.as_str(), |f| f.label());
        columns.push(column(&format!("input.{}", axis.field), name));
    }
    columns.push(column("status", "Status"));
    for name in &figure_names {
        columns.push(column(&format!("figure.{name}"), &declared.label(name)));
    }
    columns.push(column("duration", "Duration"));
    let rows = runs
        .into_iter()
        .map(|result| {
            let run = result.run;
            let mut keys = vec![Key::Number(run.id.0 as f64)];
            let values = axes
                .iter()
                .map(|axis| {
                    let value = run.inputs.get(&axis.field);
                    let shown = value.map_or_else(
                        || "—".to_owned(),
                        |value| format::input_value(field(&axis.field), value, style),
                    );
                    keys.push(Key::of_value(value, &shown));
                    shown
                })
                .collect();
            keys.push(Key::Text(run.status.as_str().to_owned()));
            let figures = figure_names
                .iter()
                .map(|name| {
                    let value = result.figures.iter().find(|(n, _)| n == name);
                    keys.push(value.map_or(Key::Blank, |(_, v)| Key::Number(*v)));
                    value.map_or_else(String::new, |(_, v)| {
                        format::metric(*v, &declared.format(name), style)
                    })
                })
                .collect();
            let duration = run.duration(now);
            keys.push(duration.map_or(Key::Blank, |d| Key::Number(d.num_milliseconds() as f64)));
            ResultRow {
                id: run.id,
                status: run.status,
                progress: result.progress,
                values,
                figures,
                duration: duration.map(format::duration).unwrap_or_default(),
                keys,
            }
        })
        .collect();
    (columns, rows)
}

fn column(key: &str, name: &str) -> Column {
    Column {
        key: key.to_owned(),
        name: name.to_owned(),
        sorted: None,
        link: format!("sort={}&dir=asc", encode(key)),
    }
}

/// What a column's name keeps unencoded in a link: a URL's unreserved
/// characters, so that `growth_rate` reads as itself.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'-')
    .remove(b'.')
    .remove(b'~');

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// Sorts `rows` by the column named `sort`, `dir` `asc` (the default) or
/// `desc`; ties keep grid order. Marks the column sorted and points its
/// link the other way.
///
/// # Errors
/// 400 naming `sort` (with the columns there are) or `dir`.
pub fn sort(
    columns: &mut [Column],
    rows: &mut [ResultRow],
    sort: &str,
    dir: Option<&str>,
) -> Result<(), AppError> {
    let descending = match dir.unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        other => {
            return Err(AppError::BadRequest(format!(
                "dir: {other:?} is not a direction; use asc or desc"
            )));
        }
    };
    let Some(index) = columns.iter().position(|column| column.key == sort) else {
        let known: Vec<&str> = columns.iter().map(|column| column.key.as_str()).collect();
        return Err(AppError::BadRequest(format!(
            "sort: this sweep has no column {sort:?}; sort by one of {}",
            known.join(", ")
        )));
    };
    rows.sort_by(|a, b| a.keys[index].order(&b.keys[index], descending));
    let column = &mut columns[index];
    column.sorted = Some(if descending {
        "descending"
    } else {
        "ascending"
    });
    if !descending {
        column.link = format!("sort={}&dir=desc", encode(&column.key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, keys: Vec<Key>) -> ResultRow {
        ResultRow {
            id: RunId(id),
            status: RunStatus::Succeeded,
            progress: None,
            values: Vec::new(),
            figures: Vec::new(),
            duration: String::new(),
            keys,
        }
    }

    fn ids(rows: &[ResultRow]) -> Vec<i64> {
        rows.iter().map(|row| row.id.0).collect()
    }

    #[test]
    fn numbers_sort_as_numbers_and_blanks_come_last_both_ways() {
        let mut columns = vec![column("total", "total")];
        let mut rows = vec![
            row(1, vec![Key::Number(9.0)]),
            row(2, vec![Key::Blank]),
            row(3, vec![Key::Number(10.0)]),
            row(4, vec![Key::Number(-1.0)]),
        ];
        sort(&mut columns, &mut rows, "total", Some("asc")).expect("sort");
        assert_eq!(ids(&rows), [4, 1, 3, 2]);
        assert_eq!(columns[0].sorted, Some("ascending"));
        assert_eq!(columns[0].link, "sort=total&dir=desc");
        sort(&mut columns, &mut rows, "total", Some("desc")).expect("sort");
        assert_eq!(ids(&rows), [3, 1, 4, 2]);
        assert_eq!(columns[0].sorted, Some("descending"));
    }

    #[test]
    fn unknown_columns_and_directions_are_named() {
        let mut columns = vec![column("run", "Run")];
        let mut rows = vec![row(1, vec![Key::Number(1.0)])];
        let Err(AppError::BadRequest(message)) = sort(&mut columns, &mut rows, "nope", None) else {
            panic!("refused");
        };
        assert!(
            message.starts_with("sort:") && message.contains("run"),
            "{message}"
        );
        let Err(AppError::BadRequest(message)) = sort(&mut columns, &mut rows, "run", Some("up"))
        else {
            panic!("refused");
        };
        assert!(message.starts_with("dir:"), "{message}");
    }

    #[test]
    fn text_sorts_after_numbers_and_by_its_letters() {
        let mut columns = vec![column("season", "Seasonality")];
        let mut rows = vec![
            row(1, vec![Key::Text("retail".into())]),
            row(2, vec![Key::Text("b2b".into())]),
            row(3, vec![Key::Number(1.0)]),
        ];
        sort(&mut columns, &mut rows, "season", None).expect("sort");
        assert_eq!(ids(&rows), [3, 2, 1]);
    }
}
