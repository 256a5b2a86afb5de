//! Lists: `type = "array"` whose `items` are numbers, text, dates or
//! choices, bounded by `minItems`, `maxItems` and `uniqueItems`. Each item
//! is checked as a field of its own, so a refusal names the item and says
//! what it must be in the same words as for a single value.

use serde_json::{Map, Value};

use super::parse::{Compile, Problems, is_annotation, parse_field, unsupported};
use super::{Field, FieldKind};

/// Most items a list may declare with `maxItems`, and the most a list
/// without one takes: a form with more lines is not a form.
pub const MAX_ITEMS: u64 = 1000;

/// Reads a property of type `array`.
pub(super) fn parse(
    spec: &Map<String, Value>,
    path: &str,
    compile: Compile,
    problems: &mut Problems,
) -> Option<FieldKind> {
    for key in spec.keys() {
        let known = matches!(
            key.as_str(),
            "type" | "default" | "items" | "minItems" | "maxItems" | "uniqueItems"
        );
        if !known && !is_annotation(key) {
            problems.add(format!("{path}.{key}"), unsupported(key));
        }
    }
    let mut count = |key: &str| match spec.get(key) {
        None => None,
        Some(value) => match value.as_u64().filter(|n| *n <= MAX_ITEMS) {
            Some(n) => Some(n),
            None => {
                problems.add(
                    format!("{path}.{key}"),
                    format!("must be a whole number from 0 to {MAX_ITEMS}"),
                );
                None
            }
        },
    };
    let min_items = count("minItems");
    let max_items = count("maxItems");
    if let (Some(min), Some(max)) = (min_items, max_items)
        && min > max
    {
        problems.add(path, format!("minItems {min} is above maxItems {max}"));
    }
    let unique = match spec.get("uniqueItems") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => {
            problems.add(format!("{path}.uniqueItems"), "must be true or false");
            false
        }
    };
    let items_path = format!("{path}.items");
    let Some(items) = spec.get("items") else {
        problems.add(
            &items_path,
            "is required: the schema of each item (a number, text, date or choice)",
        );
        return None;
    };
    let before = problems.0.len();
    let name = path.rsplit('.').next().unwrap_or(path);
    let item = parse_field(name, items, true, &items_path, compile, problems)?;
    let fits = match &item.kind {
        FieldKind::Number { .. } | FieldKind::Enum { .. } => true,
        FieldKind::Date | FieldKind::DateTime => true,
        FieldKind::String { multiline, .. } => !multiline,
        FieldKind::Boolean | FieldKind::List { .. } | FieldKind::File { .. } => false,
    };
    if !fits || item.nullable {
        problems.add(
            &items_path,
            "items are numbers, whole numbers, single lines of text, dates or choices, \
             and never null",
        );
    }
    if item.default.is_some() {
        problems.add(
            format!("{items_path}.default"),
            "an item takes no default: give the list one",
        );
    }
    (problems.0.len() == before).then(|| FieldKind::List {
        item: Box::new(item),
        min_items,
        max_items,
        unique,
    })
}

impl Field {
    /// Checks a list item by item, then its length and repeats; returns it
    /// with each item in normal form.
    pub(super) fn check_list(
        &self,
        value: &Value,
        item: &Field,
        min_items: Option<u64>,
        max_items: Option<u64>,
        unique: bool,
    ) -> Result<Value, String> {
        let Some(items) = value.as_array() else {
            return Err("must be a list".to_owned());
        };
        let mut normal = Vec::with_capacity(items.len());
        for (i, value) in items.iter().enumerate() {
            if value.is_null() {
                return Err(format!("(item {}) must have a value", i + 1));
            }
            normal.push(
                item.check(value)
                    .map_err(|message| format!("(item {}) {message}", i + 1))?,
            );
        }
        let count = normal.len() as u64;
        let plural = |n: u64| if n == 1 { "item" } else { "items" };
        if let Some(min) = min_items.filter(|min| count < *min) {
            return Err(format!("must have at least {min} {}", plural(min)));
        }
        let max = max_items.unwrap_or(MAX_ITEMS);
        if count > max {
            return Err(format!("must have at most {max} {}", plural(max)));
        }
        if unique {
            for (i, value) in normal.iter().enumerate() {
                if let Some(j) = normal[..i].iter().position(|earlier| same(earlier, value)) {
                    return Err(format!(
                        "(items {} and {}) lists the same value twice",
                        j + 1,
                        i + 1
                    ));
                }
            }
        }
        Ok(Value::Array(normal))
    }
}

/// Equal as JSON Schema's `uniqueItems` sees them: `1` and `1.0` are one number.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::InputSchema;

    fn schema(property: serde_json::Value) -> Result<InputSchema, crate::DefinitionError> {
        InputSchema::parse(
            &json!({"type": "object", "properties": {"rates": property}}),
            "inputs",
        )
    }

    fn check(
        property: serde_json::Value,
        value: serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let schema = schema(property).expect("schema");
        schema.fields()[0].check(&value)
    }

    #[test]
    fn items_are_checked_one_by_one_and_named() {
        let rates = json!({"type": "array", "items": {"type": "number", "maximum": 0.5}, "minItems": 2, "maxItems": 4});
        assert_eq!(
            check(rates.clone(), json!([0.1, 0.2])),
            Ok(json!([0.1, 0.2]))
        );
        assert_eq!(
            check(rates.clone(), json!([0.1, 0.9])),
            Err("(item 2) must be at most 0.5".to_owned())
        );
        assert_eq!(
            check(rates.clone(), json!([0.1])),
            Err("must have at least 2 items".to_owned())
        );
        assert_eq!(
            check(rates.clone(), json!([0.1, 0.1, 0.1, 0.1, 0.1])),
            Err("must have at most 4 items".to_owned())
        );
        assert_eq!(
            check(rates.clone(), json!(0.1)),
            Err("must be a list".to_owned())
        );
        assert_eq!(
            check(rates, json!([0.1, null])),
            Err("(item 2) must have a value".to_owned())
        );
    }

    #[test]
    fn whole_numbers_are_normalized_and_repeats_refused() {
        let quarters = json!({"type": "array", "items": {"type": "integer"}, "uniqueItems": true});
        assert_eq!(check(quarters.clone(), json!([1, 2.0])), Ok(json!([1, 2])));
        assert_eq!(
            check(quarters.clone(), json!([1, 2, 1.0])),
            Err("(items 1 and 3) lists the same value twice".to_owned())
        );
        assert_eq!(
            check(quarters, json!([1.5])),
            Err("(item 1) must be a whole number".to_owned())
        );
    }

    #[test]
    fn chosen_items_are_refused_with_the_labels() {
        let regions = json!({"type": "array", "items": {"type": "string", "oneOf": [
            {"const": "n", "title": "North"}, {"const": "s", "title": "South"}]}});
        assert_eq!(
            check(regions.clone(), json!(["s", "n"])),
            Ok(json!(["s", "n"]))
        );
        assert_eq!(
            check(regions, json!(["x"])),
            Err("(item 1) must be one of: North (n), South (s)".to_owned())
        );
    }

    #[test]
    fn a_list_is_of_plain_values_with_sane_bounds() {
        let refused = |property: serde_json::Value, path: &str| {
            let error = schema(property).expect_err("refused");
            assert!(
                error.problems.iter().any(|(at, _)| at == path),
                "{path}: {:?}",
                error.problems
            );
        };
        refused(json!({"type": "array"}), "inputs.properties.rates.items");
        refused(
            json!({"type": "array", "items": {"type": "boolean"}}),
            "inputs.properties.rates.items",
        );
        refused(
            json!({"type": "array", "items": {"type": "array", "items": {"type": "number"}}}),
            "inputs.properties.rates.items",
        );
        refused(
            json!({"type": "array", "items": {"type": ["number", "null"]}}),
            "inputs.properties.rates.items",
        );
        refused(
            json!({"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 2}),
            "inputs.properties.rates",
        );
        refused(
            json!({"type": "array", "items": {"type": "number"}, "maxItems": 100000}),
            "inputs.properties.rates.maxItems",
        );
        refused(
            json!({"type": "array", "items": {"type": "number"}, "contains": {"const": 1}}),
            "inputs.properties.rates.contains",
        );
        refused(
            json!({"type": "array", "items": {"type": "number", "maximum": 1}, "default": [2]}),
            "inputs.properties.rates.default",
        );
    }
}
