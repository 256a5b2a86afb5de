//! Round ticks for a number axis, as a person would pick them: steps of
//! 1, 2 or 5 times a power of ten, and labels with just enough decimals
//! for the step, so that no two ticks read the same (a range of
//! 123456.1–123456.9 reads `123,456.2`, `123,456.4`, … and not `123.46k`
//! six times).

use modelrun_core::display::NumberStyle;

/// The ticks of an axis: its ends are the first and the last.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub values: Vec<f64>,
    /// The distance between two ticks (the axis's length when it has only
    /// its two ends).
    pub step: f64,
}

impl Ticks {
    /// About `target` ticks covering `min..=max`, starting and ending on a
    /// multiple of the step. Equal ends are widened by one on each side.
    pub fn covering(min: f64, max: f64, target: usize) -> Ticks {
        let (min, max) = if min < max {
            (min, max)
        } else {
            (min - 1.0, max + 1.0)
        };
        let step = nice_step((max - min) / target.max(1) as f64);
        let start = (min / step).floor() * step;
        let end = (max / step).ceil() * step;
        let count = ((end - start) / step).round();
        if end > start && (1.0..=50.0).contains(&count) && start + step > start {
            let count = count as usize;
            // Counted, not accumulated: with values far from zero, adding a
            // small step may not move a float at all.
            let values = (0..=count).map(|k| start + step * k as f64).collect();
            return Ticks { values, step };
        }
        // Values so large that the step is lost in rounding: the ends alone,
        // widened by a part.
        let pad = min.abs().max(max.abs()) * 0.01 + 1.0;
        let (start, end) = (min - pad, max + pad);
        Ticks {
            values: vec![start, end],
            step: end - start,
        }
    }

    /// The first tick: the axis's lower end.
    pub fn start(&self) -> f64 {
        self.values.first().copied().unwrap_or(0.0)
    }

    /// The last tick: the axis's upper end.
    pub fn end(&self) -> f64 {
        self.values.last().copied().unwrap_or(1.0)
    }

    /// Each tick's label in `style`, distinct for distinct ticks: zero
    /// reads `0`; from 10,000 one suffix for every tick (`k`, `M`, `G`,
    /// `T`) when it reads exactly; past 10¹⁵ one shared power of ten
    /// (`0.5e15`, `1.0e15`); and no more decimals than the ticks need.
    pub fn labels(&self, style: NumberStyle) -> Vec<String> {
        let largest = self.values.iter().fold(0f64, |m, v| m.max(v.abs()));
        let (scale, suffix) = if largest >= 1e15 {
            let power = largest.log10().floor();
            (10f64.powf(power), format!("e{power}"))
        } else {
            // Thousands only from 10k: `1,500` reads better than `1.5k`.
            let scales = [
                (1e12, "T", 1e12),
                (1e9, "G", 1e9),
                (1e6, "M", 1e6),
                (1e3, "k", 1e4),
            ];
            scales
                .into_iter()
                .find(|(scale, _, from)| largest >= *from && decimals(self.step / scale) <= 2)
                .map_or((1.0, String::new()), |(scale, suffix, _)| {
                    (scale, suffix.to_owned())
                })
        };
        let places = self.places(scale);
        self.values
            .iter()
            .map(|v| {
                if v.abs() <= self.step * 1e-9 {
                    "0".to_owned()
                } else {
                    format!("{}{suffix}", grouped(v / scale, places, style))
                }
            })
            .collect()
    }

    /// The fewest decimals, up to the step's, that write every tick divided
    /// by `scale` exactly: `1M, 2M` rather than `1.0M, 2.0M`.
    fn places(&self, scale: f64) -> usize {
        let most = decimals(self.step / scale);
        let slack = self.step / scale * 1e-6;
        (0..most)
            .find(|&places| {
                let unit = 10f64.powi(places as i32);
                self.values
                    .iter()
                    .all(|v| ((v / scale * unit).round() / unit - v / scale).abs() <= slack)
            })
            .unwrap_or(most)
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|&n| fraction <= n * (1.0 + 1e-9))
        .unwrap_or(10.0);
    nice * power
}

/// The decimals that write multiples of `step` apart: 1 for 0.2, 0 for 50.
fn decimals(step: f64) -> usize {
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    (-(step.log10() + 1e-9).floor()).clamp(0.0, 12.0) as usize
}

/// `value` with `places` decimals and thousands grouped, in `style`:
/// `123,456.2` or `123.456,2`; never `-0`.
pub fn grouped(value: f64, places: usize, style: NumberStyle) -> String {
    let text = format!("{value:.places$}");
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(style.group_separator());
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out.push(style.decimal_separator());
        out.push_str(fraction);
    }
    let zero = out.chars().all(|c| !c.is_ascii_digit() || c == '0');
    if sign.is_empty() || zero {
        out
    } else {
        format!("-{out}")
    }
}

/// `1.25M`, `350k`, `12.5`, `1.028e15` (or `1,25M` in the comma-decimal
/// style): a short number for a chart's description, with at most
/// `places` decimals (trailing zeros dropped).
pub fn compact(value: f64, places: usize, style: NumberStyle) -> String {
    let abs = value.abs();
    if abs >= 1e15 {
        let text = format!("{value:.places$e}");
        let (mantissa, power) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = trim_zeros(mantissa);
        return format!("{mantissa}e{power}").replace('.', &style.decimal_separator().to_string());
    }
    let (scaled, suffix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")]
        .into_iter()
        .find(|(from, _)| abs >= *from)
        .map_or((value, ""), |(from, suffix)| {
            (value / if from == 1e4 { 1e3 } else { from }, suffix)
        });
    let text = format!("{scaled:.places$}");
    let text = trim_zeros(&text);
    let text = if text == "-0" { "0" } else { text };
    let text = text.replace('.', &style.decimal_separator().to_string());
    format!("{text}{suffix}")
}

/// `low` and `high` as [`compact`] numbers with the fewest decimals (at
/// least two, at most twelve) that keep them apart when they differ: a
/// range of 100.0011–100.0038 reads `100.001` to `100.004`, not `100` to
/// `100`.
pub fn compact_pair(low: f64, high: f64, style: NumberStyle) -> (String, String) {
    let pair = |places| (compact(low, places, style), compact(high, places, style));
    (2..=12)
        .map(pair)
        .find(|(a, b)| low == high || a != b)
        .unwrap_or_else(|| pair(12))
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINT: NumberStyle = NumberStyle::PointDecimal;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(23.0), 50.0);
        assert_eq!(nice_step(0.16), 0.2);
        assert_eq!(nice_step(7000.0), 10000.0);
        assert_eq!(nice_step(100.0), 100.0);
        let ticks = Ticks::covering(3.0, 97.0, 5);
        assert_eq!(ticks.values, [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks.labels(POINT), ["0", "20", "40", "60", "80", "100"]);
    }

    #[test]
    fn a_narrow_range_has_distinct_round_labels() {
        let ticks = Ticks::covering(123456.1, 123456.9, 5);
        assert!((ticks.step - 0.2).abs() < 1e-12);
        let labels = ticks.labels(POINT);
        assert_eq!(labels.first().map(String::as_str), Some("123,456.0"));
        assert_eq!(labels.get(1).map(String::as_str), Some("123,456.2"));
        assert_eq!(labels.last().map(String::as_str), Some("123,457.0"));
        let mut distinct = labels.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), labels.len(), "{labels:?}");
        assert_eq!(
            ticks.labels(NumberStyle::CommaDecimal)[1],
            "123.456,2",
            "in the person's style"
        );
    }

    #[test]
    fn large_values_take_a_suffix_when_it_reads_exactly() {
        let ticks = Ticks::covering(1_000_000.0, 3_000_000.0, 5);
        assert_eq!(
            ticks.labels(POINT),
            ["1.0M", "1.5M", "2.0M", "2.5M", "3.0M"]
        );
        let thousands = Ticks::covering(95_000.0, 131_000.0, 5);
        assert_eq!(
            thousands.labels(POINT),
            ["90k", "100k", "110k", "120k", "130k", "140k"]
        );
        let small = Ticks::covering(-0.004, 0.011, 5);
        assert_eq!(small.labels(POINT)[1], "0");
        assert_eq!(small.labels(POINT)[0], "-0.005");
        let huge = Ticks::covering(1e20, 1e20, 5);
        assert_eq!(huge.values.len(), 2, "the step is lost in rounding");
        let labels = huge.labels(POINT);
        assert_ne!(labels[0], labels[1]);
    }

    #[test]
    fn zero_reads_zero_and_suffixes_stay_one_per_axis() {
        let thousands = Ticks::covering(-20_000.0, 60_000.0, 5);
        assert_eq!(thousands.labels(POINT), ["-20k", "0", "20k", "40k", "60k"]);
        let millions = Ticks::covering(0.0, 3_000_000.0, 5);
        assert_eq!(millions.labels(POINT), ["0", "1M", "2M", "3M"]);
        let whole = Ticks::covering(0.0, 4_000_000.0, 4);
        assert_eq!(
            whole.labels(POINT),
            ["0", "1M", "2M", "3M", "4M"],
            "no needless .0"
        );
        let trillions = Ticks::covering(0.0, 4e12, 4);
        assert_eq!(trillions.labels(POINT), ["0", "1T", "2T", "3T", "4T"]);
        let near = Ticks::covering(-100.0038, -100.0011, 5);
        let labels = near.labels(POINT);
        assert!(
            labels.iter().all(|l| l.starts_with("-100.00")),
            "{labels:?}"
        );
        let mut distinct = labels.clone();
        distinct.dedup();
        assert_eq!(distinct, labels);
    }

    #[test]
    fn past_a_quadrillion_one_power_of_ten_for_all() {
        let ticks = Ticks::covering(-28_010.0, 1.028e15, 4);
        let labels = ticks.labels(POINT);
        assert_eq!(labels, ["-0.5e15", "0", "0.5e15", "1.0e15", "1.5e15"]);
        assert!(!labels.iter().any(|l| l.contains("e14") || l.contains("e0")));
    }

    #[test]
    fn short_numbers_for_descriptions() {
        assert_eq!(grouped(-0.0, 1, POINT), "0.0");
        assert_eq!(grouped(-1234.5, 1, POINT), "-1,234.5");
        assert_eq!(compact(1_250_000.0, 2, POINT), "1.25M");
        assert_eq!(compact(350_000.0, 2, POINT), "350k");
        assert_eq!(compact(12.5, 2, POINT), "12.5");
        assert_eq!(compact(-0.0, 2, POINT), "0");
        assert_eq!(compact(2.5e12, 2, POINT), "2.5T");
        assert_eq!(compact(1.028e15, 2, POINT), "1.03e15");
        assert_eq!(compact(1_250_000.0, 2, NumberStyle::CommaDecimal), "1,25M");
    }

    #[test]
    fn a_description_keeps_different_ends_apart() {
        let pair = |a, b| compact_pair(a, b, POINT);
        assert_eq!(
            pair(100.0011, 100.0038),
            ("100.001".into(), "100.004".into())
        );
        assert_eq!(pair(1.0, 1.0000004), ("1".into(), "1.0000004".into()));
        assert_eq!(pair(-100.0038, -100.0011).0, "-100.004");
        assert_eq!(
            pair(-28_010.0, 1.028e15),
            ("-28.01k".into(), "1.03e15".into())
        );
        assert_eq!(pair(5.0, 5.0), ("5".into(), "5".into()));
    }
}
