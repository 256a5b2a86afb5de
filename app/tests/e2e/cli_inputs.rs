//! How `modelrun runs submit` reads inputs: as the form reads them, from
//! flags and from an inputs file, with files uploaded.

use serde_json::Value;

use crate::cli_client::{client, text};
use crate::support::*;

pub async fn the_cli_reads_inputs_as_the_form_does_and_uploads_files(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let dir = tempfile::tempdir().expect("dir");
    let actuals = dir.path().join("known.csv");
    std::fs::write(&actuals, "month,revenue\n2027-01,5000\n").expect("write");
    let mut submit = client(&app, &token);
    submit.args([
        "runs",
        "submit",
        "forecast",
        "--json",
        "--version",
        "production",
        "-i",
        "growth_rate=0,05",
        "-i",
        "campaign_months=2027-02",
        "-i",
        "horizon_months=2",
        "-i",
    ]);
    submit.arg(format!("actuals=@{}", actuals.display()));
    let out = submit.output().expect("run");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("Uploading"), "{stderr}");
    let run: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        run["inputs"]["growth_rate"], 0.05,
        "a decimal comma, read as the form reads it"
    );
    assert_eq!(
        run["inputs"]["campaign_months"],
        serde_json::json!(["2027-02"])
    );
    assert_eq!(run["inputs"]["actuals"]["name"], "known.csv");
    assert_eq!(run["inputs"]["actuals"]["bytes"], 27);
    assert_eq!(run["alias"], "production", "{run}");

    let mut ambiguous = client(&app, &token);
    ambiguous.args(["runs", "submit", "forecast", "-i", "base_revenue=100,000"]);
    let out = ambiguous.output().expect("run");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("base_revenue could mean 100000 or 100.000"),
        "{}",
        text(&out.stderr)
    );

    // A model that is not there is named, before any file is read.
    let out = client(&app, &token)
        .args(["runs", "submit", "nope", "-i", "actuals=@/nonexistent.csv"])
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no model nope: the models are "),
        "{stderr}"
    );
    assert!(!stderr.contains("nothing here"), "{stderr}");

    // A file that cannot be read stops the submission before any upload.
    let out = client(&app, &token)
        .args([
            "runs",
            "submit",
            "forecast",
            "-i",
            "actuals=@/nonexistent.csv",
        ])
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("input actuals: cannot read /nonexistent.csv"),
        "{stderr}"
    );
    assert!(!stderr.contains("Uploading"), "{stderr}");
}

/// What a tester found: a repeated list input, JSON of the wrong kind, an
/// empty value and an inputs file's `@file` are read as the form reads them.
pub async fn the_cli_reads_lists_kinds_empty_values_and_files_of_an_inputs_file(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let token = app.token(RUNNER_EMAIL).await;
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("actuals.csv"),
        "month,revenue\n2026-12,4000\n2027-01,5000\n",
    )
    .expect("write");
    let inputs = dir.path().join("inputs.json");
    std::fs::write(
        &inputs,
        r#"{"actuals": "@actuals.csv", "horizon_months": 3}"#,
    )
    .expect("write");
    let mut submit = client(&app, &token);
    submit
        .args(["runs", "submit", "forecast", "--json", "--inputs-file"])
        .arg(&inputs)
        .args([
            "-i",
            "campaign_months=2027-02",
            "-i",
            "campaign_months=2027-03",
        ]);
    let out = submit.output().expect("run");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("Uploading"), "{stderr}");
    let run: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        run["inputs"]["campaign_months"],
        serde_json::json!(["2027-02", "2027-03"]),
        "every --input of a list is one more item"
    );
    assert_eq!(run["inputs"]["actuals"]["name"], "actuals.csv");
    let id = run["id"].as_i64().expect("id").to_string();
    app.drain().await;
    let out = client(&app, &token)
        .args(["runs", "logs", &id])
        .output()
        .expect("run");
    let log = text(&out.stdout);
    assert!(
        log.contains("known month 2026-12 is before the start month"),
        "the model notes what it does not use: {log}"
    );

    let out = client(&app, &token)
        .args([
            "runs",
            "submit",
            "forecast",
            "-i",
            "campaign_months=2027-03,2027-04",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("campaign_months (item 1) must look like 2027-01")
            && stderr.contains("one item per --input")
            && stderr.contains("JSON list"),
        "{stderr}"
    );

    app.register_model(
        "kinds",
        "name = \"kinds\"\ncommand = [\"true\"]\n[inputs]\ntype = \"object\"\n\
         additionalProperties = false\nrequired = [\"code\"]\n\
         [inputs.properties.code]\ntype = \"string\"\n\
         [inputs.properties.cap]\ntype = [\"number\", \"null\"]\n\
         [inputs.properties.note]\ntype = \"string\"\n\
         [inputs.properties.size]\ntype = \"integer\"\ndefault = 3\n",
    )
    .await;
    let out = client(&app, &token)
        .args([
            "runs", "submit", "kinds", "--json", "-i", "code=123", "-i", "cap=", "-i", "note=",
        ])
        .output()
        .expect("run");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let run: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(run["inputs"]["code"], "123", "a text input gets text");
    assert_eq!(run["inputs"]["cap"], Value::Null, "empty: null");
    assert!(
        run["inputs"].get("note").is_none_or(Value::is_null),
        "empty and optional: left out: {}",
        run["inputs"]
    );
    assert_eq!(run["inputs"]["size"], 3);
    for (given, said) in [
        ("code=", "code is required"),
        (
            "size=",
            "size was left empty: enter a value (its default is 3)",
        ),
    ] {
        let out = client(&app, &token)
            .args(["runs", "submit", "kinds", "-i", "code=x", "-i", given])
            .output()
            .expect("run");
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains(said), "{}", text(&out.stderr));
    }
}
