//! Tests of the server-drawn charts: lines, bands, overlays, what is left
//! out, and the axes as drawn.

use modelrun_core::display::NumberStyle;

use super::*;

const POINT: NumberStyle = NumberStyle::PointDecimal;

fn forecast() -> Table {
    Table::parse(
        "month,revenue,low,high\n2027-01,100,90,110\n2027-02,110,95,125\n2027-03,,,\n2027-04,130,100,160\n",
        100,
        false,
    )
}

fn chart(csv: &str) -> Chart {
    Chart::from_table(&Table::parse(csv, 100, false)).expect("a chart")
}

/// The text of every element with `class` in the SVG, in order.
fn texts(svg: &str, class: &str) -> Vec<String> {
    svg.split(&format!(r#"class="chart-text {class}""#))
        .skip(1)
        .filter_map(|rest| Some(rest.split_once('>')?.1.split_once('<')?.0.to_owned()))
        .collect()
}

/// How many pieces the lines are drawn in: moves in the paths.
fn pieces(svg: &str) -> usize {
    svg.split(" d=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(d, _)| d.matches('M').count())
        .sum()
}

/// The x of every element with `class`, in order.
fn xs(svg: &str, class: &str) -> Vec<f64> {
    svg.split(&format!(r#"class="chart-text {class}" x=""#))
        .skip(1)
        .filter_map(|rest| rest.split_once('"')?.0.parse().ok())
        .collect()
}

#[test]
fn a_forecast_is_a_line_with_its_band() {
    let chart = Chart::from_table(&forecast()).expect("chart");
    assert_eq!(chart.x_label, "month");
    assert_eq!(chart.series.len(), 1);
    let revenue = &chart.series[0];
    assert_eq!(revenue.name, "revenue");
    assert_eq!(revenue.x[3], "2027-04");
    assert_eq!(revenue.values[2], None);
    let (low, high) = revenue.band.as_ref().expect("band");
    assert_eq!((low[0], high[3]), (Some(90.0), Some(160.0)));
    assert!(chart.not_charted.is_empty());
    let svg = chart.svg("c1", "Forecast <revenue>", POINT);
    assert!(svg.starts_with("<svg") && svg.contains(r#"</svg><img class="chart-narrow""#));
    assert!(svg.contains("Forecast &lt;revenue&gt;"));
    assert_eq!(svg.matches("<polygon").count(), 2, "the band breaks too");
    assert_eq!(pieces(&svg), 2, "the gap breaks the line");
    assert!(!svg.contains("style="), "no inline CSS");
    assert!(!svg.contains("stroke-dasharray"));
}

#[test]
fn tables_without_time_or_numbers_have_no_chart() {
    assert!(Chart::from_table(&Table::parse("name,value\na,1\nb,2\n", 10, false)).is_none());
    let text = Table::parse("month,note\n2027-01,a\n2027-02,b\n", 10, false);
    assert!(Chart::from_table(&text).is_none());
    assert!(Chart::from_table(&Table::parse("", 10, false)).is_none());
}

#[test]
fn named_bands_and_plain_lines() {
    let chart =
        chart("date,sales,sales_low,sales_high,cost\n2027-01-01,1,0,2,5\n2027-01-02,2,1,3,6\n");
    let names: Vec<_> = chart.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["sales", "cost"]);
    assert!(chart.series[0].band.is_some() && chart.series[1].band.is_none());
}

#[test]
fn columns_left_out_are_named_with_why() {
    let headers: Vec<String> = (1..=10).map(|n| format!("v{n}")).collect();
    let row: Vec<&str> = vec!["1"; 10];
    let csv = format!(
        "month,note,{},ok\n2027-01,a,{},true\n2027-02,b,{},false\n",
        headers.join(","),
        row.join(","),
        row.join(",")
    );
    let chart = chart(&csv);
    assert_eq!(chart.series.len(), MAX_SERIES);
    assert_eq!(
        chart.not_charted,
        [
            "note (text)",
            "v9 (past 8 lines)",
            "v10 (past 8 lines)",
            "ok (yes/no)"
        ]
    );
    assert_eq!(
        chart.not_charted_note().as_deref(),
        Some("Not charted: note (text), v9 (past 8 lines), v10 (past 8 lines), ok (yes/no).")
    );
    assert_eq!(
        Chart::from_table(&forecast())
            .expect("chart")
            .not_charted_note(),
        None
    );
}

#[test]
fn overlays_keep_each_run_on_its_own_months() {
    let a = Chart::from_table(&forecast()).expect("a");
    let b = chart("month,revenue\n2030-01,50\n2030-02,70\n");
    let both = Chart::overlay(&[("#1".to_owned(), a), ("#2".to_owned(), b)]).expect("overlay");
    assert_eq!(both.series[1].x, ["2030-01", "2030-02"]);
    assert_eq!(both.series[1].values, [Some(50.0), Some(70.0)]);
    assert_eq!(both.series[0].name, "#1: revenue");
    let svg = both.svg("o", "overlay", POINT);
    assert_eq!(texts(&svg, "chart-x"), ["2027", "2028", "2029", "2030"]);
    let at = xs(&svg, "chart-x");
    let gaps: Vec<f64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| (g - gaps[0]).abs() < 1.5),
        "years are evenly apart: {at:?}"
    );
    assert_eq!(pieces(&svg), 3, "two pieces of #1, one of #2");
}

#[test]
fn overlays_draw_every_line_of_each_run() {
    let a = chart("month,base,alt\n2027-01,1,2\n2027-02,2,3\n");
    let b = chart("month,base,alt\n2027-01,5,6\n2027-02,7,8\n");
    let both = Chart::overlay(&[("#1".to_owned(), a), ("#2".to_owned(), b)]).expect("overlay");
    let names: Vec<&str> = both.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["#1: base", "#1: alt", "#2: base", "#2: alt"]);
    assert!(both.series[0].band.is_none());
}

#[test]
fn overlays_draw_a_line_every_run_shares_once_without_a_label() {
    let history = "month,Actual,Forecast\n2027-01,1,\n2027-02,2,\n";
    let a = chart(&format!("{history}2027-03,,3\n"));
    let b = chart(&format!("{history}2027-03,,4\n"));
    let both =
        Chart::overlay(&[("#1".to_owned(), a.clone()), ("#2".to_owned(), b)]).expect("overlay");
    let names: Vec<&str> = both.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Actual", "#1: Forecast", "#2: Forecast"]);
    let alone = Chart::overlay(&[("#1".to_owned(), a)]).expect("one run");
    let names: Vec<&str> = alone.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["#1: Actual", "#1: Forecast"],
        "one run shares nothing"
    );
}

#[test]
fn overlays_past_eight_lines_name_the_rest() {
    let charts: Vec<(String, Chart)> = (1..=3)
        .map(|n| {
            let csv = format!("month,a,b,c\n2027-01,{n},{n},{n}\n2027-02,2,3,4\n");
            (format!("#{n}"), chart(&csv))
        })
        .collect();
    let all = Chart::overlay(&charts).expect("overlay");
    assert_eq!(all.series.len(), MAX_SERIES);
    assert_eq!(
        all.not_charted_note().as_deref(),
        Some("Not charted: #3: c (past 8 lines).")
    );
}

#[test]
fn overlays_keep_the_first_charts_units() {
    let mut a = chart("month,revenue\n2027-01,1\n2027-02,2\n");
    a.units = Some("€".to_owned());
    let b = chart("month,revenue\n2027-01,3\n2027-02,4\n");
    let both = Chart::overlay(&[("#1".to_owned(), a), ("#2".to_owned(), b)]).expect("overlay");
    assert_eq!(both.units.as_deref(), Some("€"));
}

#[test]
fn lines_of_different_frequency_stay_whole() {
    let monthly = chart("month,a\n2002-01,1\n2011-01,2\n2017-01,3\n2026-01,4\n");
    let daily = chart("date,b\n2002-01-01,1\n2002-06-30,2\n2026-01-01,3\n");
    let both =
        Chart::overlay(&[("m".to_owned(), monthly), ("d".to_owned(), daily)]).expect("overlay");
    let svg = both.svg("o", "mixed", POINT);
    assert_eq!(pieces(&svg), 2, "one unbroken line each");
    let labels = texts(&svg, "chart-x");
    assert!(labels.iter().all(|l| l.len() == 4), "{labels:?}");
    let mut distinct = labels.clone();
    distinct.dedup();
    assert_eq!(distinct, labels);
}

#[test]
fn a_narrow_range_reads_distinct_round_ticks() {
    let svg = chart("month,v\n2027-01,123456.1\n2027-02,123456.9\n").svg("n", "narrow", POINT);
    let labels = texts(&svg, "chart-y");
    assert_eq!(labels.first().map(String::as_str), Some("123,456.0"));
    assert_eq!(labels.last().map(String::as_str), Some("123,457.0"));
    let mut distinct = labels.clone();
    distinct.dedup();
    assert_eq!(distinct, labels);
}

#[test]
fn dashed_lines_and_units() {
    let mut chart = Chart::from_table(&forecast()).expect("chart");
    chart.series[0].dashed = true;
    chart.units = Some("€".to_owned());
    let svg = chart.svg("d", "dashed", POINT);
    assert_eq!(
        svg.matches("stroke-dasharray").count(),
        2,
        "the line and its legend swatch"
    );
    assert_eq!(texts(&svg, "chart-units"), ["€"]);
}

#[test]
fn long_units_show_whole_from_the_left_edge() {
    let mut chart = chart("month,v\n2027-01,1\n2027-02,2\n");
    let units = "thousands of euros per household at 2027";
    chart.units = Some(units.to_owned());
    let both = chart.svg("u", "units", POINT);
    for svg in [both.clone(), narrow(&both)] {
        assert_eq!(texts(&svg, "chart-units"), [units]);
        assert!(svg.contains(r#"chart-units" x="4.0""#), "{svg}");
        assert!(svg.contains(r#"text-anchor="start""#));
    }
    chart.units = Some("W".repeat(60));
    let svg = narrow(&chart.svg("u", "units", POINT));
    let shown = &texts(&svg, "chart-units")[0];
    assert!(
        shown.ends_with('…') && shown.chars().count() < 60,
        "{shown}"
    );
    assert!(svg.contains(&format!("<title>{}</title>", "W".repeat(60))));
}

#[test]
fn dark_mode_classes_mark_every_part() {
    let svg = Chart::from_table(&forecast())
        .expect("chart")
        .svg("c", "dark", POINT);
    for class in [
        "chart-grid",
        "chart-axis",
        "chart-text",
        "chart-line",
        "chart-band",
        "chart-key",
    ] {
        assert!(svg.contains(class), "{class}");
    }
}

#[test]
fn huge_close_values_still_draw() {
    let svg = chart("month,v\n2027-01,1e20\n2027-02,100000000000000000001\n2027-03,1e308\n")
        .svg("c", "big", POINT);
    assert!(svg.contains("</svg>"));
    let flat = chart("month,v\n2027-01,1e20\n2027-02,1e20\n");
    assert!(flat.svg("c", "flat", POINT).contains("</svg>"));
}

#[test]
fn tick_labels_at_the_ends_stay_inside_the_chart() {
    let svg = chart("month,v\n2027-01,1\n2027-03,2\n2027-05,3\n").svg("e", "ends", POINT);
    let labels = texts(&svg, "chart-x");
    assert_eq!(labels.last().map(String::as_str), Some("May 2027"));
    let last = xs(&svg, "chart-x").last().copied().expect("a tick");
    assert!(last + 4.0 * 7.0 <= 760.0, "May 2027 is centred at {last}");
}

/// The narrow drawing in the `<img>` after the wide `<svg>`, decoded.
fn narrow(svg: &str) -> String {
    use base64::Engine;
    let data = svg
        .split_once("data:image/svg+xml;base64,")
        .and_then(|(_, rest)| rest.split_once('"'))
        .expect("a narrow image")
        .0;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    String::from_utf8(bytes).expect("utf-8")
}

/// Every x coordinate of the paths' points.
fn path_xs(svg: &str) -> Vec<f64> {
    svg.split(" d=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .flat_map(|(d, _)| {
            d.split(['M', 'L', ' '])
                .filter_map(|p| p.split_once(',')?.0.parse::<f64>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_phone_gets_a_narrow_drawing_of_every_line_whole() {
    let two_runs = Chart::overlay(&[
        ("#1".to_owned(), chart("month,v\n2027-01,1\n2027-12,2\n")),
        ("#2".to_owned(), chart("month,v\n2030-01,3\n2030-12,4\n")),
    ])
    .expect("overlay");
    let svg = two_runs.svg("p", "phone", POINT);
    let small = narrow(&svg);
    assert!(
        small.starts_with(r#"<svg class="chart" viewBox="0 0 380 "#),
        "{small}"
    );
    assert!(svg.contains(r#"alt="phone: #1: v, #2: v by month, from 2027-01 to 2030-12"#));
    let xs = path_xs(&small);
    assert_eq!(xs.len(), 4, "both lines, both ends: {xs:?}");
    assert!(xs.iter().all(|x| (40.0..=360.0).contains(x)), "{xs:?}");
    assert!(
        xs.iter().any(|x| *x > 350.0),
        "the 2030 line reaches the right"
    );
    let ticks = texts(&small, "chart-x");
    assert!(ticks.len() >= 3 && ticks.len() <= texts(&svg, "chart-x").len());
    assert_eq!(texts(&small, "chart-legend"), ["#1: v", "#2: v"]);
    let long = Chart {
        series: vec![Series {
            name: "a very long name for a line that will not fit on a phone".into(),
            ..two_runs.series[0].clone()
        }],
        ..two_runs.clone()
    };
    let legend = texts(&narrow(&long.svg("l", "long", POINT)), "chart-legend");
    assert!(
        legend[0].ends_with('…') && legend[0].chars().count() < 50,
        "{legend:?}"
    );
}

#[test]
fn one_row_draws_a_marker_and_says_where() {
    let svg = chart("month,v\n2027-01,5\n").svg("one", "one", POINT);
    assert_eq!(svg.matches(r#"<circle class="chart-dot""#).count(), 1);
    assert!(svg.contains("v by month, at 2027-01, at 5."), "{svg}");
    let gap = chart("month,v\n2027-01,1\n2027-02,\n2027-03,3\n2027-04,4\n").svg("g", "g", POINT);
    assert_eq!(gap.matches("<circle").count(), 1, "the lone first value");
}

#[test]
fn descriptions_keep_close_values_apart() {
    let svg = chart("month,v\n2027-01,100.0011\n2027-02,100.0038\n").svg("d", "d", POINT);
    assert!(svg.contains("between 100.001 and 100.004."), "{svg}");
    let labels = texts(&svg, "chart-y");
    let mut distinct = labels.clone();
    distinct.dedup();
    assert_eq!(distinct, labels);
}

#[test]
fn date_times_are_a_time_axis() {
    let table = Table::parse(
        "at,load\n2026-01-01T10:00:00Z,1\n2026-01-01T12:00:00Z,3\n2026-01-01T16:00:00Z,2\n",
        10,
        false,
    );
    assert_eq!(table.types[0].to_string(), "date-time");
    let svg = Chart::from_table(&table)
        .expect("charted")
        .svg("t", "t", POINT);
    assert_eq!(
        texts(&svg, "chart-x"),
        ["1 Jan 10:00", "1 Jan 12:00", "1 Jan 14:00", "1 Jan 16:00"]
    );
    let spaced = chart("at,load\n2026-01-01 10:00,1\n2026-01-02 10:00,2\n");
    assert_eq!(spaced.series[0].x[1], "2026-01-02 10:00");
}
