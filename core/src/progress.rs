//! Progress reported by a model: one rule for what a progress line is,
//! used by the local executor's log pipe and by `modelrun exec` on AWS
//! Batch alike.
//!
//! A model reports progress by printing a line of its own to stdout or
//! stderr:
//!
//! ```text
//! ::progress 0.4 fitting the seasonal model
//! ::progress 40% fitting the seasonal model
//! ::progress 1
//! ```
//!
//! - The line starts with `::progress` (nothing before it), then spaces,
//!   then the value: a fraction from 0 to 1, or a percentage from 0 to
//!   100 followed by `%`. A value within [`TOLERANCE`] of the range (what
//!   arithmetic gives: `1.0000001`, `-0`) is clamped to it; any other value
//!   (`40` without `%`, `-0.2`, `NaN`, `inf`, `half`) makes the line an
//!   ordinary line of output.
//! - The rest of the line, trimmed, is the message: optional, at most
//!   [`MAX_MESSAGE_CHARS`] characters (longer ones are cut, ending in `…`),
//!   cleaned as a failed run's reason is (`log_text`): escape sequences and
//!   invisible format characters (direction overrides, zero-width spaces)
//!   dropped whole, tabs and line breaks as spaces.
//! - A line ends at `\n` or at a `\r` (a progress bar that redraws itself
//!   writes `\r` between reports).
//! - Lines longer than [`MAX_LINE_BYTES`] are never progress.
//!
//! The line stays in the run's log: it is the model's output.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What starts a progress line.
pub const PROGRESS_PREFIX: &str = "::progress";

/// Most characters of a progress message kept.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Longest line (in bytes, newline excluded) read as a progress line.
pub const MAX_LINE_BYTES: usize = 1024;

/// How far outside 0–1 a fraction may be and still be read (clamped).
pub const TOLERANCE: f64 = 0.001;

/// One progress report: how far the model is, and what it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// From 0 (nothing done) to 1 (all done).
    pub fraction: f64,
    /// What the model says it is doing, if anything.
    pub message: Option<String>,
}

/// A run's latest progress, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunProgress {
    /// From 0 to 1.
    pub fraction: f64,
    pub message: Option<String>,
    /// When the model reported it.
    pub at: DateTime<Utc>,
}

impl RunProgress {
    /// The fraction rounded to a whole percentage, for a bar's label.
    pub fn percent(&self) -> u32 {
        // In 0..=100 by construction: the cast cannot overflow.
        (self.fraction.clamp(0.0, 1.0) * 100.0).round() as u32
    }

    /// What a run in status `succeeded` shows: complete, whatever the model
    /// last said (a model need not report `1` before it exits).
    pub fn completed(mut self) -> Self {
        self.fraction = 1.0;
        self
    }
}

impl Progress {
    /// Checks a report that came from elsewhere than [`parse_line`] (the
    /// job API's body): the same rules, the same clamping, or why not.
    ///
    /// # Errors
    /// A message naming the field when `fraction` is not a number from 0
    /// to 1.
    pub fn normalized(self) -> Result<Progress, String> {
        let fraction = in_range(self.fraction).ok_or_else(|| {
            format!(
                "fraction: must be a number from 0 to 1, not {}",
                self.fraction
            )
        })?;
        Ok(Progress {
            fraction,
            message: self.message.as_deref().and_then(clean_message),
        })
    }
}

/// The progress a line reports, if it is a progress line (see the module's
/// documentation). `line` is one line without its newline; a trailing
/// `\r` is ignored.
pub fn parse_line(line: &str) -> Option<Progress> {
    if line.len() > MAX_LINE_BYTES {
        return None;
    }
    let rest = line.strip_prefix(PROGRESS_PREFIX)?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let (value, message) = rest
        .split_once([' ', '\t'])
        .map_or((rest.trim_end_matches('\r'), ""), |(value, message)| {
            (value, message)
        });
    let fraction = parse_value(value)?;
    Some(Progress {
        fraction,
        message: clean_message(message),
    })
}

fn parse_value(value: &str) -> Option<f64> {
    let (number, scale) = match value.strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (value, 1.0),
    };
    // Rust's parser also reads `inf` and `NaN`: neither is progress.
    let number: f64 = number.parse().ok()?;
    in_range(number / scale)
}

/// The fraction clamped to 0–1 when it is within [`TOLERANCE`] of it.
fn in_range(fraction: f64) -> Option<f64> {
    (fraction.is_finite() && (-TOLERANCE..=1.0 + TOLERANCE).contains(&fraction))
        .then(|| fraction.clamp(0.0, 1.0))
}

/// The message as shown: cleaned like the log's text
/// ([`crate::log_text`]), trimmed, cut at [`MAX_MESSAGE_CHARS`]; `None`
/// when nothing is left.
fn clean_message(message: &str) -> Option<String> {
    let cleaned = crate::log_text::clean(message);
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return None;
    }
    if cleaned.chars().count() <= MAX_MESSAGE_CHARS {
        return Some(cleaned.to_owned());
    }
    let mut cut: String = cleaned.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    Some(cut)
}

/// Finds progress lines in output read in pieces of any size. Only a line
/// that starts like one is held in memory, and at most
/// [`MAX_LINE_BYTES`] of it.
#[derive(Debug, Default)]
pub struct LineScanner {
    /// The start of the current line, while it may be a progress line.
    line: Vec<u8>,
    /// The current line cannot be a progress line: skip to its end.
    skipping: bool,
}

impl LineScanner {
    /// Reads the next piece of output; calls `found` for each progress line
    /// that ends in it (at `\n` or `\r`).
    pub fn push(&mut self, bytes: &[u8], mut found: impl FnMut(Progress)) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let end = rest.iter().position(|&b| b == b'\n' || b == b'\r');
            let (piece, after) = match end {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, &[][..]),
            };
            self.extend(piece);
            if end.is_some()
                && let Some(progress) = self.take_line()
            {
                found(progress);
            }
            rest = after;
        }
    }

    /// Ends the output: a last line without a newline counts too.
    pub fn finish(&mut self) -> Option<Progress> {
        self.take_line()
    }

    fn extend(&mut self, piece: &[u8]) {
        if self.skipping {
            return;
        }
        self.line.extend_from_slice(piece);
        let prefix = PROGRESS_PREFIX.as_bytes();
        let shared = self.line.len().min(prefix.len());
        if self.line[..shared] != prefix[..shared] || self.line.len() > MAX_LINE_BYTES + 1 {
            self.skipping = true;
            self.line.clear();
        }
    }

    fn take_line(&mut self) -> Option<Progress> {
        let skipped = std::mem::take(&mut self.skipping);
        let line = std::mem::take(&mut self.line);
        if skipped {
            return None;
        }
        parse_line(std::str::from_utf8(&line).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(fraction: f64, message: Option<&str>) -> Option<Progress> {
        Some(Progress {
            fraction,
            message: message.map(str::to_owned),
        })
    }

    #[test]
    fn fractions_and_percentages() {
        assert_eq!(
            parse_line("::progress 0.4 fitting the seasonal model"),
            progress(0.4, Some("fitting the seasonal model"))
        );
        assert_eq!(
            parse_line("::progress 40% fitting"),
            progress(0.4, Some("fitting"))
        );
        assert_eq!(parse_line("::progress 1"), progress(1.0, None));
        assert_eq!(parse_line("::progress\t25%\r"), progress(0.25, None));
        assert_eq!(parse_line("::progress 0.5   \r"), progress(0.5, None));
        assert_eq!(
            parse_line("::progress   .5  half  "),
            progress(0.5, Some("half"))
        );
    }

    #[test]
    fn arithmetic_noise_is_clamped() {
        assert_eq!(parse_line("::progress 1.0000001"), progress(1.0, None));
        assert_eq!(parse_line("::progress -0 x"), progress(0.0, Some("x")));
        assert_eq!(parse_line("::progress 100.05%"), progress(1.0, None));
    }

    #[test]
    fn what_is_not_progress_is_an_ordinary_line() {
        for line in [
            "::progress",
            "::progress ",
            "::progress NaN",
            "::progress inf done",
            "::progress half done",
            "::progress 0.4x",
            "::progressive 0.4",
            " ::progress 0.4",
            "progress 0.4",
            "::progress 40 %",
            "::progress 40",
            "::progress -0.2 x",
            "::progress 250%",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
        let long = format!("::progress 0.4 {}", "x".repeat(MAX_LINE_BYTES));
        assert_eq!(parse_line(&long), None);
    }

    #[test]
    fn messages_are_cleaned_and_cut() {
        assert_eq!(
            parse_line("::progress 0.1 \u{1b}[31mred\u{1b}[0m\tdone"),
            progress(0.1, Some("red done"))
        );
        assert_eq!(
            parse_line("::progress 0.2 \u{202e}evil\u{200b}\u{2066}ly\u{feff} done\u{1b}[1;32m"),
            progress(0.2, Some("evilly done"))
        );
        assert_eq!(
            parse_line("::progress 0.3 \u{200f}\u{1b}[0m"),
            progress(0.3, None)
        );
        let line = format!("::progress 0.1 {}", "é".repeat(300));
        let message = parse_line(&line).and_then(|p| p.message).expect("message");
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
        assert!(message.ends_with("é…"));
    }

    #[test]
    fn the_scanner_finds_lines_across_pieces() {
        let mut scanner = LineScanner::default();
        let mut found = Vec::new();
        let output = b"starting\n::progr";
        scanner.push(output, |p| found.push(p));
        scanner.push(b"ess 0.3 loading\nnoise ::progress 0.9\n", |p| {
            found.push(p)
        });
        scanner.push(b"::progress 60%", |p| found.push(p));
        assert_eq!(found, vec![progress(0.3, Some("loading")).expect("p")]);
        assert_eq!(scanner.finish(), progress(0.6, None));
        assert_eq!(scanner.finish(), None);
    }

    #[test]
    fn a_carriage_return_ends_a_progress_line() {
        let mut scanner = LineScanner::default();
        let mut found = Vec::new();
        scanner.push(b"::progress 0.7 a", |p| found.push(p));
        scanner.push(b"\r::progress 0.8 b\r\n10%|#  |\r::progress 0.9", |p| {
            found.push(p)
        });
        assert_eq!(
            found,
            vec![
                progress(0.7, Some("a")).expect("p"),
                progress(0.8, Some("b")).expect("p"),
            ]
        );
        assert_eq!(scanner.finish(), progress(0.9, None));
    }

    #[test]
    fn the_scanner_forgets_long_lines() {
        let mut scanner = LineScanner::default();
        let mut found = Vec::new();
        scanner.push(b"::progress 0.5 ", |p| found.push(p));
        scanner.push(&vec![b'x'; 2 * MAX_LINE_BYTES], |p| found.push(p));
        scanner.push(b"\n::progress 0.7\n", |p| found.push(p));
        assert_eq!(found, vec![progress(0.7, None).expect("p")]);
        assert!(scanner.line.is_empty());
    }

    #[test]
    fn a_failed_runs_reason_leaves_progress_lines_out() {
        let output = "::progress 0.3 fitting\nValueError: bad month\n::progress 0.31 still\n";
        assert_eq!(
            crate::log_text::last_lines(output),
            vec!["ValueError: bad month".to_owned()]
        );
    }

    #[test]
    fn reports_from_elsewhere_follow_the_same_rules() {
        let report = Progress {
            fraction: 1.0001,
            message: Some("  a\nb ".to_owned()),
        };
        assert_eq!(
            report.normalized(),
            Ok(progress(1.0, Some("a b")).expect("p"))
        );
        for fraction in [f64::NAN, 1.5, -0.1] {
            let refused = Progress {
                fraction,
                message: None,
            };
            assert!(
                refused
                    .normalized()
                    .expect_err("refused")
                    .starts_with("fraction")
            );
        }
    }
}
