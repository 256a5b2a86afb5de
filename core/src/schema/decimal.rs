//! Reading a number that a person typed. Half the world writes a decimal
//! comma, and a browser's number box may quietly drop it (`100000,50`
//! becomes `10000050`), so numbers arrive as text and this is the one
//! place that reads them: one decimal separator, `.` or `,`, and no
//! thousands separators. What could be read two ways is refused, never
//! guessed.

use serde_json::{Number, Value};

/// How a typed number is written, for messages.
const HOW: &str = "write it with digits and at most one decimal separator \
                   (. or ,), without thousands separators, for example 1234.5 or 1234,5";

/// Reads `text` (already trimmed, not empty) as a JSON number, for a field
/// that takes any number or (`integer`) whole ones. The error completes the
/// sentence "<field label> …".
pub(super) fn read(text: &str, integer: bool) -> Result<Value, String> {
    let not_a_number = || {
        if integer {
            "must be a whole number".to_owned()
        } else {
            format!("is not a number: {HOW}")
        }
    };
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let separators = unsigned.matches(['.', ',']).count();
    let plain = unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
    if !plain {
        // Exponents are for scripts; they use the API, or `.` here.
        return exponent(text).ok_or_else(not_a_number);
    }
    if separators > 1 {
        return Err(format!("has more than one separator in {text:?}: {HOW}"));
    }
    let (whole, fraction) = unsigned.split_once(['.', ',']).unwrap_or((unsigned, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(not_a_number());
    }
    if ambiguous(whole, fraction) {
        let separator = if unsigned.contains(',') { ',' } else { '.' };
        return Err(format!(
            "could mean {whole}{fraction} or {whole}.{fraction} ({text:?} uses {separator:?} \
             either as a thousands or a decimal separator): write {whole}{fraction} \
             for the whole number, or {whole}.{fraction}0 for the fraction"
        ));
    }
    let sign = if text.starts_with('-') { "-" } else { "" };
    let normal = format!(
        "{sign}{}.{fraction}",
        if whole.is_empty() { "0" } else { whole }
    );
    if fraction.is_empty()
        && let Ok(integer) = format!("{sign}{whole}").parse::<i64>()
    {
        return Ok(Value::Number(integer.into()));
    }
    normal
        .trim_end_matches('.')
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| format!("is too large a number: {HOW}"))
}

/// A separator followed by exactly three digits, after one to three digits
/// that do not start with 0, is a thousands separator in much of the world
/// and a decimal one in the rest: `1,234`, `12.500`.
fn ambiguous(whole: &str, fraction: &str) -> bool {
    fraction.len() == 3 && (1..=3).contains(&whole.len()) && !whole.starts_with('0')
}

/// Reads a number a person typed outside an input schema (a budget, say)
/// by the same rule as a form's number box; the error completes the
/// sentence "<field> …".
pub fn read_typed(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is empty: write a number such as 250 or 99.50".to_owned());
    }
    read(text, false)?
        .as_f64()
        .ok_or_else(|| format!("is not a number: {HOW}"))
}

/// `1.5e3`: a number with an exponent, written the JSON way.
fn exponent(text: &str) -> Option<Value> {
    let json_like = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
    json_like
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_one_decimal_separator_of_either_kind() {
        let read = |text| super::read(text, false);
        assert_eq!(read("100000,50"), Ok(json!(100000.5)));
        assert_eq!(read("100000.50"), Ok(json!(100000.5)));
        assert_eq!(read("-0,05"), Ok(json!(-0.05)));
        assert_eq!(read(",5"), Ok(json!(0.5)));
        assert_eq!(read("12"), Ok(json!(12)));
        assert_eq!(read("+12"), Ok(json!(12)));
        assert_eq!(read("0,125"), Ok(json!(0.125)));
        assert_eq!(read("1234,567"), Ok(json!(1234.567)));
        assert_eq!(read("1,5e3"), Err(format!("is not a number: {HOW}")));
        assert_eq!(read("1.5e3"), Ok(json!(1500.0)));
    }

    #[test]
    fn refuses_what_could_be_read_two_ways() {
        let read = |text| super::read(text, false);
        for text in ["1,234", "12.500", "-999,000"] {
            let message = read(text).expect_err(text);
            assert!(message.starts_with("could mean"), "{text}: {message}");
        }
        assert_eq!(
            read("1,234").expect_err("ambiguous"),
            "could mean 1234 or 1.234 (\"1,234\" uses ',' either as a thousands or a decimal \
             separator): write 1234 for the whole number, or 1.2340 for the fraction"
        );
        for text in [
            "1.234,5",
            "1,234,567",
            "1 234",
            "inf",
            "NaN",
            "five",
            ",",
            "-",
            "1e999",
        ] {
            assert!(read(text).is_err(), "{text} is refused");
        }
        assert_eq!(
            super::read("twelve", true),
            Err("must be a whole number".to_owned())
        );
    }
}
