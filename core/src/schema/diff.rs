//! What changed in a model's inputs from one version to the next, in words.

use super::{Field, InputSchema};

/// The changes from `old` to `new`: inputs added, removed, and changed
/// (their default, whether they are required, or their type and bounds).
pub fn changes(old: &InputSchema, new: &InputSchema) -> Vec<String> {
    let find = |schema: &InputSchema, name: &str| -> Option<Field> {
        schema.fields().iter().find(|f| f.name == name).cloned()
    };
    let mut out = Vec::new();
    for field in new.fields() {
        match find(old, &field.name) {
            None => out.push(format!("added {}", field.name)),
            Some(before) if before != *field => {
                let mut what = Vec::new();
                if before.default != field.default {
                    what.push(format!(
                        "default {} → {}",
                        text(before.default.as_ref()),
                        text(field.default.as_ref())
                    ));
                }
                if before.required != field.required {
                    what.push(
                        if field.required {
                            "now required"
                        } else {
                            "now optional"
                        }
                        .to_owned(),
                    );
                }
                if before.kind != field.kind {
                    what.push("type or bounds".to_owned());
                }
                if what.is_empty() {
                    what.push("its label or help".to_owned());
                }
                out.push(format!("changed {} ({})", field.name, what.join(", ")));
            }
            Some(_) => {}
        }
    }
    for field in old.fields() {
        if find(new, &field.name).is_none() {
            out.push(format!("removed {}", field.name));
        }
    }
    out
}

/// A default as people read it: strings bare, none as "none".
fn text(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "none".to_owned(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(value: serde_json::Value) -> InputSchema {
        InputSchema::parse(&value, "inputs").expect("schema")
    }

    #[test]
    fn says_what_was_added_removed_and_changed() {
        let old = schema(json!({"type": "object", "properties": {
            "growth": {"type": "number", "default": 0.02, "maximum": 0.5},
            "churn": {"type": "number", "default": 0.01},
            "region": {"type": "string"}
        }}));
        let new = schema(
            json!({"type": "object", "required": ["growth"], "properties": {
                "growth": {"type": "number", "default": 0.03, "maximum": 0.5},
                "churn": {"type": "number", "default": 0.01, "maximum": 1},
                "horizon": {"type": "integer", "default": 12}
            }}),
        );
        assert_eq!(
            changes(&old, &new),
            [
                "changed growth (default 0.02 → 0.03, now required)",
                "changed churn (type or bounds)",
                "added horizon",
                "removed region"
            ]
        );
        assert!(changes(&new, &new).is_empty());
    }
}
