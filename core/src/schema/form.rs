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
        let (typed, unreadable) = self.read_form(form);
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

    /// A form's values read as their fields' types, not yet validated, with
    /// what could not be read: the first half of
    /// [`InputSchema::validate_form_with`], for a caller that completes the
    /// values itself (a sweep puts each run's varied values in).
    pub fn read_form(&self, form: &[(String, String)]) -> (Map<String, Value>, ValidationErrors) {
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
                    None => field.left_empty(),
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
        (typed, unreadable)
    }
}

/// A list from a form: ticked options (one pair each), or the non-empty
/// lines of a text area, each read as the item's type. Nothing at all is
/// `[]`, `null` for a nullable list, and refused for a required one.
fn read_list(field: &Field, item: &Field, texts: &[&str]) -> Result<Option<Value>, String> {
    let lines: Vec<&str> = match item.kind {
        FieldKind::Enum { .. } => texts
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect(),
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

impl Field {
    /// What a value left empty means (a form's box, the CLI's `-i name=`):
    /// `null` where the input allows null, refused where it is required or
    /// has a default (the box was shown filled in), and `Ok(None)`, absent,
    /// otherwise.
    ///
    /// # Errors
    /// "is required", or "was left empty: enter a value (its default is …)".
    pub fn left_empty(&self) -> Result<Option<Value>, String> {
        if self.nullable {
            return Ok(Some(Value::Null));
        }
        if self.required {
            return Err("is required".to_owned());
        }
        match &self.default {
            Some(default) => Err(format!(
                "was left empty: enter a value (its default is {})",
                default
                    .as_str()
                    .map_or_else(|| default.to_string(), str::to_owned)
            )),
            None => Ok(None),
        }
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
#[path = "form_tests.rs"]
mod tests;
