//! Tests of [`super`]: manifests as model authors write them.

use super::*;

const GOOD: &str = r#"
name = "forecast"
title = "Revenue forecast"
command = ["python3", "forecast.py"]

[resources]
vcpu = 0.5
memory_mib = 1024

[inputs]
type = "object"
required = ["growth"]

[inputs.properties.growth]
type = "number"
maximum = 0.5

[inputs.properties.start]
type = "string"
format = "date"
default = 2027-01-01
"#;

#[test]
fn parses_a_manifest_with_defaults_filled_in() {
    let manifest = Manifest::parse(GOOD).expect("valid");
    assert_eq!(manifest.name, "forecast");
    assert_eq!(manifest.resources.vcpu, 0.5);
    assert_eq!(manifest.resources.timeout_seconds, 3600);
    assert_eq!(
        manifest.command.as_deref(),
        Some(&["python3".to_owned(), "forecast.py".to_owned()][..])
    );
    let start = manifest.inputs.field("start").expect("start");
    assert_eq!(start.default, Some(Value::from("2027-01-01")));
}

#[test]
fn reports_every_problem_with_its_path() {
    let bad = GOOD
        .replace("name = \"forecast\"", "name = \"Forecast!\"")
        .replace("vcpu = 0.5", "vcpu = 64.0")
        .replace("maximum = 0.5", "maximum = \"high\"");
    let error = Manifest::parse(&bad).expect_err("invalid");
    let paths: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["name", "resources.vcpu", "inputs.properties.growth.maximum"]
    );
}

#[test]
fn a_schema_larger_than_the_limit_is_refused_naming_it() {
    let options: Vec<String> = (0..20_000).map(|i| format!("\"option {i}\"")).collect();
    let huge = format!(
        "{GOOD}\n[inputs.properties.region]\ntype = \"string\"\nenum = [{}]\n",
        options.join(",")
    );
    let error = Manifest::parse(&huge).expect_err("too large");
    assert_eq!(error.problems.len(), 1, "{:?}", error.problems);
    assert_eq!(error.problems[0].0, "inputs");
    assert!(
        error.problems[0].1.contains("at most 65536 are allowed"),
        "{}",
        error.problems[0].1
    );
}

#[test]
fn resources_max_raises_what_one_run_may_ask_for() {
    let manifest = Manifest::parse(GOOD).expect("valid");
    assert_eq!(
        manifest.max_resources, manifest.resources,
        "no raising unasked"
    );
    let raised = GOOD.replace(
        "memory_mib = 1024\n",
        "memory_mib = 1024\n\n[resources.max]\nvcpu = 2.0\ntimeout_seconds = 7200\n",
    );
    let manifest = Manifest::parse(&raised).expect("valid");
    assert_eq!(
        manifest.max_resources,
        Resources {
            vcpu: 2.0,
            memory_mib: 1024,
            timeout_seconds: 7200
        }
    );
    let lowered = raised.replace("vcpu = 2.0", "vcpu = 0.25");
    let error = Manifest::parse(&lowered).expect_err("below the version's value");
    assert_eq!(error.problems.len(), 1, "{:?}", error.problems);
    assert_eq!(error.problems[0].0, "resources.max.vcpu");
    assert!(
        error.problems[0]
            .1
            .contains("at least resources.vcpu (0.5)")
    );
    let unknown = raised.replace("vcpu = 2.0", "gpus = 1");
    assert!(Manifest::parse(&unknown).is_err());
}

#[test]
fn unknown_keys_and_broken_toml_are_refused() {
    let error = Manifest::parse(&format!("colour = \"red\"\n{GOOD}")).expect_err("unknown key");
    assert!(error.to_string().contains("colour"), "{error}");
    let error = Manifest::parse("name = ").expect_err("broken");
    assert_eq!(error.problems[0].0, "modelrun.toml");
}

#[test]
fn environment_and_secrets_are_read_and_checked() {
    let manifest = Manifest::parse(&GOOD.replace(
        "command = [\"python3\", \"forecast.py\"]",
        "command = [\"python3\", \"forecast.py\"]\nsecrets = [\"WAREHOUSE_URL\"]\n\
         [environment]\nrequirements = \"requirements.txt\"\npython = \"3.11\"\n",
    ))
    .expect("valid");
    assert_eq!(
        manifest.environment,
        Some(EnvironmentDecl {
            requirements: "requirements.txt".to_owned(),
            python: Some("3.11".to_owned()),
        })
    );
    assert_eq!(manifest.secrets, ["WAREHOUSE_URL"]);
    assert!(manifest.network, "the network is there by default");
    let offline = Manifest::parse(&format!("network = false\n{GOOD}")).expect("valid");
    assert!(!offline.network);
    assert_eq!(Manifest::parse(GOOD).expect("valid").environment, None);

    let bad = GOOD.replace(
        "command = [\"python3\", \"forecast.py\"]",
        "secrets = [\"lower\", \"PATH\", \"A\", \"A\"]\n\
         [environment]\nrequirements = \"../outside.txt\"\npython = \"latest\"\n",
    );
    let error = Manifest::parse(&bad).expect_err("invalid");
    let paths: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "environment.requirements",
            "environment.python",
            "secrets[0]",
            "secrets[1]",
            "secrets[3]"
        ]
    );
    for python in ["2.7", "2.1", "4", "3.11.7.1", "3.x", ""] {
        let manifest = format!(
            "{GOOD}[environment]\nrequirements = \"requirements.txt\"\npython = {python:?}\n"
        );
        let error = Manifest::parse(&manifest).expect_err(python);
        assert_eq!(error.problems[0].0, "environment.python", "{python}");
    }
    for python in ["3", "3.11", "3.11.7"] {
        let manifest = format!(
            "{GOOD}[environment]\nrequirements = \"requirements.txt\"\npython = {python:?}\n"
        );
        Manifest::parse(&manifest).expect(python);
    }
}

#[test]
fn names_and_labels_follow_their_rules() {
    assert!(valid_model_name("revenue-forecast"));
    assert!(!valid_model_name("-x") && !valid_model_name("A") && !valid_model_name(""));
    assert!(valid_version_label("a1b2c3d") && valid_version_label("v1.2.0"));
    assert!(
        !valid_version_label("../x") && !valid_version_label("") && !valid_version_label("a b")
    );
}

#[test]
fn outputs_are_read_and_their_problems_listed_with_the_rest() {
    let declared = format!(
        "{GOOD}[[outputs.charts]]\nfile = \"forecast.csv\"\nx = \"month\"\nseries = [\"revenue\"]\n\
         [outputs.metrics.cagr]\nlabel = \"Annual growth\"\nformat = \"percent\"\n"
    );
    let manifest = Manifest::parse(&declared).expect("valid");
    assert_eq!(manifest.outputs.charts[0].series[0].column, "revenue");
    assert_eq!(manifest.outputs.label("cagr"), "Annual growth");
    assert_eq!(
        Manifest::parse(GOOD).expect("valid").outputs,
        crate::outputs::Outputs::default()
    );
    let bad = declared
        .replace("name = \"forecast\"", "name = \"Forecast!\"")
        .replace("\"percent\"", "\"percentage\"");
    let error = Manifest::parse(&bad).expect_err("invalid");
    let paths: Vec<_> = error.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["name", "outputs.metrics.cagr.format"]);
}

/// Every problem of `text`, as (path, message).
fn problems(text: &str) -> Vec<(String, String)> {
    Manifest::parse(text).expect_err("invalid").problems
}

fn problem(path: &str, message: &str) -> (String, String) {
    (path.to_owned(), message.to_owned())
}

#[test]
fn a_value_of_the_wrong_kind_is_named_at_its_key() {
    assert_eq!(
        problems(&GOOD.replace("vcpu = 0.5", "vcpu = \"two\"")),
        [problem(
            "resources.vcpu",
            "is text; it must be a number from 0.25 to 16"
        )]
    );
    assert_eq!(
        problems(&GOOD.replace("memory_mib = 1024", "memory_mib = 1.5\nmax = { gpus = 1 }")),
        [
            problem(
                "resources.memory_mib",
                "is a number with decimals; it must be a whole number of MiB from 128 to 122880"
            ),
            problem(
                "resources.max.gpus",
                "is not a key of this table; use vcpu, memory_mib or timeout_seconds"
            ),
        ]
    );
    assert_eq!(
        problems(&GOOD.replace("\"forecast.py\"]", "3]\nnetwork = \"no\"")),
        [
            problem("command[1]", "is a whole number; it must be text in quotes"),
            problem("network", "is text; it must be true or false"),
        ]
    );
    assert_eq!(
        problems(&GOOD.replace("command = [", "secrets = [1, \"A\", \"A\"]\ncommand = [")),
        [problem(
            "secrets[0]",
            "is a whole number; it must be text in quotes"
        )],
        "the others are not named at an index one off"
    );
    assert_eq!(
        problems("name = \"forecast\"\nother = 1\n"),
        [
            problem("inputs", "is needed"),
            problem(
                "other",
                "is not a key of this table; use name, title, description, owner, command, \
                 resources, inputs, environment, secrets, network or outputs"
            ),
        ]
    );
}

#[test]
fn a_bad_name_is_not_reported_again_as_the_title_it_stands_in_for() {
    let text = GOOD
        .replace("name = \"forecast\"", "name = \"\"")
        .replace("title = \"Revenue forecast\"\n", "");
    assert_eq!(
        problems(&text),
        [problem(
            "name",
            "must be 1–63 lowercase letters, digits or -, starting with a letter or digit"
        )]
    );
    let text = GOOD.replace("title = \"Revenue forecast\"", "title = \" \"");
    assert_eq!(
        problems(&text),
        [problem("title", "is blank; it must be 1–200 characters")]
    );
}

#[test]
fn a_display_text_with_a_hidden_character_is_refused_and_markdown_keeps_its_lines() {
    let hidden = |at: &str| format!("contains U+{at}, a control or format character");
    let text = GOOD.replace(
        "title = \"Revenue forecast\"",
        "title = \"Revenue \u{202e}forecast\"",
    );
    assert_eq!(problems(&text), [problem("title", &hidden("202E"))]);
    let text = GOOD.replace(
        "title = \"Revenue forecast\"",
        "title = \"Revenue forecast\"\ndescription = \"\"\"\nOne.\n\n\tTwo\u{200b}.\n\"\"\"",
    );
    assert_eq!(problems(&text), [problem("description", &hidden("200B"))]);
    let text = GOOD.replace(
        "title = \"Revenue forecast\"",
        "title = \"Revenue forecast\"\ndescription = \"\"\"\nOne.\n\n\tTwo.\n\"\"\"",
    );
    Manifest::parse(&text).expect("line breaks and tabs are Markdown's");
    let text = GOOD.replace(
        "title = \"Revenue forecast\"",
        &format!("title = \"{}\"", "t".repeat(201)),
    );
    assert_eq!(
        problems(&text),
        [problem("title", "is 201 characters; at most 200")]
    );
}

#[test]
fn a_toml_mistake_is_reported_at_its_line_and_column_with_its_key() {
    let text = format!(
        "{GOOD}\n[outputs.metrics.pct]\nlabel = \"A\"\n[outputs.metrics.pct]\nlabel = \"B\"\n"
    );
    let line = text.lines().count() - 1;
    assert_eq!(
        problems(&text),
        [problem(
            "modelrun.toml",
            &format!("line {line}, column 18: duplicate key `pct`")
        )]
    );
    let text = format!("{GOOD}\nfoo\n");
    let line = text.lines().count();
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].1.starts_with(&format!("line {line}, column 4: ")),
        "{found:?}"
    );
}
