//! Tests of schema parsing: what the subset accepts and how it refuses.

use serde_json::json;

use super::*;

fn problems(document: Value) -> Vec<(String, String)> {
    match InputSchema::parse(&document, "inputs") {
        Ok(schema) => panic!("expected a refusal, got {schema:?}"),
        Err(error) => error.problems,
    }
}

fn paths(document: Value) -> Vec<String> {
    problems(document)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn parses_every_supported_type_in_declared_order() {
    let schema = InputSchema::parse(
        &json!({
            "type": "object",
            "required": ["growth", "horizon"],
            "additionalProperties": false,
            "properties": {
                "horizon": {"type": "integer", "minimum": 1, "maximum": 60, "default": 12},
                "growth": {"type": "number", "exclusiveMinimum": -1, "title": "Growth"},
                "label": {"type": "string", "maxLength": 20, "pattern": "^[a-z]+$"},
                "profile": {"type": "string", "enum": ["none", "retail"], "default": "none"},
                "start": {"type": "string", "format": "date", "x-widget": "calendar"},
                "audit": {"type": "boolean", "default": false, "description": "Keep a trail"}
            }
        }),
        "inputs",
    )
    .expect("schema is valid");
    let names: Vec<_> = schema.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["horizon", "growth", "label", "profile", "start", "audit"]
    );
    let horizon = schema.field("horizon").expect("horizon");
    assert!(horizon.required);
    assert_eq!(horizon.default, Some(json!(12)));
    assert!(matches!(
        horizon.kind,
        FieldKind::Number { integer: true, .. }
    ));
    let growth = schema.field("growth").expect("growth");
    assert_eq!(growth.label(), "Growth");
    match &growth.kind {
        FieldKind::Number {
            minimum: Some(min),
            maximum: None,
            integer: false,
        } => {
            assert!(min.exclusive);
            assert_eq!(min.to_string(), "-1");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        schema.field("start").map(|f| &f.kind),
        Some(FieldKind::Date)
    ));
    assert!(!schema.field("audit").is_some_and(|f| f.required));
}

#[test]
fn refuses_unsupported_keywords_with_their_path() {
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "number", "multipleOf": 2}}})),
        ["inputs.properties.a.multipleOf"]
    );
    assert_eq!(
        paths(json!({"type": "object", "oneOf": [], "properties": {}})),
        ["inputs.oneOf"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "array"}}})),
        ["inputs.properties.a.items"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "object"}}})),
        ["inputs.properties.a.type"]
    );
    assert_eq!(
        paths(
            json!({"type": "object", "properties": {"a": {"type": "string", "format": "email"}}})
        ),
        ["inputs.properties.a.format"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "boolean", "maxLength": 3}}})),
        ["inputs.properties.a.maxLength"]
    );
}

#[test]
fn refuses_broken_structure() {
    assert_eq!(paths(json!([1])), ["inputs"]);
    assert_eq!(paths(json!({"properties": {}})), ["inputs.type"]);
    assert_eq!(
        paths(json!({"type": "object", "additionalProperties": true})),
        ["inputs.additionalProperties"]
    );
    assert_eq!(
        paths(json!({"type": "object", "required": ["ghost"], "properties": {}})),
        ["inputs.required"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"Bad-Name": {"type": "number"}}})),
        ["inputs.properties.Bad-Name"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"title": "no type"}}})),
        ["inputs.properties.a.type"]
    );
}

#[test]
fn refuses_contradictory_or_malformed_bounds() {
    assert_eq!(
        paths(
            json!({"type": "object", "properties": {"a": {"type": "number", "minimum": 5, "maximum": 1}}})
        ),
        ["inputs.properties.a"]
    );
    assert_eq!(
        paths(
            json!({"type": "object", "properties": {"a": {"type": "number", "minimum": 1, "exclusiveMinimum": 1}}})
        ),
        ["inputs.properties.a.exclusiveMinimum"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "number", "maximum": "10"}}})),
        ["inputs.properties.a.maximum"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}})),
        ["inputs.properties.a.pattern"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": -1}}})),
        ["inputs.properties.a.maxLength"]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {"a": {"type": "string", "enum": []}}})),
        ["inputs.properties.a.enum"]
    );
    assert_eq!(
        paths(
            json!({"type": "object", "properties": {"a": {"type": "string", "enum": ["x", "x"]}}})
        ),
        ["inputs.properties.a.enum"]
    );
}

#[test]
fn a_default_must_satisfy_its_own_field() {
    let found = problems(json!({
        "type": "object",
        "properties": {"rate": {"type": "number", "maximum": 1, "default": 2}}
    }));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "inputs.properties.rate.default");
    assert!(found[0].1.contains("must be at most 1"), "{}", found[0].1);
}

#[test]
fn lists_every_problem_at_once() {
    let error = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "a": {"type": "number", "minimum": "x"},
            "b": {"type": "string", "format": "time"}
        }}),
        "inputs",
    )
    .expect_err("two problems");
    assert_eq!(error.problems.len(), 2);
    assert!(error.to_string().contains("; "));
}

#[test]
fn a_type_with_null_makes_a_nullable_field() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "cap": {"type": ["number", "null"], "default": null},
            "note": {"type": ["null", "string"], "maxLength": 3},
            "plain": {"type": "integer"}
        }}),
        "inputs",
    )
    .expect("schema");
    let cap = schema.field("cap").expect("cap");
    assert!(cap.nullable);
    assert_eq!(cap.default, Some(Value::Null));
    assert!(schema.field("note").expect("note").nullable);
    assert!(!schema.field("plain").expect("plain").nullable);
    assert_eq!(
        paths(json!({"type": "object", "properties": {
            "a": {"type": ["number", "string"]},
            "b": {"type": ["null"]},
            "c": {"type": "number", "default": null}
        }})),
        [
            "inputs.properties.a.type",
            "inputs.properties.b.type",
            "inputs.properties.c.default"
        ]
    );
}

#[test]
fn a_pattern_message_needs_a_pattern_and_text() {
    assert_eq!(
        paths(json!({"type": "object", "properties": {
            "a": {"type": "string", "x-pattern-message": "must be a code"},
            "b": {"type": "string", "pattern": "^x$", "x-pattern-message": 3}
        }})),
        [
            "inputs.properties.a.x-pattern-message",
            "inputs.properties.b.x-pattern-message"
        ]
    );
}

#[test]
fn choices_are_text_or_numbers_plain_or_labelled() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "months": {"type": "integer", "enum": [3, 6, 12], "default": 6},
            "rate": {"type": "number", "enum": [0.5, 1]},
            "profile": {"type": "string", "oneOf": [
                {"const": "none", "title": "Flat"},
                {"const": "retail", "title": "Strong Q4", "description": "Retail"},
                {"const": "b2b"}
            ]}
        }}),
        "inputs",
    )
    .expect("schema");
    let labels = |name: &str| match &schema.field(name).expect("field").kind {
        FieldKind::Enum { options } => options
            .iter()
            .map(|o| (o.value.clone(), o.label.clone()))
            .collect::<Vec<_>>(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        labels("months"),
        [
            (json!(3), "3".into()),
            (json!(6), "6".into()),
            (json!(12), "12".into())
        ]
    );
    assert_eq!(labels("rate")[0], (json!(0.5), "0.5".to_owned()));
    assert_eq!(
        labels("profile"),
        [
            (json!("none"), "Flat".to_owned()),
            (json!("retail"), "Strong Q4".to_owned()),
            (json!("b2b"), "b2b".to_owned())
        ]
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {
            "a": {"type": "integer", "enum": [1, 1.5]},
            "b": {"type": "string", "oneOf": [{"const": 1, "title": "One"}]},
            "c": {"type": "boolean", "enum": [true]},
            "d": {"type": "string", "enum": ["x"], "oneOf": [{"const": "x"}]},
            "e": {"type": "string", "oneOf": [{"const": "x", "minimum": 1}]},
            "f": {"type": "integer", "enum": [1, 2], "maximum": 1}
        }})),
        [
            "inputs.properties.a.enum",
            "inputs.properties.b.oneOf[0].const",
            "inputs.properties.c.type",
            "inputs.properties.d",
            "inputs.properties.e.oneOf[0].minimum",
            "inputs.properties.f"
        ]
    );
    let problems = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "b": {"type": "string", "oneOf": [{"const": 1, "title": "One"}, {"title": "Two"}]},
            "n": {"type": "integer", "oneOf": [{"const": "3"}]}
        }}),
        "inputs",
    )
    .expect_err("invalid")
    .problems;
    let problem = |path: &str, message: &str| (path.to_owned(), message.to_owned());
    let types = "one of number, integer, string, boolean, array, or a list of one of them \
                 and \"null\" (for example [\"number\", \"null\"])";
    let typeless = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "a": {"title": "A"},
            "b": {"type": ["number", "text"]}
        }}),
        "inputs",
    )
    .expect_err("invalid")
    .problems;
    assert_eq!(
        typeless,
        [
            problem("inputs.properties.a.type", &format!("is needed: {types}")),
            problem(
                "inputs.properties.b.type",
                &format!("is [\"number\",\"text\"]; it must be {types}")
            ),
        ]
    );
    assert_eq!(
        problems,
        [
            problem(
                "inputs.properties.b.oneOf[0].const",
                "is 1; it must be text, as the field is"
            ),
            problem(
                "inputs.properties.b.oneOf[1].const",
                "is needed: the option's value, text"
            ),
            problem(
                "inputs.properties.n.oneOf[0].const",
                "is \"3\"; it must be a whole number, as the field is"
            ),
        ]
    );
}

#[test]
fn text_may_be_lines_and_a_moment_needs_its_zone() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "notes": {"type": "string", "x-multiline": true, "maxLength": 500},
            "memo": {"type": "string", "contentMediaType": "text/plain"},
            "line": {"type": "string"},
            "at": {"type": "string", "format": "date-time"}
        }}),
        "inputs",
    )
    .expect("schema");
    let multiline = |name: &str| {
        matches!(
            schema.field(name).map(|f| &f.kind),
            Some(FieldKind::String {
                multiline: true,
                ..
            })
        )
    };
    assert!(multiline("notes") && multiline("memo") && !multiline("line"));
    assert_eq!(
        schema.field("at").map(|f| &f.kind),
        Some(&FieldKind::DateTime)
    );
    assert_eq!(
        paths(json!({"type": "object", "properties": {
            "a": {"type": "string", "contentMediaType": "text/csv"},
            "b": {"type": "string", "x-multiline": "yes"},
            "c": {"type": "string", "format": "time"}
        }})),
        [
            "inputs.properties.a.contentMediaType",
            "inputs.properties.b.x-multiline",
            "inputs.properties.c.format"
        ]
    );
}
