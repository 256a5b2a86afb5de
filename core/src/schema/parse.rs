//! From a JSON Schema document to an [`InputSchema`], refusing anything outside
//! the subset with the path of the keyword at fault.

use serde_json::{Map, Value};

use crate::DefinitionError;

use super::{Bound, Field, FieldKind, InputSchema, MAX_FIELDS, Pattern};

/// Keywords that carry no meaning for validation and are allowed anywhere.
const ANNOTATIONS: [&str; 5] = ["title", "description", "$comment", "examples", "$schema"];

const FIELD_NAME_MAX: usize = 64;
const PATTERN_MAX: usize = 1000;

/// When each property's validator is compiled.
#[derive(Clone, Copy)]
pub(super) enum Compile {
    /// Now: a schema that does not compile is refused (a new version).
    Now,
    /// On its first check: a stored version's schema compiled when it was
    /// registered, and reading versions (every models page) should not
    /// pay for it again.
    OnFirstUse,
}

impl InputSchema {
    /// Parses a schema document, compiling every property's validator.
    /// `root` names the document in messages (`inputs` for a manifest).
    pub fn parse(document: &Value, root: &str) -> Result<Self, DefinitionError> {
        Self::parse_compiling(document, root, Compile::Now)
    }

    /// Parses the schema of a registered version, read back from the store:
    /// the same checks of the subset, with each validator compiled when it
    /// is first used.
    pub fn stored(document: &Value, root: &str) -> Result<Self, DefinitionError> {
        Self::parse_compiling(document, root, Compile::OnFirstUse)
    }

    fn parse_compiling(
        document: &Value,
        root: &str,
        compile: Compile,
    ) -> Result<Self, DefinitionError> {
        let mut problems = Problems::default();
        let fields = parse_root(document, root, compile, &mut problems);
        if problems.0.is_empty() {
            Ok(InputSchema {
                fields,
                source: document.clone(),
            })
        } else {
            Err(DefinitionError {
                problems: problems.0,
            })
        }
    }
}

#[derive(Default)]
pub(super) struct Problems(pub(super) Vec<(String, String)>);

impl Problems {
    pub(super) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push((path.into(), message.into()));
    }
}

fn parse_root(
    document: &Value,
    root: &str,
    compile: Compile,
    problems: &mut Problems,
) -> Vec<Field> {
    let Some(object) = document.as_object() else {
        problems.add(root, "must be a table (a JSON Schema object)");
        return Vec::new();
    };
    if object.get("type") != Some(&Value::from("object")) {
        problems.add(format!("{root}.type"), "must be \"object\"");
    }
    for key in object.keys() {
        let known = matches!(
            key.as_str(),
            "type" | "properties" | "required" | "additionalProperties"
        ) || is_annotation(key);
        if !known {
            problems.add(format!("{root}.{key}"), unsupported(key));
        }
    }
    match object.get("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(_) => problems.add(
            format!("{root}.additionalProperties"),
            "may only be false: unknown inputs are always rejected",
        ),
    }
    let required = parse_required(object, root, problems);
    let properties = match object.get("properties") {
        None => Map::new(),
        Some(Value::Object(properties)) => properties.clone(),
        Some(_) => {
            problems.add(format!("{root}.properties"), "must be a table of fields");
            Map::new()
        }
    };
    if properties.len() > MAX_FIELDS {
        problems.add(
            format!("{root}.properties"),
            format!(
                "has {} fields; at most {MAX_FIELDS} are allowed",
                properties.len()
            ),
        );
    }
    for name in &required {
        if !properties.contains_key(name) {
            problems.add(
                format!("{root}.required"),
                format!("names {name:?}, which is not in properties"),
            );
        }
    }
    properties
        .iter()
        .filter_map(|(name, spec)| {
            let path = format!("{root}.properties.{name}");
            parse_field(
                name,
                spec,
                required.contains(name),
                &path,
                compile,
                problems,
            )
        })
        .collect()
}

fn parse_required(object: &Map<String, Value>, root: &str, problems: &mut Problems) -> Vec<String> {
    match object.get("required") {
        None => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        Some(_) => {
            problems.add(format!("{root}.required"), "must be a list of field names");
            Vec::new()
        }
    }
}

pub(super) fn is_annotation(key: &str) -> bool {
    ANNOTATIONS.contains(&key) || key.starts_with("x-")
}

pub(super) fn unsupported(key: &str) -> String {
    format!("the keyword {key:?} is not supported (see docs/models.md for the supported subset)")
}

fn valid_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= FIELD_NAME_MAX
}

pub(super) fn parse_field(
    name: &str,
    spec: &Value,
    required: bool,
    path: &str,
    compile: Compile,
    problems: &mut Problems,
) -> Option<Field> {
    if !valid_field_name(name) {
        problems.add(
            path,
            format!(
                "field names use lowercase letters, digits and _, start with a letter or _, \
                 and have at most {FIELD_NAME_MAX} characters"
            ),
        );
    }
    let Some(spec) = spec.as_object() else {
        problems.add(path, "must be a table describing the field");
        return None;
    };
    let before = problems.0.len();
    let (kind, nullable) = parse_kind(spec, path, compile, problems)?;
    let text = |key: &str, problems: &mut Problems| match spec.get(key) {
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            problems.add(format!("{path}.{key}"), "must be text");
            None
        }
    };
    // Whatever the subset already refused, the validator refuses too:
    // say it once, in the subset's words.
    let property = Value::Object(spec.clone());
    let rule = match compile {
        Compile::OnFirstUse => Some(super::rule::Rule::compiled_on_first_use(property)),
        Compile::Now => match super::rule::Rule::new(&property) {
            Ok(rule) => Some(rule),
            Err(error) => {
                if problems.0.len() == before {
                    problems.add(path, format!("is not a valid JSON Schema: {error}"));
                }
                None
            }
        },
    };
    let title = text("title", problems);
    let description = text("description", problems);
    let rule = rule?;
    let mut field = Field {
        name: name.to_owned(),
        title,
        description,
        required,
        nullable,
        default: None,
        kind,
        rule,
    };
    if let Some(default) = spec.get("default") {
        let checked = if default.is_null() && !nullable {
            Err("is null, and the type does not allow null".to_owned())
        } else {
            field.check(default)
        };
        match checked {
            Ok(value) => field.default = Some(value),
            Err(message) => problems.add(
                format!("{path}.default"),
                format!("is not a valid value for this field: it {message}"),
            ),
        }
    }
    (problems.0.len() == before).then_some(field)
}

/// The field's type name and whether `null` is allowed too: `"number"`, or
/// `["number", "null"]` in either order.
fn parse_type(spec: &Map<String, Value>) -> Option<(&str, bool)> {
    match spec.get("type")? {
        Value::String(kind) => Some((kind, false)),
        Value::Array(kinds) => match kinds.as_slice() {
            [Value::String(a), Value::String(b)] if b == "null" && a != "null" => Some((a, true)),
            [Value::String(a), Value::String(b)] if a == "null" && b != "null" => Some((b, true)),
            _ => None,
        },
        _ => None,
    }
}

fn parse_kind(
    spec: &Map<String, Value>,
    path: &str,
    compile: Compile,
    problems: &mut Problems,
) -> Option<(FieldKind, bool)> {
    let Some((kind, nullable)) = parse_type(spec) else {
        let types = "one of number, integer, string, boolean, array, or a list of one of \
                     them and \"null\" (for example [\"number\", \"null\"])";
        let message = match spec.get("type") {
            None => format!("is needed: {types}"),
            Some(given) => format!("is {given}; it must be {types}"),
        };
        problems.add(format!("{path}.type"), message);
        return None;
    };
    if kind == "array" {
        return super::list::parse(spec, path, compile, problems).map(|kind| (kind, nullable));
    }
    if spec.contains_key("enum") || spec.contains_key("oneOf") {
        return super::choices::parse(kind, spec, path, problems).map(|kind| (kind, nullable));
    }
    let allowed: &[&str] = match kind {
        "number" | "integer" => &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
        "string" => &[
            "minLength",
            "maxLength",
            "pattern",
            "format",
            "contentMediaType",
        ],
        "boolean" => &[],
        other => {
            problems.add(
                format!("{path}.type"),
                format!(
                    "{other:?} is not supported: use number, integer, string, boolean or array"
                ),
            );
            return None;
        }
    };
    for key in spec.keys() {
        let known = key == "type" || key == "default" || allowed.contains(&key.as_str());
        if !known && !is_annotation(key) {
            problems.add(format!("{path}.{key}"), unsupported(key));
        }
    }
    let kind = match kind {
        "number" | "integer" => Some(parse_number(kind == "integer", spec, path, problems)),
        "boolean" => Some(FieldKind::Boolean),
        _ => parse_string(spec, path, problems),
    };
    kind.map(|kind| (kind, nullable))
}

fn parse_number(
    integer: bool,
    spec: &Map<String, Value>,
    path: &str,
    problems: &mut Problems,
) -> FieldKind {
    let mut bound = |inclusive: &str, exclusive: &str| {
        let found = [(inclusive, false), (exclusive, true)]
            .into_iter()
            .filter_map(|(key, is_exclusive)| spec.get(key).map(|v| (key, v, is_exclusive)))
            .collect::<Vec<_>>();
        if found.len() > 1 {
            problems.add(
                format!("{path}.{exclusive}"),
                format!("use either {inclusive} or {exclusive}, not both"),
            );
            return None;
        }
        let (key, value, is_exclusive) = found.into_iter().next()?;
        match value {
            Value::Number(number) => Bound::new(number, is_exclusive),
            _ => {
                problems.add(format!("{path}.{key}"), "must be a number");
                None
            }
        }
    };
    let minimum = bound("minimum", "exclusiveMinimum");
    let maximum = bound("maximum", "exclusiveMaximum");
    if let (Some(min), Some(max)) = (&minimum, &maximum)
        && min.value > max.value
    {
        problems.add(
            path,
            format!("the minimum {min} is above the maximum {max}"),
        );
    }
    FieldKind::Number {
        integer,
        minimum,
        maximum,
    }
}

fn parse_string(
    spec: &Map<String, Value>,
    path: &str,
    problems: &mut Problems,
) -> Option<FieldKind> {
    let mut length = |key: &str| match spec.get(key) {
        None => None,
        Some(value) => match value.as_u64() {
            Some(n) => Some(n),
            None => {
                problems.add(format!("{path}.{key}"), "must be a whole number, 0 or more");
                None
            }
        },
    };
    let min_length = length("minLength");
    let max_length = length("maxLength");
    let message = match spec.get("x-pattern-message") {
        None => None,
        Some(Value::String(text)) if spec.contains_key("pattern") => Some(text.clone()),
        Some(Value::String(_)) => {
            problems.add(
                format!("{path}.x-pattern-message"),
                "says what a pattern means, but this field has no pattern",
            );
            None
        }
        Some(_) => {
            problems.add(format!("{path}.x-pattern-message"), "must be text");
            None
        }
    };
    let pattern = match spec.get("pattern") {
        None => None,
        Some(Value::String(source)) if source.len() <= PATTERN_MAX => {
            match regex::RegexBuilder::new(source).size_limit(1 << 20).build() {
                Ok(regex) => Some(Pattern::new(regex, message)),
                Err(error) => {
                    problems.add(
                        format!("{path}.pattern"),
                        format!("is not a valid pattern: {error}"),
                    );
                    None
                }
            }
        }
        Some(_) => {
            problems.add(
                format!("{path}.pattern"),
                format!("must be a regular expression of at most {PATTERN_MAX} characters"),
            );
            None
        }
    };
    let extras = min_length.is_some() || max_length.is_some() || pattern.is_some();
    if let Some(format) = spec.get("format") {
        if extras {
            problems.add(path, "a date or a file takes no length or pattern");
        }
        return match format.as_str() {
            Some("date") => Some(FieldKind::Date),
            Some("date-time") => Some(FieldKind::DateTime),
            Some("file") => super::file::parse(spec, path, problems),
            _ => {
                problems.add(
                    format!("{path}.format"),
                    "only \"date\" (a calendar date, YYYY-MM-DD), \"date-time\" \
                     (a moment with its time zone) and \"file\" (an uploaded file) \
                     are supported",
                );
                None
            }
        };
    }
    let multiline = parse_multiline(spec, path, problems);
    if let (Some(min), Some(max)) = (min_length, max_length)
        && min > max
    {
        problems.add(path, format!("minLength {min} is above maxLength {max}"));
    }
    Some(FieldKind::String {
        min_length,
        max_length,
        pattern,
        multiline,
    })
}

/// `x-multiline = true`, or a `contentMediaType` of plain text.
fn parse_multiline(spec: &Map<String, Value>, path: &str, problems: &mut Problems) -> bool {
    let flag = match spec.get("x-multiline") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            problems.add(format!("{path}.x-multiline"), "must be true or false");
            false
        }
    };
    match spec.get("contentMediaType") {
        None => flag,
        Some(media) if media == "text/plain" => true,
        Some(_) => {
            problems.add(
                format!("{path}.contentMediaType"),
                "only \"text/plain\" (lines of text) is supported",
            );
            flag
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
