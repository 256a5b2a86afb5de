//! The run form, generated from a version's input schema: one field per
//! input, with its label, help, HTML constraints, current value and error.
//! The browser's checks only help; the server checks everything again.

use std::collections::HashMap;

use modelrun_core::schema::{
    Choice, Field, FieldKind, FileRef, InputSchema, UploadId, Uploads, ValidationErrors,
    describe_file, extensions_of, size_text,
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
    /// How a sweep may vary this input, where it may.
    pub vary: Option<Vary>,
}

/// How a sweep varies an input in the form: a number by a range or a list
/// of values, a choice by several options. The boxes are named
/// `_vary.<input>.from|to|step|values`, the options `_vary.<input>`.
#[derive(Debug, Clone, Default)]
pub struct Vary {
    /// A choice (options ticked) rather than a number (range or list).
    pub choices: bool,
    pub from: String,
    pub to: String,
    pub step: String,
    /// Values one per line.
    pub values: String,
    /// The ticked options' values.
    pub chosen: Vec<String>,
}

impl Vary {
    /// Whether anything was typed or ticked: the section opens.
    pub fn used(&self) -> bool {
        [&self.from, &self.to, &self.step, &self.values]
            .iter()
            .any(|text| !text.trim().is_empty())
            || !self.chosen.is_empty()
    }
}

/// A pattern the browser reads as the server does: an HTML pattern must
/// match the whole value, so only patterns anchored at both ends qualify.
fn html_pattern(source: &str) -> Option<String> {
    let anchored = source.starts_with('^') && source.ends_with('$') && !source.ends_with("\\$");
    anchored.then(|| source.to_owned())
}

impl FormField {
    /// `upload_cap` is the server's largest file, in bytes.
    fn new(
        field: &Field,
        value: String,
        checked: bool,
        error: Option<String>,
        upload_cap: u64,
    ) -> Self {
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
            vary: None,
        };
        match &field.kind {
            FieldKind::Number { integer, .. } => {
                form_field.control = Control::Number;
                form_field.input_mode = Some(if *integer { "numeric" } else { "decimal" });
                form_field.vary = Some(Vary::default());
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
                form_field.vary = Some(Vary {
                    choices: true,
                    ..Vary::default()
                });
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
                // The smaller of the input's own limit and the server's.
                let most = max_bytes.map_or(upload_cap, |max| max.min(upload_cap));
                let said = format!(
                    "{}, at most {}",
                    describe_file(media_type.as_deref()),
                    size_text(most)
                );
                form_field.help = Some(match form_field.help.take() {
                    Some(help) => format!("{help} ({said})"),
                    None => format!("Upload {said}."),
                });
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
        Value::Number(number) => {
            format::plain_number(number).replace('.', &style.decimal_separator().to_string())
        }
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
    upload_cap: u64,
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
            let mut form_field = FormField::new(field, text, checked, None, upload_cap);
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
    upload_cap: u64,
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
            let mut form_field = FormField::new(field, text.to_owned(), checked, error, upload_cap);
            if form_field.control == Control::Choices {
                form_field.chosen = submitted
                    .iter()
                    .filter(|(name, _)| name == &field.name)
                    .map(|(_, value)| value.clone())
                    .collect();
            }
            if form_field.control == Control::File {
                // A refused file is not kept: the person chooses another.
                form_field.file = UploadId::try_from(text.to_owned())
                    .ok()
                    .filter(|_| form_field.error.is_none())
                    .and_then(|id| uploads.get(&id).cloned());
                form_field.value = String::new();
            }
            form_field
        })
        .collect()
}

#[cfg(test)]
#[path = "forms_tests.rs"]
mod tests;
