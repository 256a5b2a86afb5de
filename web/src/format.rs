//! How numbers, sizes, times and durations read on a page.

use chrono::{DateTime, Utc};
use modelrun_core::display::NumberStyle;
use modelrun_core::outputs::MetricFormat;

/// "3.4 MB", "812 B".
pub fn bytes(size: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = size.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{} {}", rounded(value, 1), UNITS[unit])
    }
}

/// "4 s", "2 min 5 s", "3 h 12 min".
pub fn duration(span: chrono::Duration) -> String {
    let seconds = span.num_seconds().max(0);
    match seconds {
        0..60 => {
            let millis = span.num_milliseconds().max(0);
            if millis < 10_000 {
                format!("{} s", rounded(millis as f64 / 1000.0, 1))
            } else {
                format!("{seconds} s")
            }
        }
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// "2027-01-05 14:03 UTC".
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "just now", "5 minutes ago", "3 days ago".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| format!("{} ago", modelrun_core::words::count(n, unit));
    match seconds {
        ..60 => "just now".to_owned(),
        60..3600 => plural(seconds / 60, "minute"),
        3600..86_400 => plural(seconds / 3600, "hour"),
        _ => plural(seconds / 86_400, "day"),
    }
}

/// A JSON value as a person reads it: text without quotes.
pub fn value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// From this magnitude on a key figure reads in scientific notation: a
/// float holds no more digits, and 1e300 written out would be 301 of them.
const COMPACT_FROM: f64 = 1e15;

/// Below this magnitude an undeclared key figure (not zero) reads in
/// scientific notation rather than as a run of zeros.
const COMPACT_BELOW: f64 = 1e-6;

/// Significant figures of a key figure in scientific notation.
const COMPACT_SIGNIFICANT: usize = 4;

/// A key figure in a person's number style, rounded sensibly: four
/// significant digits ("0.2638", "0.000028", "12.35") but never fewer than
/// two decimals ("1,704,285.06"), trailing zeros dropped ("1,234.5",
/// "24"), thousands grouped; a negative value as its positive one with a
/// minus. From 1e15 on, and below 1e-6, in scientific notation with four
/// significant figures ("1.235e15", "-1e300", "2.5e-9").
pub fn figure(value: f64, style: NumberStyle) -> String {
    let size = value.abs();
    if size >= COMPACT_FROM || (size > 0.0 && size < COMPACT_BELOW) {
        return scientific(value, COMPACT_SIGNIFICANT, style);
    }
    if value.fract() == 0.0 {
        return group(&format!("{}", value as i64), style);
    }
    let magnitude = size.log10().floor();
    let decimals = if magnitude < 0.0 {
        (3.0 - magnitude) as usize
    } else {
        (3.0 - magnitude).max(2.0) as usize
    };
    let text = rounded(value, decimals);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    separate(text, style)
}

/// `value` in scientific notation with `significant` figures (at least
/// 1), trailing zeros dropped, in `style`: "1.235e-7", "5e-7", "-1e300",
/// "1,5e20"; 0 is "0", an infinity "∞" or "-∞".
pub fn scientific(value: f64, significant: usize, style: NumberStyle) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-∞" } else { "∞" }.to_owned();
    }
    let shortest = format!("{:e}", value.abs());
    let (mantissa, exponent) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let mut exponent: i32 = exponent.parse().unwrap_or(0);
    let mut mantissa = rounded(mantissa.parse().unwrap_or(0.0), significant.max(1) - 1);
    // Rounding up 9.9995 makes 10.00: one more power of ten.
    if mantissa.starts_with("10") {
        exponent += 1;
        mantissa = rounded(
            mantissa.parse::<f64>().unwrap_or(0.0) / 10.0,
            significant.max(1) - 1,
        );
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        &mantissa
    };
    format!("{sign}{mantissa}e{exponent}").replace('.', &style.decimal_separator().to_string())
}

/// A key figure written as its version declares (`[outputs.metrics]`):
/// "7.1%" (or "7,1 %"), "€1,234.50" (or "1.234,50 €"), "24", "0.123".
/// In every format a number of 1e15 or more reads in scientific notation
/// ("€1.235e15", "1e302%"), so that no figure runs across the page.
pub fn metric(value: f64, format: &MetricFormat, style: NumberStyle) -> String {
    let comma = style == NumberStyle::CommaDecimal;
    match format {
        MetricFormat::Number => figure(value, style),
        MetricFormat::Integer => fixed(value, 0, style),
        MetricFormat::Decimals { places } => fixed(value, *places, style),
        MetricFormat::Percent { places } => {
            let number = fixed(value * 100.0, *places, style);
            if comma {
                format!("{number} %")
            } else {
                format!("{number}%")
            }
        }
        MetricFormat::Currency { symbol, places } => {
            let number = fixed(value.abs(), *places, style);
            let sign = if value < 0.0 && number.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
                "-"
            } else {
                ""
            };
            // A word such as CHF stands apart; a sign such as € or $ does not.
            let apart = symbol.chars().all(char::is_alphabetic);
            if comma {
                format!("{sign}{number} {symbol}")
            } else if apart {
                format!("{sign}{symbol} {number}")
            } else {
                format!("{sign}{symbol}{number}")
            }
        }
    }
}

/// `value` with exactly `places` decimals, thousands grouped. A value that
/// is not zero never reads as zero: one that `places` would round to it
/// gets the decimals of two significant figures ("0.0012", not "0.00"),
/// and below 1e-6 scientific notation ("1.2e-9"). From 1e15 on, in
/// scientific notation (the decimals would be noise).
fn fixed(value: f64, places: u8, style: NumberStyle) -> String {
    let size = value.abs();
    if size >= COMPACT_FROM {
        return scientific(value, COMPACT_SIGNIFICANT, style);
    }
    let places = usize::from(places);
    let text = rounded(value, places);
    if size == 0.0 || text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        return separate(&text, style);
    }
    if size < COMPACT_BELOW {
        return scientific(value, 2, style);
    }
    let first = (-size.log10()).floor() as usize + 1;
    let text = rounded(value, first + 1);
    separate(text.trim_end_matches('0').trim_end_matches('.'), style)
}

/// `value` as plain decimal text with exactly `places` decimals ("-12.50"),
/// never "-0". Rounded from the shortest decimal that reads back as the
/// same number (what `{}` writes), half away from zero as spreadsheets
/// round: 0.125 is "0.13" and 2.5 is "3", where `{:.N}` rounds the binary
/// value ("0.12", a hair under) half to even ("2"), and 999999999999999.9
/// at two places is "…999.90", not the "…999.88" of the binary value's
/// further digits. Not finite, as `{}` writes it ("inf", "NaN").
fn rounded(value: f64, places: usize) -> String {
    if !value.is_finite() {
        return format!("{value}");
    }
    let shortest = format!("{}", value.abs());
    let (whole, fraction) = shortest.split_once('.').unwrap_or((&shortest, ""));
    let kept = fraction.bytes().chain(std::iter::repeat(b'0')).take(places);
    let mut digits: Vec<u8> = whole.bytes().chain(kept).collect();
    if fraction.as_bytes().get(places).is_some_and(|d| *d >= b'5') {
        let carried = digits.iter().rposition(|d| *d != b'9');
        for digit in &mut digits[carried.map_or(0, |at| at + 1)..] {
            *digit = b'0';
        }
        match carried {
            Some(at) => digits[at] += 1,
            None => digits.insert(0, b'1'),
        }
    }
    let zero = digits.iter().all(|d| *d == b'0');
    let sign = if value < 0.0 && !zero { "-" } else { "" };
    let (whole, fraction) = digits.split_at(digits.len() - places);
    let whole = String::from_utf8_lossy(whole);
    if places == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{}", String::from_utf8_lossy(fraction))
    }
}

/// Plain decimal text (`-1234.5`) in `style`: grouped, its separator.
fn separate(text: &str, style: NumberStyle) -> String {
    match text.split_once('.') {
        Some((whole, fraction)) => format!(
            "{}{}{fraction}",
            group(whole, style),
            style.decimal_separator()
        ),
        None => group(text, style),
    }
}

/// A number a person typed or a file holds, shown in their style: its
/// digits kept as written (no rounding), only the separators changed.
/// Four-digit whole parts stay ungrouped, as many locales write them, so
/// that a year such as 2027 never reads as "2,027". Anything that is not a
/// plain decimal number comes back unchanged.
pub fn number_text(text: &str, style: NumberStyle) -> String {
    let (sign, digits) = text.strip_prefix('-').map_or(("", text), |d| ("-", d));
    let (whole, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(w, f)| (w, Some(f)));
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !plain(whole) || fraction.is_some_and(|f| !plain(f)) {
        return text.to_owned();
    }
    let whole = if whole.len() > 4 {
        group(&format!("{sign}{whole}"), style)
    } else {
        format!("{sign}{whole}")
    };
    match fraction {
        Some(fraction) => format!("{whole}{}{fraction}", style.decimal_separator()),
        None => whole,
    }
}

/// A JSON number written out in decimal, never with an exponent
/// (`1.5e-7` is `0.00000015`): what a person types and reads.
pub fn plain_number(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(x) if !number.is_i64() && !number.is_u64() => format!("{x}"),
        _ => number.to_string(),
    }
}

/// A JSON value as a person reads it, numbers in their style; nothing
/// (`null`) is a dash.
pub fn value_in(value: &serde_json::Value, style: NumberStyle) -> String {
    match value {
        serde_json::Value::Number(number) => number_text(&plain_number(number), style),
        serde_json::Value::Null => "—".to_owned(),
        other => self::value(other),
    }
}

/// An input's value as a person reads it: a choice's label where the
/// input is a labelled choice (`oneOf` of `const` + `title`), a list's
/// items in turn ("North, South"; "none" when empty), a file by its name
/// and size, else the value in `style`.
pub fn input_value(
    field: Option<&modelrun_core::schema::Field>,
    value: &serde_json::Value,
    style: NumberStyle,
) -> String {
    use modelrun_core::schema::{FieldKind, FileRef};
    if let Some(file) = FileRef::from_value(value) {
        return format!(
            "{} ({})",
            file.name,
            bytes(i64::try_from(file.bytes).unwrap_or(i64::MAX))
        );
    }
    if let serde_json::Value::Array(items) = value {
        let item = field.and_then(|field| match &field.kind {
            FieldKind::List { item, .. } => Some(item.as_ref()),
            _ => None,
        });
        if items.is_empty() {
            return "none".to_owned();
        }
        // Where a comma is the decimal separator, items part with a semicolon.
        let between = match style {
            NumberStyle::CommaDecimal => "; ",
            NumberStyle::PointDecimal => ", ",
        };
        return items
            .iter()
            .map(|value| input_value(item, value, style))
            .collect::<Vec<_>>()
            .join(between);
    }
    let label = field.and_then(|field| match &field.kind {
        FieldKind::Enum { options } => options
            .iter()
            .find(|option| &option.value == value)
            .map(|option| option.label.clone()),
        _ => None,
    });
    label.unwrap_or_else(|| value_in(value, style))
}

/// `whole`, an optional `-` and digits, with its digits grouped by three
/// in `style` ("-1,234,567").
pub fn group(whole: &str, style: NumberStyle) -> String {
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(style.group_separator());
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
