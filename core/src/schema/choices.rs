//! Choices: a list of allowed values (`enum`), or labelled options, the
//! JSON Schema way (`oneOf` of `const` and `title`), of text, whole numbers
//! or numbers. The model gets the value; the person reads the label.

use serde_json::{Map, Value};

use super::parse::{Problems, is_annotation, unsupported};
use super::{Choice, FieldKind};

/// Reads the choices of a property of type `kind` that has `enum` or `oneOf`.
pub(super) fn parse(
    kind: &str,
    spec: &Map<String, Value>,
    path: &str,
    problems: &mut Problems,
) -> Option<FieldKind> {
    if !matches!(kind, "string" | "integer" | "number") {
        problems.add(
            format!("{path}.type"),
            "choices are text, whole numbers or numbers: use string, integer or number",
        );
        return None;
    }
    for key in spec.keys() {
        match key.as_str() {
            "type" | "default" | "enum" | "oneOf" => {}
            "format" => problems.add(path, "use either format or enum, not both"),
            "minLength" | "maxLength" | "pattern" | "minimum" | "maximum" | "exclusiveMinimum"
            | "exclusiveMaximum" => problems.add(
                path,
                "choices take no length, pattern or bounds: the options are the limit",
            ),
            other if is_annotation(other) => {}
            other => problems.add(format!("{path}.{other}"), unsupported(other)),
        }
    }
    let options = match (spec.get("enum"), spec.get("oneOf")) {
        (Some(_), Some(_)) => {
            problems.add(path, "use either enum or oneOf, not both");
            return None;
        }
        (Some(values), None) => plain(kind, values, &format!("{path}.enum"), problems)?,
        (None, Some(options)) => labelled(kind, options, &format!("{path}.oneOf"), problems)?,
        (None, None) => return None,
    };
    let mut values: Vec<String> = options.iter().map(|o| o.value.to_string()).collect();
    values.sort();
    values.dedup();
    if values.len() != options.len() {
        let key = if spec.contains_key("enum") {
            "enum"
        } else {
            "oneOf"
        };
        problems.add(format!("{path}.{key}"), "lists an option twice");
    }
    Some(FieldKind::Enum { options })
}

/// Whether `value` is of the choice's type.
fn fits(kind: &str, value: &Value) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => value.is_number(),
    }
}

fn what(kind: &str) -> &'static str {
    match kind {
        "string" => "text",
        "integer" => "whole numbers",
        _ => "numbers",
    }
}

/// One value of a field of type `kind`, with its article.
fn one(kind: &str) -> &'static str {
    match kind {
        "string" => "text",
        "integer" => "a whole number",
        _ => "a number",
    }
}

fn plain(kind: &str, values: &Value, path: &str, problems: &mut Problems) -> Option<Vec<Choice>> {
    match values.as_array() {
        Some(items) if !items.is_empty() && items.iter().all(|item| fits(kind, item)) => Some(
            items
                .iter()
                .map(|value| Choice {
                    label: Choice::text_of(value),
                    value: value.clone(),
                })
                .collect(),
        ),
        _ => {
            problems.add(
                path,
                format!("must be a non-empty list of options, all {}", what(kind)),
            );
            None
        }
    }
}

fn labelled(
    kind: &str,
    options: &Value,
    path: &str,
    problems: &mut Problems,
) -> Option<Vec<Choice>> {
    let Some(items) = options.as_array().filter(|items| !items.is_empty()) else {
        problems.add(
            path,
            "must be a non-empty list of options, each with a const and a title",
        );
        return None;
    };
    let before = problems.0.len();
    let mut choices = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Some(option) = item.as_object() else {
            problems.add(at, "must be a table with a const and a title");
            continue;
        };
        for key in option.keys() {
            if !matches!(key.as_str(), "const" | "title" | "description") {
                problems.add(format!("{at}.{key}"), unsupported(key));
            }
        }
        let value = match option.get("const") {
            Some(value) if fits(kind, value) => value.clone(),
            Some(value) => {
                problems.add(
                    format!("{at}.const"),
                    format!("is {value}; it must be {}, as the field is", one(kind)),
                );
                continue;
            }
            None => {
                problems.add(
                    format!("{at}.const"),
                    format!("is needed: the option's value, {}", one(kind)),
                );
                continue;
            }
        };
        let label = match option.get("title") {
            None => Choice::text_of(&value),
            Some(Value::String(title)) => title.clone(),
            Some(_) => {
                problems.add(format!("{at}.title"), "must be text");
                continue;
            }
        };
        choices.push(Choice { value, label });
    }
    (problems.0.len() == before).then_some(choices)
}
