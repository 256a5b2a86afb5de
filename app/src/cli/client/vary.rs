//! The `--vary` flags of `modelrun sweeps submit`: what each varied input
//! takes, as the API's `vary` object. `name=from:to:step` is a range of a
//! number input (both ends included); anything else is a list, its items
//! separated by commas, or by semicolons when any item holds a comma (a
//! decimal comma: `0,02;0,03`, or text with commas). Each item, and each
//! end and step of a range, is read as the run form reads its box (a
//! decimal comma, a choice's value), with the version's schema; `[…]` is
//! a JSON list taken as it is.

use anyhow::bail;
use modelrun_core::schema::{FieldKind, InputSchema};
use serde_json::{Map, Value, json};

/// The `vary` object of the flags, in the order given.
///
/// # Errors
/// What is wrong with a flag, naming it and the rule it breaks.
pub(super) fn read(
    schema: Option<&InputSchema>,
    flags: &[String],
) -> anyhow::Result<Map<String, Value>> {
    let mut vary = Map::new();
    for flag in flags {
        let Some((name, spec)) = flag.split_once('=') else {
            bail!(
                "--vary {flag:?}: write it as name=from:to:step (a range of numbers) \
                 or name=a,b,c (a list of values)"
            );
        };
        let name = name.trim();
        if name.is_empty() {
            bail!("--vary {flag:?}: the input's name is empty");
        }
        if vary.contains_key(name) {
            bail!("--vary {name} is given twice: give each varied input once, with all its values");
        }
        let variation = variation(schema, name, spec.trim())
            .map_err(|message| anyhow::anyhow!("--vary {name}={spec}: {message}"))?;
        vary.insert(name.to_owned(), variation);
    }
    Ok(vary)
}

/// One input's variation; the error completes "--vary name=spec: …".
fn variation(schema: Option<&InputSchema>, name: &str, spec: &str) -> Result<Value, String> {
    if spec.is_empty() {
        return Err("gives no values: write from:to:step or a,b,c".to_owned());
    }
    if spec.starts_with('[')
        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(spec)
    {
        return Ok(Value::Array(items));
    }
    let field = schema.and_then(|schema| schema.field(name));
    let number = field.is_some_and(|field| matches!(field.kind, FieldKind::Number { .. }));
    if spec.contains(':') && (number || field.is_none()) {
        return range(schema, name, spec);
    }
    let separator = if spec.contains(';') { ';' } else { ',' };
    let mut items = Vec::new();
    for (at, item) in spec.split(separator).enumerate() {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!(
                "item {} is empty: separate the values with {separator:?} and give each once",
                at + 1
            ));
        }
        if number && separator == ',' && has_leading_zero(item) {
            return Err(format!(
                "{item:?} is not a number as written: a list of numbers with a decimal comma \
                 separates them with ; (0,02;0,03)"
            ));
        }
        items.push(value(schema, name, item)?);
    }
    Ok(Value::Array(items))
}

/// `from:to:step`, each read as a number.
fn range(schema: Option<&InputSchema>, name: &str, spec: &str) -> Result<Value, String> {
    let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    let [from, to, step] = parts.as_slice() else {
        return Err(format!(
            "a range is from:to:step, three numbers such as 0.02:0.06:0.01, not {} parts",
            parts.len()
        ));
    };
    let mut numbers = Vec::with_capacity(3);
    for (what, text) in [("from", from), ("to", to), ("step", step)] {
        match value(schema, name, text) {
            Ok(read @ Value::Number(_)) => numbers.push(read),
            _ => return Err(format!("the range's {what}, {text:?}, is not a number")),
        }
    }
    Ok(json!({ "from": numbers[0], "to": numbers[1], "step": numbers[2] }))
}

/// One value as the form reads its box; for an input the schema does not
/// have (the server names it), JSON when it is JSON, else text.
fn value(schema: Option<&InputSchema>, name: &str, text: &str) -> Result<Value, String> {
    match schema.and_then(|schema| schema.read_text(name, text)) {
        None => Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))),
        Some(Ok(Some(read))) => Ok(read),
        Some(Ok(None)) => Err("has an empty value".to_owned()),
        Some(Err(message)) => Err(format!("{text:?}: {name} {message}")),
    }
}

/// `02`, `-05`: what a decimal comma split at its comma leaves behind.
fn has_leading_zero(item: &str) -> bool {
    let digits = item.trim_start_matches(['-', '+']);
    digits.len() > 1 && digits.starts_with('0') && digits.as_bytes()[1].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> InputSchema {
        InputSchema::parse(
            &json!({
                "type": "object",
                "properties": {
                    "growth_rate": {"type": "number"},
                    "horizon_months": {"type": "integer"},
                    "seasonality": {"type": "string", "enum": ["none", "retail", "b2b"]},
                    "note": {"type": "string"}
                }
            }),
            "inputs",
        )
        .expect("schema")
    }

    fn vary(flags: &[&str]) -> anyhow::Result<Map<String, Value>> {
        let flags: Vec<String> = flags.iter().map(|&f| f.to_owned()).collect();
        read(Some(&schema()), &flags)
    }

    fn refusal(flags: &[&str]) -> String {
        vary(flags).expect_err("refused").to_string()
    }

    #[test]
    fn ranges_and_lists_become_the_apis_variations() {
        let read = vary(&[
            "growth_rate=0.02:0.06:0.01",
            "seasonality=retail,b2b",
            "horizon_months=12; 24",
        ])
        .expect("vary");
        assert_eq!(
            read["growth_rate"],
            json!({"from": 0.02, "to": 0.06, "step": 0.01})
        );
        assert_eq!(read["seasonality"], json!(["retail", "b2b"]));
        assert_eq!(read["horizon_months"], json!([12, 24]));
        assert_eq!(
            read.keys().collect::<Vec<_>>(),
            ["growth_rate", "seasonality", "horizon_months"],
            "in the order given"
        );
        let read = vary(&[
            "growth_rate=0,02;0,03",
            "note=a,b;c",
            "seasonality=[\"none\"]",
        ])
        .expect("vary");
        assert_eq!(read["growth_rate"], json!([0.02, 0.03]));
        assert_eq!(read["note"], json!(["a,b", "c"]), "; separates when given");
        assert_eq!(read["seasonality"], json!(["none"]));
        assert_eq!(
            vary(&["growth_rate=0,02:0,06:0,01"]).expect("vary")["growth_rate"],
            json!({"from": 0.02, "to": 0.06, "step": 0.01})
        );
        assert_eq!(
            vary(&["note=10:00,11:00"]).expect("vary")["note"],
            json!(["10:00", "11:00"]),
            "a colon in text is no range"
        );
    }

    #[test]
    fn a_bad_vary_names_the_flag_and_the_rule() {
        assert!(refusal(&["growth_rate"]).contains("write it as name=from:to:step"));
        assert!(refusal(&["=1,2"]).contains("name is empty"));
        assert!(refusal(&["growth_rate=0.02:0.06"]).contains("a range is from:to:step"));
        assert!(
            refusal(&["growth_rate=0.02:x:0.01"])
                .contains("the range's to, \"x\", is not a number")
        );
        assert!(refusal(&["growth_rate=0,02,0,03"]).contains("separates them with ;"));
        assert!(refusal(&["seasonality=retail,,b2b"]).contains("item 2 is empty"));
        assert!(refusal(&["seasonality="]).contains("gives no values"));
        let twice = refusal(&["seasonality=retail", "seasonality=b2b"]);
        assert!(
            twice.contains("--vary seasonality is given twice"),
            "{twice}"
        );
        let unreadable = refusal(&["growth_rate=1,000;2"]);
        assert!(
            unreadable.starts_with("--vary growth_rate=1,000;2: \"1,000\": growth_rate could mean"),
            "{unreadable}"
        );
    }
}
