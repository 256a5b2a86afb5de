//! Tests of [`super`]: declared charts drawn from tables, and what a run
//! that did not write what its version declares gets instead.

use modelrun_core::outputs::{BandDecl, SeriesDecl};

use super::*;

fn table(text: &str) -> Read {
    Ok((Table::parse(text, MAX_ROWS, false), false))
}

fn declared() -> ChartDecl {
    ChartDecl {
        file: "history.csv".into(),
        x: "month".into(),
        series: vec![
            SeriesDecl {
                file: "history.csv".into(),
                column: "revenue".into(),
                label: Some("Actual".into()),
                dashed: false,
            },
            SeriesDecl {
                file: "forecast.csv".into(),
                column: "forecast".into(),
                label: Some("Forecast".into()),
                dashed: true,
            },
        ],
        band: Some(BandDecl {
            file: "forecast.csv".into(),
            low: "low".into(),
            high: "high".into(),
        }),
        title: Some("Revenue & forecast".into()),
        units: Some("EUR".into()),
    }
}

fn files() -> HashMap<String, Read> {
    HashMap::from([
        (
            "history.csv".to_owned(),
            table("month,revenue\n2026-10,100\n2026-11,110\n2026-12,120\n"),
        ),
        (
            "forecast.csv".to_owned(),
            table("month,forecast,low,high\n2027-01,125,115,135\n2027-02,130,117,143\n"),
        ),
    ])
}

#[test]
fn two_files_draw_on_one_axis_the_second_dashed_with_its_band() {
    let chart = build(&declared(), &files(), "c", NumberStyle::PointDecimal);
    assert!(chart.notes.is_empty(), "{:?}", chart.notes);
    assert_eq!(chart.title, "Revenue & forecast");
    assert_eq!(chart.files, ["history.csv", "forecast.csv"]);
    let svg = chart.svg.expect("drawn");
    assert!(svg.contains("Revenue &amp; forecast"), "the title, escaped");
    assert!(
        svg.contains("Actual") && svg.contains("Forecast"),
        "both lines"
    );
    assert!(svg.contains("stroke-dasharray"), "the forecast is dashed");
    assert!(svg.contains("EUR"), "the y axis names its units");
    assert!(svg.contains("<polygon"), "the band is shaded");
}

#[test]
fn missing_files_and_columns_become_notes() {
    let mut files = files();
    files.insert(
        "forecast.csv".to_owned(),
        Err("The run has no output forecast.csv.".to_owned()),
    );
    let chart = build(&declared(), &files, "c", NumberStyle::PointDecimal);
    assert_eq!(chart.notes, ["The run has no output forecast.csv."]);
    assert!(chart.svg.is_some(), "the history still draws");

    let mut wrong = declared();
    wrong.series[0].column = "sales".into();
    wrong.x = "date".into();
    let chart = build(&wrong, &self::files(), "c", NumberStyle::PointDecimal);
    assert!(chart.svg.is_none());
    assert_eq!(
        chart.notes,
        [
            "history.csv has no x column date.",
            "forecast.csv has no x column date."
        ]
    );
    let mut wrong = declared();
    wrong.series[0].column = "sales".into();
    let chart = build(&wrong, &self::files(), "c", NumberStyle::PointDecimal);
    assert_eq!(
        chart.notes,
        ["history.csv has no column sales (its columns: month, revenue)."]
    );
}

#[test]
fn without_a_title_the_lines_name_the_chart() {
    let mut untitled = declared();
    untitled.title = None;
    let chart = build(&untitled, &files(), "c", NumberStyle::PointDecimal);
    assert_eq!(chart.title, "Actual, Forecast by month");
}

#[test]
fn files_of_one_row_draw_each_point_as_a_marker() {
    let files = HashMap::from([
        (
            "history.csv".to_owned(),
            table("month,revenue\n2026-12,120\n"),
        ),
        (
            "forecast.csv".to_owned(),
            table("month,forecast,low,high\n2027-01,125,115,135\n"),
        ),
    ]);
    let chart = build(&declared(), &files, "c", NumberStyle::PointDecimal);
    assert!(chart.notes.is_empty(), "{:?}", chart.notes);
    let svg = chart.svg.expect("drawn, not nothing to draw");
    assert_eq!(svg.matches("<circle").count(), 2, "a marker each");
    let empty = HashMap::from([
        ("history.csv".to_owned(), table("month,revenue\n")),
        (
            "forecast.csv".to_owned(),
            table("month,forecast,low,high\n"),
        ),
    ]);
    let chart = build(&declared(), &empty, "c", NumberStyle::PointDecimal);
    assert!(chart.svg.is_none());
    assert_eq!(
        chart.notes,
        [
            "Column revenue of history.csv holds no numbers.",
            "Column forecast of forecast.csv holds no numbers."
        ]
    );
}
