//! Tests of the texts `[outputs]` shows on a page: none blank, none too
//! long, none holding a character that changes how the page reads.

use super::{only_problem, problem};

#[test]
fn a_hidden_character_is_refused_in_every_text_by_its_code_point() {
    let hidden = |at: &str| format!("contains U+{at}, a control or format character");
    assert_eq!(
        only_problem("[metrics.total]\nformat = \"currency\"\nsymbol = \"\u{202e}$\"\n"),
        problem("outputs.metrics.total.symbol", &hidden("202E"))
    );
    let chart = |key: &str, text: &str| {
        let mut body = String::from("[[charts]]\n");
        for (k, v) in [
            ("file", "a.csv"),
            ("x", "month"),
            ("title", "T"),
            ("units", "EUR"),
        ] {
            let v = if k == key { text } else { v };
            body.push_str(&format!("{k} = \"{v}\"\n"));
        }
        body.push_str("series = [{ column = \"revenue\", label = \"Actual\" }]\n");
        body
    };
    for key in ["file", "x", "title", "units"] {
        assert_eq!(
            only_problem(&chart(key, "a\u{200b}b")),
            problem(&format!("outputs.charts[0].{key}"), &hidden("200B")),
            "{key}"
        );
    }
    let line = |series: &str| {
        only_problem(&format!(
            "[[charts]]\nfile = \"a.csv\"\nx = \"month\"\nseries = [{series}]\n"
        ))
    };
    assert_eq!(
        line("{ column = \"rev\u{2066}enue\" }"),
        problem("outputs.charts[0].series[0].column", &hidden("2066"))
    );
    assert_eq!(
        line("{ column = \"revenue\", label = \"Act\\tual\" }"),
        problem("outputs.charts[0].series[0].label", &hidden("0009"))
    );
    assert_eq!(
        only_problem("[metrics.total]\nlabel = \"\u{feff}Total\"\n"),
        problem("outputs.metrics.total.label", &hidden("FEFF"))
    );
}

#[test]
fn a_blank_or_long_text_says_which_and_how_long() {
    assert_eq!(
        only_problem("[metrics.total]\nformat = \"currency\"\nsymbol = \"  \"\n"),
        problem(
            "outputs.metrics.total.symbol",
            "is blank; it must be 1–8 characters without digits, such as \"€\" or \"$\""
        )
    );
    let label = "a".repeat(101);
    assert_eq!(
        only_problem(&format!("[metrics.total]\nlabel = \"{label}\"\n")),
        problem(
            "outputs.metrics.total.label",
            "is 101 characters; at most 100"
        )
    );
    let units = "u".repeat(41);
    assert_eq!(
        only_problem(&format!(
            "[[charts]]\nfile = \"a.csv\"\nx = \"month\"\nunits = \"{units}\"\nseries = [\"revenue\"]\n"
        )),
        problem("outputs.charts[0].units", "is 41 characters; at most 40")
    );
    assert_eq!(
        only_problem("[metrics.total]\nlabel = \" \"\n"),
        problem(
            "outputs.metrics.total.label",
            "is blank; it must be 1–100 characters"
        )
    );
}
