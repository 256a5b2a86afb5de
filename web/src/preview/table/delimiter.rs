//! Which character parts a CSV file's cells. Models write commas, but a
//! spreadsheet set to a continental European language saves `;` with
//! decimal commas (`month;revenue` / `2027-01;1234,5`), and tab-separated
//! files are common too. The preview reads the separator off the file's
//! first lines, so that such a file is not shown as one wide column, and
//! reads the decimal commas of a `;` file as numbers.

/// The character between two cells of a row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Delimiter {
    #[default]
    Comma,
    Semicolon,
    Tab,
}

/// Records of the file's start that [`Delimiter::sniff`] counts in.
const SAMPLE_RECORDS: usize = 20;

/// Bytes of the file's start that [`Delimiter::sniff`] reads at most.
const SAMPLE_BYTES: usize = 64 * 1024;

impl Delimiter {
    /// Every delimiter, the most usual first: a tie goes to the earlier.
    pub const ALL: [Delimiter; 3] = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab];

    /// The byte the CSV reader splits on.
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    /// Whether numbers in such a file may be written with a decimal comma
    /// (`1234,5`): only where the comma does not part cells.
    pub fn decimal_comma(self) -> bool {
        self == Delimiter::Semicolon
    }

    /// The delimiter of a file named `name` that starts with `text`: a tab
    /// for `.tsv`, else what [`Delimiter::sniff`] finds.
    pub fn for_file(name: &str, text: &str) -> Delimiter {
        if name.to_ascii_lowercase().ends_with(".tsv") {
            Delimiter::Tab
        } else {
            Delimiter::sniff(text)
        }
    }

    /// The delimiter `text` is most likely written with, read from its
    /// header and up to [`SAMPLE_RECORDS`] records after it (quoted cells
    /// left out): of those the header holds, one that every record holds as
    /// often as the header does, else the one the header holds most. A
    /// header with none of them (one column) reads as commas.
    pub fn sniff(text: &str) -> Delimiter {
        let counts = sample(text);
        let Some((header, records)) = counts.split_first() else {
            return Delimiter::Comma;
        };
        let score = |index: usize| {
            let consistent = records.iter().all(|record| record[index] == header[index]);
            (consistent, header[index])
        };
        let mut best = None;
        for (index, delimiter) in Delimiter::ALL.into_iter().enumerate() {
            if header[index] == 0 {
                continue;
            }
            if best.is_none_or(|(_, best_score)| score(index) > best_score) {
                best = Some((delimiter, score(index)));
            }
        }
        best.map_or(Delimiter::Comma, |(delimiter, _)| delimiter)
    }
}

/// How often each of [`Delimiter::ALL`] stands outside quotes in each
/// non-empty record of the start of `text`. A record cut by the end of the
/// sample is left out.
fn sample(text: &str) -> Vec<[usize; 3]> {
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let whole = end == text.len();
    let mut records = Vec::new();
    let mut counts = [0usize; 3];
    let mut quoted = false;
    let mut empty = true;
    for byte in text[..end].bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if !empty {
                    records.push(counts);
                    if records.len() > SAMPLE_RECORDS {
                        return records;
                    }
                }
                counts = [0; 3];
                empty = true;
                continue;
            }
            b'\r' if !quoted => continue,
            _ if !quoted => {
                if let Some(index) = Delimiter::ALL.iter().position(|d| d.byte() == byte) {
                    counts[index] += 1;
                }
            }
            _ => {}
        }
        empty = false;
    }
    if whole && !empty {
        records.push(counts);
    }
    records
}

/// The cells of `column` of a `;` file's rows rewritten with a decimal
/// point (`1.234,5` → `1234.5`, `1.000.000` → `1000000`), when the column
/// is written as a decimal-comma locale writes numbers: every non-empty
/// cell is a number with an optional comma fraction (its whole part plain
/// or grouped by dots in threes), and at least one cell shows that its
/// dots cannot be decimal points: it has a comma fraction or two dots or
/// more. A column with none of those keeps its dots as decimal points, so
/// `1.234` in a file written with points stays 1.234.
pub fn points_for_commas(rows: &mut [Vec<String>], column: usize) {
    let mut certain = false;
    for cell in rows.iter().map(|row| row[column].trim()) {
        match comma_number(cell) {
            Some(sure) => certain |= sure,
            None if cell.is_empty() => {}
            None => return,
        }
    }
    if certain {
        for row in rows {
            row[column] = row[column].trim().replace('.', "").replace(',', ".");
        }
    }
}

/// Whether `cell` reads as a number in a file parted by `delimiter`: as
/// models write numbers (`-12.5`, `1e20`), or in a `;` file also as a
/// decimal-comma locale does (`-9.999.999.999,99`, `-2,0e3`). The same
/// readers type the table's columns.
pub fn reads_as_number(cell: &str, delimiter: Delimiter) -> bool {
    super::parse_number(cell).is_some()
        || (delimiter.decimal_comma() && comma_number(cell.trim()).is_some())
}

/// When `text` is a number as a decimal-comma locale writes it (`-1234`,
/// `1.234`, `1234,5`, `1.234.567,25`, `,5`, `1.000.000`, `3,14e-10`,
/// `1,5E+20`), whether it can only be read so: `Some(true)` with a comma
/// fraction or several dots.
fn comma_number(text: &str) -> Option<bool> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (text, None),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    if !exponent_ok {
        return None;
    }
    let digits = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (whole, fraction) = match digits.split_once(',') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let whole_ok = (whole.is_empty() && fraction.is_some())
        || plain(whole)
        || whole.split('.').enumerate().all(|(index, group)| {
            plain(group) && (group.len() == 3 || (index == 0 && group.len() <= 3))
        });
    let dots = whole.bytes().filter(|&b| b == b'.').count();
    (whole_ok && fraction.is_none_or(plain)).then_some(fraction.is_some() || dots > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_delimiter_from_the_first_lines() {
        assert_eq!(
            Delimiter::sniff("month;revenue\n2027-01;1234,5\n"),
            Delimiter::Semicolon
        );
        assert_eq!(
            Delimiter::sniff("month,revenue\n2027-01,1234.5\n"),
            Delimiter::Comma
        );
        assert_eq!(
            Delimiter::sniff("month\trevenue\n2027-01\t1,5\n"),
            Delimiter::Tab
        );
        // A semicolon inside quotes, or only in the rows, parts nothing.
        assert_eq!(
            Delimiter::sniff("name,note\n\"a;b;c\",\"x;y\"\n"),
            Delimiter::Comma
        );
        assert_eq!(Delimiter::sniff("note\na;b\n"), Delimiter::Comma);
        // The one every row agrees with wins over one the header has more of.
        assert_eq!(
            Delimiter::sniff("a;b, c, d\n1;2\n3;4\n"),
            Delimiter::Semicolon
        );
        assert_eq!(Delimiter::sniff("a,b;c\r\n1,2;3\r\n"), Delimiter::Comma);
        assert_eq!(Delimiter::sniff(""), Delimiter::Comma);
    }

    #[test]
    fn a_tsv_is_known_by_its_name() {
        assert_eq!(Delimiter::for_file("a.TSV", "x,y\n1,2\n"), Delimiter::Tab);
        assert_eq!(
            Delimiter::for_file("a.csv", "x;y\n1;2\n"),
            Delimiter::Semicolon
        );
    }

    #[test]
    fn a_record_cut_by_the_sample_is_not_counted() {
        let text = format!("a;b\n1;2\n{}", "x,".repeat(SAMPLE_BYTES));
        assert_eq!(sample(&text), [[0, 1, 0], [0, 1, 0]]);
    }

    #[test]
    fn decimal_comma_columns_become_points() {
        let column = |cells: &[&str]| -> Vec<String> {
            let mut rows: Vec<Vec<String>> = cells.iter().map(|c| vec![(*c).to_owned()]).collect();
            points_for_commas(&mut rows, 0);
            rows.into_iter().flatten().collect()
        };
        assert_eq!(
            column(&["1234,5", "1.234.567,25", "", "-3", ",5"]),
            ["1234.5", "1234567.25", "", "-3", ".5"]
        );
        for kept in [&["1.234", "2.5"][..], &["1,5", "n/a"], &["2027-01", "1,5"]] {
            assert_eq!(column(kept), kept, "no comma, or not all numbers");
        }
        assert_eq!(comma_number("12.34,5"), None, "groups of three only");
        assert_eq!(comma_number("1,"), None);
        assert_eq!(comma_number("-1.000"), Some(false));
        assert_eq!(
            column(&["1.000.000", "2.000.000", "1.234", ""]),
            ["1000000", "2000000", "1234", ""],
            "several dot groups are thousands, so the column's dots are"
        );
        assert_eq!(column(&["1.000.000", "1.5"]), ["1.000.000", "1.5"]);
    }
}
