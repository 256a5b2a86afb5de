//! Tables for people, JSON for programs.

use serde_json::Value;

use super::terminal::one_line;

/// Prints rows under a header, each column as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

pub fn json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A JSON value as a person reads it in a table or a line: strings
/// without quotes, nothing as empty, and no escape sequence or line end of
/// whoever wrote it (a model's output names, a run's reason).
pub fn cell(value: &Value) -> String {
    one_line(&text(value))
}

/// A JSON value as it is: strings without quotes, nothing as empty.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `12.3 s`, `4 min 5 s`.
pub fn seconds(value: &Value) -> String {
    match value.as_f64() {
        None => String::new(),
        Some(s) if s < 60.0 => format!("{s:.1} s"),
        Some(s) => format!("{} min {} s", (s / 60.0).floor(), (s % 60.0).round()),
    }
}
