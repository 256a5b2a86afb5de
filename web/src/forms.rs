//! The run form, generated from a version's input schema: one field per
//! input, with its label, help, HTML constraints, current value and error.
//! The browser's checks only help; the server checks everything again.

use std::collections::HashMap;

use modelrun_core::schema::{
    Choice, Field, FieldKind, FileRef, InputSchema, UploadId, Uploads, ValidationErrors, extensions_of,
    size_text,
};
use serde_json::Value;

use modelrun_core::display::NumberStyle;

use crate::format;

/// The HTML control that asks for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// `<input type="text" inputmode="decimal">`: a number box would let
    /// the browser drop a decimal comma, so the server reads the text.
    Number,
    /// `<input type="text">`
    Text,
    /// `<input type="date">`
    Date,
    /// `<select>`
    Select,
    /// `<input type="checkbox">`
    Checkbox,
    /// `<textarea>`
    TextArea,
    /// A list, one item per line of a `<textarea>`.
    Lines,
    /// A list of choices: a checkbox per option.
    Choices,
    /// `<input type="file">`, with the file kept from an earlier run.
    File,
}

impl Control {
    /// The `type` of an `<input>` control.
    pub fn input_type(self) -> &'static str {
        match self {
            Control::Number
            | Control::Text
            | Control::Select
            | Control::TextArea
            | Control::Lines
            | Control::Choices => "text",
            Control::Date => "date",
            Control::Checkbox => "checkbox",
            Control::File => "file",
        }
    }
}

/// One input of the form, ready for the template.
#[derive(Debug, Clone)]
pub struct FormField {
    pub name: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub control: Control,
    /// The keyboard a phone shows: `decimal` or `numeric`.
    pub input_mode: Option<&'static str>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    /// What the browser says when `pattern` refuses: the server's words.
    pub pattern_hint: Option<String>,
    /// An example shown in an empty box: how the value is written.
    pub placeholder: Option<&'static str>,
    /// A drop-down's options: (the value sent back, the label shown).
    pub options: Vec<(String, String)>,
    /// The empty first option of a drop-down, when it has one: "Choose…"
    /// while a required choice has no value, "—" where none is a value.
    pub empty_option: Option<&'static str>,
    pub value: String,
    pub checked: bool,
    /// The ticked options of a list of choices (their values).
    pub chosen: Vec<String>,
    /// A file input's file so far (an earlier run's, or one sent with a
    /// refused form): kept unless another is chosen.
    pub file: Option<FileRef>,
    /// A file input's `accept`: its media type and usual extension.
    pub accept: Option<String>,
    pub error: Option<String>,
}

/// A pattern the browser reads as the server does: an HTML pattern must
/// match the whole value, so only patterns anchored at both ends qualify.
fn html_pattern(source: &str) -> Option<String> {
    let anchored = source.starts_with('^') && source.ends_with('$') && !source.ends_with("\\$");
    anchored.then(|| source.to_owned())
}

impl FormField {
    fn new(field: &Field, value: String, checked: bool, error: Option<String>) -> Self {
        let mut form_field = FormField {
            name: field.name.clone(),
            label: field.label().to_owned(),
            help: field.description.clone(),
            required: field.required,
            control: Control::Text,
            input_mode: None,
            min_length: None,
            max_length: None,
            pattern: None,
            options: Vec::new(),
            pattern_hint: None,
            placeholder: None,
            empty_option: None,
            value,
            checked,
            chosen: Vec::new(),
            file: None,
            accept: None,
            error,
        };
        match &field.kind {
            FieldKind::Number { integer, .. } => {
                form_field.control = Control::Number;
                form_field.input_mode = Some(if *integer { "numeric" } else { "decimal" });
            }
            FieldKind::String {
                min_length,
                max_length,
                pattern,
                multiline,
            } => {
                if *multiline {
                    form_field.control = Control::TextArea;
                }
                form_field.min_length = *min_length;
                form_field.max_length = *max_length;
                form_field.pattern = pattern.as_ref().and_then(|p| html_pattern(p.as_str()));
                form_field.pattern_hint = pattern
                    .as_ref()
                    .filter(|_| form_field.pattern.is_some())
                    .map(|p| format!("{} {}", field.label(), p.message()));
            }
            FieldKind::Enum { options } => {
                form_field.control = Control::Select;
                form_field.options = options
                    .iter()
                    .map(|option| (option.text(), option.label.clone()))
                    .collect();
                // A required choice never opens on an option nobody picked.
                form_field.empty_option =
                    if field.nullable || (!field.required && field.default.is_none()) {
                        Some("—")
                    } else if form_field.value.is_empty() {
                        Some("Choose…")
                    } else {
                        None
                    };
            }
            FieldKind::Date => form_field.control = Control::Date,
            FieldKind::DateTime => form_field.placeholder = Some("2027-01-31T09:00:00+01:00"),
            FieldKind::Boolean => form_field.control = Control::Checkbox,
            FieldKind::List { item, .. } => match &item.kind {
                FieldKind::Enum { options } => {
                    form_field.control = Control::Choices;
                    form_field.options = options
                        .iter()
                        .map(|option| (option.text(), option.label.clone()))
                        .collect();
                }
                _ => {
                    form_field.control = Control::Lines;
                    form_field.placeholder = Some("One value per line");
                }
            },
            FieldKind::File {
                media_type,
                max_bytes,
            } => {
                form_field.control = Control::File;
                form_field.accept = media_type.as_ref().map(|media| {
                    let extensions = extensions_of(media)
                        .iter()
                        .map(|ext| format!(",.{ext}"))
                        .collect::<String>();
                    format!("{media}{extensions}")
                });
                let mut limits = Vec::new();
                if let Some(media) = media_type {
                    limits.push(format!("a {media} file"));
                }
                if let Some(max) = max_bytes {
                    limits.push(format!("at most {}", size_text(*max)));
                }
                if !limits.is_empty() {
                    let said = limits.join(", ");
                    form_field.help = Some(match form_field.help.take() {
                        Some(help) => format!("{help} ({said})"),
                        None => format!("Upload {said}."),
                    });
                }
            }
        }
        form_field
    }

    /// The value as a list control shows it: lines of a text area, or the
    /// ticked options.
    fn with_list(mut self, items: &[Value], style: NumberStyle) -> Self {
        match self.control {
            Control::Choices => self.chosen = items.iter().map(Choice::text_of).collect(),
            Control::Lines => {
                self.value = items
                    .iter()
                    .map(|item| box_text(item, style))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            _ => {}
        }
        self
    }
}

/// A value as its box shows it: a number with the person's decimal
/// separator and no grouping (so that it reads back as one number).
fn box_text(value: &Value, style: NumberStyle) -> String {
    match value {
        Value::Number(number) => number
            .to_string()
            .replace('.', &style.decimal_separator().to_string()),
        other => format::value(other),
    }
}

/// The form as first shown: every field holds its default, or exactly the
/// value `prefill` gives it (a re-run's `null` is an empty box, not the
/// default), numbers written in the person's `style`.
pub fn fields_from_values(
    schema: &InputSchema,
    prefill: &serde_json::Map<String, Value>,
    style: NumberStyle,
) -> Vec<FormField> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let value = prefill.get(&field.name).or(field.default.as_ref());
            let checked = value.and_then(Value::as_bool).unwrap_or(false);
            let text = value
                .filter(|v| !v.is_boolean() && !v.is_null() && !v.is_array() && !v.is_object())
                .map(|v| box_text(v, style))
                .unwrap_or_default();
            let mut form_field = FormField::new(field, text, checked, None);
            if let Some(Value::Array(items)) = value {
                form_field = form_field.with_list(items, style);
            }
            form_field.file = value.and_then(FileRef::from_value);
            form_field
        })
        .collect()
}

/// The form shown again after a refusal: what the person typed, and a
/// message at each wrong field.
pub fn fields_from_submission(
    schema: &InputSchema,
    submitted: &[(String, String)],
    errors: &ValidationErrors,
    uploads: &Uploads,
) -> Vec<FormField> {
    let typed: HashMap<&str, &str> = submitted
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    schema
        .fields()
        .iter()
        .map(|field| {
            let text = typed.get(field.name.as_str()).copied().unwrap_or_default();
            let checked = matches!(text, "true" | "on" | "1");
            let error = errors.message(&field.name).map(str::to_owned);
            let mut form_field = FormField::new(field, text.to_owned(), checked, error);
            if form_field.control == Control::Choices {
                form_field.chosen = submitted
                    .iter()
                    .filter(|(name, _)| name == &field.name)
                    .map(|(_, value)| value.clone())
                    .collect();
            }
            if form_field.control == Control::File {
                form_field.file = UploadId::try_from(text.to_owned())
                    .ok()
                    .and_then(|id| uploads.get(&id).cloned());
                form_field.value = String::new();
            }
            form_field
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> InputSchema {
        InputSchema::parse(
            &json!({"type": "object", "required": ["growth", "plan"], "properties": {
                "growth": {"type": "number", "minimum": -0.5, "exclusiveMaximum": 1, "default": 0.02, "title": "Growth"},
                "months": {"type": "integer", "minimum": 1, "default": 12},
                "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "maxLength": 7},
                "loose": {"type": "string", "pattern": "abc"},
                "profile": {"type": "string", "enum": ["none", "retail"], "default": "retail"},
                "day": {"type": "string", "format": "date"},
                "audit": {"type": "boolean", "default": true},
                "plan": {"type": "string", "enum": ["low", "high"]},
                "region": {"type": "string", "enum": ["north", "south"]},
                "cap": {"type": ["number", "null"], "default": 5}
            }}),
            "inputs",
        )
        .expect("schema")
    }

    #[test]
    fn fields_carry_their_constraints_and_defaults() {
        let fields = fields_from_values(&schema(), &serde_json::Map::new(), NumberStyle::PointDecimal);
        let by_name = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .expect("field")
                .clone()
        };
        let growth = by_name("growth");
        assert_eq!(
            (growth.control, growth.label.as_str(), growth.value.as_str()),
            (Control::Number, "Growth", "0.02")
        );
        assert_eq!(
            (growth.control.input_type(), growth.input_mode),
            ("text", Some("decimal")),
            "a number box would let the browser drop a decimal comma"
        );
        assert!(growth.required);
        assert_eq!(by_name("months").input_mode, Some("numeric"));
        assert_eq!(
            by_name("month").pattern.as_deref(),
            Some("^[0-9]{4}-[0-9]{2}$")
        );
        assert_eq!(
            by_name("month").pattern_hint.as_deref(),
            Some("month must look like 2027-01"),
            "the browser says what the server would"
        );
        assert_eq!(
            by_name("loose").pattern,
            None,
            "an unanchored pattern is left to the server"
        );
        let profile = by_name("profile");
        assert_eq!(
            (
                profile.control,
                profile.value.as_str(),
                profile.options.len()
            ),
            (Control::Select, "retail", 2)
        );
        assert_eq!(profile.empty_option, None);
        assert_eq!(by_name("day").control, Control::Date);
        let audit = by_name("audit");
        assert_eq!((audit.control, audit.checked), (Control::Checkbox, true));
    }

    #[test]
    fn lines_get_a_text_area_and_a_moment_an_example() {
        let schema = InputSchema::parse(
            &json!({"type": "object", "properties": {
                "notes": {"type": "string", "contentMediaType": "text/plain"},
                "at": {"type": "string", "format": "date-time"},
                "profile": {"type": "string", "oneOf": [{"const": "none", "title": "Flat"}]}
            }}),
            "inputs",
        )
        .expect("schema");
        let fields = fields_from_values(&schema, &serde_json::Map::new(), NumberStyle::PointDecimal);
        assert_eq!(fields[0].control, Control::TextArea);
        assert_eq!(
            (fields[1].control, fields[1].placeholder),
            (Control::Text, Some("2027-01-31T09:00:00+01:00"))
        );
        assert_eq!(fields[2].options, [("none".to_owned(), "Flat".to_owned())]);
    }

    #[test]
    fn numbers_are_shown_in_the_persons_style_and_read_back_the_same() {
        let Value::Object(earlier) = json!({"growth": 0.25, "months": 12}) else {
            unreachable!()
        };
        let fields = fields_from_values(&schema(), &earlier, NumberStyle::CommaDecimal);
        assert_eq!(fields[0].value, "0,25");
        assert_eq!(fields[1].value, "12");
        let read = schema()
            .validate_form(&[
                ("growth".to_owned(), fields[0].value.clone()),
                ("plan".to_owned(), "low".to_owned()),
            ])
            .expect("valid");
        assert_eq!(read["growth"], json!(0.25));
    }

    #[test]
    fn a_choice_nobody_made_starts_empty() {
        let fields = fields_from_values(&schema(), &serde_json::Map::new(), NumberStyle::PointDecimal);
        let by_name = |name: &str| fields.iter().find(|f| f.name == name).expect("field");
        let plan = by_name("plan");
        assert_eq!(
            (plan.value.as_str(), plan.empty_option),
            ("", Some("Choose…"))
        );
        assert_eq!(by_name("region").empty_option, Some("—"));
    }

    #[test]
    fn a_rerun_shows_exactly_the_earlier_inputs() {
        let Value::Object(earlier) = json!({"cap": null, "audit": false, "plan": "high"}) else {
            unreachable!()
        };
        let fields = fields_from_values(&schema(), &earlier, NumberStyle::PointDecimal);
        let by_name = |name: &str| fields.iter().find(|f| f.name == name).expect("field");
        assert_eq!(
            by_name("cap").value,
            "",
            "null stays empty, not the default 5"
        );
        assert!(!by_name("audit").checked, "false stays unticked");
        let plan = by_name("plan");
        assert_eq!((plan.value.as_str(), plan.empty_option), ("high", None));
    }

    #[test]
    fn a_refused_form_keeps_what_was_typed_with_errors() {
        let mut errors = ValidationErrors::default();
        errors.push("growth", "must be a number");
        let submitted = vec![
            ("growth".to_owned(), "five".to_owned()),
            ("months".to_owned(), "3".to_owned()),
        ];
        let fields = fields_from_submission(&schema(), &submitted, &errors, &Uploads::new());
        assert_eq!(fields[0].value, "five");
        assert_eq!(fields[0].error.as_deref(), Some("must be a number"));
        assert_eq!(fields[1].value, "3");
        assert_eq!(fields[1].error, None);
        let audit = fields.iter().find(|f| f.name == "audit").expect("audit");
        assert!(!audit.checked, "an unticked box stays unticked");
    }
}
