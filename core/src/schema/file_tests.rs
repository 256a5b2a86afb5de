use serde_json::json;

use super::*;
use crate::schema::InputSchema;

fn field(property: Value) -> crate::schema::Field {
    InputSchema::parse(
        &json!({"type": "object", "properties": {"overrides": property}}),
        "inputs",
    )
    .expect("schema")
    .fields()[0]
        .clone()
}

fn file(name: &str, bytes: u64, media: &str) -> Value {
    json!({"upload": "0123456789abcdef0123456789abcdef", "name": name, "bytes": bytes, "media_type": media})
}

#[test]
fn a_file_is_checked_by_type_and_size() {
    let csv = field(
        json!({"type": "string", "format": "file", "contentMediaType": "text/csv", "x-max-bytes": 2048}),
    );
    assert!(matches!(csv.kind, FieldKind::File { .. }));
    assert_eq!(
        csv.check(&file("a.csv", 10, "text/csv")),
        Ok(file("a.csv", 10, "text/csv"))
    );
    assert!(
        csv.check(&file("a.csv", 10, "application/vnd.ms-excel"))
            .is_ok(),
        "a CSV named .csv is a CSV whatever the browser calls it"
    );
    assert_eq!(
        csv.check(&file("a.xlsx", 10, "application/octet-stream")),
        Err("must be a .csv file (text/csv); a.xlsx is not".to_owned())
    );
    assert_eq!(
        csv.check(&file("a.csv", 4096, "text/csv")),
        Err("must be at most 2 KiB; a.csv is 4 KiB".to_owned())
    );
    assert!(
        csv.check(&json!("0123456789abcdef0123456789abcdef"))
            .is_err_and(|m| m.starts_with("must be an uploaded file"))
    );
    assert!(csv.check(&file("../a.csv", 1, "text/csv")).is_err());
}

#[test]
fn the_documented_pattern_says_what_the_check_does() {
    let pattern =
        jsonschema::validator_for(&json!({"type": "string", "pattern": file_name_pattern()}))
            .expect("pattern");
    let long = "é".repeat(127);
    for name in [
        "plan.csv",
        "Plan 2027 (final).xlsx",
        "..a",
        ".hidden",
        "ünïcødé.csv",
        &long,
        "",
        ".",
        "..",
        "a/b",
        "a\\b",
        "a\u{0}b",
        "tab\there",
        "\u{85}x",
        "a\u{202e}gnp.csv",
        "zero\u{200b}width",
        "   ",
        "\u{a0}",
        &"x".repeat(256),
    ] {
        assert_eq!(
            pattern.is_valid(&json!(name)),
            check_file_name(name).is_ok(),
            "{name:?}"
        );
    }
    let over = format!("{long}é");
    assert!(
        check_file_name(&over).is_err_and(|m| m.contains("255 bytes")),
        "128 characters of two bytes are over the limit the pattern cannot count"
    );
}

#[test]
fn a_sent_name_is_tidied_rather_than_refused() {
    assert_eq!(tidy_file_name("C:\\Users\\ana\\plan.csv"), "plan.csv");
    assert_eq!(tidy_file_name("a\u{202e}gnp.csv"), "agnp.csv");
    assert_eq!(tidy_file_name(" \u{200b} "), "file");
    let long = format!("{}.csv", "é".repeat(200));
    let tidied = tidy_file_name(&long);
    assert!(
        tidied.len() <= MAX_FILE_NAME_BYTES && tidied.ends_with(".csv"),
        "{tidied}"
    );
    assert!(check_file_name(&tidied).is_ok());
}

#[test]
fn a_file_is_described_as_a_planner_would() {
    assert_eq!(describe_file(Some("text/csv")), "a .csv file");
    assert_eq!(describe_file(Some("text/*")), "a text file");
    assert_eq!(describe_file(None), "a file");
}

#[test]
fn upload_ids_are_exactly_32_hex_digits() {
    assert!(UploadId::try_from(UploadId::generate().to_string()).is_ok());
    for bad in ["", "../x", "0123456789ABCDEF0123456789ABCDEF", "0123"] {
        assert!(UploadId::try_from(bad.to_owned()).is_err(), "{bad}");
    }
}

#[test]
fn a_file_field_takes_no_default_and_a_real_media_type() {
    let refused = |property: Value| {
        InputSchema::parse(
            &json!({"type": "object", "properties": {"f": property}}),
            "inputs",
        )
        .expect_err("refused")
    };
    refused(json!({"type": "string", "format": "file", "default": "x"}));
    refused(json!({"type": "string", "format": "file", "contentMediaType": "csv"}));
    refused(json!({"type": "string", "format": "file", "x-max-bytes": 0}));
    refused(json!({"type": "string", "format": "file", "maxLength": 3}));
}

#[test]
fn sizes_read_like_a_person_writes_them() {
    assert_eq!(size_text(812), "812 bytes");
    assert_eq!(size_text(1536), "1.5 KiB");
    assert_eq!(size_text(100 * 1024 * 1024), "100 MiB");
}
