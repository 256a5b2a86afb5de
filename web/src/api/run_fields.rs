//! `?fields=` on the runs list: the properties each row carries, so that a
//! client that shows a table asks for the table's columns and not every
//! run's inputs. Without it a row carries them all, as it always has.

use serde_json::{Map, Value};

use crate::error::AppError;

/// Every property of a run in a list, in the order a row writes them.
pub const RUN_FIELDS: [&str; 18] = [
    "id",
    "model",
    "version",
    "alias",
    "status",
    "status_reason",
    "submitted_by",
    "inputs",
    "resources",
    "job_id",
    "created_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "rerun_of",
    "attempt",
    "progress",
    "url",
];

/// Properties of one run's own answer (`GET /api/v1/runs/{id}`) that a
/// list row does not carry.
const OWN_ANSWER_ONLY: [&str; 5] = ["events", "outputs", "cost", "scheduled_by", "sweep"];

/// The properties a list asked for (`fields=id,status,created_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields(Vec<&'static str>);

impl Fields {
    /// Reads `fields`: names of [`RUN_FIELDS`], separated by commas (no
    /// spaces); `None` or empty for every one. [`pattern`] says the same.
    ///
    /// # Errors
    /// 400 naming a property that runs do not have.
    pub fn parse(text: Option<&str>) -> Result<Option<Self>, AppError> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        for name in text.split(',') {
            let known = RUN_FIELDS.iter().find(|f| **f == name).ok_or_else(|| {
                let why = if OWN_ANSWER_ONLY.contains(&name) {
                    "which a list does not carry (GET /api/v1/runs/{id} has it)"
                } else {
                    "which a run does not have"
                };
                AppError::BadRequest(format!(
                    "fields names {:?}, {why}; it takes {}",
                    shortened(name),
                    RUN_FIELDS.join(", ")
                ))
            })?;
            if !fields.contains(known) {
                fields.push(*known);
            }
        }
        Ok(Some(Fields(fields)))
    }

    /// A row with only these properties, in the order of [`RUN_FIELDS`].
    pub fn select(&self, row: Value) -> Value {
        let Value::Object(mut all) = row else {
            return row;
        };
        let mut kept = Map::new();
        for name in RUN_FIELDS.iter().filter(|name| self.0.contains(name)) {
            if let Some(value) = all.remove(*name) {
                kept.insert((*name).to_owned(), value);
            }
        }
        Value::Object(kept)
    }
}

/// A name as an error repeats it: at most 64 characters.
fn shortened(name: &str) -> String {
    const MOST: usize = 64;
    match name.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}…", &name[..end]),
        None => name.to_owned(),
    }
}

/// The rule of [`Fields::parse`] as a JSON Schema `pattern`.
pub fn pattern() -> String {
    let one = format!("({})", RUN_FIELDS.join("|"));
    format!("^{one}(,{one})*$")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_row_keeps_the_fields_asked_for_and_an_unknown_one_is_named() {
        let fields = Fields::parse(Some("status,id,id"))
            .expect("valid")
            .expect("some");
        assert_eq!(
            fields.select(json!({"id": 1, "model": "m", "status": "queued", "inputs": {"a": 1}})),
            json!({"id": 1, "status": "queued"})
        );
        assert_eq!(Fields::parse(Some("")).expect("valid"), None);
        assert!(
            Fields::parse(Some("id, status")).is_err(),
            "as the pattern says"
        );
        assert!(Fields::parse(Some("id,")).is_err());
        assert!(pattern().starts_with("^(id|model|"));
        let error = Fields::parse(Some("id,colour")).expect_err("unknown");
        assert!(error.to_string().contains("\"colour\""), "{error}");
        assert!(error.to_string().contains("a run does not have"), "{error}");
        let error = Fields::parse(Some("sweep")).expect_err("one run's only");
        assert!(
            error
                .to_string()
                .contains("a list does not carry (GET /api/v1/runs/{id} has it)"),
            "{error}"
        );
        let long = "x".repeat(20_000);
        let error = Fields::parse(Some(&long)).expect_err("unknown");
        assert!(
            error.to_string().len() < 600,
            "{} characters",
            error.to_string().len()
        );
    }
}
