//! Line charts of outputs: what a chart holds ([`Chart`], [`Series`]) and
//! how one is guessed from a CSV table. A table with a date or month column
//! charts one line per numeric column, with a shaded band for a low–high
//! pair (`low`/`high`, `lower`/`upper`, `min`/`max`, `p10`/`p90`, or
//! `<name>_low` and `<name>_high`). The SVG is drawn in `chart_svg.rs`, on a
//! time axis from `time_axis.rs` and round values from `ticks.rs`.

use super::table::{Table, parse_number};

/// The most lines one chart draws; the legend names each.
pub const MAX_SERIES: usize = 8;
/// Colour-blind-safe (Okabe–Ito). The last, black, is drawn light in dark
/// mode (app.css).
pub const PALETTE: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000",
];

/// Values of a line, one per x value; `None` where a row has none (the
/// line breaks there).
pub type Values = Vec<Option<f64>>;

/// One line, with its own x values: lines of one chart need not share
/// them (months and dates, or two runs over different years, are placed
/// by their time on one axis).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// The legend's name for it.
    pub name: String,
    /// Where each value sits, as the file writes it: `2027-01` or
    /// `2027-01-31` (a time axis), else numbers (a number axis), else any
    /// text (one place per distinct text, in order). In order of time.
    pub x: Vec<String>,
    /// One per `x`.
    pub values: Values,
    /// The shaded range around it, if any: (low, high), one each per `x`.
    pub band: Option<(Values, Values)>,
    /// Its own colour (`#rrggbb`); else the palette's, by its place.
    pub colour: Option<String>,
    /// Drawn dashed (a forecast beside history), in the legend too.
    pub dashed: bool,
}

/// What to draw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    /// The x column's name.
    pub x_label: String,
    /// The y axis's unit (`€`, `units`), written above it; none for none.
    pub units: Option<String>,
    pub series: Vec<Series>,
    /// The legend's lines, (text, colour), when lines share colours by
    /// group; else one line per series.
    pub legend: Option<Vec<(String, String)>>,
    /// The table's columns left out, each with why: `note (text)`,
    /// `cost (past 8 lines)`. Pages list them under the chart.
    pub not_charted: Vec<String>,
}

const BAND_NAMES: [(&str, &str); 4] = [
    ("low", "high"),
    ("lower", "upper"),
    ("min", "max"),
    ("p10", "p90"),
];

fn column_values(table: &Table, column: usize) -> Values {
    table
        .rows
        .iter()
        .map(|row| parse_number(&row[column]))
        .collect()
}

/// The numeric columns as lines: (column, its band's (low, high) columns),
/// in the table's order.
fn lines_of(table: &Table, numeric: &[usize]) -> Vec<(usize, Option<(usize, usize)>)> {
    let lower = |c: usize| table.headers[c].to_ascii_lowercase();
    let find = |name: String| numeric.iter().copied().find(|&c| lower(c) == name);
    let mut in_band = Vec::new();
    let mut lines = Vec::new();
    for &column in numeric {
        let name = lower(column);
        if BAND_NAMES.iter().any(|(lo, hi)| name == *lo || name == *hi)
            || name.ends_with("_low")
            || name.ends_with("_high")
        {
            continue;
        }
        let pair = [(format!("{name}_low"), format!("{name}_high"))]
            .into_iter()
            .chain(
                BAND_NAMES
                    .iter()
                    .map(|(lo, hi)| (lo.to_string(), hi.to_string())),
            )
            .find_map(|(lo, hi)| Some((find(lo)?, find(hi)?)))
            .filter(|(lo, hi)| !in_band.contains(lo) && !in_band.contains(hi));
        if let Some((lo, hi)) = pair {
            in_band.extend([lo, hi]);
        }
        lines.push((column, pair));
    }
    // A table of bands alone still draws them, as lines.
    for &column in numeric {
        if !in_band.contains(&column) && !lines.iter().any(|(c, _)| *c == column) {
            lines.push((column, None));
        }
    }
    lines
}

impl Chart {
    /// A chart of the table, when it has a time column (date-times, dates
    /// or months), a row, and a numeric column: one row draws a marker. Columns it leaves out are named in
    /// [`Chart::not_charted`].
    pub fn from_table(table: &Table) -> Option<Chart> {
        let x_column = table.types.iter().position(|t| t.is_time())?;
        if table.rows.is_empty() {
            return None;
        }
        let numeric: Vec<usize> = (0..table.headers.len())
            .filter(|&c| c != x_column && table.types[c].is_numeric())
            .collect();
        let mut lines = lines_of(table, &numeric);
        lines.truncate(MAX_SERIES);
        if lines.is_empty() {
            return None;
        }
        let x: Vec<String> = table.rows.iter().map(|row| row[x_column].clone()).collect();
        let charted = |c: usize| {
            c == x_column
                || lines.iter().any(|(line, band)| {
                    *line == c || band.is_some_and(|(lo, hi)| lo == c || hi == c)
                })
        };
        let not_charted = (0..table.headers.len())
            .filter(|&c| !charted(c))
            .map(|c| {
                let why = if numeric.contains(&c) {
                    format!("past {MAX_SERIES} lines")
                } else {
                    table.types[c].to_string()
                };
                format!("{} ({why})", table.headers[c])
            })
            .collect();
        let series = lines
            .into_iter()
            .map(|(column, band)| Series {
                name: table.headers[column].clone(),
                x: x.clone(),
                values: column_values(table, column),
                band: band.map(|(lo, hi)| (column_values(table, lo), column_values(table, hi))),
                colour: None,
                dashed: false,
            })
            .collect();
        Some(Chart {
            x_label: table.headers[x_column].clone(),
            units: None,
            series,
            legend: None,
            not_charted,
        })
    }

    /// Every line of each chart on one axis, each named by its chart's
    /// label (`#12: revenue`): runs side by side, each over its own months.
    /// A line the same in every chart (same name, x, values and band: the
    /// history all the runs share) is drawn once, first, without a label.
    /// Past [`MAX_SERIES`] lines, the rest are named in
    /// [`Chart::not_charted`].
    pub fn overlay(charts: &[(String, Chart)]) -> Option<Chart> {
        let first = &charts.first()?.1;
        let shared = |line: &Series| {
            charts.len() > 1 && charts.iter().all(|(_, chart)| chart.series.contains(line))
        };
        let mut all: Vec<Series> = first
            .series
            .iter()
            .filter(|line| shared(line))
            .map(|line| Series {
                colour: None,
                ..line.clone()
            })
            .collect();
        for (label, chart) in charts {
            for line in chart.series.iter().filter(|line| !shared(line)) {
                all.push(Series {
                    name: format!("{label}: {}", line.name),
                    colour: None,
                    ..line.clone()
                });
            }
        }
        let rest = all.split_off(all.len().min(MAX_SERIES));
        let not_charted = rest
            .into_iter()
            .map(|line| format!("{} (past {MAX_SERIES} lines)", line.name))
            .collect();
        has_points(&all).then(|| Chart {
            x_label: first.x_label.clone(),
            units: first.units.clone(),
            series: all,
            not_charted,
            ..Chart::default()
        })
    }

    /// "Not charted: note (text), flag (yes/no)." when columns are left
    /// out, for under the chart.
    pub fn not_charted_note(&self) -> Option<String> {
        (!self.not_charted.is_empty())
            .then(|| format!("Not charted: {}.", self.not_charted.join(", ")))
    }

    /// The colour of series `index`: its own, else the palette's.
    pub(crate) fn colour(&self, index: usize) -> String {
        self.series[index]
            .colour
            .clone()
            .unwrap_or_else(|| PALETTE[index % PALETTE.len()].to_owned())
    }
}

/// Whether the lines have a value to draw between them: a value with an x
/// value (a single one draws as a marker).
pub(crate) fn has_points(series: &[Series]) -> bool {
    series.iter().any(|s| {
        s.x.iter()
            .zip(&s.values)
            .any(|(x, v)| v.is_some() && !x.trim().is_empty())
    })
}

/// The first line of each chart (named `<label>: <line>`; none for a chart
/// without lines), without its band: a sweep draws one line per run.
pub(crate) fn first_lines(charts: &[(String, Chart)]) -> Vec<Option<Series>> {
    charts
        .iter()
        .map(|(label, chart)| {
            let first = chart.series.first()?;
            Some(Series {
                name: format!("{label}: {}", first.name),
                band: None,
                colour: None,
                ..first.clone()
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
