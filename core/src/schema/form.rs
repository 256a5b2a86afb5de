//! Reading an HTML form: every value arrives as text, and an unticked
//! checkbox arrives as nothing at all.

use serde_json::{Map, Value};

use super::{Field, FieldKind, InputSchema, Inputs, UploadId, Uploads, ValidationErrors, decimal};

impl InputSchema {
    /// Validates a submitted HTML form. Values are read as their field's type
    /// first (`"0,05"` becomes a number; a missing checkbox is `false`), then
    /// checked as in [`InputSchema::validate`].
    ///
    /// An empty box is what the person saw, so it never quietly becomes the
    /// default: it is `null` where the field allows null, refused where the
    /// field is required or has a default (the box was shown filled in), and
    /// absent otherwise. A list is every ticked option, or every non-empty
    /// line of its text area; a list left empty is `[]` (or `null` where
    /// the field allows null), refused where it is required.
    /// Pairs that are not inputs (a version picker, a form key) must be
    /// removed by the caller, or they are reported as unknown.
    pub fn validate_form(&self, form: &[(String, String)]) -> Result<Inputs, ValidationErrors> {
        self.validate_form_with(form, &Uploads::default())
    }

    /// One value typed as text, read as the form reads its box: a number with
    /// a decimal comma, a list one item per line. `None` for a name that is
    /// not an input, `Ok(None)` for empty text.
    ///
    /// # Errors
    /// What the form would say at the box: "could mean 1000 or 1.000 …".
    pub fn read_text(&self, name: &str, text: &str) -> Option<Result<Option<Value>, String>> {
        let field = self.field(name)?;
        Some(match &field.kind {
            FieldKind::List { item, .. } => read_list(field, item, &[text]),
            kind => read(kind, text),
        })
    }

    /// The uploads that the file inputs of a form name (by id).
    pub fn form_named_uploads(&self, form: &[(String, String)]) -> Vec<UploadId> {
        form.iter()
            .filter(|(name, _)| {
                self.field(name)
                    .is_some_and(|f| matches!(f.kind, FieldKind::File { .. }))
            })
            .filter_map(|(_, text)| UploadId::try_from(text.clone()).ok())
            .collect()
    }

    /// [`InputSchema::validate_form`], with file inputs' uploads from `uploads`.
    pub fn validate_form_with(
        &self,
        form: &[(String, String)],
        uploads: &Uploads,
    ) -> Result<Inputs, ValidationErrors> {
        let mut typed = Map::new();
        let mut unreadable = ValidationErrors::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, text) in form {
            if seen.contains(&name.as_str()) {
                continue;
            }
            seen.push(name);
            let texts: Vec<&str> = form
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, t)| t.as_str())
                .collect();
            let Some(field) = self.field(name) else {
                typed.insert(name.clone(), Value::String(text.clone()));
                continue;
            };
            let read = match &field.kind {
                FieldKind::List { item, .. } => read_list(field, item, &texts),
                _ if texts.len() > 1 => Err("was sent more than once".to_owned()),
                kind => read(kind, text).and_then(|value| match value {
                    Some(value) => Ok(Some(value)),
                    None => empty(field),
                }),
            };
            match read {
                Ok(Some(value)) => {
                    typed.insert(name.clone(), value);
                }
                Ok(None) => {}
                Err(message) => unreadable.push(name, message),
            }
        }
        // What a form leaves out when nothing is ticked.
        for field in &self.fields {
            if form.iter().any(|(n, _)| n == &field.name) {
                continue;
            }
            let nothing = match &field.kind {
                FieldKind::Boolean => Ok(Some(Value::Bool(false))),
                FieldKind::List { item, .. } => read_list(field, item, &[]),
                _ => Ok(None),
            };
            match nothing {
                Ok(Some(value)) => {
                    typed.insert(field.name.clone(), value);
                }
                Ok(None) => {}
                Err(message) => unreadable.push(&field.name, message),
            }
        }
        let checked = self.validate_with(&typed, uploads);
        if unreadable.is_empty() {
            return checked;
        }
        // Report each field once: what could not be read wins over what
        // validation made of its absence.
        let mut merged = ValidationErrors::default();
        let later = checked.err().unwrap_or_default();
        for field in &self.fields {
            if let Some(message) = unreadable.message(&field.name) {
                merged.push(&field.name, message);
            } else if let Some(message) = later.message(&field.name) {
                merged.push(&field.name, message);
            }
        }
        for error in unreadable.errors.iter().chain(&later.errors) {
            if self.field(&error.field).is_none() && merged.message(&error.field).is_none() {
                merged.push(&error.field, &error.message);
            }
        }
        Err(merged)
    }
}

/// A list from a form: ticked options (one pair each), or the non-empty
/// lines of a text area, each read as the item's type. Nothing at all is
/// `[]`, `null` for a nullable list, and refused for a required one.
fn read_list(field: &Field, item: &Field, texts: &[&str]) -> Result<Option<Value>, String> {
    let lines: Vec<&str> = match item.kind {
        FieldKind::Enum { .. } => texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect(),
        _ => texts
            .iter()
            .flat_map(|text| text.lines())
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect(),
    };
    if lines.is_empty() {
        return if field.nullable {
            Ok(Some(Value::Null))
        } else if field.required {
            Err("is required: give at least one value".to_owned())
        } else {
            Ok(Some(Value::Array(Vec::new())))
        };
    }
    let mut items = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match read(&item.kind, line) {
            Ok(Some(value)) => items.push(value),
            Ok(None) => {}
            Err(message) => return Err(format!("(line {}) {message}", i + 1)),
        }
    }
    Ok(Some(Value::Array(items)))
}

/// What a box left empty means: `Ok(None)` is "absent".
fn empty(field: &Field) -> Result<Option<Value>, String> {
    if field.nullable {
        return Ok(Some(Value::Null));
    }
    if field.required {
        return Err("is required".to_owned());
    }
    match &field.default {
        Some(default) => Err(format!(
            "was left empty: enter a value (its default is {})",
            default
                .as_str()
                .map_or_else(|| default.to_string(), str::to_owned)
        )),
        None => Ok(None),
    }
}

/// Reads one form value as its field's type; `Ok(None)` means "left empty".
fn read(kind: &FieldKind, text: &str) -> Result<Option<Value>, String> {
    let trimmed = text.trim();
    match kind {
        // A text area sends its line ends as \r\n; the person saw lines.
        FieldKind::String { multiline, .. } => Ok((!text.is_empty()).then(|| {
            Value::String(if *multiline {
                text.replace("\r\n", "\n")
            } else {
                text.to_owned()
            })
        })),
        _ if trimmed.is_empty() => Ok(None),
        // The option whose value the form sent back, as its own type; any
        // other text is left for validation to refuse with the labels.
        FieldKind::Enum { options } => Ok(Some(
            options
                .iter()
                .find(|option| option.text() == trimmed)
                .map_or_else(|| Value::String(trimmed.to_owned()), |o| o.value.clone()),
        )),
        FieldKind::Date | FieldKind::DateTime | FieldKind::File { .. } => {
            Ok(Some(Value::String(trimmed.to_owned())))
        }
        // Lists are read by `read_list`, item by item.
        FieldKind::List { .. } => Err("must be a list".to_owned()),
        FieldKind::Boolean => match trimmed {
            "true" | "on" | "1" => Ok(Some(Value::Bool(true))),
            "false" | "off" | "0" => Ok(Some(Value::Bool(false))),
            _ => Err("must be true or false".to_owned()),
        },
        FieldKind::Number { integer, .. } => decimal::read(trimmed, *integer).map(Some),
    }
}

#[cfg(test)]
mod tests {
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
            Some("must be one of: A quarter, A year")
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
            Some("(item 1) must be one of: North, South")
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
        assert_eq!(errors.message("rates"), Some("(item 1) must be at most 0.5"));
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
}
