//! Line charts as SVG, drawn on the server: a time axis (months or dates),
//! one line per numeric column, and a shaded band for a low–high pair
//! (`low`/`high`, `lower`/`upper`, `min`/`max`, `p10`/`p90`, or `<name>_low`
//! and `<name>_high`). Colours and sizes are SVG attributes, not CSS, so the
//! strict Content-Security-Policy leaves them alone.

use std::fmt::Write;

use modelrun_core::display::NumberStyle;

use super::table::{Table, parse_number};

const WIDTH: f64 = 760.0;
const PLOT_HEIGHT: f64 = 240.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
/// Below the plot: the x labels, then one legend line per series.
const AXIS_SPACE: f64 = 34.0;
const LEGEND_LINE: f64 = 16.0;
pub(crate) const MAX_SERIES: usize = 8;
/// Colour-blind-safe (Okabe–Ito).
pub(crate) const PALETTE: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000",
];

/// Values along the x axis; `None` where a row has none.
pub type Values = Vec<Option<f64>>;

/// One line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Values,
    /// The shaded range around it, if the table has one: (low, high).
    pub band: Option<(Values, Values)>,
    /// Its own colour (`#rrggbb`); else the palette's, by its place.
    pub colour: Option<String>,
}

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub x_label: String,
    pub x: Vec<String>,
    pub series: Vec<Series>,
    /// The legend's lines, (text, colour), when lines share colours by
    /// group; else one line per series.
    pub legend: Option<Vec<(String, String)>>,
}

const BAND_NAMES: [(&str, &str); 4] = [
    ("low", "high"),
    ("lower", "upper"),
    ("min", "max"),
    ("p10", "p90"),
];

fn column_values(table: &Table, column: usize) -> Vec<Option<f64>> {
    table
        .rows
        .iter()
        .map(|row| parse_number(&row[column]))
        .collect()
}

impl Chart {
    /// A chart of the table, when it has a date or month column, at least
    /// two rows, and a numeric column.
    pub fn from_table(table: &Table) -> Option<Chart> {
        let x_column = table.types.iter().position(|t| t.is_time())?;
        if table.rows.len() < 2 {
            return None;
        }
        let numeric: Vec<usize> = (0..table.headers.len())
            .filter(|&c| c != x_column && table.types[c].is_numeric())
            .collect();
        let lower = |c: usize| table.headers[c].to_ascii_lowercase();
        let find = |name: String| numeric.iter().copied().find(|&c| lower(c) == name);
        let mut in_band = Vec::new();
        let mut series: Vec<Series> = Vec::new();
        for &column in &numeric {
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
            let band = pair.map(|(lo, hi)| {
                in_band.extend([lo, hi]);
                (column_values(table, lo), column_values(table, hi))
            });
            series.push(Series {
                name: table.headers[column].clone(),
                values: column_values(table, column),
                band,
                colour: None,
            });
        }
        // A table of bands alone still draws them, as lines.
        for &column in &numeric {
            if !in_band.contains(&column) && !series.iter().any(|s| s.name == table.headers[column])
            {
                series.push(Series {
                    name: table.headers[column].clone(),
                    values: column_values(table, column),
                    band: None,
                    colour: None,
                });
            }
        }
        series.truncate(MAX_SERIES);
        if series.is_empty() {
            return None;
        }
        Some(Chart {
            x_label: table.headers[x_column].clone(),
            x: table.rows.iter().map(|row| row[x_column].clone()).collect(),
            series,
            legend: None,
        })
    }

    /// The first line of each chart on one time axis (the union of their x
    /// values, in order), each named by its label: runs side by side.
    pub fn overlay(charts: &[(String, Chart)]) -> Option<Chart> {
        let (x, lines) = first_lines(charts, true);
        let series: Vec<Series> = lines.into_iter().flatten().take(MAX_SERIES).collect();
        let x_label = charts.first()?.1.x_label.clone();
        (!series.is_empty() && x.len() >= 2).then_some(Chart {
            x_label,
            x,
            series,
            legend: None,
        })
    }

    /// The colour of series `index`: its own, else the palette's.
    fn colour(&self, index: usize) -> String {
        self.series[index]
            .colour
            .clone()
            .unwrap_or_else(|| PALETTE[index % PALETTE.len()].to_owned())
    }

    /// The legend: the given one, else each series with its colour.
    fn legend_lines(&self) -> Vec<(String, String)> {
        if let Some(legend) = &self.legend {
            return legend.clone();
        }
        self.series
            .iter()
            .enumerate()
            .map(|(index, series)| {
                let band_note = if series.band.is_some() {
                    " (band: low–high)"
                } else {
                    ""
                };
                (format!("{}{band_note}", series.name), self.colour(index))
            })
            .collect()
    }

    fn range(&self) -> (f64, f64) {
        let all = self.series.iter().flat_map(|s| {
            let band = s
                .band
                .iter()
                .flat_map(|(lo, hi)| lo.iter().chain(hi.iter()));
            s.values.iter().chain(band).flatten().copied()
        });
        let (min, max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if !min.is_finite() {
            (0.0, 1.0)
        } else if min == max {
            (min - 1.0, max + 1.0)
        } else {
            (min, max)
        }
    }

    /// The chart as an `<svg>` element. `id` makes its title's id unique on
    /// the page; `title` is read out by screen readers; the y axis writes
    /// its numbers in `style`.
    pub fn svg(&self, id: &str, title: &str, style: NumberStyle) -> String {
        let (min, max) = self.range();
        let step = nice_step((max - min) / 5.0);
        let (mut y0, mut y1) = ((min / step).floor() * step, (max / step).ceil() * step);
        if y1 <= y0 {
            // Values so large that the step is lost in rounding: widen by a part.
            let pad = min.abs().max(max.abs()) * 0.01 + 1.0;
            (y0, y1) = (min - pad, max + pad);
        }
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = PLOT_HEIGHT;
        let legend = self.legend_lines();
        let height = TOP + plot_h + AXIS_SPACE + LEGEND_LINE * legend.len() as f64;
        let n = self.x.len().max(2);
        let px = |i: usize| LEFT + plot_w * i as f64 / (n - 1) as f64;
        let py = |v: f64| TOP + plot_h * (1.0 - (v - y0) / (y1 - y0));
        let mut svg = String::new();
        let first = self.x.first().map_or("", String::as_str);
        let last = self.x.last().map_or("", String::as_str);
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let _ = write!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">"#
        );
        let _ = write!(
            svg,
            r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{} by {}, from {} to {}, between {} and {}.</desc>"#,
            escape(title),
            escape(&names.join(", ")),
            escape(&self.x_label),
            escape(first),
            escape(last),
            compact(min, style),
            compact(max, style)
        );
        // Horizontal grid and y ticks.
        // Counted, not accumulated: with values far from zero, adding a small
        // step may not move a float at all.
        let ticks = ((y1 - y0) / step).round().clamp(1.0, 10.0) as usize;
        for k in 0..=ticks {
            let tick = y0 + step * k as f64;
            let y = py(tick);
            let _ = write!(
                svg,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e6ea"/><text x="{}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                compact(tick, style)
            );
        }
        // X ticks: at most eight labels.
        let every = self.x.len().div_ceil(8).max(1);
        for (i, label) in self.x.iter().enumerate().filter(|(i, _)| i % every == 0) {
            let x = px(i);
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{}" stroke="#999"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
                TOP + plot_h,
                TOP + plot_h + 4.0,
                TOP + plot_h + 18.0,
                escape(label)
            );
        }
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{}" y2="{}" stroke="#999"/>"##,
            WIDTH - RIGHT,
            TOP + plot_h,
            TOP + plot_h
        );
        for (index, series) in self.series.iter().enumerate() {
            let colour = escape(&self.colour(index));
            if let Some((low, high)) = &series.band {
                for segment in segments(low, high) {
                    let mut points: Vec<String> = segment
                        .iter()
                        .map(|&i| format!("{:.1},{:.1}", px(i), py(high[i].unwrap_or_default())))
                        .collect();
                    points.extend(
                        segment.iter().rev().map(|&i| {
                            format!("{:.1},{:.1}", px(i), py(low[i].unwrap_or_default()))
                        }),
                    );
                    let _ = write!(
                        svg,
                        r#"<polygon points="{}" fill="{colour}" fill-opacity="0.15" stroke="none"/>"#,
                        points.join(" ")
                    );
                }
            }
            let mut path = String::new();
            let mut pen_down = false;
            for (i, value) in series.values.iter().enumerate() {
                match value {
                    Some(v) => {
                        let _ = write!(
                            path,
                            "{}{:.1},{:.1} ",
                            if pen_down { "L" } else { "M" },
                            px(i),
                            py(*v)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let _ = write!(
                svg,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>"#,
                path.trim_end()
            );
        }
        // Legend, under the axis, one line each.
        for (index, (text, colour)) in legend.iter().enumerate() {
            let lx = LEFT;
            let ly = TOP + plot_h + AXIS_SPACE + LEGEND_LINE * index as f64 + 4.0;
            let _ = write!(
                svg,
                r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="3" fill="{}"/><text x="{:.1}" y="{:.1}" fill="#222">{}</text>"##,
                ly - 4.0,
                escape(colour),
                lx + 16.0,
                ly,
                escape(text)
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

/// The union of the charts' x values, in order, and the first line of
/// each chart (named `<label>: <line>`, none for a chart without lines)
/// placed on it; with their bands when `bands`.
pub(crate) fn first_lines(
    charts: &[(String, Chart)],
    bands: bool,
) -> (Vec<String>, Vec<Option<Series>>) {
    let mut x: Vec<String> = charts.iter().flat_map(|(_, c)| c.x.clone()).collect();
    x.sort();
    x.dedup();
    let series = charts
        .iter()
        .map(|(label, chart)| {
            let first = chart.series.first()?;
            let at = |values: &Vec<Option<f64>>| {
                x.iter()
                    .map(|key| {
                        chart
                            .x
                            .iter()
                            .position(|k| k == key)
                            .and_then(|i| values[i])
                    })
                    .collect::<Vec<_>>()
            };
            Some(Series {
                name: format!("{label}: {}", first.name),
                values: at(&first.values),
                band: first
                    .band
                    .as_ref()
                    .filter(|_| bands)
                    .map(|(lo, hi)| (at(lo), at(hi))),
                colour: None,
            })
        })
        .collect();
    (x, series)
}

/// Runs of indices where both values are present.
fn segments(low: &[Option<f64>], high: &[Option<f64>]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    for i in 0..low.len().min(high.len()) {
        if low[i].is_some() && high[i].is_some() {
            current.push(i);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|&n| fraction <= n)
        .unwrap_or(10.0);
    nice * power
}

/// `1.25M`, `350k`, `12.5` (or `1,25M` in the comma-decimal style): short
/// labels for axes.
pub fn compact(value: f64, style: NumberStyle) -> String {
    let abs = value.abs();
    let (scaled, suffix) = if abs >= 1e9 {
        (value / 1e9, "G")
    } else if abs >= 1e6 {
        (value / 1e6, "M")
    } else if abs >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let text = if text == "-0" { "0" } else { text };
    let text = text.replace('.', &style.decimal_separator().to_string());
    format!("{text}{suffix}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
