//! Server-side validation of submitted inputs. The browser's checks are a
//! convenience; these are the ones that count.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Number, Value};

use super::{Field, FieldKind, InputSchema, Inputs, UploadId, Uploads};

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
    /// an error, an optional boolean is `false` (as an unticked box is), an optional
    /// list `[]` (as nothing ticked is), and
    /// any other optional field is `null`. A `null` sent is a value, which
    /// only a nullable field takes (or one that leaving out makes `null`
    /// anyway); it never stands for the default. Any input the schema does
    /// not declare is an error.
    pub fn validate(&self, submitted: &Map<String, Value>) -> Result<Inputs, ValidationErrors> {
        self.validate_with(submitted, &Uploads::default())
    }

    /// The uploads that the file inputs of a submission name, for the
    /// server to look up before [`InputSchema::validate_with`].
    pub fn named_uploads(&self, submitted: &Map<String, Value>) -> Vec<UploadId> {
        self.fields
            .iter()
            .filter(|field| matches!(field.kind, FieldKind::File { .. }))
            .filter_map(|field| submitted.get(&field.name))
            .filter_map(super::file::named_upload)
            .collect()
    }

    /// [`InputSchema::validate`], with each file input's upload (named by
    /// its id) taken from `uploads`: an upload not there is refused.
    pub fn validate_with(
        &self,
        submitted: &Map<String, Value>,
        uploads: &Uploads,
    ) -> Result<Inputs, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut inputs = Inputs::new();
        for field in &self.fields {
            let resolved;
            let submitted_value = match (&field.kind, submitted.get(&field.name)) {
                (FieldKind::File { .. }, Some(value)) => {
                    match super::file::resolve(value, uploads) {
                        Ok(value) => {
                            resolved = value;
                            Some(&resolved)
                        }
                        Err(message) => {
                            errors.push(&field.name, message);
                            continue;
                        }
                    }
                }
                (_, value) => value,
            };
            match submitted_value {
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
            FieldKind::List { .. } if !self.nullable => Value::Array(Vec::new()),
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
        match &self.kind {
            FieldKind::List {
                item,
                min_items,
                max_items,
                unique,
            } => return self.check_list(value, item, *min_items, *max_items, *unique),
            FieldKind::File {
                media_type,
                max_bytes,
            } => return super::file::check(value, media_type.as_deref(), *max_bytes),
            _ => {}
        }
        let normal = match (&self.kind, value.as_number()) {
            (
                FieldKind::Number {
                    integer,
                    minimum,
                    maximum,
                },
                Some(number),
            ) => normalize(number, *integer)
                .map(Value::Number)
                .ok_or_else(|| {
                    // A whole number past what a whole number can hold: say
                    // the bound it is past, not that it is not whole.
                    match number.as_f64().filter(|x| *integer && x.fract() == 0.0) {
                        Some(x) if x > 0.0 => maximum.as_ref().map_or_else(
                            || format!("must be at most {}", i64::MAX),
                            |max| format!("must be at most {max}"),
                        ),
                        Some(_) => minimum.as_ref().map_or_else(
                            || format!("must be at least {}", i64::MIN),
                            |min| format!("must be at least {min}"),
                        ),
                        None => expected(*integer),
                    }
                })?,
            // RFC 3339 allows `t` and `z`; many readers (Python's
            // `datetime.fromisoformat`) take only `T` and `Z`.
            (FieldKind::DateTime, _) => value.as_str().map_or_else(
                || value.clone(),
                |text| Value::String(text.to_ascii_uppercase()),
            ),
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
                // The label a person reads, and the value a script sends
                // where it differs: "Flat (none)".
                let labels: Vec<String> = options
                    .iter()
                    .map(|o| {
                        let value = o.text();
                        if o.label == value {
                            value
                        } else {
                            format!("{} ({value})", o.label)
                        }
                    })
                    .collect();
                format!("must be one of: {}", labels.join(", "))
            }
            (FieldKind::Date, _) => "must be a date written YYYY-MM-DD".to_owned(),
            (FieldKind::DateTime, _) => "must be a date and time with its time zone, \
                                         written like 2027-01-31T09:00:00+01:00 (Z for UTC)"
                .to_owned(),
            (FieldKind::Boolean, _) => "must be true or false".to_owned(),
            // Checked item by item and file by file, not by keyword.
            (FieldKind::List { .. }, _) => "must be a list".to_owned(),
            (FieldKind::File { .. }, _) => "must be an uploaded file".to_owned(),
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
#[path = "validate_tests.rs"]
mod tests;
