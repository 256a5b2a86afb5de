//! A CSV file as the preview shows it: the table cut to what a page can
//! carry, the chart, and notes on what was left out.
//!
//! A page stays well under the 6 MB a Lambda response may carry (docs/
//! lambda.md) whatever the file holds: at most [`MAX_COLUMNS`] columns,
//! each cell at most [`MAX_CELL_CHARS`] characters, and rows until
//! [`MAX_SHOWN_CHARS`] characters of cells are shown. HTML escaping makes a
//! character at most six bytes (`"` is `&quot;`), so the cells of one
//! table take at most about 1.5 MB.
//!
//! Numbers are shown rounded to their column's useful precision, in the
//! person's number style ([`super::table::numbers`] says the rule); the
//! download is the file as written, every digit kept.

use modelrun_core::display::NumberStyle;
use modelrun_core::words;

use super::chart::Chart;
use super::decode;
use super::table::numbers::ColumnFormat;
use super::table::{ColumnType, Table, starts_like_formula};
use crate::format;

/// The most columns a preview shows.
pub const MAX_COLUMNS: usize = 60;

/// The most characters of one cell (or header) a preview shows.
pub const MAX_CELL_CHARS: usize = 200;

/// The most characters of cells one preview shows, all rows together.
pub const MAX_SHOWN_CHARS: usize = 256 * 1024;

/// One cell of a previewed table.
#[derive(Debug)]
pub struct Cell {
    pub text: String,
    /// A spreadsheet may run it as a formula ([`starts_like_formula`]).
    pub formula: bool,
    /// The number as the file writes it (in the person's style), where
    /// `text` rounds it: shown on hover.
    pub exact: Option<String>,
}

/// A CSV output, read and charted.
#[derive(Debug)]
pub struct CsvView {
    pub headers: Vec<(String, ColumnType)>,
    pub rows: Vec<Vec<Cell>>,
    pub numeric: Vec<bool>,
    pub chart: Option<String>,
    /// The columns the chart leaves out: "Not charted: note (text)."
    pub not_charted: Option<String>,
    pub notes: Vec<String>,
}

/// The start of a CSV file, as read for a preview.
#[derive(Clone, Copy, Debug)]
pub struct CsvFile<'a> {
    /// Its name: a `.tsv` is split on tabs.
    pub name: &'a str,
    /// Its first bytes.
    pub bytes: &'a [u8],
    /// More of the file follows `bytes`.
    pub partial: bool,
    /// The whole file's size in bytes.
    pub size: i64,
}

impl CsvView {
    /// The view of `file`, with at most `max_rows` rows; its chart is
    /// drawn with the SVG id `chart_id` and titled `title`.
    pub fn new(
        file: CsvFile<'_>,
        max_rows: usize,
        chart_id: &str,
        title: &str,
        style: NumberStyle,
    ) -> Self {
        let CsvFile {
            name,
            bytes,
            partial,
            size,
        } = file;
        let (text, utf8) = decode(bytes, partial);
        let table = Table::of_file(name, &text, max_rows, partial);
        let mut notes = Vec::new();
        let read = format::bytes(bytes.len() as i64);
        match (table.headers.is_empty(), table.rows.is_empty(), partial) {
            (true, _, false) => notes.push("The file is empty.".to_owned()),
            (true, _, true) => notes.push(format!(
                "The first line of this {} file is longer than the {read} a preview reads. \
                 Download the file to see it.",
                format::bytes(size)
            )),
            (false, true, true) => notes.push(format!(
                "The first row is longer than the {read} a preview reads: only the header is \
                 shown. Download the file to see the rows."
            )),
            (false, true, false) if !table.truncated => {
                notes.push("The file has a header and no rows.".to_owned())
            }
            _ => {}
        }
        if !utf8 {
            notes.push(
                "The file is not UTF-8; it is shown as Windows-1252 (what Excel saves).".to_owned(),
            );
        }
        if table.ragged > 0 {
            notes.push(format!(
                "{} have more or fewer cells than the header; they are cut or padded.",
                words::count(table.ragged as i64, "row")
            ));
        }
        if let Some(error) = &table.error {
            notes.push(format!("The file stops being valid CSV: {error}."));
        }
        if table.formulas > 0 {
            notes.push(format!(
                "{} shown cells start with =, +, -, @, a tab or a carriage return and are not \
                 numbers (marked ⚠): a spreadsheet may run them as formulas when it opens the \
                 file. The download is the file as the model wrote it; open it in a spreadsheet \
                 only if you trust what made these cells.",
                table.formulas
            ));
        }
        let chart = Chart::from_table(&table);
        let not_charted = chart.as_ref().and_then(Chart::not_charted_note);
        let chart = chart.map(|chart| chart.svg(chart_id, title, style));
        let shown = Shown::of(&table);
        if shown.columns < table.headers.len() {
            notes.push(format!(
                "Showing the first {MAX_COLUMNS} of {} columns. Download the file for all of them.",
                table.headers.len()
            ));
        }
        if shown.rows > 0 && (shown.rows < table.rows.len() || table.truncated) {
            notes.push(format!(
                "Showing the first {} of a {} file. Download it for all of them.",
                words::count(shown.rows as i64, "row"),
                format::bytes(size)
            ));
        }
        let numeric: Vec<bool> = table
            .types
            .iter()
            .take(shown.columns)
            .map(|t| t.is_numeric())
            .collect();
        let formats: Vec<Option<ColumnFormat>> = (0..shown.columns)
            .map(|column| {
                let cells = table
                    .rows
                    .iter()
                    .take(shown.rows)
                    .map(|row| row[column].as_str());
                ColumnFormat::of(table.types[column], cells)
            })
            .collect();
        let delimiter = table.delimiter;
        let mut cut = 0usize;
        // Numbers rounded and in the person's style; text, and cells that
        // may run as formulas, stay as the file has them.
        let mut cell = |column: usize, text: String| {
            let formula = starts_like_formula(&text, delimiter);
            let (text, exact) = match formats[column] {
                Some(format) if !formula => {
                    let written = format::number_text(text.trim(), style);
                    let shown = format.show(&text, style);
                    // `1,234` for `1234` is not rounded: only its grouping differs.
                    let digits = |text: &str| text.replace(style.group_separator(), "");
                    let rounded = digits(&shown) != digits(&written);
                    (shown, rounded.then_some(written))
                }
                _ => (text, None),
            };
            let (text, was_cut) = shorten(text);
            cut += usize::from(was_cut);
            Cell {
                text,
                formula,
                exact,
            }
        };
        let rows: Vec<Vec<Cell>> = table
            .rows
            .into_iter()
            .take(shown.rows)
            .map(|row| {
                row.into_iter()
                    .take(shown.columns)
                    .enumerate()
                    .map(|(column, text)| cell(column, text))
                    .collect()
            })
            .collect();
        let headers: Vec<(String, ColumnType)> = table
            .headers
            .into_iter()
            .zip(table.types)
            .take(shown.columns)
            .map(|(name, kind)| (shorten(name).0, kind))
            .collect();
        if cut > 0 {
            notes.push(format!(
                "{} longer than {MAX_CELL_CHARS} characters {} cut (…).",
                words::count(cut as i64, "cell"),
                if cut == 1 { "is" } else { "are" }
            ));
        }
        CsvView {
            chart,
            not_charted,
            headers,
            numeric,
            rows,
            notes,
        }
    }
}

/// How much of a table the page shows.
struct Shown {
    columns: usize,
    rows: usize,
}

impl Shown {
    fn of(table: &Table) -> Shown {
        let columns = table.headers.len().min(MAX_COLUMNS);
        let mut chars = 0usize;
        let mut rows = 0usize;
        for row in &table.rows {
            let width: usize = row
                .iter()
                .take(columns)
                .map(|cell| cell.chars().count().min(MAX_CELL_CHARS + 1))
                .sum();
            if rows > 0 && chars + width > MAX_SHOWN_CHARS {
                break;
            }
            chars += width;
            rows += 1;
        }
        Shown { columns, rows }
    }
}

/// `text` cut to [`MAX_CELL_CHARS`] characters with an ellipsis, and
/// whether it was.
fn shorten(text: String) -> (String, bool) {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        None => (text, false),
        Some((end, _)) => (format!("{}…", &text[..end]), true),
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
