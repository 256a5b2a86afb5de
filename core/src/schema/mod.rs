//! Input schemas: the documented subset of JSON Schema that a model's manifest
//! uses to describe its inputs.
//!
//! A schema is parsed once, when a version is registered, into typed [`Field`]s.
//! Anything outside the subset is refused at that point with the path of the
//! offending keyword, so that a form can always be generated and every
//! submitted value can always be checked on the server.
//!
//! The subset: an object whose properties are `number`, `integer`, `string`
//! (optionally with `format: "date"`, `"date-time"` or `"file"`, or
//! multi-line) or `boolean`, a choice among values of the first three
//! (`enum`, or labelled: `oneOf` of `const` and `title`), or a list
//! (`type = "array"`) of numbers, text, dates or choices; each of which may
//! also allow `null` (`type = ["number", "null"]`), annotated with `title`,
//! `description` and `default`, bounded by `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`,
//! `pattern` (with `x-pattern-message`), `minItems`, `maxItems`,
//! `uniqueItems`, `contentMediaType` and `x-max-bytes`. Unknown inputs are
//! always rejected (`additionalProperties` may only be `false`).

mod choices;
mod decimal;
pub use decimal::read_typed as read_typed_number;
pub mod diff;
mod file;
mod form;
mod list;
mod parse;
mod rule;
mod validate;

use std::fmt;

use serde_json::Value;

pub use file::{
    FileRef, MAX_FILE_NAME_BYTES, UploadId, Uploads, check_file_name, describe_file, extensions_of,
    file_name_pattern, media_type_of, named_upload, size_text, tidy_file_name,
};
pub use list::MAX_ITEMS;
pub use validate::{FieldError, ValidationErrors};

/// Inputs after validation: every key is a field of the schema, every value
/// has the field's type, and defaults are filled in.
pub type Inputs = serde_json::Map<String, Value>;

/// Most fields one schema may have; a form longer than this is not a form.
pub const MAX_FIELDS: usize = 100;

/// A parsed, checked input schema.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSchema {
    fields: Vec<Field>,
    source: Value,
}

impl InputSchema {
    /// The fields, in the order the manifest declares them.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The JSON Schema document this was parsed from, as published by the API.
    pub fn as_json(&self) -> &Value {
        &self.source
    }
}

/// One input.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    /// Whether `null` is a value of this field (`type = [..., "null"]`).
    pub nullable: bool,
    pub default: Option<Value>,
    pub kind: FieldKind,
    /// The property's schema, compiled: the check every value passes.
    rule: rule::Rule,
}

impl Field {
    /// What a person calls this field: its title, or its name.
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// The type of an input and the bounds that apply to it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Number {
        integer: bool,
        minimum: Option<Bound>,
        maximum: Option<Bound>,
    },
    String {
        min_length: Option<u64>,
        max_length: Option<u64>,
        pattern: Option<Pattern>,
        /// Lines of text (`x-multiline = true` or `contentMediaType =
        /// "text/plain"`): a text area, and line ends as `\n`.
        multiline: bool,
    },
    /// A choice among `options`: text, whole numbers or numbers.
    Enum {
        options: Vec<Choice>,
    },
    Date,
    /// A moment with its time zone: RFC 3339, such as `2027-01-31T09:00:00+01:00`.
    DateTime,
    Boolean,
    /// A list (`type = "array"`) whose every item is checked as `item`: a
    /// number, text, date or choice. `min_items`/`max_items` bound its
    /// length; `unique` refuses a value listed twice.
    List {
        item: Box<Field>,
        min_items: Option<u64>,
        max_items: Option<u64>,
        unique: bool,
    },
    /// A file the person uploads (`type = "string"`, `format = "file"`).
    /// Its value is a [`FileRef`]; the model gets the path of its copy.
    File {
        /// `contentMediaType`, such as `text/csv`: the file's type, by its
        /// declared media type or its name's extension.
        media_type: Option<String>,
        /// `x-max-bytes`: the largest file accepted, in bytes (the server's
        /// own cap applies too).
        max_bytes: Option<u64>,
    },
}

/// One option of a choice: the value the model gets, and what a person reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub value: Value,
    pub label: String,
}

impl Choice {
    /// A value as a form sends it back: text as it is, a number as JSON writes it.
    pub fn text_of(value: &Value) -> String {
        match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    /// This option's value as a form sends it back.
    pub fn text(&self) -> String {
        Self::text_of(&self.value)
    }
}

/// A numeric limit, kept with its text so that messages show what the author wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub exclusive: bool,
    text: String,
}

impl Bound {
    fn new(number: &serde_json::Number, exclusive: bool) -> Option<Self> {
        Some(Bound {
            value: number.as_f64()?,
            exclusive,
            text: number.to_string(),
        })
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A compiled `pattern`, with its source and what to tell a person whose
/// text does not match it.
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: regex::Regex,
    message: String,
}

/// Shapes a planner knows by an example: a pattern that accepts the example
/// and refuses each near miss is described by the example, not by its regex.
const KNOWN_SHAPES: [(&str, &[&str]); 2] = [
    (
        "2027-01",
        &["2027-1", "27-01", "2027-01-31", "x2027-01", "2027-01x"],
    ),
    (
        "2027-01-31",
        &["2027-1-31", "2027-01", "x2027-01-31", "2027-01-31x"],
    ),
];

impl Pattern {
    /// `message` completes "<field> …"; without one, a known shape gives
    /// "must look like <example>", and any other pattern names its source.
    fn new(regex: regex::Regex, message: Option<String>) -> Self {
        let message = message.unwrap_or_else(|| {
            KNOWN_SHAPES
                .iter()
                .find(|(example, misses)| {
                    regex.is_match(example) && !misses.iter().any(|m| regex.is_match(m))
                })
                .map(|(example, _)| format!("must look like {example}"))
                .unwrap_or_else(|| format!("must match the pattern {}", regex.as_str()))
        });
        Pattern { regex, message }
    }

    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    /// What a refusal says: completes the sentence "<field label> …".
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str() && self.message == other.message
    }
}
