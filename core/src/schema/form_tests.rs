use serde_json::json;

use super::*;

fn schema() -> InputSchema {
    InputSchema::parse(
        &json!({
            "type": "object",
            "required": ["growth", "horizon"],
            "properties": {
                "growth": {"type": "number", "maximum": 0.5},
                "horizon": {"type": "integer", "minimum": 1, "default": 12},
                "name": {"type": "string"},
                "audit": {"type": "boolean"},
                "cap": {"type": ["number", "null"]},
                "churn": {"type": "number", "default": 0.02}
            }
        }),
        "inputs",
    )
    .expect("schema")
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn reads_text_as_typed_values() {
    let inputs = schema()
        .validate_form(&form(&[
            ("growth", " 0.05 "),
            ("horizon", "24"),
            ("audit", "on"),
            ("name", " x "),
        ]))
        .expect("valid");
    assert_eq!(
        Value::Object(inputs),
        json!({"growth": 0.05, "horizon": 24, "name": " x ", "audit": true, "cap": null, "churn": 0.02})
    );
}

#[test]
fn empty_optional_boxes_are_absent_and_unticked_boxes_are_false() {
    let inputs = schema()
        .validate_form(&form(&[("growth", "0"), ("name", ""), ("cap", " ")]))
        .expect("valid");
    assert_eq!(
        Value::Object(inputs),
        json!({"growth": 0, "horizon": 12, "audit": false, "name": null, "cap": null, "churn": 0.02})
    );
}

#[test]
fn a_decimal_comma_is_read_and_an_ambiguous_number_refused() {
    let inputs = schema()
        .validate_form(&form(&[("growth", "0,05"), ("cap", "100000,50")]))
        .expect("valid");
    assert_eq!(inputs["cap"], json!(100000.5));
    assert_eq!(inputs["growth"], json!(0.05));
    let errors = schema()
        .validate_form(&form(&[
            ("growth", "0"),
            ("cap", "1.234,5"),
            ("horizon", "1,000"),
        ]))
        .expect_err("ambiguous");
    assert!(
        errors
            .message("cap")
            .is_some_and(|m| m.contains("more than one separator")),
        "{errors}"
    );
    assert!(
        errors
            .message("horizon")
            .is_some_and(|m| m.starts_with("could mean 1000 or 1.000")),
        "{errors}"
    );
}

#[test]
fn a_chosen_option_is_read_as_its_own_type() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "months": {"type": "integer", "oneOf": [{"const": 3, "title": "A quarter"}, {"const": 12, "title": "A year"}]}
        }}),
        "inputs",
    )
    .expect("schema");
    let inputs = schema
        .validate_form(&form(&[("months", "12")]))
        .expect("valid");
    assert_eq!(inputs["months"], json!(12));
    let errors = schema
        .validate_form(&form(&[("months", "A year")]))
        .expect_err("a label is not a value");
    assert_eq!(
        errors.message("months"),
        Some("must be one of: A quarter (3), A year (12)")
    );
}

#[test]
fn lines_keep_their_breaks_and_a_moment_needs_its_zone() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "notes": {"type": "string", "x-multiline": true},
            "at": {"type": ["string", "null"], "format": "date-time"}
        }}),
        "inputs",
    )
    .expect("schema");
    let inputs = schema
        .validate_form(&form(&[
            ("notes", "one\r\ntwo"),
            ("at", "2027-01-31T09:00:00+01:00"),
        ]))
        .expect("valid");
    assert_eq!(inputs["notes"], json!("one\ntwo"));
    assert_eq!(inputs["at"], json!("2027-01-31T09:00:00+01:00"));
    assert_eq!(
        schema
            .validate_form(&form(&[("at", "2027-01-31t08:00:00z")]))
            .map(|i| i["at"].clone()),
        Ok(json!("2027-01-31T08:00:00Z")),
        "written as every reader takes it"
    );
    let errors = schema
        .validate_form(&form(&[("at", "2027-01-31T09:00:00")]))
        .expect_err("no zone");
    assert_eq!(
        errors.message("at"),
        Some(
            "must be a date and time with its time zone, \
             written like 2027-01-31T09:00:00+01:00 (Z for UTC)"
        )
    );
    assert_eq!(
        schema
            .validate_form(&form(&[("at", "")]))
            .map(|i| i["at"].clone()),
        Ok(Value::Null)
    );
}

#[test]
fn a_list_is_every_line_or_every_ticked_option() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "required": ["rates"], "properties": {
            "rates": {"type": "array", "items": {"type": "number", "maximum": 0.5}, "maxItems": 4},
            "regions": {"type": "array", "uniqueItems": true, "items": {"type": "string", "oneOf": [
                {"const": "n", "title": "North"}, {"const": "s", "title": "South"}]}},
            "caps": {"type": ["array", "null"], "items": {"type": "integer"}}
        }}),
        "inputs",
    )
    .expect("schema");
    let inputs = schema
        .validate_form(&form(&[
            ("rates", "0,01\r\n\r\n 0.02 \n0.03"),
            ("regions", "s"),
            ("regions", "n"),
        ]))
        .expect("valid");
    assert_eq!(
        Value::Object(inputs),
        json!({"rates": [0.01, 0.02, 0.03], "regions": ["s", "n"], "caps": null})
    );
    let errors = schema
        .validate_form(&form(&[("rates", "0.1\nmuch"), ("regions", "x")]))
        .expect_err("unreadable");
    assert!(
        errors
            .message("rates")
            .is_some_and(|m| m.starts_with("(line 2) is not a number")),
        "{errors}"
    );
    assert_eq!(
        errors.message("regions"),
        Some("(item 1) must be one of: North (n), South (s)")
    );
    let errors = schema
        .validate_form(&form(&[("rates", " \n ")]))
        .expect_err("required");
    assert_eq!(
        errors.message("rates"),
        Some("is required: give at least one value")
    );
    let errors = schema
        .validate_form(&form(&[("rates", "0.6")]))
        .expect_err("too high");
    assert_eq!(
        errors.message("rates"),
        Some("(item 1) must be at most 0.5")
    );
}

#[test]
fn an_emptied_box_with_a_default_is_refused_not_defaulted() {
    let errors = schema()
        .validate_form(&form(&[("growth", "0"), ("churn", "")]))
        .expect_err("emptied");
    assert_eq!(
        errors.message("churn"),
        Some("was left empty: enter a value (its default is 0.02)")
    );
}

#[test]
fn an_emptied_required_box_is_refused_even_with_a_default() {
    let errors = schema()
        .validate_form(&form(&[("growth", "0"), ("horizon", " ")]))
        .expect_err("emptied");
    assert_eq!(errors.message("horizon"), Some("is required"));
    assert_eq!(errors.errors.len(), 1);
}

#[test]
fn unreadable_values_are_reported_once_per_field() {
    let errors = schema()
        .validate_form(&form(&[
            ("growth", "five"),
            ("horizon", "2.5"),
            ("zzz", "1"),
            ("audit", "maybe"),
        ]))
        .expect_err("invalid");
    assert!(
        errors
            .message("growth")
            .is_some_and(|m| m.starts_with("is not a number")),
        "{errors}"
    );
    assert_eq!(errors.message("horizon"), Some("must be a whole number"));
    assert_eq!(errors.message("audit"), Some("must be true or false"));
    assert_eq!(errors.message("zzz"), Some("is not an input of this model"));
    assert_eq!(errors.errors.len(), 4, "{errors}");
}

#[test]
fn bounds_apply_after_reading_and_empty_required_fields_are_named() {
    let errors = schema()
        .validate_form(&form(&[("growth", "0.9")]))
        .expect_err("too high");
    assert_eq!(errors.message("growth"), Some("must be at most 0.5"));
    let errors = schema()
        .validate_form(&form(&[("growth", "  ")]))
        .expect_err("empty");
    assert_eq!(errors.message("growth"), Some("is required"));
    assert_eq!(errors.errors.len(), 1);
}

#[test]
fn infinities_and_duplicates_are_refused() {
    let errors = schema()
        .validate_form(&form(&[("growth", "inf")]))
        .expect_err("inf");
    assert!(
        errors
            .message("growth")
            .is_some_and(|m| m.starts_with("is not a number")),
        "{errors}"
    );
    let errors = schema()
        .validate_form(&form(&[("growth", "0.1"), ("growth", "0.2")]))
        .expect_err("twice");
    assert_eq!(errors.message("growth"), Some("was sent more than once"));
}
