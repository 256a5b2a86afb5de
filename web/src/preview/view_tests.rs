use super::*;

fn view(text: &str) -> CsvView {
    let file = CsvFile {
        name: "out.csv",
        bytes: text.as_bytes(),
        partial: false,
        size: text.len() as i64,
    };
    CsvView::new(file, 500, "c", "t", NumberStyle::default())
}

#[test]
fn wide_files_show_their_first_columns() {
    let header: Vec<String> = (0..2000).map(|i| format!("c{i}")).collect();
    let row: Vec<&str> = (0..2000).map(|_| "1").collect();
    let text = format!("{}\n{}\n", header.join(","), row.join(","));
    let view = view(&text);
    assert_eq!(view.headers.len(), MAX_COLUMNS);
    assert_eq!(view.rows[0].len(), MAX_COLUMNS);
    assert_eq!(view.numeric.len(), MAX_COLUMNS);
    assert!(
        view.notes
            .iter()
            .any(|n| n.contains("first 60 of 2000 columns")),
        "{:?}",
        view.notes
    );
}

#[test]
fn long_cells_are_cut_and_rows_stop_at_the_budget() {
    let long = "&".repeat(10_000);
    let mut text = "a,b,c,d,e,f,g,h,i,j\n".to_owned();
    for _ in 0..1000 {
        text.push_str(&[long.as_str(); 10].join(","));
        text.push('\n');
    }
    let view = view(&text);
    let first = &view.rows[0][0].text;
    assert_eq!(first.chars().count(), MAX_CELL_CHARS + 1);
    assert!(first.ends_with('…'));
    let shown: usize = view
        .rows
        .iter()
        .flatten()
        .map(|c| c.text.chars().count())
        .sum();
    assert!(shown <= MAX_SHOWN_CHARS + 10 * (MAX_CELL_CHARS + 1));
    assert!(view.rows.len() < 500, "{}", view.rows.len());
    assert!(view.notes.iter().any(|n| n.contains("are cut (…)")));
    assert!(
        view.notes
            .iter()
            .any(|n| n.starts_with("Showing the first"))
    );
}

#[test]
fn a_first_line_longer_than_the_read_is_not_called_empty() {
    let header = "h".repeat(3000);
    let cut = |text: &str| {
        let file = CsvFile {
            name: "big.csv",
            bytes: &text.as_bytes()[..1000],
            partial: true,
            size: 3_000_000,
        };
        CsvView::new(file, 500, "c", "t", NumberStyle::default())
    };
    let view = cut(&header);
    assert!(view.headers.is_empty());
    assert!(
        view.notes[0].starts_with("The first line of this 3.0 MB file is longer than the 1.0 KB"),
        "{:?}",
        view.notes
    );
    let view = cut(&format!("a,b\n{header}"));
    assert_eq!(view.headers.len(), 2);
    assert!(
        view.notes[0].starts_with("The first row is longer than the 1.0 KB"),
        "{:?}",
        view.notes
    );
    assert!(
        !view.notes.iter().any(|n| n.contains("first 0 rows")),
        "{:?}",
        view.notes
    );
}

#[test]
fn numbers_are_rounded_per_column_and_a_semicolon_file_has_its_columns() {
    let view = view("month;revenue;units\n2027-01;317,43333333333334;3\n2027-02;402,75;12\n");
    let texts: Vec<Vec<&str>> = view
        .rows
        .iter()
        .map(|row| row.iter().map(|cell| cell.text.as_str()).collect())
        .collect();
    assert_eq!(
        texts,
        [["2027-01", "317.4", "3"], ["2027-02", "402.8", "12"]]
    );
    let exact: Vec<Option<&str>> = view
        .rows
        .iter()
        .map(|row| row[1].exact.as_deref())
        .collect();
    assert_eq!(
        exact,
        [Some("317.43333333333334"), Some("402.75")],
        "every digit on hover"
    );
    assert_eq!(view.rows[0][2].exact, None, "nothing rounded");
    assert_eq!(view.numeric, [false, true, true]);
    assert!(view.chart.is_some(), "the chart reads the decimal commas");
}

#[test]
fn a_small_file_is_shown_whole_without_notes() {
    let view = view("month,v\n2027-01,1\n2027-02,2\n");
    assert_eq!(view.rows.len(), 2);
    assert!(view.notes.is_empty(), "{:?}", view.notes);
    assert_eq!(view.not_charted, None);
}

#[test]
fn columns_the_chart_leaves_out_are_named() {
    let view = view("month,v,note\n2027-01,1,a\n2027-02,2,b\n");
    assert!(view.chart.is_some());
    assert_eq!(
        view.not_charted.as_deref(),
        Some("Not charted: note (text).")
    );
}

#[test]
fn numbers_in_a_semicolon_files_own_style_are_numbers_not_formulas() {
    let numbers = view("x;y\n3,14e-10;1\n1,5E+20;2\n-2,0e3;3\n-0,0000001;4\n-9.999.999.999,99;5\n");
    assert_eq!(numbers.headers[0].1, ColumnType::Number);
    assert!(numbers.rows.iter().flatten().all(|cell| !cell.formula));
    assert!(
        numbers.notes.iter().all(|note| !note.contains("formulas")),
        "{:?}",
        numbers.notes
    );
    assert_eq!(numbers.not_charted, None);
    let text = view("x;note\n-0,0000001;=1+1\n");
    let marked: Vec<bool> = text.rows[0].iter().map(|cell| cell.formula).collect();
    assert_eq!(
        marked,
        [false, true],
        "a number beside text is still a number"
    );
}
