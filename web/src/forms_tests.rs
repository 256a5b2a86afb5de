use serde_json::json;

use super::*;

/// The server's largest file in these tests: 100 MiB.
const CAP: u64 = 100 << 20;

fn schema() -> InputSchema {
    InputSchema::parse(
        &json!({"type": "object", "required": ["growth", "plan"], "properties": {
            "growth": {"type": "number", "minimum": -0.5, "exclusiveMaximum": 1, "default": 0.02, "title": "Growth"},
            "months": {"type": "integer", "minimum": 1, "default": 12},
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "maxLength": 7},
            "loose": {"type": "string", "pattern": "abc"},
            "profile": {"type": "string", "enum": ["none", "retail"], "default": "retail"},
            "day": {"type": "string", "format": "date"},
            "audit": {"type": "boolean", "default": true},
            "plan": {"type": "string", "enum": ["low", "high"]},
            "region": {"type": "string", "enum": ["north", "south"]},
            "cap": {"type": ["number", "null"], "default": 5}
        }}),
        "inputs",
    )
    .expect("schema")
}

#[test]
fn fields_carry_their_constraints_and_defaults() {
    let fields = fields_from_values(
        &schema(),
        &serde_json::Map::new(),
        NumberStyle::PointDecimal,
        CAP,
    );
    let by_name = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .expect("field")
            .clone()
    };
    let growth = by_name("growth");
    assert_eq!(
        (growth.control, growth.label.as_str(), growth.value.as_str()),
        (Control::Number, "Growth", "0.02")
    );
    assert_eq!(
        (growth.control.input_type(), growth.input_mode),
        ("text", Some("decimal")),
        "a number box would let the browser drop a decimal comma"
    );
    assert!(growth.required);
    assert_eq!(by_name("months").input_mode, Some("numeric"));
    assert_eq!(
        by_name("month").pattern.as_deref(),
        Some("^[0-9]{4}-[0-9]{2}$")
    );
    assert_eq!(
        by_name("month").pattern_hint.as_deref(),
        Some("month must look like 2027-01"),
        "the browser says what the server would"
    );
    assert_eq!(
        by_name("loose").pattern,
        None,
        "an unanchored pattern is left to the server"
    );
    let profile = by_name("profile");
    assert_eq!(
        (
            profile.control,
            profile.value.as_str(),
            profile.options.len()
        ),
        (Control::Select, "retail", 2)
    );
    assert_eq!(profile.empty_option, None);
    assert_eq!(by_name("day").control, Control::Date);
    let audit = by_name("audit");
    assert_eq!((audit.control, audit.checked), (Control::Checkbox, true));
}

#[test]
fn lines_get_a_text_area_and_a_moment_an_example() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "notes": {"type": "string", "contentMediaType": "text/plain"},
            "at": {"type": "string", "format": "date-time"},
            "profile": {"type": "string", "oneOf": [{"const": "none", "title": "Flat"}]}
        }}),
        "inputs",
    )
    .expect("schema");
    let fields = fields_from_values(
        &schema,
        &serde_json::Map::new(),
        NumberStyle::PointDecimal,
        CAP,
    );
    assert_eq!(fields[0].control, Control::TextArea);
    assert_eq!(
        (fields[1].control, fields[1].placeholder),
        (Control::Text, Some("2027-01-31T09:00:00+01:00"))
    );
    assert_eq!(fields[2].options, [("none".to_owned(), "Flat".to_owned())]);
}

#[test]
fn numbers_are_shown_in_the_persons_style_and_read_back_the_same() {
    let Value::Object(earlier) = json!({"growth": 0.25, "months": 12}) else {
        unreachable!()
    };
    let fields = fields_from_values(&schema(), &earlier, NumberStyle::CommaDecimal, CAP);
    assert_eq!(fields[0].value, "0,25");
    assert_eq!(fields[1].value, "12");
    let read = schema()
        .validate_form(&[
            ("growth".to_owned(), fields[0].value.clone()),
            ("plan".to_owned(), "low".to_owned()),
        ])
        .expect("valid");
    assert_eq!(read["growth"], json!(0.25));
}

#[test]
fn a_file_says_what_it_takes_and_a_list_how_to_type_it() {
    let schema = InputSchema::parse(
        &json!({"type": "object", "properties": {
            "plan": {"type": "string", "format": "file", "contentMediaType": "text/csv", "x-max-bytes": 1048576},
            "rates": {"type": "array", "items": {"type": "number"}},
            "regions": {"type": "array", "items": {"type": "string", "enum": ["n", "s"]}}
        }}),
        "inputs",
    )
    .expect("schema");
    let fields = fields_from_values(
        &schema,
        &serde_json::Map::new(),
        NumberStyle::PointDecimal,
        CAP,
    );
    assert_eq!(fields[0].control, Control::File);
    assert_eq!(
        fields[0].help.as_deref(),
        Some("Upload a .csv file, at most 1 MiB.")
    );
    assert!(
        fields[0]
            .accept
            .as_deref()
            .is_some_and(|a| a.starts_with("text/csv,.csv"))
    );
    assert_eq!(
        (fields[1].control, fields[1].placeholder),
        (Control::Lines, Some("One value per line"))
    );
    assert_eq!(fields[2].control, Control::Choices);
}

#[test]
fn a_choice_nobody_made_starts_empty() {
    let fields = fields_from_values(
        &schema(),
        &serde_json::Map::new(),
        NumberStyle::PointDecimal,
        CAP,
    );
    let by_name = |name: &str| fields.iter().find(|f| f.name == name).expect("field");
    let plan = by_name("plan");
    assert_eq!(
        (plan.value.as_str(), plan.empty_option),
        ("", Some("Choose…"))
    );
    assert_eq!(by_name("region").empty_option, Some("—"));
}

#[test]
fn a_rerun_shows_exactly_the_earlier_inputs() {
    let Value::Object(earlier) = json!({"cap": null, "audit": false, "plan": "high"}) else {
        unreachable!()
    };
    let fields = fields_from_values(&schema(), &earlier, NumberStyle::PointDecimal, CAP);
    let by_name = |name: &str| fields.iter().find(|f| f.name == name).expect("field");
    assert_eq!(
        by_name("cap").value,
        "",
        "null stays empty, not the default 5"
    );
    assert!(!by_name("audit").checked, "false stays unticked");
    let plan = by_name("plan");
    assert_eq!((plan.value.as_str(), plan.empty_option), ("high", None));
}

#[test]
fn a_refused_form_keeps_what_was_typed_with_errors() {
    let mut errors = ValidationErrors::default();
    errors.push("growth", "must be a number");
    let submitted = vec![
        ("growth".to_owned(), "five".to_owned()),
        ("months".to_owned(), "3".to_owned()),
    ];
    let fields = fields_from_submission(&schema(), &submitted, &errors, &Uploads::new(), CAP);
    assert_eq!(fields[0].value, "five");
    assert_eq!(fields[0].error.as_deref(), Some("must be a number"));
    assert_eq!(fields[1].value, "3");
    assert_eq!(fields[1].error, None);
    let audit = fields.iter().find(|f| f.name == "audit").expect("audit");
    assert!(!audit.checked, "an unticked box stays unticked");
}
