//! How a previewed column's numbers read. A model writes what its language
//! prints (`317.43333333333334`), which is noise to a person reading a
//! table; the preview rounds it, and the download stays the file as the
//! model wrote it.
//!
//! The rule, one per column, so that its values line up:
//!
//! * An integer column shows its integers.
//! * A number column whose values are all written with the same few
//!   decimals (at most [`KEPT_DECIMALS`]) keeps them: the model chose them
//!   (`105000.00` reads `105,000.00`).
//! * Any other number column shows every value with the same decimals: enough for
//!   [`SIGNIFICANT`] significant figures of its largest value, never more
//!   than its values are written with, one more at a time while two
//!   different values would read alike, and at most [`MAX_DECIMALS`].
//!   `317.43333333333334` beside `402.75` reads `317.4` and `402.8`.
//! * A column of values all too small for that (below 0.001) shows each in
//!   scientific notation with [`SIGNIFICANT`] figures (`1.235e-7`); one
//!   too large for a float to hold every digit (1e15 and up) shows its
//!   values as written.
//! * A column with a value written with a leading zero (`01234`) holds
//!   codes (postcodes, account numbers), not quantities: shown as written.
//! * Thousands are grouped in the person's style when some value of the
//!   column has more than four digits before the point, so a column of
//!   years reads 2027 and one of revenues reads 1,234 beside 12,345.
//! * An empty cell stays empty.

use modelrun_core::display::NumberStyle;

use super::{ColumnType, parse_number};
use crate::format;

/// Significant figures of a column's largest value a preview shows.
pub const SIGNIFICANT: i32 = 4;

/// The most decimals a column written with the same decimals throughout
/// keeps as they are.
pub const KEPT_DECIMALS: usize = 4;

/// The most decimals a preview shows.
pub const MAX_DECIMALS: usize = 6;

/// From this magnitude on a float no longer holds every digit of an integer.
const EXACT_LIMIT: f64 = 1e15;

/// How one numeric column's cells are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnFormat {
    /// With this many decimals, grouped or not.
    Fixed { decimals: usize, grouped: bool },
    /// Each in scientific notation, [`SIGNIFICANT`] figures.
    Scientific,
    /// As written, only the separators in the person's style.
    AsWritten,
    /// As written, digits and all: codes such as `01234`.
    Code,
}

impl ColumnFormat {
    /// The format of a column of type `kind` whose cells are `cells`;
    /// `None` for a column that is not numeric.
    pub fn of<'a>(kind: ColumnType, cells: impl Iterator<Item = &'a str>) -> Option<Self> {
        if !kind.is_numeric() {
            return None;
        }
        let mut values = Vec::new();
        let mut written = 0usize;
        let mut same = None;
        for cell in cells {
            let Some(value) = parse_number(cell) else {
                continue;
            };
            if is_code(cell.trim()) {
                return Some(ColumnFormat::Code);
            }
            let decimals = written_decimals(cell.trim());
            same = match same {
                None => Some(Some(decimals)),
                Some(kept) => Some(kept.filter(|&kept| kept == decimals)),
            };
            written = written.max(decimals);
            values.push(value);
        }
        let largest = values.iter().fold(0.0f64, |max, v| max.max(v.abs()));
        if largest >= EXACT_LIMIT {
            return Some(ColumnFormat::AsWritten);
        }
        let grouped = largest.round() >= 10_000.0;
        if kind == ColumnType::Integer || largest == 0.0 {
            return Some(ColumnFormat::Fixed {
                decimals: 0,
                grouped,
            });
        }
        if let Some(Some(decimals @ 1..=KEPT_DECIMALS)) = same {
            return Some(ColumnFormat::Fixed { decimals, grouped });
        }
        let magnitude = largest.log10().floor() as i32;
        let wanted = usize::try_from(SIGNIFICANT - 1 - magnitude).unwrap_or(0);
        if wanted > MAX_DECIMALS {
            return Some(ColumnFormat::Scientific);
        }
        let most = written.min(MAX_DECIMALS);
        let mut decimals = wanted.min(most);
        while decimals < most && collide(&mut values, decimals) {
            decimals += 1;
        }
        Some(ColumnFormat::Fixed { decimals, grouped })
    }

    /// `cell` as this format shows it in `style`; a cell that is not a
    /// number comes back as written.
    pub fn show(self, cell: &str, style: NumberStyle) -> String {
        let Some(value) = parse_number(cell) else {
            return cell.to_owned();
        };
        match self {
            ColumnFormat::Code => cell.trim().to_owned(),
            ColumnFormat::AsWritten => format::number_text(cell.trim(), style),
            ColumnFormat::Scientific if value == 0.0 => "0".to_owned(),
            ColumnFormat::Scientific => {
                let text = format!("{:.*e}", (SIGNIFICANT - 1) as usize, value);
                let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
                let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
                format!("{mantissa}e{exponent}")
                    .replace('.', &style.decimal_separator().to_string())
            }
            ColumnFormat::Fixed { decimals, grouped } => fixed(value, decimals, grouped, style),
        }
    }
}

/// `value` with `decimals` decimals in `style`; never "-0".
fn fixed(value: f64, decimals: usize, grouped: bool, style: NumberStyle) -> String {
    let text = format!("{value:.decimals$}");
    let text = match text.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| matches!(b, b'0' | b'.')) => rest.to_owned(),
        _ => text,
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = if grouped {
        format::group(whole, style)
    } else {
        whole.to_owned()
    };
    if fraction.is_empty() {
        whole
    } else {
        format!("{whole}{}{fraction}", style.decimal_separator())
    }
}

/// The decimals `cell` is written with: the digits after its point, or
/// for `1.5e-7` what it would need written out (capped by the caller).
fn written_decimals(cell: &str) -> usize {
    let (mantissa, exponent) = match cell.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().unwrap_or(0)),
        None => (cell, 0),
    };
    let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i64;
    usize::try_from(fraction - exponent).unwrap_or(0)
}

/// Whether `cell` is written with a leading zero before other digits of
/// its whole part (`01234`, `-007.5`; not `0.5` or `0`).
fn is_code(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let whole = digits.split(['.', 'e', 'E']).next().unwrap_or_default();
    whole.len() > 1 && whole.starts_with('0')
}

/// Whether two different `values` read alike with `decimals` decimals
/// (sorts them; equal neighbours after rounding are the only collisions).
fn collide(values: &mut [f64], decimals: usize) -> bool {
    values.sort_by(f64::total_cmp);
    values.windows(2).any(|pair| {
        pair[0] != pair[1] && format!("{:.decimals$}", pair[0]) == format!("{:.decimals$}", pair[1])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINT: NumberStyle = NumberStyle::PointDecimal;
    const COMMA: NumberStyle = NumberStyle::CommaDecimal;

    fn shown(kind: ColumnType, cells: &[&str], style: NumberStyle) -> Vec<String> {
        let format = ColumnFormat::of(kind, cells.iter().copied()).expect("numeric");
        cells.iter().map(|cell| format.show(cell, style)).collect()
    }

    #[test]
    fn float_noise_is_rounded_to_four_significant_figures() {
        assert_eq!(
            shown(
                ColumnType::Number,
                &["317.43333333333334", "289.1", "402.75"],
                POINT
            ),
            ["317.4", "289.1", "402.8"]
        );
        assert_eq!(
            shown(ColumnType::Number, &["0.263773", "0.1"], POINT),
            ["0.2638", "0.1000"]
        );
        assert_eq!(
            shown(ColumnType::Number, &["105000.00", "98500.25"], POINT),
            ["105,000.00", "98,500.25"],
            "decimals the model chose are kept"
        );
        assert_eq!(
            shown(ColumnType::Number, &["1704285.0612", "-12000.5"], COMMA),
            ["1.704.285", "-12.000"]
        );
    }

    #[test]
    fn never_more_decimals_than_written_and_values_stay_distinct() {
        assert_eq!(
            shown(ColumnType::Number, &["2.5", "3.25"], POINT),
            ["2.50", "3.25"]
        );
        assert_eq!(
            shown(ColumnType::Number, &["100000.1", "100000.2", "3"], POINT),
            ["100,000.1", "100,000.2", "3.0"],
            "a decimal more so that the two read apart"
        );
        assert_eq!(
            shown(
                ColumnType::Number,
                &["1.00000001", "1.00000002", "5000"],
                POINT
            ),
            ["1.000000", "1.000000", "5000.000000"],
            "capped at six decimals"
        );
        assert_eq!(
            shown(ColumnType::Number, &["-0.00001", "12.5"], POINT),
            ["0.00", "12.50"],
            "never -0"
        );
    }

    #[test]
    fn integers_stay_integers_and_years_stay_ungrouped() {
        assert_eq!(
            shown(ColumnType::Integer, &["2027", "2028"], COMMA),
            ["2027", "2028"]
        );
        assert_eq!(
            shown(ColumnType::Integer, &["950", "1200", "15000"], POINT),
            ["950", "1,200", "15,000"]
        );
        assert_eq!(
            shown(ColumnType::Number, &["1.0", "2.0"], POINT),
            ["1.0", "2.0"]
        );
    }

    #[test]
    fn codes_keep_their_leading_zeros() {
        assert_eq!(
            shown(ColumnType::Integer, &["01234", "10115"], POINT),
            ["01234", "10115"]
        );
        assert!(!is_code("0.5") && !is_code("0") && !is_code("-0.25"));
        assert!(is_code("-007.5"));
    }

    #[test]
    fn tiny_and_huge_columns() {
        assert_eq!(
            shown(ColumnType::Number, &["1.23456e-7", "0.0000005"], COMMA),
            ["1,235e-7", "5e-7"]
        );
        assert_eq!(
            shown(ColumnType::Number, &["12345678901234567890.5"], POINT),
            ["12,345,678,901,234,567,890.5"]
        );
        assert_eq!(
            shown(ColumnType::Number, &["0", "2e-9"], POINT),
            ["0", "2e-9"]
        );
        assert_eq!(shown(ColumnType::Number, &["", "1.5"], POINT), ["", "1.5"]);
        assert_eq!(ColumnFormat::of(ColumnType::Text, ["a"].into_iter()), None);
    }

    #[test]
    fn written_decimals_count_exponents() {
        assert_eq!(written_decimals("1.25"), 2);
        assert_eq!(written_decimals("1.5e-7"), 8);
        assert_eq!(written_decimals("1.5E3"), 0);
        assert_eq!(written_decimals("12"), 0);
    }
}
