use super::super::Table;
use super::*;

const POINT: NumberStyle = NumberStyle::PointDecimal;
const COMMA: NumberStyle = NumberStyle::CommaDecimal;

fn shown(kind: ColumnType, cells: &[&str], style: NumberStyle) -> Vec<String> {
    let format = ColumnFormat::of(kind, cells.iter().copied()).expect("numeric");
    cells.iter().map(|cell| format.show(cell, style)).collect()
}

#[test]
fn float_noise_is_rounded_to_four_significant_figures() {
    assert_eq!(
        shown(
            ColumnType::Number,
            &["317.43333333333334", "289.1", "402.75"],
            POINT
        ),
        ["317.4", "289.1", "402.8"]
    );
    assert_eq!(
        shown(ColumnType::Number, &["0.263773", "0.1"], POINT),
        ["0.2638", "0.1000"]
    );
    assert_eq!(
        shown(ColumnType::Number, &["105000.00", "98500.25"], POINT),
        ["105,000.00", "98,500.25"],
        "decimals the model chose are kept"
    );
    assert_eq!(
        shown(ColumnType::Number, &["1704285.0612", "-12000.5"], COMMA),
        ["1.704.285", "-12.000"]
    );
}

#[test]
fn a_non_zero_value_never_reads_as_zero_nor_loses_its_sign() {
    assert_eq!(
        shown(ColumnType::Number, &["-0.5", "1234567.89", "0.001"], POINT),
        ["-0.500", "1,234,567.890", "0.001"]
    );
    assert_eq!(
        shown(ColumnType::Number, &["-0.00001", "12.5"], POINT),
        ["-1e-5", "12.5"]
    );
    assert_eq!(
        shown(
            ColumnType::Number,
            &["0.0000123456", "-0.000004", "1000.25", "0.125", "0"],
            POINT
        ),
        ["1.235e-5", "-4e-6", "1000.250", "0.125", "0.000"],
        "too small for six decimals: scientific, that cell only"
    );
    let table = Table::parse("a;b\n-0,5;1\n1234567,89;2\n0,001;3\n", 10, false);
    let format = ColumnFormat::of(table.types[0], table.rows.iter().map(|r| r[0].as_str()))
        .expect("numeric");
    let cells: Vec<String> = table
        .rows
        .iter()
        .map(|row| format.show(&row[0], COMMA))
        .collect();
    assert_eq!(cells, ["-0,500", "1.234.567,890", "0,001"]);
}

#[test]
fn never_more_decimals_than_written_and_values_stay_distinct() {
    assert_eq!(
        shown(ColumnType::Number, &["2.5", "3.25"], POINT),
        ["2.50", "3.25"]
    );
    assert_eq!(
        shown(
            ColumnType::Number,
            &["100000.1", "100000.2", "30000"],
            POINT
        ),
        ["100,000.1", "100,000.2", "30,000.0"],
        "a decimal more so that the two read apart"
    );
    assert_eq!(
        shown(
            ColumnType::Number,
            &["1.000000001", "1.000000002", "1.000000003"],
            POINT
        ),
        ["1.000000001", "1.000000002", "1.000000003"],
        "past six decimals when that parts different values"
    );
    assert_eq!(
        shown(
            ColumnType::Number,
            &["1.00000001", "1.00000002", "5000"],
            POINT
        ),
        ["1.00000001", "1.00000002", "5000.00000000"]
    );
    assert_eq!(
        shown(ColumnType::Number, &["0.30000000000000004", "0.3"], POINT),
        ["0.3000", "0.3000"],
        "float noise is not worth seventeen decimals"
    );
}

#[test]
fn integers_stay_integers_and_years_stay_ungrouped() {
    assert_eq!(
        shown(ColumnType::Integer, &["2027", "2028"], COMMA),
        ["2027", "2028"]
    );
    assert_eq!(
        shown(ColumnType::Integer, &["950", "1200", "15000"], POINT),
        ["950", "1,200", "15,000"]
    );
    assert_eq!(
        shown(ColumnType::Number, &["1.0", "2.0"], POINT),
        ["1.0", "2.0"]
    );
}

#[test]
fn codes_keep_their_leading_zeros() {
    assert_eq!(
        shown(ColumnType::Integer, &["01234", "10115"], POINT),
        ["01234", "10115"]
    );
    assert!(!is_code("0.5") && !is_code("0") && !is_code("-0.25"));
    assert!(is_code("-007.5"));
}

#[test]
fn tiny_and_huge_columns() {
    assert_eq!(
        shown(ColumnType::Number, &["1.23456e-7", "0.0000005"], COMMA),
        ["1,235e-7", "5e-7"]
    );
    assert_eq!(
        shown(ColumnType::Number, &["12345678901234567890.5"], POINT),
        ["12,345,678,901,234,567,890.5"]
    );
    assert_eq!(
        shown(
            ColumnType::Number,
            &["1001000000000000000.0", "2.50", "-3.0"],
            POINT
        ),
        ["1,001,000,000,000,000,000", "2.50", "-3"],
        "as written, no needless fraction of zeros"
    );
    assert_eq!(
        shown(ColumnType::Number, &["0", "2e-9"], POINT),
        ["0", "2e-9"]
    );
    assert_eq!(shown(ColumnType::Number, &["", "1.5"], POINT), ["", "1.5"]);
    assert_eq!(ColumnFormat::of(ColumnType::Text, ["a"].into_iter()), None);
}

#[test]
fn written_decimals_count_exponents() {
    assert_eq!(written_decimals("1.25"), 2);
    assert_eq!(written_decimals("1.5e-7"), 8);
    assert_eq!(written_decimals("1.5E3"), 0);
    assert_eq!(written_decimals("12"), 0);
}

/// The column of a `;` file's first column, as shown in `style`.
fn shown_in_semicolon_file(text: &str, style: NumberStyle) -> Vec<String> {
    let table = Table::parse(text, 10, false);
    let cells = || table.rows.iter().map(|row| row[0].as_str());
    let format = ColumnFormat::of(table.types[0], cells()).expect("numeric");
    cells().map(|cell| format.show(cell, style)).collect()
}

#[test]
fn a_cell_in_its_own_notation_does_not_set_the_columns_decimals() {
    assert_eq!(
        shown_in_semicolon_file("x;n\n0,5;1\n-0,0000001;2\n", COMMA),
        ["0,5", "-1e-7"]
    );
    assert_eq!(
        shown_in_semicolon_file(
            "x;n\n3,14e-10;1\n1,5E+20;2\n-2,0e3;3\n-0,0000001;4\n0,5;5\n",
            COMMA
        ),
        ["3,14e-10", "1,5e20", "-2e3", "-0,0000001", "0,5"],
        "beside 1e20 every value reads as written, in the person's style"
    );
    assert_eq!(
        shown_in_semicolon_file("x;n\n3,14e-10;1\n-2,0e3;2\n-0,0000001;3\n0,5;4\n", COMMA),
        ["3,14e-10", "-2000,0", "-1e-7", "0,5"],
        "the column's decimals follow 0,5, not the cells in their own notation"
    );
    assert_eq!(
        shown_in_semicolon_file("x;n\n-9.999.999.999,99;1\n-0,0000001;2\n0,5;3\n", POINT),
        ["-9,999,999,999.99", "-1e-7", "0.50"]
    );
    assert_eq!(
        shown(
            ColumnType::Number,
            &["0.1", "0.0000001", "0.0000002"],
            POINT
        ),
        ["0.1", "1e-7", "2e-7"],
        "different small values still read apart"
    );
}
