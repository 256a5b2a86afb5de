//! Tests of the server-drawn charts: lines, bands, overlays and axes.

use super::*;

fn forecast() -> Table {
    Table::parse(
        "month,revenue,low,high\n2027-01,100,90,110\n2027-02,110,95,125\n2027-03,,,\n2027-04,130,100,160\n",
        100,
        false,
    )
}

#[test]
fn a_forecast_is_a_line_with_its_band() {
    let chart = Chart::from_table(&forecast()).expect("chart");
    assert_eq!(chart.x_label, "month");
    assert_eq!(chart.series.len(), 1);
    let revenue = &chart.series[0];
    assert_eq!(revenue.name, "revenue");
    assert_eq!(revenue.values[2], None);
    let (low, high) = revenue.band.as_ref().expect("band");
    assert_eq!((low[0], high[3]), (Some(90.0), Some(160.0)));
    let svg = chart.svg("c1", "Forecast <revenue>", NumberStyle::PointDecimal);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains("Forecast &lt;revenue&gt;"));
    assert!(svg.contains("<polygon"), "the band is drawn");
    assert_eq!(
        svg.matches(" M").count() + svg.matches("\"M").count(),
        2,
        "the gap breaks the line"
    );
    assert!(!svg.contains("style="), "no inline CSS");
}

#[test]
fn tables_without_time_or_numbers_have_no_chart() {
    assert!(Chart::from_table(&Table::parse("name,value\na,1\nb,2\n", 10, false)).is_none());
    assert!(
        Chart::from_table(&Table::parse(
            "month,note\n2027-01,a\n2027-02,b\n",
            10,
            false
        ))
        .is_none()
    );
    assert!(Chart::from_table(&Table::parse("month,v\n2027-01,1\n", 10, false)).is_none());
    assert!(Chart::from_table(&Table::parse("", 10, false)).is_none());
}

#[test]
fn named_bands_and_plain_lines() {
    let table = Table::parse(
        "date,sales,sales_low,sales_high,cost\n2027-01-01,1,0,2,5\n2027-01-02,2,1,3,6\n",
        10,
        false,
    );
    let chart = Chart::from_table(&table).expect("chart");
    let names: Vec<_> = chart.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["sales", "cost"]);
    assert!(chart.series[0].band.is_some() && chart.series[1].band.is_none());
}

#[test]
fn overlays_line_up_on_the_union_of_months() {
    let a = Chart::from_table(&forecast()).expect("a");
    let b = Chart::from_table(&Table::parse(
        "month,revenue\n2027-02,50\n2027-05,70\n",
        10,
        false,
    ))
    .expect("b");
    let both = Chart::overlay(&[("#1".to_owned(), a), ("#2".to_owned(), b)]).expect("overlay");
    assert_eq!(
        both.x,
        ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]
    );
    assert_eq!(
        both.series[1].values,
        [None, Some(50.0), None, None, Some(70.0)]
    );
    assert_eq!(both.series[0].name, "#1: revenue");
}

#[test]
fn huge_close_values_still_draw() {
    let table = Table::parse(
        "month,v\n2027-01,1e20\n2027-02,100000000000000000001\n2027-03,1e308\n",
        10,
        false,
    );
    let svg = Chart::from_table(&table)
        .expect("chart")
        .svg("c", "big", NumberStyle::PointDecimal);
    assert!(svg.ends_with("</svg>"));
    let flat = Table::parse("month,v\n2027-01,1e20\n2027-02,1e20\n", 10, false);
    assert!(
        Chart::from_table(&flat)
            .expect("chart")
            .svg("c", "flat", NumberStyle::PointDecimal)
            .ends_with("</svg>")
    );
}

#[test]
fn steps_and_labels_are_round() {
    assert_eq!(nice_step(0.3), 0.5);
    assert_eq!(nice_step(23.0), 25.0);
    assert_eq!(nice_step(7000.0), 10000.0);
    let point = NumberStyle::PointDecimal;
    assert_eq!(compact(1_250_000.0, point), "1.25M");
    assert_eq!(compact(350_000.0, point), "350k");
    assert_eq!(compact(12.5, point), "12.5");
    assert_eq!(compact(-0.0, point), "0");
    assert_eq!(compact(1_250_000.0, NumberStyle::CommaDecimal), "1,25M");
}
