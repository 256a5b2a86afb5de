use super::*;

#[test]
fn reads_like_a_person_writes() {
    assert_eq!(bytes(812), "812 B");
    assert_eq!(bytes(3_400_000), "3.4 MB");
    assert_eq!(duration(chrono::Duration::milliseconds(1234)), "1.2 s");
    assert_eq!(duration(chrono::Duration::seconds(125)), "2 min 5 s");
    assert_eq!(duration(chrono::Duration::seconds(11_520)), "3 h 12 min");
    let point = NumberStyle::PointDecimal;
    assert_eq!(figure(1_704_285.06, point), "1,704,285.06");
    assert_eq!(figure(0.263773, point), "0.2638");
    assert_eq!(figure(-12000.0, point), "-12,000");
    assert_eq!(figure(24.0, point), "24");
    assert_eq!(figure(-0.000028, point), "-0.000028", "small, not -0");
    assert_eq!(
        value_in(&serde_json::json!(1.5e-7), NumberStyle::CommaDecimal),
        "0,00000015",
        "no exponent a person would not write"
    );
    assert_eq!(value_in(&serde_json::Value::Null, point), "—");
    let now = Utc::now();
    assert_eq!(ago(now - chrono::Duration::seconds(30), now), "just now");
    assert_eq!(ago(now - chrono::Duration::minutes(1), now), "1 minute ago");
    assert_eq!(ago(now - chrono::Duration::hours(5), now), "5 hours ago");
}

#[test]
fn numbers_follow_the_persons_style() {
    let comma = NumberStyle::CommaDecimal;
    assert_eq!(figure(1234.5, comma), "1.234,5");
    assert_eq!(figure(1234.5, NumberStyle::PointDecimal), "1,234.5");
    assert_eq!(figure(-1_704_285.06, comma), "-1.704.285,06");
    assert_eq!(number_text("1234567.125", comma), "1.234.567,125");
    assert_eq!(number_text("-0.5", comma), "-0,5");
    assert_eq!(number_text("1e9", comma), "1e9");
    assert_eq!(number_text("2027-01", comma), "2027-01");
    assert_eq!(number_text("2027", comma), "2027");
    assert_eq!(number_text("1234.5", comma), "1234,5");
    assert_eq!(
        number_text("12345.5", NumberStyle::PointDecimal),
        "12,345.5"
    );
    assert_eq!(number_text("", comma), "");
    assert_eq!(value_in(&serde_json::json!(1200000), comma), "1.200.000");
    assert_eq!(value_in(&serde_json::json!("a.b"), comma), "a.b");
}

#[test]
fn figures_round_sensibly_and_follow_their_declared_format() {
    let point = NumberStyle::PointDecimal;
    let comma = NumberStyle::CommaDecimal;
    assert_eq!(figure(12.345678, point), "12.35");
    assert_eq!(figure(1.234567, point), "1.235");
    assert_eq!(figure(0.00123456, point), "0.001235");
    assert_eq!(figure(1234.5678, comma), "1.234,57");
    let percent = MetricFormat::Percent { places: 1 };
    assert_eq!(metric(0.591823, &percent, point), "59.2%");
    assert_eq!(metric(0.0712, &percent, comma), "7,1 %");
    assert_eq!(
        metric(-0.0001, &percent, point),
        "-0.01%",
        "never -0, nor 0"
    );
    let euro = MetricFormat::Currency {
        symbol: "€".into(),
        places: 2,
    };
    assert_eq!(metric(1_704_285.064, &euro, point), "€1,704,285.06");
    assert_eq!(metric(1_704_285.064, &euro, comma), "1.704.285,06 €");
    assert_eq!(metric(-12.5, &euro, point), "-€12.50");
    let francs = MetricFormat::Currency {
        symbol: "CHF".into(),
        places: 0,
    };
    assert_eq!(metric(1500.0, &francs, point), "CHF 1,500");
    assert_eq!(metric(23.6, &MetricFormat::Integer, point), "24");
    assert_eq!(metric(-0.4, &MetricFormat::Integer, point), "-0.4");
    assert_eq!(
        metric(0.12345, &MetricFormat::Decimals { places: 3 }, comma),
        "0,123"
    );
    assert_eq!(metric(0.5, &MetricFormat::Number, point), "0.5");
}

#[test]
fn huge_and_tiny_figures_are_compact_in_every_format() {
    let point = NumberStyle::PointDecimal;
    let comma = NumberStyle::CommaDecimal;
    assert_eq!(figure(1e300, point), "1e300");
    assert_eq!(figure(-1.23456e15, comma), "-1,235e15");
    assert_eq!(figure(999_999_999_999_999.0, point), "999,999,999,999,999");
    assert_eq!(figure(2.5e-9, point), "2.5e-9");
    let euro = MetricFormat::Currency {
        symbol: "€".into(),
        places: 2,
    };
    assert_eq!(metric(1e300, &euro, point), "€1e300");
    assert_eq!(metric(-1.5e20, &euro, comma), "-1,5e20 €");
    assert_eq!(metric(1e300, &MetricFormat::Integer, point), "1e300");
    let decimals = MetricFormat::Decimals { places: 3 };
    assert_eq!(metric(-2e16, &decimals, point), "-2e16");
    let percent = MetricFormat::Percent { places: 1 };
    assert_eq!(metric(1e300, &percent, point), "1e302%");
    for format in [MetricFormat::Number, MetricFormat::Integer, euro, percent] {
        assert!(metric(f64::MAX, &format, point).len() < 16, "{format:?}");
    }
}

#[test]
fn negative_figures_follow_the_positive_rule() {
    let point = NumberStyle::PointDecimal;
    for (value, written) in [
        (1234.5, "1,234.5"),
        (1234.5678, "1,234.57"),
        (12.345678, "12.35"),
        (0.263773, "0.2638"),
    ] {
        assert_eq!(figure(value, point), written);
        assert_eq!(figure(-value, point), format!("-{written}"));
    }
}

#[test]
fn rounding_is_half_away_from_zero_on_the_decimal_the_value_holds() {
    let point = NumberStyle::PointDecimal;
    let places = |places| MetricFormat::Decimals { places };
    assert_eq!(metric(0.125, &places(2), point), "0.13");
    assert_eq!(metric(-0.125, &places(2), point), "-0.13");
    assert_eq!(metric(2.5, &MetricFormat::Integer, point), "3");
    assert_eq!(metric(-2.5, &MetricFormat::Integer, point), "-3");
    assert_eq!(metric(0.5, &MetricFormat::Integer, point), "1");
    assert_eq!(
        metric(9.995, &places(2), point),
        "10.00",
        "the carry runs on"
    );
    let euro = MetricFormat::Currency {
        symbol: "€".to_owned(),
        places: 2,
    };
    assert_eq!(
        metric(999_999_999_999_999.9, &euro, point),
        "€999,999,999,999,999.90",
        "no digits the value does not hold"
    );
    assert_eq!(metric(1.005, &euro, point), "€1.01");
    assert_eq!(
        figure(0.00012345, point),
        "0.0001235",
        "four significant, half up"
    );
    assert_eq!(scientific(1.2345e20, 4, point), "1.235e20");
    assert_eq!(
        scientific(-9.9995e-8, 4, point),
        "-1e-7",
        "a carry is one more power"
    );
    assert_eq!(bytes(1_250_000), "1.3 MB");
    assert_eq!(duration(chrono::Duration::milliseconds(1250)), "1.3 s");
}

#[test]
fn a_value_that_is_not_zero_never_reads_as_zero() {
    let point = NumberStyle::PointDecimal;
    let percent = MetricFormat::Percent { places: 2 };
    assert_eq!(metric(0.000012, &percent, point), "0.0012%");
    assert_eq!(metric(-0.000012, &percent, point), "-0.0012%");
    assert_eq!(metric(0.00004, &percent, point), "0.004%");
    assert_eq!(metric(0.0, &percent, point), "0.00%");
    assert_eq!(metric(0.3, &MetricFormat::Integer, point), "0.3");
    assert_eq!(
        metric(1.5e-12, &MetricFormat::Decimals { places: 2 }, point),
        "1.5e-12"
    );
    assert_eq!(
        metric(0.000012, &percent, NumberStyle::CommaDecimal),
        "0,0012 %"
    );
}
