//! How a previewed column's numbers read. A model writes what its language
//! prints (`317.43333333333334`), which is noise to a person reading a
//! table; the preview rounds it, and the download stays the file as the
//! model wrote it. Rounding never hides a number: a non-zero value never
//! reads as 0 or loses its sign, and a rounded cell shows every digit the
//! file has when hovered.
//!
//! The rule, one per column, so that its values line up:
//!
//! * An integer column shows its integers.
//! * A number column whose values are all written with the same few
//!   decimals (at most [`KEPT_DECIMALS`]) keeps them: the model chose them
//!   (`105000.00` reads `105,000.00`).
//! * Any other number column shows every value with the same decimals:
//!   enough for [`SIGNIFICANT`] significant figures of its largest value
//!   and [`MIN_SIGNIFICANT`] of its smallest non-zero one, never more than
//!   its values are written with, and at most [`MAX_DECIMALS`].
//!   `317.43333333333334` beside `402.75` reads `317.4` and `402.8`;
//!   `-0.5`, `1234567.89` and `0.001` read `-0.500`, `1,234,567.890` and
//!   `0.001`.
//! * Where two different values would still read alike, the column takes
//!   the fewest more decimals (up to what they are written with, and
//!   [`DISTINCT_SIGNIFICANT`] figures of its largest value) that part
//!   them: `1.000000001` beside `1.000000002` reads so, not `1.000000`
//!   twice. Values that differ only past that (float noise such as
//!   `0.30000000000000004` beside `0.3`) read alike.
//! * A cell too small for the column's decimals to keep
//!   [`MIN_SIGNIFICANT`] of its figures (`0.0000123` in a column of six
//!   decimals) reads in scientific notation with [`SIGNIFICANT`] figures
//!   (`1.23e-5`), as does every value of a column of values all too small
//!   for [`MAX_DECIMALS`] (`1.235e-7`).
//! * A value too small for [`MAX_DECIMALS`] to keep [`MIN_SIGNIFICANT`] of
//!   its figures reads in its own notation, so it drives neither the
//!   column's decimals nor how many it is written with: `0.5` beside
//!   `-0.0000001` reads `0.5` and `-1e-7`, not `0.500000`.
//! * A column with a value too large for a float to hold every digit (1e15
//!   and up) shows its values as written, a fraction of only zeros left
//!   out (`1001000000000000000.0` reads `1,001,000,000,000,000,000`,
//!   `1,50E+20` in a `;` file `1,5e20`).
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

/// Significant figures every non-zero value keeps at the least (fewer only
/// where it is written with fewer).
pub const MIN_SIGNIFICANT: i32 = 3;

/// The most decimals a column written with the same decimals throughout
/// keeps as they are.
pub const KEPT_DECIMALS: usize = 4;

/// The most decimals a preview shows for precision's sake.
pub const MAX_DECIMALS: usize = 6;

/// Significant figures of its largest value a column may show to part two
/// different values; differences past these are float noise.
pub const DISTINCT_SIGNIFICANT: i32 = 12;

/// From this magnitude on a float no longer holds every digit of an integer.
const EXACT_LIMIT: f64 = 1e15;

/// How one numeric column's cells are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnFormat {
    /// With this many decimals, grouped or not; a cell these decimals
    /// would leave with fewer than [`MIN_SIGNIFICANT`] figures reads in
    /// scientific notation.
    Fixed { decimals: usize, grouped: bool },
    /// Each in scientific notation, [`SIGNIFICANT`] figures.
    Scientific,
    /// As written, only the separators in the person's style and a
    /// fraction of zeros left out.
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
            values.push((value, decimals));
        }
        let largest = values.iter().fold(0.0f64, |max, (v, _)| max.max(v.abs()));
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
        if decimals_for(largest, SIGNIFICANT) > MAX_DECIMALS {
            return Some(ColumnFormat::Scientific);
        }
        values.retain(|&(value, _)| !own_notation(value));
        let written = values.iter().map(|&(_, d)| d).max().unwrap_or(0);
        let mut values: Vec<f64> = values.into_iter().map(|(value, _)| value).collect();
        let smallest = values
            .iter()
            .map(|v| v.abs())
            .filter(|&v| v > 0.0)
            .fold(largest, f64::min);
        let wanted =
            decimals_for(largest, SIGNIFICANT).max(decimals_for(smallest, MIN_SIGNIFICANT));
        let start = wanted.min(written).min(MAX_DECIMALS);
        let most = written.min(decimals_for(largest, DISTINCT_SIGNIFICANT).max(MAX_DECIMALS));
        values.sort_by(f64::total_cmp);
        let decimals = (start..=most)
            .find(|&decimals| !collide(&values, decimals))
            .unwrap_or(start);
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
            ColumnFormat::AsWritten => as_written(cell.trim(), style),
            ColumnFormat::Scientific => scientific(value, style),
            ColumnFormat::Fixed { decimals, .. } if too_coarse(value, cell.trim(), decimals) => {
                scientific(value, style)
            }
            ColumnFormat::Fixed { decimals, grouped } => fixed(value, decimals, grouped, style),
        }
    }
}

/// The decimals `value` (non-zero) needs to show `figures` significant
/// figures: 3 for 1.234 and 4 figures, 0 for 12345.
fn decimals_for(value: f64, figures: i32) -> usize {
    let magnitude = value.abs().log10().floor() as i32;
    usize::try_from(figures - 1 - magnitude).unwrap_or(0)
}

/// Whether `value` is too small for [`MAX_DECIMALS`] to keep
/// [`MIN_SIGNIFICANT`] of its figures (`0.0000123`, `-1e-7`): in a column of
/// larger values it reads in scientific notation ([`too_coarse`]).
fn own_notation(value: f64) -> bool {
    value != 0.0 && decimals_for(value, MIN_SIGNIFICANT) > MAX_DECIMALS
}

/// Whether `decimals` leave non-zero `value`, written as `cell`, with fewer
/// than [`MIN_SIGNIFICANT`] figures while the file has more of it.
fn too_coarse(value: f64, cell: &str, decimals: usize) -> bool {
    value != 0.0
        && written_decimals(cell) > decimals
        && decimals_for(value, MIN_SIGNIFICANT) > decimals
}

/// `value` in scientific notation with [`SIGNIFICANT`] figures
/// (`1.235e-7`, `5e-7`); 0 is `0`.
fn scientific(value: f64, style: NumberStyle) -> String {
    format::scientific(value, SIGNIFICANT as usize, style)
}

/// `value` with `decimals` decimals in `style`; never "-0" (a value that
/// rounds to zero is zero or was shown otherwise, see [`too_coarse`]).
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

/// `cell` as written in `style`, a fraction of only zeros left out; one
/// written with an exponent keeps its digits in the form
/// [`format::scientific`] writes (`1.50E+20` reads `1.5e20`).
fn as_written(cell: &str, style: NumberStyle) -> String {
    match cell.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let mantissa = if mantissa.contains('.') {
                let trimmed = mantissa.trim_end_matches('0');
                trimmed.strip_suffix('.').unwrap_or(trimmed)
            } else {
                mantissa
            };
            let exponent = exponent.parse::<i64>().unwrap_or(0);
            format!("{}e{exponent}", format::number_text(mantissa, style))
        }
        None => format::number_text(whole_if_zeros(cell), style),
    }
}

/// `cell` without a fraction of only zeros (`12.00` → `12`).
fn whole_if_zeros(cell: &str) -> &str {
    match cell.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => {
            whole
        }
        _ => cell,
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

/// Whether two different `values` (sorted) read alike with `decimals`
/// decimals: equal neighbours after rounding are the only collisions.
fn collide(values: &[f64], decimals: usize) -> bool {
    values.windows(2).any(|pair| {
        pair[0] != pair[1] && format!("{:.decimals$}", pair[0]) == format!("{:.decimals$}", pair[1])
    })
}

#[cfg(test)]
#[path = "numbers_tests.rs"]
mod tests;
