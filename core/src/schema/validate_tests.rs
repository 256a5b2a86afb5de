//! Tests of input validation: types, bounds, null, choices and messages.

use serde_json::json;

use super::*;

fn schema() -> InputSchema {
    InputSchema::parse(
        &json!({
            "type": "object",
            "required": ["growth", "horizon", "start"],
            "properties": {
                "growth": {"type": "number", "minimum": -0.5, "maximum": 0.5, "title": "Growth"},
                "horizon": {"type": "integer", "minimum": 1, "maximum": 60},
                "start": {"type": "string", "format": "date"},
                "churn": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.02},
                "profile": {"type": "string", "enum": ["none", "retail"], "default": "none"},
                "note": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                "audit": {"type": "boolean"}
            }
        }),
        "inputs",
    )
    .expect("valid schema")
}

fn errors(inputs: Value) -> Vec<(String, String)> {
    let Value::Object(inputs) = inputs else {
        panic!("object expected")
    };
    match schema().validate(&inputs) {
        Ok(valid) => panic!("expected errors, got {valid:?}"),
        Err(errors) => errors
            .errors
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect(),
    }
}

fn one_error(inputs: Value) -> (String, String) {
    let mut found = errors(inputs);
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn base() -> Value {
    json!({"growth": 0.1, "horizon": 12, "start": "2027-01-01"})
}

fn with(key: &str, value: Value) -> Value {
    let mut inputs = base();
    inputs[key] = value;
    inputs
}

#[test]
fn valid_inputs_get_defaults_and_normal_form() {
    let Value::Object(submitted) = with("horizon", json!(24.0)) else {
        unreachable!()
    };
    let inputs = schema().validate(&submitted).expect("valid");
    assert_eq!(
        Value::Object(inputs),
        json!({"growth": 0.1, "horizon": 24, "start": "2027-01-01", "churn": 0.02, "profile": "none",
               "note": null, "audit": false})
    );
}

#[test]
fn numbers_check_type_and_each_bound() {
    let msg = |key: &str, value: Value| one_error(with(key, value)).1;
    assert_eq!(msg("growth", json!("0.1")), "must be a number");
    assert_eq!(msg("growth", json!(0.51)), "must be at most 0.5");
    assert_eq!(msg("growth", json!(-0.6)), "must be at least -0.5");
    assert_eq!(msg("churn", json!(0)), "must be more than 0");
    assert_eq!(msg("churn", json!(1)), "must be less than 1");
    assert_eq!(msg("horizon", json!(1.5)), "must be a whole number");
    assert_eq!(msg("horizon", json!(61)), "must be at most 60");
    assert_eq!(msg("horizon", json!(0)), "must be at least 1");
    assert_eq!(msg("horizon", json!(1e300)), "must be at most 60");
    assert_eq!(msg("horizon", json!(true)), "must be a whole number");
}

#[test]
fn strings_enums_dates_and_booleans_check_their_rules() {
    let msg = |key: &str, value: Value| one_error(with(key, value)).1;
    assert_eq!(
        msg("note", json!("a")),
        "must be at least 2 characters long"
    );
    assert_eq!(
        msg("note", json!("abcdef")),
        "must be at most 5 characters long"
    );
    assert_eq!(msg("note", json!("AB")), "must match the pattern ^[a-z]+$");
    assert_eq!(msg("note", json!(12)), "must be text");
    assert_eq!(
        msg("profile", json!("winter")),
        "must be one of: none, retail"
    );
    assert_eq!(
        msg("start", json!("2027-02-30")),
        "must be a date written YYYY-MM-DD"
    );
    assert_eq!(
        msg("start", json!("2027-1-01")),
        "must be a date written YYYY-MM-DD"
    );
    assert_eq!(
        msg("start", json!("2027-01-01T00:00")),
        "must be a date written YYYY-MM-DD"
    );
    assert_eq!(msg("audit", json!("yes")), "must be true or false");
    // Length counts characters, not bytes.
    let Value::Object(ok) = with("note", json!("éé")) else {
        unreachable!()
    };
    assert!(
        InputSchema::parse(
            &json!({"type": "object", "properties": {"note": {"type": "string", "maxLength": 2}}}),
            "inputs"
        )
        .expect("schema")
        .validate(&serde_json::Map::from_iter([(
            "note".to_owned(),
            ok["note"].clone()
        )]))
        .is_ok()
    );
}

#[test]
fn null_is_a_value_that_only_nullable_fields_take() {
    let msg = |key: &str| one_error(with(key, Value::Null)).1;
    assert_eq!(msg("growth"), "cannot be null: send a value");
    assert_eq!(
        msg("churn"),
        "cannot be null: send a value, or leave it out to take its default"
    );
    assert_eq!(msg("audit"), "cannot be null: send a value");
    let nullable = InputSchema::parse(
        &json!({"type": "object", "required": ["rate"], "properties": {
            "rate": {"type": ["number", "null"], "default": 0.5},
            "cap": {"type": ["null", "integer"]}
        }}),
        "inputs",
    )
    .expect("schema");
    let valid = |inputs: Value| {
        let Value::Object(inputs) = inputs else {
            unreachable!()
        };
        nullable.validate(&inputs).map(Value::Object)
    };
    assert_eq!(
        valid(json!({"rate": null})),
        Ok(json!({"rate": null, "cap": null}))
    );
    assert_eq!(valid(json!({"cap": 3})), Ok(json!({"rate": 0.5, "cap": 3})));
    assert!(valid(json!({"rate": "x"})).is_err());
}

#[test]
fn every_input_has_a_key_and_a_left_out_null_reads_back() {
    let Value::Object(submitted) = with("note", Value::Null) else {
        unreachable!()
    };
    let inputs = schema().validate(&submitted).expect("valid");
    assert_eq!(inputs["note"], Value::Null);
    assert_eq!(
        inputs["audit"],
        json!(false),
        "an optional boolean is false"
    );
    assert_eq!(schema().validate(&inputs), Ok(inputs.clone()));
}

#[test]
fn pattern_messages_are_the_manifests_or_a_plain_shape() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "month": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
            "day": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$", "x-pattern-message": "must be three capital letters, like EUR"},
            "other": {"type": "string", "pattern": "^[a-z]+$"}
        }}),
        "inputs",
    )
    .expect("schema");
    let message = |key: &str| {
        let inputs = serde_json::Map::from_iter([(key.to_owned(), json!("2027-1!"))]);
        schema.validate(&inputs).expect_err("refused").errors[0]
            .message
            .clone()
    };
    assert_eq!(message("month"), "must look like 2027-01");
    assert_eq!(message("day"), "must look like 2027-01-31");
    assert_eq!(message("code"), "must be three capital letters, like EUR");
    assert_eq!(message("other"), "must match the pattern ^[a-z]+$");
}

#[test]
fn a_choice_takes_its_values_and_a_refusal_lists_the_labels() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "months": {"type": "integer", "enum": [3, 6, 12]},
            "profile": {"type": "string", "oneOf": [
                {"const": "none", "title": "Flat"},
                {"const": "retail", "title": "Strong Q4"}
            ]}
        }}),
        "inputs",
    )
    .expect("schema");
    let check = |inputs: Value| {
        let Value::Object(inputs) = inputs else {
            unreachable!()
        };
        schema.validate(&inputs).map(Value::Object)
    };
    assert_eq!(
        check(json!({"months": 6.0, "profile": "retail"})),
        Ok(json!({"months": 6, "profile": "retail"}))
    );
    let refused = check(json!({"months": 4, "profile": "Flat"})).expect_err("refused");
    assert_eq!(refused.message("months"), Some("must be one of: 3, 6, 12"));
    assert_eq!(
        refused.message("profile"),
        Some("must be one of: Flat (none), Strong Q4 (retail)")
    );
}

#[test]
fn missing_required_and_unknown_fields_are_named() {
    assert_eq!(
        errors(json!({"extra": 1, "horizon": 3, "start": "2027-01-01"})),
        [
            ("growth".to_owned(), "is required".to_owned()),
            (
                "extra".to_owned(),
                "is not an input of this model".to_owned()
            ),
        ]
    );
    assert_eq!(errors(json!({})).len(), 3);
}

#[test]
fn a_whole_number_too_large_says_so() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
        "inputs",
    )
    .expect("schema");
    let Value::Object(inputs) = json!({"n": 1e300}) else {
        unreachable!()
    };
    let refused = schema.validate(&inputs).expect_err("too large");
    assert!(
        refused.message("n") == Some("must be at most 9223372036854775807"),
        "{refused}"
    );
}
