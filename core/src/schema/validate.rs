//! Server-side validation of submitted inputs. The browser's checks are a
//! convenience; these are the ones that count.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Number, Value};

use super::{Field, FieldKind, InputSchema, Inputs};

/// One rejected input, with a message that completes the sentence
/// "<field label> …" (for example "must be at most 0.5").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every rejected input of a submission, in the schema's order (unknown
/// inputs last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// The message for one field, if it was rejected.
    pub fn message(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.as_str())
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", error.field, error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl InputSchema {
    /// Checks submitted inputs, giving every field of the schema a key.
    /// An absent field takes its default; without one, a required field is
    /// an error, an optional boolean is `false` (as an unticked box is) and
    /// any other optional field is `null`. A `null` sent is a value, which
    /// only a nullable field takes (or one that leaving out makes `null`
    /// anyway); it never stands for the default. Any input the schema does
    /// not declare is an error.
    pub fn validate(&self, submitted: &Map<String, Value>) -> Result<Inputs, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut inputs = Inputs::new();
        for field in &self.fields {
            match submitted.get(&field.name) {
                Some(value) => match field.check(value) {
                    Ok(value) => {
                        inputs.insert(field.name.clone(), value);
                    }
                    Err(message) => errors.push(&field.name, message),
                },
                None => match &field.default {
                    Some(default) => {
                        inputs.insert(field.name.clone(), default.clone());
                    }
                    None if field.required => errors.push(&field.name, "is required"),
                    None => {
                        inputs.insert(field.name.clone(), field.absent());
                    }
                },
            }
        }
        for name in submitted.keys() {
            if self.field(name).is_none() {
                errors.push(name, "is not an input of this model");
            }
        }
        if errors.is_empty() {
            Ok(inputs)
        } else {
            Err(errors)
        }
    }
}

impl Field {
    /// What an optional field without a default is when left out.
    fn absent(&self) -> Value {
        match self.kind {
            FieldKind::Boolean if !self.nullable => Value::Bool(false),
            _ => Value::Null,
        }
    }

    /// Checks one value against this field's type and bounds, returning it
    /// in normal form (an integral `3.0` becomes `3` for an integer field).
    pub fn check(&self, value: &Value) -> Result<Value, String> {
        if value.is_null() {
            // Leaving such a field out gives null too, so an inputs.json
            // read back (a re-run, a script) means the same thing.
            let absent_is_null =
                !self.required && self.default.is_none() && self.absent().is_null();
            return match (self.nullable || absent_is_null, &self.default) {
                (true, _) => Ok(Value::Null),
                (false, Some(_)) => {
                    Err("cannot be null: send a value, or leave it out to take its default".into())
                }
                (false, None) => Err("cannot be null: send a value".into()),
            };
        }
        let normal = match (&self.kind, value.as_number()) {
            (FieldKind::Number { integer, .. }, Some(number)) => normalize(number, *integer)
                .map(Value::Number)
                .ok_or_else(|| expected(*integer))?,
            _ => value.clone(),
        };
        if let Some(keyword) = self.rule.refusal(value) {
            return Err(self.refusal_message(&keyword));
        }
        // A chosen number is written as its option is (`6.0` is the option `6`).
        Ok(match (&self.kind, value.as_f64()) {
            (FieldKind::Enum { options }, Some(x)) => options
                .iter()
                .find(|option| option.value.as_f64() == Some(x))
                .map_or(normal, |option| option.value.clone()),
            _ => normal,
        })
    }

    /// What a refusal by `keyword` says, completing "<field label> …".
    fn refusal_message(&self, keyword: &str) -> String {
        match (&self.kind, keyword) {
            (
                FieldKind::Number {
                    minimum: Some(min), ..
                },
                "minimum",
            ) => {
                format!("must be at least {min}")
            }
            (
                FieldKind::Number {
                    minimum: Some(min), ..
                },
                "exclusiveMinimum",
            ) => {
                format!("must be more than {min}")
            }
            (
                FieldKind::Number {
                    maximum: Some(max), ..
                },
                "maximum",
            ) => {
                format!("must be at most {max}")
            }
            (
                FieldKind::Number {
                    maximum: Some(max), ..
                },
                "exclusiveMaximum",
            ) => {
                format!("must be less than {max}")
            }
            (FieldKind::Number { integer, .. }, _) => expected(*integer),
            (
                FieldKind::String {
                    min_length: Some(min),
                    ..
                },
                "minLength",
            ) => {
                format!("must be at least {min} characters long")
            }
            (
                FieldKind::String {
                    max_length: Some(max),
                    ..
                },
                "maxLength",
            ) => {
                format!("must be at most {max} characters long")
            }
            (
                FieldKind::String {
                    pattern: Some(pattern),
                    ..
                },
                "pattern",
            ) => pattern.message().to_owned(),
            (FieldKind::String { .. }, _) => "must be text".to_owned(),
            (FieldKind::Enum { options }, _) => {
                let labels: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
                format!("must be one of: {}", labels.join(", "))
            }
            (FieldKind::Date, _) => "must be a date written YYYY-MM-DD".to_owned(),
            (FieldKind::Boolean, _) => "must be true or false".to_owned(),
        }
    }
}

fn expected(integer: bool) -> String {
    if integer {
        "must be a whole number".to_owned()
    } else {
        "must be a number".to_owned()
    }
}

/// An integer field takes any integral number in i64's range, written as
/// one (`3.0` becomes `3`); a number field any finite number (JSON cannot
/// carry NaN or infinity).
fn normalize(number: &Number, integer: bool) -> Option<Number> {
    if !integer || number.is_i64() {
        return Some(number.clone());
    }
    let x = number.as_f64()?;
    // 2^63 is the first float outside i64.
    let in_range = x.fract() == 0.0 && x >= -(2f64.powi(63)) && x < 2f64.powi(63);
    in_range.then(|| Number::from(x as i64))
}

#[cfg(test)]
mod tests {
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
        assert_eq!(msg("horizon", json!(1e300)), "must be a whole number");
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
        assert!(InputSchema::parse(
            &json!({"type": "object", "properties": {"note": {"type": "string", "maxLength": 2}}}),
            "inputs"
        )
        .expect("schema")
        .validate(&serde_json::Map::from_iter([("note".to_owned(), ok["note"].clone())]))
        .is_ok());
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
            Some("must be one of: Flat, Strong Q4")
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
}
