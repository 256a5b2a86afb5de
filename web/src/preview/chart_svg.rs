//! A [`Chart`] drawn as an `<svg>` element on the server: no script, so it
//! works under the strict Content-Security-Policy and in a screenshot.
//! Colours and sizes are SVG attributes for light pages; each part has a
//! class (`chart-text`, `chart-grid`, `chart-axis`, `chart-ink`,
//! `chart-shade`) that app.css recolours in dark mode, since CSS
//! properties override presentation attributes.
//!
//! Each chart is drawn twice: wide for a desktop, and narrow (fewer x
//! ticks, the same text size once scaled to a phone) as an image beside
//! it; app.css shows the one that fits the screen, so that a phone sees
//! every line whole without scrolling sideways.

use std::fmt::Write;

use base64::Engine;
use modelrun_core::display::NumberStyle;

use super::chart::{Chart, PALETTE, Series, Values};
use super::ticks::{Ticks, compact_pair};
use super::x_axis::{XAxis, placed, runs};

/// The sizes of one drawing, in SVG units.
#[derive(Clone, Copy)]
struct Layout {
    width: f64,
    plot_height: f64,
}

/// For a desktop: 760 wide, drawn at up to 1000 px.
const WIDE: Layout = Layout {
    width: 760.0,
    plot_height: 240.0,
};
/// For a phone: drawn at about 350 px, so 12-unit text reads at about
/// 11 px.
const NARROW: Layout = Layout {
    width: 380.0,
    plot_height: 200.0,
};
/// A lone point's marker radius.
const DOT: f64 = 3.5;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
/// Above the plot, for the units.
const UNITS_SPACE: f64 = 16.0;
/// Where the units start: the drawing's left edge, less a margin.
const UNITS_X: f64 = 4.0;
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

    /// The chart as an `<svg>` element (class `chart`) for wide screens,
    /// then the same chart drawn narrow for a phone as an `<img>` (class
    /// `chart-narrow`, its `alt` the title and description). `id` makes
    /// the title's id unique on the page; `title` is read out by screen
    /// readers; numbers are written in `style`.
    pub fn svg(&self, id: &str, title: &str, style: NumberStyle) -> String {
        let (wide, _) = self.draw(id, title, style, WIDE);
        let (narrow, alt) = self.draw(&format!("{id}-narrow"), title, style, NARROW);
        let data = base64::engine::general_purpose::STANDARD.encode(narrow);
        format!(
            r#"{wide}<img class="chart-narrow" src="data:image/svg+xml;base64,{data}" alt="{}">"#,
            escape(&alt)
        )
    }

    /// The chart drawn in `layout`, and its title and description as one
    /// text.
    fn draw(&self, id: &str, title: &str, style: NumberStyle, layout: Layout) -> (String, String) {
        let width = layout.width;
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
            plot_w: width - left - RIGHT,
            layout,
            y0: y.start(),
            y1: y.end(),
        };
        let x = XAxis::of(&self.series, frame.plot_w, style);
        let keys = self.keys();
        let height = frame.bottom() + AXIS_SPACE + LEGEND_LINE * keys.len() as f64;
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let (first, last) = self.x_ends(&x);
        let (low, high) = compact_pair(min, max, style);
        let between = if low == high {
            format!("at {low}")
        } else {
            format!("between {low} and {high}")
        };
        let span = if first == last {
            format!("at {first}")
        } else {
            format!("from {first} to {last}")
        };
        let desc = format!(
            "{} by {}, {span}, {between}.",
            names.join(", "),
            self.x_label
        );
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">"#
        );
        let _ = write!(
            svg,
            r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
            escape(title),
            escape(&desc)
        );
        frame.y_axis(&mut svg, &y, &y_labels, self.units.as_deref());
        frame.x_axis(&mut svg, &x);
        for (index, series) in self.series.iter().enumerate() {
            frame.line(&mut svg, series, &x, &self.colour(index));
        }
        frame.legend(&mut svg, &keys);
        svg.push_str("</svg>");
        (svg, format!("{title}: {desc}"))
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
    layout: Layout,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn bottom(&self) -> f64 {
        self.top + self.layout.plot_height
    }

    fn width(&self) -> f64 {
        self.layout.width
    }

    /// The SVG x of a place `fraction` along the x axis.
    fn px(&self, fraction: f64) -> f64 {
        self.left + self.plot_w * fraction
    }

    /// The SVG y of a value.
    fn py(&self, value: f64) -> f64 {
        self.top + self.layout.plot_height * (1.0 - (value - self.y0) / (self.y1 - self.y0))
    }

    /// The units, above the y axis, starting at the drawing's left edge so
    /// that up to 40 characters show whole; text wider than the drawing is
    /// shortened with "…" and keeps its whole text in a `<title>`.
    fn units(&self, svg: &mut String, units: &str) {
        let fits = ((self.width() - UNITS_X - RIGHT) / CHAR_WIDTH) as usize;
        let text = if units.chars().count() <= fits {
            escape(units)
        } else {
            let cut: String = units.chars().take(fits.saturating_sub(1)).collect();
            format!("{}…<title>{}</title>", escape(&cut), escape(units))
        };
        let _ = write!(
            svg,
            r##"<text class="chart-text chart-units" x="{UNITS_X:.1}" y="{:.1}" text-anchor="start" fill="#444">{text}</text>"##,
            TOP + 4.0,
        );
    }

    /// The grid, the y labels, and the units above them.
    fn y_axis(&self, svg: &mut String, y: &Ticks, labels: &[String], units: Option<&str>) {
        let left = self.left;
        if let Some(units) = units {
            self.units(svg, units);
        }
        for (tick, label) in y.values.iter().zip(labels) {
            let at = self.py(*tick);
            let _ = write!(
                svg,
                r##"<line class="chart-grid" x1="{left:.1}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="#e3e6ea"/><text class="chart-text chart-y" x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                self.width() - RIGHT,
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
            let width = self.width();
            let centre = at.clamp(half + 2.0, (width - half - 2.0).max(half + 2.0));
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
            self.width() - RIGHT
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
        let mut dots = String::new();
        for run in runs(&points, |i| series.values.get(i).copied().flatten()) {
            for (n, &k) in run.iter().enumerate() {
                let pen = if n == 0 { "M" } else { "L" };
                let _ = write!(path, "{pen}{} ", at(k, value(&series.values, k)));
            }
            // A value alone between gaps is a dot (round caps), and a
            // marker that shows whatever the line's width.
            if run.len() == 1 {
                path.push_str("l0,0 ");
                let k = run[0];
                let _ = write!(
                    dots,
                    r#"<circle class="chart-dot{}" cx="{:.1}" cy="{:.1}" r="{DOT}" fill="{}"/>"#,
                    tone(colour),
                    self.px(points[k].0),
                    self.py(value(&series.values, k)),
                    escape(colour)
                );
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
        svg.push_str(&dots);
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
                escape(&fit(&key.text, (self.width() - left - 30.0) / CHAR_WIDTH))
            );
        }
    }
}

/// `text` cut to about `chars` characters, with an ellipsis when cut.
fn fit(text: &str, chars: f64) -> String {
    let most = chars.max(4.0) as usize;
    if text.chars().count() <= most {
        return text.to_owned();
    }
    let kept: String = text.chars().take(most - 1).collect();
    format!("{}…", kept.trim_end())
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
