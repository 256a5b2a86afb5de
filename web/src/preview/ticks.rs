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

    /// Each tick's label in `style`, distinct for distinct ticks.
    pub fn labels(&self, style: NumberStyle) -> Vec<String> {
        let largest = self.values.iter().fold(0f64, |m, v| m.max(v.abs()));
        if largest >= 1e15 {
            let digits = (largest.log10().floor() - self.step.log10().floor()).clamp(0.0, 15.0);
            let digits = digits as usize;
            return self
                .values
                .iter()
                .map(|v| {
                    format!("{v:.digits$e}").replace('.', &style.decimal_separator().to_string())
                })
                .collect();
        }
        // Thousands only from 10k: `1,500` reads better than `1.5k`.
        let scales = [(1e9, "G", 1e9), (1e6, "M", 1e6), (1e3, "k", 1e4)];
        let (scale, suffix) = scales
            .into_iter()
            .find(|(scale, _, from)| largest >= *from && decimals(self.step / scale) <= 2)
            .map_or((1.0, ""), |(scale, suffix, _)| (scale, suffix));
        let places = decimals(self.step / scale);
        self.values
            .iter()
            .map(|v| format!("{}{suffix}", grouped(v / scale, places, style)))
            .collect()
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

/// `1.25M`, `350k`, `12.5` (or `1,25M` in the comma-decimal style): a
/// short number for a chart's description.
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
        assert_eq!(small.labels(POINT)[1], "0.000");
        assert_eq!(small.labels(POINT)[0], "-0.005");
        let huge = Ticks::covering(1e20, 1e20, 5);
        assert_eq!(huge.values.len(), 2, "the step is lost in rounding");
        let labels = huge.labels(POINT);
        assert_ne!(labels[0], labels[1]);
    }

    #[test]
    fn short_numbers_for_descriptions() {
        assert_eq!(grouped(-0.0, 1, POINT), "0.0");
        assert_eq!(grouped(-1234.5, 1, POINT), "-1,234.5");
        assert_eq!(compact(1_250_000.0, POINT), "1.25M");
        assert_eq!(compact(350_000.0, POINT), "350k");
        assert_eq!(compact(12.5, POINT), "12.5");
        assert_eq!(compact(-0.0, POINT), "0");
        assert_eq!(compact(1_250_000.0, NumberStyle::CommaDecimal), "1,25M");
    }
}
