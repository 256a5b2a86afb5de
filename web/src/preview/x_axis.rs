//! Where a chart's x values go: by time when every value is a month, a
//! date or a date-time, by value when every value is a number, else one place per
//! distinct text in the order first met. The lines of one chart share the
//! axis whatever x values each has; a line's points go along it in order,
//! in runs that a missing value breaks.

use modelrun_core::display::NumberStyle;

use super::chart::Series;
use super::ticks::Ticks;
use super::time_axis::{self, Precision};

/// The most ticks a person reads at a glance.
const MOST_TICKS: usize = 7;
/// About how wide a character of a tick label is, in SVG units (12px text).
const CHAR_WIDTH: f64 = 7.0;
/// The least room between two tick labels.
const LABEL_GAP: f64 = 18.0;

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// Values are days ([`time_axis::days`]).
    Time,
    Number,
    /// The distinct texts; a text's place is its index.
    Text(Vec<String>),
}

/// An x axis: its span and its labelled ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct XAxis {
    kind: Kind,
    from: f64,
    to: f64,
    /// (place, label), in order.
    pub ticks: Vec<(f64, String)>,
}

fn most_for(width: f64, chars: usize) -> usize {
    let fit = (width / (chars as f64 * CHAR_WIDTH + LABEL_GAP))
        .floor()
        .max(1.0) as usize;
    fit.min(MOST_TICKS)
}

impl XAxis {
    /// The axis for the lines' x values, `width` long (in SVG units), with
    /// labels in `style`.
    pub fn of(series: &[Series], width: f64, style: NumberStyle) -> XAxis {
        // A row without an x value is not drawn; it does not make the
        // axis one of texts.
        let all: Vec<&str> = series
            .iter()
            .flat_map(|s| s.x.iter().map(|x| x.trim()))
            .filter(|x| !x.is_empty())
            .collect();
        if let Some(times) = all
            .iter()
            .map(|x| time_axis::parse(x))
            .collect::<Option<Vec<_>>>()
        {
            return Self::time(&times, width);
        }
        if let Some(numbers) = all
            .iter()
            .map(|x| super::table::parse_number(x))
            .collect::<Option<Vec<_>>>()
        {
            return Self::number(&numbers, width, style);
        }
        let mut texts: Vec<String> = Vec::new();
        for x in all {
            if !texts.iter().any(|t| t == x) {
                texts.push(x.to_owned());
            }
        }
        let longest = texts.iter().map(|t| t.chars().count()).max().unwrap_or(1);
        let every = texts.len().div_ceil(most_for(width, longest)).max(1);
        let ticks = texts
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, t)| (i as f64, t.clone()))
            .collect();
        // A single text sits in the middle.
        let (from, to) = match texts.len() {
            0 | 1 => (-1.0, 1.0),
            n => (0.0, (n - 1) as f64),
        };
        XAxis {
            kind: Kind::Text(texts),
            from,
            to,
            ticks,
        }
    }

    fn time(times: &[(chrono::NaiveDateTime, Precision)], width: f64) -> XAxis {
        let precision = times
            .iter()
            .map(|(_, p)| *p)
            .min()
            .unwrap_or(Precision::Month);
        let first = times.iter().map(|(d, _)| *d).min();
        let last = times.iter().map(|(d, _)| *d).max();
        let (Some(first), Some(last)) = (first, last) else {
            return XAxis {
                kind: Kind::Time,
                from: 0.0,
                to: 1.0,
                ticks: Vec::new(),
            };
        };
        let ticks = time_axis::ticks(first, last, precision, |step| {
            most_for(width, step.label_chars())
        })
        .into_iter()
        .map(|(date, label)| (time_axis::days(date), label))
        .collect();
        let (mut from, mut to) = (time_axis::days(first), time_axis::days(last));
        if from == to {
            let pad = match precision {
                Precision::Month => 15.0,
                Precision::Day => 1.0,
                Precision::Time => 1.0 / 24.0,
            };
            (from, to) = (from - pad, to + pad);
        }
        XAxis {
            kind: Kind::Time,
            from,
            to,
            ticks,
        }
    }

    fn number(numbers: &[f64], width: f64, style: NumberStyle) -> XAxis {
        let from = numbers.iter().copied().fold(f64::INFINITY, f64::min);
        let to = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (from, to) = if from < to {
            (from, to)
        } else {
            (from - 1.0, to + 1.0)
        };
        let slack = (to - from) * 1e-9;
        let mut target = 5;
        let (values, labels) = loop {
            let mut ticks = Ticks::covering(from, to, target);
            ticks
                .values
                .retain(|v| (from - slack..=to + slack).contains(v));
            let labels = ticks.labels(style);
            let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1);
            if labels.len() <= most_for(width, longest) || target == 1 {
                break (ticks.values, labels);
            }
            target -= 1;
        };
        XAxis {
            kind: Kind::Number,
            from,
            to,
            ticks: values.into_iter().zip(labels).collect(),
        }
    }

    /// Where `x` is along the axis, from 0 (its start) to 1 (its end);
    /// none for a value the axis cannot place.
    pub fn fraction(&self, x: &str) -> Option<f64> {
        let place = match &self.kind {
            Kind::Time => time_axis::days(time_axis::parse(x)?.0),
            Kind::Number => super::table::parse_number(x)?,
            Kind::Text(texts) => texts.iter().position(|t| t == x.trim())? as f64,
        };
        Some(self.fraction_of(place))
    }

    /// Where a tick's place is along the axis, from 0 to 1.
    pub fn fraction_of(&self, place: f64) -> f64 {
        if self.to > self.from {
            (place - self.from) / (self.to - self.from)
        } else {
            0.5
        }
    }
}

/// The series' points the axis places, as (fraction along it, index in
/// the series), in order along the axis.
pub(crate) fn placed(series: &Series, x: &XAxis) -> Vec<(f64, usize)> {
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
pub(crate) fn runs<T>(
    points: &[(f64, usize)],
    value: impl Fn(usize) -> Option<T>,
) -> Vec<Vec<usize>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(x: &[&str]) -> Series {
        Series {
            x: x.iter().map(|s| (*s).to_owned()).collect(),
            values: vec![Some(1.0); x.len()],
            ..Series::default()
        }
    }

    fn axis(lines: &[Series]) -> XAxis {
        XAxis::of(lines, 672.0, NumberStyle::PointDecimal)
    }

    #[test]
    fn runs_years_apart_keep_the_years_between() {
        let a = line(&["2027-01", "2027-06", "2027-12"]);
        let b = line(&["2030-01", "2030-06", "2030-12"]);
        let both = axis(&[a, b]);
        let at = |x: &str| both.fraction(x).expect("placed");
        assert!(at("2027-12") < 0.3, "{}", at("2027-12"));
        assert!(at("2030-01") > 0.7, "{}", at("2030-01"));
        let labels: Vec<_> = both.ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["2027", "2028", "2029", "2030"]);
    }

    #[test]
    fn months_and_dates_share_one_time_axis() {
        let monthly = line(&["2002-01", "2011-01", "2017-01", "2026-01"]);
        let daily = line(&["2002-01-01", "2026-01-01"]);
        let both = axis(&[monthly, daily]);
        let at = |x: &str| both.fraction(x).expect("placed");
        assert_eq!(at("2002-01"), 0.0);
        assert_eq!(at("2002-01"), at("2002-01-01"));
        assert_eq!(at("2026-01"), 1.0);
        // 2011 is 9 of 24 years in, not a third of the way.
        assert!(
            (at("2011-01") - 9.0 / 24.0).abs() < 0.01,
            "{}",
            at("2011-01")
        );
        assert!(
            both.ticks.iter().all(|(_, l)| l.len() == 4),
            "{:?}",
            both.ticks
        );
    }

    #[test]
    fn numbers_and_texts_have_their_own_axes() {
        let years = axis(&[line(&["1", "3", "10"])]);
        assert!((years.fraction("3").expect("placed") - 2.0 / 9.0).abs() < 1e-9);
        let words = axis(&[line(&["a", "b"]), line(&["b", "c"])]);
        assert_eq!(words.fraction("b"), Some(0.5));
        assert_eq!(words.fraction("z"), None);
        let blank = axis(&[line(&["2027-01", "", "2027-03"])]);
        assert_eq!(blank.fraction("2027-03"), Some(1.0), "still a time axis");
        assert_eq!(blank.fraction(""), None);
        let single = axis(&[line(&["2027-01", "2027-01"])]);
        assert_eq!(single.fraction("2027-01"), Some(0.5));
    }
}
