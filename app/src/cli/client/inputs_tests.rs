use serde_json::json;

use super::*;

fn pairs(given: &[&str]) -> Vec<(String, String)> {
    split_pairs(&given.iter().map(|&p| p.to_owned()).collect::<Vec<_>>()).expect("pairs")
}

fn schema() -> InputSchema {
    InputSchema::parse(
        &json!({
            "type": "object",
            "required": ["code", "months"],
            "properties": {
                "code": {"type": "string"},
                "growth": {"type": "number", "default": 0.02},
                "cap": {"type": ["number", "null"]},
                "note": {"type": "string"},
                "flag": {"type": "boolean"},
                "size": {"type": "integer", "enum": [1, 2, 3]},
                "label": {"type": "string", "enum": ["1", "2"]},
                "months": {
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}
                },
                "tags": {"type": "array", "items": {"type": "string"}},
                "actuals": {"type": "string", "format": "file"}
            }
        }),
        "inputs",
    )
    .expect("schema")
}

fn read(given: &[&str]) -> anyhow::Result<Map<String, Value>> {
    let schema = schema();
    resolve(Some(&schema), Map::new(), Path::new(""), &pairs(given)).map(|(inputs, _)| inputs)
}

fn refusal(given: &[&str]) -> String {
    read(given).expect_err("refused").to_string()
}

#[test]
fn inputs_the_schema_does_not_name_are_json_when_they_can_be() {
    let (inputs, files) = resolve(
        None,
        Map::new(),
        Path::new(""),
        &pairs(&["growth=0.05", "name=north", "ok=true", "q=\"0.1\"", "e="]),
    )
    .expect("inputs");
    assert_eq!(inputs["growth"], json!(0.05));
    assert_eq!(inputs["name"], json!("north"));
    assert_eq!(inputs["ok"], json!(true));
    assert_eq!(inputs["q"], json!("0.1"));
    assert_eq!(inputs["e"], json!(""));
    assert!(files.is_empty());
    let (_, files) = resolve(
        None,
        Map::new(),
        Path::new(""),
        &pairs(&[
            "overrides=@plan.csv",
            "note=\"@team\"",
            "other=@a.csv",
            "other=1",
        ]),
    )
    .expect("inputs");
    assert_eq!(
        files,
        [("overrides".to_owned(), PathBuf::from("plan.csv"))],
        "a later value replaces an earlier file; JSON text is text"
    );
    assert!(split_pairs(&["nothing".into()]).is_err());
    assert!(split_pairs(&["=1".into()]).is_err());
}

#[test]
fn json_of_the_wrong_kind_is_read_as_text() {
    let inputs = read(&[
        "code=123",
        "months=[\"2027-01\"]",
        "growth=0,05",
        "cap=null",
        "note=null",
        "flag=on",
        "size=2",
        "label=1",
    ])
    .expect("inputs");
    assert_eq!(inputs["code"], json!("123"), "a text input gets text");
    assert_eq!(inputs["growth"], json!(0.05));
    assert_eq!(inputs["cap"], Value::Null, "null where null is allowed");
    assert_eq!(inputs["note"], json!("null"));
    assert_eq!(inputs["flag"], json!(true));
    assert_eq!(inputs["size"], json!(2), "a number choice");
    assert_eq!(inputs["label"], json!("1"), "a text choice");
    assert_eq!(
        read(&["growth=1e-2"]).expect("inputs")["growth"],
        json!(0.01)
    );
    assert!(
        refusal(&["growth=100,000"]).contains("growth could mean 100000 or 100.000"),
        "{}",
        refusal(&["growth=100,000"])
    );
}

#[test]
fn an_empty_value_means_what_the_forms_empty_box_means() {
    let inputs = read(&["cap=", "note=", "tags="]).expect("inputs");
    assert_eq!(inputs["cap"], Value::Null, "nullable: null");
    assert!(!inputs.contains_key("note"), "optional: left out");
    assert_eq!(inputs["tags"], json!([]), "an optional list: empty");
    assert_eq!(refusal(&["code="]), "--input code=: code is required");
    assert_eq!(
        refusal(&["growth= "]),
        "--input growth= : growth was left empty: enter a value (its default is 0.02)"
    );
    assert!(
        refusal(&["months="]).contains("months is required"),
        "{}",
        refusal(&["months="])
    );
    // An empty value replaces the inputs file's.
    let schema = schema();
    let file = json!({"note": "from the file"})
        .as_object()
        .cloned()
        .expect("map");
    let (inputs, _) =
        resolve(Some(&schema), file, Path::new(""), &pairs(&["note="])).expect("inputs");
    assert!(!inputs.contains_key("note"));
}

#[test]
fn every_input_of_a_list_is_one_more_item() {
    let inputs = read(&["months=2027-02", "months=2027-03", "tags=a", "tags= b "]).expect("inputs");
    assert_eq!(inputs["months"], json!(["2027-02", "2027-03"]));
    assert_eq!(inputs["tags"], json!(["a", "b"]));
    let inputs = read(&["months=[\"2027-04\",\"2027-05\"]"]).expect("inputs");
    assert_eq!(
        inputs["months"],
        json!(["2027-04", "2027-05"]),
        "a JSON list"
    );
    let inputs = read(&["tags=1"]).expect("inputs");
    assert_eq!(inputs["tags"], json!(["1"]), "one item, read as text");
    let commas = refusal(&["months=2027-03,2027-04"]);
    assert!(
        commas.contains("months (item 1) must look like 2027-01")
            && commas.contains("one item per --input")
            && commas.contains("a JSON list"),
        "{commas}"
    );
    let second = refusal(&["months=2027-03", "months=2027-4"]);
    assert!(
        second.contains("(item 2) must look like 2027-01"),
        "{second}"
    );
    assert_eq!(
        renumber("(line 2) must be a number", 3),
        "(item 5) must be a number"
    );
    assert_eq!(renumber("is required", 0), "is required");
}

#[test]
fn an_at_path_of_a_file_input_in_the_inputs_file_is_uploaded() {
    let schema = schema();
    let file = json!({"actuals": "@actuals.csv", "note": "@team"})
        .as_object()
        .cloned()
        .expect("map");
    let (inputs, files) = resolve(
        Some(&schema),
        file.clone(),
        Path::new("/plans"),
        &pairs(&["code=x"]),
    )
    .expect("inputs");
    assert_eq!(
        files,
        [("actuals".to_owned(), PathBuf::from("/plans/actuals.csv"))],
        "beside the inputs file"
    );
    assert_eq!(inputs["note"], json!("@team"), "text, not a file input");
    assert!(!inputs.contains_key("actuals"));
    let (inputs, files) = resolve(
        Some(&schema),
        file.clone(),
        Path::new("/plans"),
        &pairs(&["actuals=\"abc\""]),
    )
    .expect("inputs");
    assert!(files.is_empty(), "--input replaces the file's value");
    assert_eq!(inputs["actuals"], json!("abc"));
    assert!(needs_schema(&file, &[]));
    assert!(!needs_schema(&Map::new(), &pairs(&["actuals=@a.csv"])));
    assert!(needs_schema(&Map::new(), &pairs(&["growth=1"])));
}
