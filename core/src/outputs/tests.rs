//! Tests of [`super`]: `[outputs]` as model authors write it, and the
//! mistakes they make.

use super::*;

fn read(text: &str) -> Result<Outputs, Problems> {
    let value: toml::Table = toml::from_str(text).expect("TOML");
    let mut problems = Vec::new();
    let outputs = parse(toml::Value::Table(value), &mut problems);
    if problems.is_empty() {
        Ok(outputs)
    } else {
        Err(problems)
    }
}

fn paths(problems: &Problems) -> Vec<&str> {
    problems.iter().map(|(path, _)| path.as_str()).collect()
}

const TWO_FILES: &str = r#"
[[charts]]
file = "history.csv"
x = "month"
title = "Revenue"
units = "EUR"
series = ["revenue", { file = "forecast.csv", column = "forecast", label = "Forecast" }]
band = { file = "forecast.csv", low = "low", high = "high" }

[[charts]]
file = "costs.csv"
x = "month"
series = [{ column = "cost", dashed = true }]

[metrics.total_revenue]
label = "Total revenue"
format = "currency"
symbol = "€"

[metrics.cagr]
label = "Annual growth"
format = "percent"

[metrics.months]
format = "integer"

[metrics.mape]
format = "decimals"
places = 3
"#;

#[test]
fn charts_and_metrics_read_as_declared() {
    let outputs = read(TWO_FILES).expect("valid");
    assert_eq!(outputs.charts.len(), 2);
    let chart = &outputs.charts[0];
    assert_eq!(chart.title.as_deref(), Some("Revenue"));
    assert_eq!(chart.units.as_deref(), Some("EUR"));
    assert_eq!(
        chart.series[0],
        SeriesDecl {
            file: "history.csv".into(),
            column: "revenue".into(),
            label: None,
            dashed: false,
        },
        "a bare name is a column of the chart's file, drawn solid"
    );
    assert_eq!(chart.series[1].file, "forecast.csv");
    assert!(chart.series[1].dashed, "another file's line is dashed");
    assert_eq!(
        chart.band.as_ref().map(|b| b.file.as_str()),
        Some("forecast.csv")
    );
    assert!(outputs.charts[1].series[0].dashed, "asked for");
    let names: Vec<&str> = outputs.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["total_revenue", "cagr", "months", "mape"],
        "declaration order"
    );
    assert_eq!(
        outputs.format("total_revenue"),
        MetricFormat::Currency {
            symbol: "€".into(),
            places: 2
        }
    );
    assert_eq!(outputs.format("cagr"), MetricFormat::Percent { places: 1 });
    assert_eq!(outputs.format("mape"), MetricFormat::Decimals { places: 3 });
    assert_eq!(outputs.format("other"), MetricFormat::Number);
    assert_eq!(outputs.label("cagr"), "Annual growth");
    assert_eq!(outputs.label("months"), "months");
    assert_eq!(outputs.label("peak_month"), "peak month", "undeclared");
}

#[test]
fn declared_figures_come_first_in_their_order() {
    let outputs = read(TWO_FILES).expect("valid");
    let mut names: Vec<String> = ["extra", "months", "cagr", "total_revenue"]
        .map(String::from)
        .to_vec();
    outputs.order(&mut names);
    assert_eq!(names, ["total_revenue", "cagr", "months", "extra"]);
}

#[test]
fn mistakes_are_named_with_their_path() {
    let problems = read(
        r#"
[[charts]]
file = "../forecast.csv"
x = ""
series = []
colour = "red"

[[charts]]
file = "a.csv"
x = "month"
series = [3, { column = "v", colour = "red" }, "w", "w"]
band = { file = "b.csv", low = "low", high = "high" }

[metrics.cagr]
format = "percentage"

[metrics.total]
format = "currency"

[metrics.mape]
format = "decimals"

[metrics.months]
format = "integer"
places = 2
symbol = "$"

[metrics.share]
format = "percent"
places = 40
"#,
    )
    .expect_err("invalid");
    assert_eq!(
        paths(&problems),
        [
            "outputs.charts[0].colour",
            "outputs.charts[0].file",
            "outputs.charts[0].x",
            "outputs.charts[0].series",
            "outputs.charts[1].series[0]",
            "outputs.charts[1].series[1].colour",
            "outputs.charts[1].series[3]",
            "outputs.charts[1].band",
            "outputs.metrics.cagr.format",
            "outputs.metrics.total.symbol",
            "outputs.metrics.mape.places",
            "outputs.metrics.months.symbol",
            "outputs.metrics.months.places",
            "outputs.metrics.share.places",
        ],
        "{problems:?}"
    );
    let message = |path: &str| {
        problems
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    assert!(
        message("outputs.charts[0].colour").contains("use file, x, series"),
        "{problems:?}"
    );
    assert!(message("outputs.charts[1].series[0]").contains("column's name"));
    assert!(message("outputs.charts[1].series[3]").contains("drawn twice"));
    assert!(message("outputs.metrics.cagr.format").contains("\"percentage\" is not a format"));
    assert!(message("outputs.metrics.share.places").contains("from 0 to 10"));

    let problems =
        read("[[charts]]\nfile = \"../a.csv\"\nx = \"\"\nseries = []\n").expect_err("invalid");
    assert_eq!(
        paths(&problems),
        [
            "outputs.charts[0].file",
            "outputs.charts[0].x",
            "outputs.charts[0].series"
        ]
    );
    assert!(problems[2].1.contains("from 1 to 8"), "{problems:?}");
}

#[test]
fn limits_on_counts_and_lengths_are_named() {
    let chart = "[[charts]]\nfile = \"a.csv\"\nx = \"m\"\nseries = [\"v\"]\n";
    let problems = read(&chart.repeat(MAX_CHARTS + 1)).expect_err("too many");
    assert_eq!(paths(&problems), ["outputs.charts"]);
    assert!(problems[0].1.contains("at most 8"), "{problems:?}");
    let lines: Vec<String> = (0..=MAX_SERIES).map(|i| format!("\"v{i}\"")).collect();
    let problems = read(&format!(
        "[[charts]]\nfile = \"a.csv\"\nx = \"m\"\nseries = [{}]\n",
        lines.join(",")
    ))
    .expect_err("too many lines");
    assert_eq!(paths(&problems), ["outputs.charts[0].series"]);
    let files: Vec<String> = (0..=MAX_CHART_FILES)
        .map(|i| format!("{{ file = \"f{i}.csv\", column = \"v\" }}"))
        .collect();
    let problems = read(&format!(
        "[[charts]]\nfile = \"a.csv\"\nx = \"m\"\nseries = [{}]\n",
        files.join(",")
    ))
    .expect_err("too many files");
    assert_eq!(paths(&problems), ["outputs.charts[0]"]);
    let long = "x".repeat(MAX_LABEL_CHARS + 1);
    let problems = read(&format!(
        "[metrics.cagr]\nlabel = \"{long}\"\n[metrics.\"\"]\nformat = \"integer\"\n"
    ))
    .expect_err("too long");
    assert_eq!(
        paths(&problems),
        ["outputs.metrics.cagr.label", "outputs.metrics."]
    );
    let problems = read("charts = 3\n").expect_err("not a list");
    assert_eq!(paths(&problems), ["outputs.charts"]);
    let problems = read("graphs = []\n").expect_err("unknown");
    assert_eq!(
        problems,
        [(
            "outputs.graphs".to_owned(),
            "is not a key of this table; use charts or metrics".to_owned()
        )]
    );
}

/// The one problem `text` has, as (path, message).
fn only_problem(text: &str) -> (String, String) {
    let problems = read(text).expect_err("invalid");
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems.into_iter().next().expect("one")
}

fn problem(path: &str, message: &str) -> (String, String) {
    (path.to_owned(), message.to_owned())
}

#[test]
fn a_given_but_wrong_value_is_named_once_at_its_key() {
    let metric = |body: &str| only_problem(&format!("[metrics.total]\n{body}"));
    let rule = "1–8 characters without digits, such as \"€\" or \"$\"";
    assert_eq!(
        metric("format = \"currency\"\nsymbol = \"E1\"\n"),
        problem(
            "outputs.metrics.total.symbol",
            &format!("is \"E1\"; it must be {rule}")
        )
    );
    assert_eq!(
        metric("format = \"currency\"\nsymbol = \"ABCDEFGHI\"\n"),
        problem(
            "outputs.metrics.total.symbol",
            &format!("is \"ABCDEFGHI\"; it must be {rule}")
        )
    );
    assert_eq!(
        metric("format = \"currency\"\n"),
        problem(
            "outputs.metrics.total.symbol",
            &format!("is needed with format = \"currency\": {rule}")
        )
    );
    assert_eq!(
        metric("format = \"currency\"\nsymbol = 5\n"),
        problem(
            "outputs.metrics.total.symbol",
            "is a whole number; it must be text in quotes"
        )
    );
    assert_eq!(
        metric("format = \"decimals\"\nplaces = 11\n"),
        problem(
            "outputs.metrics.total.places",
            "is 11; it must be from 0 to 10"
        )
    );
    assert_eq!(
        metric("format = \"decimals\"\nplaces = 2.5\n"),
        problem(
            "outputs.metrics.total.places",
            "is a number with decimals; it must be a whole number from 0 to 10"
        )
    );
    assert_eq!(
        metric("format = \"integer\"\nplaces = 40\n"),
        problem(
            "outputs.metrics.total.places",
            "is for format = \"percent\", \"currency\" or \"decimals\", not \"integer\""
        )
    );
    assert_eq!(
        metric("format = \"pct\"\nplaces = 40\nsymbol = \"1\"\n"),
        problem(
            "outputs.metrics.total.format",
            "\"pct\" is not a format; use \"number\", \"percent\", \"currency\", \"integer\" \
             or \"decimals\""
        ),
        "symbol and places are not judged against a format that is not one"
    );
    assert_eq!(
        metric("format = 3\n"),
        problem(
            "outputs.metrics.total.format",
            "is a whole number; it must be text in quotes"
        )
    );
    assert_eq!(
        only_problem("metrics = [1]\n"),
        problem(
            "outputs.metrics",
            "is a list; it must be a table of key figures ([outputs.metrics.NAME])"
        )
    );
}

#[test]
fn a_chart_key_of_the_wrong_kind_is_named_at_that_key() {
    let chart = |rest: &str| only_problem(&format!("[[charts]]\nx = \"m\"\n{rest}"));
    assert_eq!(
        chart("file = \"a.csv\"\nseries = [{ column = \"v\", dashed = \"yes\" }]\n"),
        problem(
            "outputs.charts[0].series[0].dashed",
            "is text; it must be true or false"
        )
    );
    assert_eq!(
        chart("file = \"a.csv\"\nseries = [7]\n"),
        problem(
            "outputs.charts[0].series[0]",
            "is a whole number; write a column's name (\"revenue\") or a table \
             ({ file = \"history.csv\", column = \"revenue\", label = \"Actual\" })"
        ),
        "\"a whole number\", not \"a integer\""
    );
    assert_eq!(
        chart("file = \"../a.csv\"\nseries = [\"v\", { column = \"w\" }]\n").0,
        "outputs.charts[0].file",
        "a chart's file is reported once, not again for each line that reads it"
    );
    assert_eq!(
        chart("file = \"a.csv\"\nseries = [{ label = \"V\" }]\n"),
        problem("outputs.charts[0].series[0].column", "is needed")
    );
    assert_eq!(
        chart("series = [\"v\"]\n"),
        problem("outputs.charts[0].file", "is needed")
    );
    assert_eq!(
        chart("file = \"a.csv\"\nseries = \"v\"\n"),
        problem(
            "outputs.charts[0].series",
            "is text; it must be a list of lines ([\"revenue\"])"
        )
    );
    assert_eq!(
        chart("file = \"a.csv\"\nseries = [\"v\"]\nband = { low = \"l\" }\n"),
        problem("outputs.charts[0].band.high", "is needed")
    );
    assert_eq!(
        only_problem("charts = \"nope\"\n"),
        problem(
            "outputs.charts",
            "is text; it must be a list of charts ([[outputs.charts]])"
        )
    );
}

#[test]
fn stored_json_reads_back_and_old_versions_read_as_empty() {
    let outputs = read(TWO_FILES).expect("valid");
    let json = serde_json::to_string(&outputs).expect("json");
    assert_eq!(
        serde_json::from_str::<Outputs>(&json).expect("back"),
        outputs
    );
    assert_eq!(
        serde_json::from_str::<Outputs>("{}").expect("empty"),
        Outputs::default()
    );
}

#[test]
fn the_example_models_declare_what_they_write() {
    for (name, text) in [
        (
            "forecast",
            include_str!("../../../examples/models/forecast/modelrun.toml"),
        ),
        (
            "holt-winters",
            include_str!("../../../examples/models/holt-winters/modelrun.toml"),
        ),
    ] {
        let manifest = crate::manifest::Manifest::parse(text).expect(name);
        assert_eq!(manifest.outputs.charts.len(), 1, "{name}");
        assert!(manifest.outputs.charts[0].band.is_some(), "{name}");
        assert!(manifest.outputs.metrics.len() >= 4, "{name}");
    }
}

#[path = "text_tests.rs"]
mod texts;
