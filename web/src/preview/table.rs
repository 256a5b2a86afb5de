//! A CSV file as a table: the header, the first rows, and a guess at each
//! column's type from its values. The cells are split on the file's own
//! delimiter ([`delimiter`]: comma, semicolon or tab), and a `;` file's
//! decimal commas are read as numbers, so that what reads the table (the
//! preview, the chart) sees `1234.5` wherever the file says `1234,5`. How
//! the numbers are then shown is [`numbers`]' rule.

use std::fmt;

pub mod delimiter;
pub mod numbers;

use delimiter::{Delimiter, points_for_commas, reads_as_number};

/// What a column holds, guessed from its non-empty values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Integer,
    Number,
    /// `2027-01-31`
    Date,
    /// `2027-01`
    Month,
    /// `2027-01-31T10:00:00Z`, `2027-01-31 10:00`
    DateTime,
    Boolean,
    Text,
    /// No value at all.
    Empty,
}

impl ColumnType {
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Integer | ColumnType::Number)
    }

    pub fn is_time(self) -> bool {
        matches!(
            self,
            ColumnType::Date | ColumnType::Month | ColumnType::DateTime
        )
    }

    fn of(value: &str) -> ColumnType {
        let value = value.trim();
        if value.is_empty() {
            ColumnType::Empty
        } else if value.parse::<i64>().is_ok() {
            ColumnType::Integer
        } else if parse_number(value).is_some() {
            ColumnType::Number
        } else if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
            ColumnType::Date
        } else if is_month(value) {
            ColumnType::Month
        } else if super::time_axis::parse_date_time(value).is_some() {
            ColumnType::DateTime
        } else if matches!(value.to_ascii_lowercase().as_str(), "true" | "false") {
            ColumnType::Boolean
        } else {
            ColumnType::Text
        }
    }

    /// The narrowest type both values fit.
    fn join(self, other: ColumnType) -> ColumnType {
        use ColumnType::*;
        match (self, other) {
            (Empty, t) | (t, Empty) => t,
            (a, b) if a == b => a,
            (Integer, Number) | (Number, Integer) => Number,
            _ => Text,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Date => "date",
            ColumnType::Month => "month",
            ColumnType::DateTime => "date-time",
            ColumnType::Boolean => "yes/no",
            ColumnType::Text => "text",
            ColumnType::Empty => "empty",
        })
    }
}

/// A finite number, as models write them (`1234.5`, `-3e2`).
pub fn parse_number(value: &str) -> Option<f64> {
    value.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A cell of a file parted by `delimiter` that a spreadsheet may run as a
/// formula when the file is opened: it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return, and does not read as a number in the file's
/// own style ([`reads_as_number`]: `-12.5`, `+3`, and in a `;` file
/// `-0,0000001`). The characters are OWASP's list for "CSV injection"
/// (owasp.org/www-community/attacks/CSV_Injection).
pub fn starts_like_formula(cell: &str, delimiter: Delimiter) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !reads_as_number(cell, delimiter)
}

fn is_month(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && matches!(value[5..].parse::<u8>(), Ok(1..=12))
}

/// The table, as far as it was read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// What parts its cells.
    pub delimiter: Delimiter,
    pub headers: Vec<String>,
    pub types: Vec<ColumnType>,
    /// Every row has as many cells as there are headers (short rows are
    /// padded, long ones cut, and counted in `ragged`). Numbers written
    /// with decimal commas in a `;` file are here with a point.
    pub rows: Vec<Vec<String>>,
    /// Rows that had more or fewer cells than the header.
    pub ragged: usize,
    /// Cells, among the rows kept, that [`starts_like_formula`].
    pub formulas: usize,
    /// More rows follow than were kept.
    pub truncated: bool,
    /// A line could not be read as CSV; the table stops before it.
    pub error: Option<String>,
}

impl Table {
    /// Reads at most `max_rows` rows of `text`, split on the delimiter its
    /// first lines use ([`Delimiter::sniff`]). `partial`: the text is the
    /// start of a longer file, so its last line may be cut and is dropped.
    pub fn parse(text: &str, max_rows: usize, partial: bool) -> Table {
        Table::parse_as(text, Delimiter::sniff(text), max_rows, partial)
    }

    /// As [`Table::parse`], for a file named `name` (a `.tsv` is split on
    /// tabs whatever its first lines hold).
    pub fn of_file(name: &str, text: &str, max_rows: usize, partial: bool) -> Table {
        Table::parse_as(text, Delimiter::for_file(name, text), max_rows, partial)
    }

    /// As [`Table::parse`], split on `delimiter`.
    pub fn parse_as(text: &str, delimiter: Delimiter, max_rows: usize, partial: bool) -> Table {
        let text = if partial {
            text.rfind('\n').map_or("", |end| &text[..=end])
        } else {
            text
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter.byte())
            .from_reader(text.as_bytes());
        let mut table = Table {
            delimiter,
            truncated: partial,
            ..Table::default()
        };
        let mut records = reader.records();
        match records.next() {
            None => return table,
            Some(Err(error)) => {
                table.error = Some(error.to_string());
                return table;
            }
            Some(Ok(header)) => {
                table.headers = header.iter().map(|h| h.trim().to_owned()).collect();
            }
        }
        let width = table.headers.len();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    table.error = Some(error.to_string());
                    break;
                }
            };
            if table.rows.len() == max_rows {
                table.truncated = true;
                break;
            }
            if record.len() != width {
                table.ragged += 1;
            }
            let mut row: Vec<String> = record.iter().take(width).map(str::to_owned).collect();
            row.resize(width, String::new());
            table.rows.push(row);
        }
        if delimiter.decimal_comma() {
            for column in 0..width {
                points_for_commas(&mut table.rows, column);
            }
        }
        table.types = vec![ColumnType::Empty; width];
        for row in &table.rows {
            for (column, value) in row.iter().enumerate() {
                table.types[column] = table.types[column].join(ColumnType::of(value));
                table.formulas += usize::from(starts_like_formula(value, delimiter));
            }
        }
        table
    }

    /// The index of the first column with this header.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_column_types() {
        let table = Table::parse(
            "month,revenue,units,day,ok,note\n2027-01,100.5,3,2027-01-31,true,a\n2027-02,99,4,2027-02-28,false,\n",
            100,
            false,
        );
        assert_eq!(
            table.types,
            [
                ColumnType::Month,
                ColumnType::Number,
                ColumnType::Integer,
                ColumnType::Date,
                ColumnType::Boolean,
                ColumnType::Text
            ]
        );
        assert_eq!(table.rows.len(), 2);
        assert!(!table.truncated);
    }

    #[test]
    fn empty_and_header_only_files() {
        assert_eq!(Table::parse("", 10, false), Table::default());
        let header = Table::parse("a,b\n", 10, false);
        assert_eq!(header.headers, ["a", "b"]);
        assert!(header.rows.is_empty());
        assert_eq!(header.types, [ColumnType::Empty, ColumnType::Empty]);
    }

    #[test]
    fn quoted_commas_and_newlines_stay_in_their_cell() {
        let table = Table::parse("name,note\n\"Smith, Ann\",\"two\nlines\"\n", 10, false);
        assert_eq!(table.rows, [["Smith, Ann", "two\nlines"]]);
    }

    #[test]
    fn ragged_rows_are_padded_or_cut_and_counted() {
        let table = Table::parse("a,b\n1\n1,2,3\n", 10, false);
        assert_eq!(table.rows, [["1", ""], ["1", "2"]]);
        assert_eq!(table.ragged, 2);
    }

    #[test]
    fn a_partial_read_drops_its_cut_last_line_and_says_so() {
        let table = Table::parse("a,b\n1,2\n3,", 10, true);
        assert_eq!(table.rows, [["1", "2"]]);
        assert!(table.truncated);
        let limited = Table::parse("a\n1\n2\n3\n", 2, false);
        assert_eq!(limited.rows.len(), 2);
        assert!(limited.truncated);
    }

    #[test]
    fn cells_that_start_like_formulas_are_counted() {
        for formula in [
            "=1+1",
            "+A1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "=HYPERLINK(\"x\")",
        ] {
            assert!(
                starts_like_formula(formula, Delimiter::Comma),
                "{formula:?}"
            );
            assert!(starts_like_formula(formula, Delimiter::Semicolon));
        }
        for plain in ["-12.5", "+3", "-3e2", "a=b", " =1", "", "2027-01"] {
            assert!(!starts_like_formula(plain, Delimiter::Comma), "{plain:?}");
        }
        let table = Table::parse("a,b\n=1+1,-4\n\"@x\",ok\n", 10, false);
        assert_eq!(table.formulas, 2);
    }

    #[test]
    fn a_number_in_the_files_own_style_is_never_a_formula() {
        for number in ["-0,0000001", "-9.999.999.999,99", "-2,0e3", "+1,5E+20"] {
            assert!(
                !starts_like_formula(number, Delimiter::Semicolon),
                "{number:?}"
            );
            assert!(starts_like_formula(number, Delimiter::Comma), "{number:?}");
        }
        for formula in ["-1,5+2", "-2,0e", "-1,,5", "-e3"] {
            assert!(
                starts_like_formula(formula, Delimiter::Semicolon),
                "{formula:?}"
            );
        }
        // Numbers in a column of text are still numbers, not formulas.
        let table = Table::parse(
            "a;b\n-0,0000001;x\n-9.999.999.999,99;y\n-2,0e3;z\nn/a;=1+1\n",
            10,
            false,
        );
        assert_eq!(table.types[0], ColumnType::Text);
        assert_eq!(table.formulas, 1);
    }

    #[test]
    fn scientific_notation_with_a_decimal_comma_reads_as_numbers() {
        let table = Table::parse(
            "x;y\n3,14e-10;1\n1,5E+20;2\n-2,0e3;3\n-0,0000001;4\n-9.999.999.999,99;5\n",
            10,
            false,
        );
        assert_eq!(table.types, [ColumnType::Number, ColumnType::Integer]);
        let column: Vec<f64> = table
            .rows
            .iter()
            .map(|row| parse_number(&row[0]).expect("a number"))
            .collect();
        assert_eq!(
            column,
            [3.14e-10, 1.5e20, -2000.0, -1e-7, -9_999_999_999.99]
        );
        assert_eq!(table.formulas, 0);
        let points = Table::parse("x,y\n1e20,1\n", 10, false);
        assert_eq!(points.types[0], ColumnType::Number);
    }

    #[test]
    fn a_semicolon_file_with_decimal_commas_reads_as_numbers() {
        let table = Table::parse(
            "month;revenue;note\n2027-01;1234,5;a,b\n2027-02;1.300,25;\n",
            10,
            false,
        );
        assert_eq!(table.delimiter, Delimiter::Semicolon);
        assert_eq!(table.headers, ["month", "revenue", "note"]);
        assert_eq!(
            table.types,
            [ColumnType::Month, ColumnType::Number, ColumnType::Text]
        );
        assert_eq!(table.rows[1], ["2027-02", "1300.25", ""]);
        assert_eq!(table.rows[0][2], "a,b", "text keeps its commas");
        let tabs = Table::of_file("a.tsv", "x\ty\n1,5\t2\n", 10, false);
        assert_eq!(
            tabs.rows,
            [["1,5", "2"]],
            "commas are decimal only in ; files"
        );
    }

    #[test]
    fn a_semicolon_file_with_dots_for_thousands_reads_as_numbers() {
        let table = Table::parse("a;b;c\n1.000.000;2.000.000;3\n1.234;5,5;4\n", 10, false);
        assert_eq!(
            table.types,
            [ColumnType::Integer, ColumnType::Number, ColumnType::Integer]
        );
        assert_eq!(table.rows[0], ["1000000", "2000000", "3"]);
        assert_eq!(table.rows[1], ["1234", "5.5", "4"]);
    }

    #[test]
    fn months_are_checked() {
        assert!(is_month("2027-12"));
        assert!(!is_month("2027-13"));
        assert!(!is_month("27-12"));
    }
}
