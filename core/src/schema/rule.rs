//! One input's own JSON Schema, compiled by a well-kept validator (the
//! `jsonschema` crate, built without the features that let a `$ref` fetch a
//! URL or read a file). The subset and the messages stay ours: this says
//! only which keyword refused a value, and [`super::Field::check`] puts it
//! in words a planner reads.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// A property's schema and its validator, compiled when its version is
/// registered, or on the first check of a version read back from the store.
#[derive(Clone)]
pub(super) struct Rule {
    /// `None` inside: the schema no longer compiles (it did when it was
    /// registered); every value is then refused rather than let through.
    /// Shared by clones, so that a schema kept in a cache is compiled once.
    validator: Arc<OnceLock<Option<jsonschema::Validator>>>,
    schema: Value,
}

/// Compiles a property's schema; formats (`date`) are checked, not merely
/// annotated.
fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|error| error.to_string())
}

impl Rule {
    /// Compiles a property's schema now.
    ///
    /// # Errors
    /// The validator's words when the schema does not compile.
    pub(super) fn new(schema: &Value) -> Result<Self, String> {
        Ok(Rule {
            validator: Arc::new(OnceLock::from(Some(compile(schema)?))),
            schema: schema.clone(),
        })
    }

    /// A schema that compiled when it was registered, compiled again on its
    /// first check.
    pub(super) fn compiled_on_first_use(schema: Value) -> Self {
        Rule {
            validator: Arc::new(OnceLock::new()),
            schema,
        }
    }

    /// The keyword (`minimum`, `type`, `pattern`, …) of the check `value`
    /// fails, if any: a wrong type first, as it makes the others moot.
    pub(super) fn refusal(&self, value: &Value) -> Option<String> {
        let validator = self.validator.get_or_init(|| compile(&self.schema).ok());
        let Some(validator) = validator else {
            return Some("$schema".to_owned());
        };
        let keywords: Vec<String> = validator
            .iter_errors(value)
            .map(|error| {
                let path = error.schema_path().as_str();
                path.rsplit('/').next().unwrap_or(path).to_owned()
            })
            .collect();
        keywords
            .iter()
            .find(|keyword| *keyword == "type")
            .or(keywords.first())
            .cloned()
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Rule").field(&self.schema).finish()
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.schema == other.schema
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_stored_schema_compiles_on_its_first_check_and_checks_the_same() {
        let schema = json!({"type": "integer", "minimum": 1, "maximum": 9});
        let stored = Rule::compiled_on_first_use(schema.clone());
        assert!(stored.validator.get().is_none(), "nothing compiled yet");
        let now = Rule::new(&schema).expect("rule");
        for value in [json!(5), json!(10), json!(1.5), json!("x")] {
            assert_eq!(stored.refusal(&value), now.refusal(&value), "{value}");
        }
        assert!(stored.validator.get().is_some());
    }

    #[test]
    fn names_the_keyword_that_refused_a_type_first() {
        let rule =
            Rule::new(&json!({"type": "integer", "minimum": 1, "maximum": 9})).expect("rule");
        assert_eq!(rule.refusal(&json!(5)), None);
        assert_eq!(rule.refusal(&json!(10)).as_deref(), Some("maximum"));
        assert_eq!(rule.refusal(&json!(1.5)).as_deref(), Some("type"));
        let date = Rule::new(&json!({"type": "string", "format": "date"})).expect("rule");
        assert_eq!(
            date.refusal(&json!("2027-02-30")).as_deref(),
            Some("format")
        );
        assert_eq!(date.refusal(&json!("2028-02-29")), None);
    }

    #[test]
    fn a_reference_reaches_nothing_outside_the_schema() {
        for target in ["https://example.com/inputs.json", "file:///etc/passwd"] {
            assert!(
                Rule::new(&json!({"$ref": target})).is_err(),
                "{target} is neither fetched nor read"
            );
        }
    }
}
