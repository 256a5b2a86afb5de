//! Reading one `[outputs.metrics.NAME]`: how a key figure is labelled and
//! written. A key that does not apply to the format is reported as that,
//! once; a given but unusable value as what it is; a missing one as needed.

use super::parse::check_text;
use super::{
    MAX_LABEL_CHARS, MAX_NAME_CHARS, MAX_PLACES, MAX_SYMBOL_CHARS, MetricDecl, MetricFormat,
    Problems,
};
use crate::toml_fields::{Fields, check_shown};

const FORMATS: &str = "\"number\", \"percent\", \"currency\", \"integer\" or \"decimals\"";

/// Key figure `name`, declared by `value`; `None` when it is not a table.
pub(super) fn parse_metric(
    name: String,
    value: toml::Value,
    problems: &mut Problems,
) -> Option<MetricDecl> {
    let path = format!("outputs.metrics.{name}");
    check_text(&name, MAX_NAME_CHARS, &path, problems);
    let mut fields = Fields::open(
        value,
        &path,
        "with format, label, symbol or places (format = \"percent\")",
        problems,
    )?;
    let label = fields.text("label", problems);
    if let Some(label) = &label {
        check_text(label, MAX_LABEL_CHARS, &fields.at("label"), problems);
    }
    let format_given = fields.given("format");
    let format_text = fields.text("format", problems);
    let format = match format_text.as_deref() {
        None if format_given => None,
        None => Some("number"),
        Some(format @ ("number" | "integer" | "percent" | "decimals" | "currency")) => Some(format),
        Some(other) => {
            problems.push((
                fields.at("format"),
                format!("{other:?} is not a format; use {FORMATS}"),
            ));
            None
        }
    };
    let Some(format) = format else {
        // The format is wrong, so whether symbol and places fit it is moot.
        fields.skip("symbol");
        fields.skip("places");
        fields.finish(&["label", "format", "symbol", "places"], problems);
        return None;
    };
    let symbol = if format == "currency" {
        read_symbol(&mut fields, problems)
    } else {
        refuse_unless(
            &mut fields,
            "symbol",
            "is for format = \"currency\"",
            format,
            problems,
        );
        None
    };
    let places = if matches!(format, "number" | "integer") {
        refuse_unless(
            &mut fields,
            "places",
            "is for format = \"percent\", \"currency\" or \"decimals\"",
            format,
            problems,
        );
        None
    } else {
        read_places(&mut fields, format, problems)
    };
    fields.finish(&["label", "format", "symbol", "places"], problems);
    let format = match format {
        "integer" => MetricFormat::Integer,
        "percent" => MetricFormat::Percent {
            places: places.unwrap_or(1),
        },
        "decimals" => MetricFormat::Decimals {
            places: places.unwrap_or(0),
        },
        "currency" => MetricFormat::Currency {
            symbol: symbol.unwrap_or_default(),
            places: places.unwrap_or(2),
        },
        _ => MetricFormat::Number,
    };
    Some(MetricDecl {
        name,
        label,
        format,
    })
}

/// Reports `key` as not for `format` when it is given.
fn refuse_unless(
    fields: &mut Fields,
    key: &str,
    rule: &str,
    format: &str,
    problems: &mut Problems,
) {
    if fields.given(key) {
        problems.push((fields.at(key), format!("{rule}, not {format:?}")));
        fields.skip(key);
    }
}

/// A currency's symbol: needed, and 1 to [`MAX_SYMBOL_CHARS`] characters.
fn read_symbol(fields: &mut Fields, problems: &mut Problems) -> Option<String> {
    let rule = format!("1–{MAX_SYMBOL_CHARS} characters without digits, such as \"€\" or \"$\"");
    if !fields.given("symbol") {
        problems.push((
            fields.at("symbol"),
            format!("is needed with format = \"currency\": {rule}"),
        ));
        return None;
    }
    let symbol = fields.text("symbol", problems)?;
    let at = fields.at("symbol");
    if symbol.trim().is_empty() {
        problems.push((at, format!("is blank; it must be {rule}")));
    } else if symbol.chars().count() > MAX_SYMBOL_CHARS
        || symbol.contains(|c: char| c.is_ascii_digit())
    {
        problems.push((at, format!("is {symbol:?}; it must be {rule}")));
    } else {
        check_shown(&symbol, &at, false, problems);
    }
    Some(symbol)
}

/// Decimal places: from 0 to [`MAX_PLACES`], needed by `"decimals"`.
fn read_places(fields: &mut Fields, format: &str, problems: &mut Problems) -> Option<u8> {
    if !fields.given("places") {
        if format == "decimals" {
            problems.push((
                fields.at("places"),
                "is needed with format = \"decimals\" (places = 2)".into(),
            ));
        }
        return None;
    }
    let places = fields.whole(
        "places",
        &format!("a whole number from 0 to {MAX_PLACES}"),
        problems,
    )?;
    match u8::try_from(places) {
        Ok(places) if places <= MAX_PLACES => Some(places),
        _ => {
            problems.push((
                fields.at("places"),
                format!("is {places}; it must be from 0 to {MAX_PLACES}"),
            ));
            None
        }
    }
}
