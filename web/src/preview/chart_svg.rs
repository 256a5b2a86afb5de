//! A [`Chart`] drawn as an `<svg>` element on the server: no script, so it
//! works under the strict Content-Security-Policy and in a screenshot.
//! Colours and sizes are SVG attributes for light pages; each part has a
//! class (`chart-text`, `chart-grid`, `chart-axis`, `chart-ink`,
//! `chart-shade`) that app.css recolours in dark mode, since CSS
//! properties override presentation attributes.

use std::fmt::Write;

use modelrun_core::display::NumberStyle;

use super::chart::{Chart, PALETTE, Series, Values};
use super::ticks::{Ticks, compact};
use super::x_axis::XAxis;

const WIDTH: f64 = 760.0;
const PLOT_HEIGHT: f64 = 240.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
/// Above the plot, for the units.
const UNITS_SPACE: f64 = 16.0;
/// Below the plot: the x labels, then one legend line per series.
const AXIS_SPACE: f64 = 36.0;
const LEGEND_LINE: f64 = 18.0;
/// About how wide a character of a y label is (12px text).
const CHAR_WIDTH: f64 = 7.0;
const DASHES: &str = "6 4";

/// One legend line: its text, colour and whether dashed.
struct Key {
    text: String,
    colour: String,
    dashed: bool,
}

/// The class that recolours a line of `colour` in dark mode: black turns
/// light, colours not in the palette (a sweep's light-to-dark scale) turn
/// about.
fn tone(colour: &str) -> &'static str {
    if colour == PALETTE[PALETTE.len() - 1] {
        " chart-ink"
    } else if PALETTE.contains(&colour) {
        ""
    } else {
        " chart-shade"
    }
}

fn dash(dashed: bool) -> String {
    if dashed {
        format!(r#" stroke-dasharray="{DASHES}""#)
    } else {
        String::new()
    }
}

impl Chart {
    /// The legend: the given one, else each series with its colour.
    fn keys(&self) -> Vec<Key> {
        if let Some(legend) = &self.legend {
            return legend
                .iter()
                .map(|(text, colour)| Key {
                    text: text.clone(),
                    colour: colour.clone(),
                    dashed: false,
                })
                .collect();
        }
        self.series
            .iter()
            .enumerate()
            .map(|(index, series)| Key {
                text: match series.band {
                    Some(_) => format!("{} (band: low–high)", series.name),
                    None => series.name.clone(),
                },
                colour: self.colour(index),
                dashed: series.dashed,
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
        if min.is_finite() {
            (min, max)
        } else {
            (0.0, 1.0)
        }
    }

    /// The chart as an `<svg>` element. `id` makes its title's id unique on
    /// the page; `title` is read out by screen readers; numbers are written
    /// in `style`.
    pub fn svg(&self, id: &str, title: &str, style: NumberStyle) -> String {
        let (min, max) = self.range();
        let y = Ticks::covering(min, max, 5);
        let y_labels = y.labels(style);
        let longest = y_labels.iter().map(|l| l.chars().count()).max();
        let left = (longest.unwrap_or(1) as f64 * CHAR_WIDTH + 14.0).max(48.0);
        let units_space = if self.units.is_some() {
            UNITS_SPACE
        } else {
            0.0
        };
        let frame = Frame {
            left,
            top: TOP + units_space,
            plot_w: WIDTH - left - RIGHT,
            y0: y.start(),
            y1: y.end(),
        };
        let x = XAxis::of(&self.series, frame.plot_w, style);
        let keys = self.keys();
        let height = frame.bottom() + AXIS_SPACE + LEGEND_LINE * keys.len() as f64;
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let (first, last) = self.x_ends(&x);
        let mut svg = String::new();
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
        frame.y_axis(&mut svg, &y, &y_labels, self.units.as_deref());
        frame.x_axis(&mut svg, &x);
        for (index, series) in self.series.iter().enumerate() {
            frame.line(&mut svg, series, &x, &self.colour(index));
        }
        frame.legend(&mut svg, &keys);
        svg.push_str("</svg>");
        svg
    }

    /// The first and the last x value, by place on the axis.
    fn x_ends<'a>(&'a self, x: &XAxis) -> (&'a str, &'a str) {
        let mut all: Vec<(f64, &str)> = self
            .series
            .iter()
            .flat_map(|s| s.x.iter())
            .filter_map(|t| Some((x.fraction(t)?, t.as_str())))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        (
            all.first().map_or("", |p| p.1),
            all.last().map_or("", |p| p.1),
        )
    }
}

/// Where the plot sits in the SVG, and the y values at its bottom and top.
struct Frame {
    left: f64,
    top: f64,
    plot_w: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn bottom(&self) -> f64 {
        self.top + PLOT_HEIGHT
    }

    /// The SVG x of a place `fraction` along the x axis.
    fn px(&self, fraction: f64) -> f64 {
        self.left + self.plot_w * fraction
    }

    /// The SVG y of a value.
    fn py(&self, value: f64) -> f64 {
        self.top + PLOT_HEIGHT * (1.0 - (value - self.y0) / (self.y1 - self.y0))
    }

    /// The grid, the y labels, and the units above them.
    fn y_axis(&self, svg: &mut String, y: &Ticks, labels: &[String], units: Option<&str>) {
        let left = self.left;
        if let Some(units) = units {
            let _ = write!(
                svg,
                r##"<text class="chart-text chart-units" x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                left - 6.0,
                TOP + 4.0,
                escape(units)
            );
        }
        for (tick, label) in y.values.iter().zip(labels) {
            let at = self.py(*tick);
            let _ = write!(
                svg,
                r##"<line class="chart-grid" x1="{left:.1}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="#e3e6ea"/><text class="chart-text chart-y" x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                WIDTH - RIGHT,
                left - 6.0,
                at + 4.0,
                escape(label)
            );
        }
    }

    /// The x ticks with their labels, and the axis line.
    fn x_axis(&self, svg: &mut String, x: &XAxis) {
        let bottom = self.bottom();
        for (place, label) in &x.ticks {
            let at = self.px(x.fraction_of(*place));
            // A label at an end of the axis moves in rather than off the edge.
            let half = label.chars().count() as f64 * CHAR_WIDTH / 2.0;
            let centre = at.clamp(half + 2.0, (WIDTH - half - 2.0).max(half + 2.0));
            let _ = write!(
                svg,
                r##"<line class="chart-axis" x1="{at:.1}" x2="{at:.1}" y1="{bottom}" y2="{}" stroke="#888"/><text class="chart-text chart-x" x="{centre:.1}" y="{}" text-anchor="middle" fill="#444">{}</text>"##,
                bottom + 5.0,
                bottom + 19.0,
                escape(label)
            );
        }
        let _ = write!(
            svg,
            r##"<line class="chart-axis" x1="{:.1}" x2="{}" y1="{bottom}" y2="{bottom}" stroke="#888"/>"##,
            self.left,
            WIDTH - RIGHT
        );
    }

    /// A series: its band, then its line, broken where a value is missing.
    fn line(&self, svg: &mut String, series: &Series, x: &XAxis, colour: &str) {
        let points = placed(series, x);
        let at = |k: usize, v: f64| format!("{:.1},{:.1}", self.px(points[k].0), self.py(v));
        let value = |values: &Values, k: usize| values[points[k].1].unwrap_or_default();
        if let Some((low, high)) = &series.band {
            for run in runs(&points, |i| {
                Some((low.get(i)?.as_ref()?, high.get(i)?.as_ref()?))
            }) {
                let mut corners: Vec<String> = run.iter().map(|&k| at(k, value(high, k))).collect();
                corners.extend(run.iter().rev().map(|&k| at(k, value(low, k))));
                let _ = write!(
                    svg,
                    r#"<polygon class="chart-band{}" points="{}" fill="{}" fill-opacity="0.15" stroke="none"/>"#,
                    tone(colour),
                    corners.join(" "),
                    escape(colour)
                );
            }
        }
        let mut path = String::new();
        for run in runs(&points, |i| series.values.get(i).copied().flatten()) {
            for (n, &k) in run.iter().enumerate() {
                let pen = if n == 0 { "M" } else { "L" };
                let _ = write!(path, "{pen}{} ", at(k, value(&series.values, k)));
            }
            // A value alone between gaps is a dot (round caps).
            if run.len() == 1 {
                path.push_str("l0,0 ");
            }
        }
        let _ = write!(
            svg,
            r#"<path class="chart-line{}" d="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"{}/>"#,
            tone(colour),
            path.trim_end(),
            escape(colour),
            dash(series.dashed)
        );
    }

    /// The legend, under the axis, one line each.
    fn legend(&self, svg: &mut String, keys: &[Key]) {
        let left = self.left;
        for (index, key) in keys.iter().enumerate() {
            let ly = self.bottom() + AXIS_SPACE + LEGEND_LINE * index as f64;
            let _ = write!(
                svg,
                r##"<line class="chart-key{}" x1="{left:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{}" stroke-width="3"{}/><text class="chart-text chart-legend" x="{:.1}" y="{ly:.1}" fill="#222">{}</text>"##,
                tone(&key.colour),
                left + 22.0,
                ly - 4.0,
                ly - 4.0,
                escape(&key.colour),
                dash(key.dashed),
                left + 28.0,
                escape(&key.text)
            );
        }
    }
}

/// The series' points the axis places, as (fraction along it, index in
/// the series), in order along the axis.
fn placed(series: &Series, x: &XAxis) -> Vec<(f64, usize)> {
    let mut points: Vec<(f64, usize)> = series
        .x
        .iter()
        .enumerate()
        .filter_map(|(i, text)| Some((x.fraction(text)?, i)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// Runs of consecutive points (indices into `points`) where `value` of the
/// series index is present: a missing value breaks a line.
fn runs<T>(points: &[(f64, usize)], value: impl Fn(usize) -> Option<T>) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    for (k, &(_, i)) in points.iter().enumerate() {
        if value(i).is_some() {
            current.push(k);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
