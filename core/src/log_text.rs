//! Cutting a run's log into pieces a person reads. A log is bytes, mostly
//! UTF-8, read in pieces: a page must never split a character (an `é` cut
//! in two would read as two U+FFFD), the end of a long log starts at a
//! line's start, and a failed run's reason carries the few last lines that
//! say why (a Python traceback's exception line and the lines before it).

/// Most lines of the model's output a failed run's reason carries.
pub const REASON_LINES: usize = 10;

/// Most bytes of the model's output a failed run's reason carries.
pub const REASON_BYTES: usize = 2048;

/// Lines modelrun itself writes into a run's log start with this; they
/// say nothing about why the model failed.
pub const NOTE_PREFIX: &str = "[modelrun]";

/// The length of the longest prefix of `bytes` that does not end inside a
/// UTF-8 character: where a page of a log that goes on may stop. Invalid
/// bytes count as whole characters (they read as U+FFFD wherever they are);
/// only the start of a character whose last bytes are missing is held back.
pub fn complete_prefix(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // A character is at most four bytes: its start is among the last four.
    for start in (len.saturating_sub(4)..len).rev() {
        let byte = bytes[start];
        if byte & 0xC0 == 0x80 {
            // A continuation byte: the character starts earlier.
            continue;
        }
        let width = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if start + width > len { start } else { len };
    }
    len
}

/// Where the text of a log's end begins within `bytes`, a window that
/// starts somewhere inside the log: just after the first line break, so
/// that no line is shown cut; in a window without one (a single long
/// line, the window's last byte aside: a long line's own line break), at
/// the first character's start.
pub fn tail_start(bytes: &[u8]) -> usize {
    let before_last = &bytes[..bytes.len().saturating_sub(1)];
    if let Some(newline) = before_last.iter().position(|&byte| byte == b'\n') {
        return newline + 1;
    }
    bytes
        .iter()
        .take(4)
        .position(|&byte| byte & 0xC0 != 0x80)
        .unwrap_or(0)
}

/// The last lines of a model's output that say something, oldest first:
/// blank lines and modelrun's own notes are skipped, a line rewritten with
/// carriage returns (a progress bar) counts as what it finally showed, and
/// control characters are dropped so that nothing reaches a terminal or an
/// email as an escape sequence. At most [`REASON_LINES`] lines and
/// [`REASON_BYTES`] bytes; a longer line keeps its start.
pub fn last_lines(output: &str) -> Vec<String> {
    let mut kept = Vec::new();
    let mut bytes = 0;
    for line in output.lines().rev() {
        let shown = clean(line.rsplit('\r').next().unwrap_or(line));
        // A progress report says how far the model got, not why it failed.
        let progress = crate::progress::parse_line(line).is_some();
        if shown.trim().is_empty() || shown.starts_with(NOTE_PREFIX) || progress {
            continue;
        }
        let shown = cut_line(shown, REASON_BYTES);
        if kept.len() == REASON_LINES || bytes + shown.len() > REASON_BYTES {
            break;
        }
        bytes += shown.len() + 1;
        kept.push(shown);
    }
    kept.reverse();
    kept
}

/// A failed run's reason: why it ended (`the model exited with code 1`),
/// then the last lines of its output ([`last_lines`]), one a line.
pub fn failure_reason(end: &str, output: &str) -> String {
    let lines = last_lines(output);
    if lines.is_empty() {
        return end.to_owned();
    }
    format!("{end}; the last lines it printed:\n{}", lines.join("\n"))
}

/// The line without control characters: terminal escape sequences
/// (`ESC [ … m`, colours) go whole, tabs and other control spaces (a line
/// break in a progress message) become spaces, and format characters that
/// change how text shows without showing themselves (direction overrides,
/// zero-width spaces) are dropped. The one rule for a model's text that
/// modelrun shows: failure reasons and progress messages.
pub(crate) fn clean(line: &str) -> String {
    let mut shown = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                // Parameters, then one final character in `@`..=`~`.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            c if c.is_control() && c.is_whitespace() => shown.push(' '),
            c if c.is_control() || is_format(c) => {}
            c => shown.push(c),
        }
    }
    shown.truncate(shown.trim_end().len());
    shown
}

/// Unicode's format characters (general category Cf, Unicode 15).
const FORMAT: [(char, char); 21] = [
    ('\u{ad}', '\u{ad}'),
    ('\u{600}', '\u{605}'),
    ('\u{61c}', '\u{61c}'),
    ('\u{6dd}', '\u{6dd}'),
    ('\u{70f}', '\u{70f}'),
    ('\u{890}', '\u{891}'),
    ('\u{8e2}', '\u{8e2}'),
    ('\u{180e}', '\u{180e}'),
    ('\u{200b}', '\u{200f}'),
    ('\u{202a}', '\u{202e}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206f}'),
    ('\u{feff}', '\u{feff}'),
    ('\u{fff9}', '\u{fffb}'),
    ('\u{110bd}', '\u{110bd}'),
    ('\u{110cd}', '\u{110cd}'),
    ('\u{13430}', '\u{1343f}'),
    ('\u{1bca0}', '\u{1bca3}'),
    ('\u{1d173}', '\u{1d17a}'),
    ('\u{e0001}', '\u{e0001}'),
    ('\u{e0020}', '\u{e007f}'),
];

/// Whether `c` is a format character (Cf): it changes how the text
/// around it shows without showing itself.
pub(crate) fn is_format(c: char) -> bool {
    FORMAT.iter().any(|(low, high)| (*low..=*high).contains(&c))
}

/// At most `max` bytes of `line`, cut at a character boundary with `…`.
fn cut_line(mut line: String, max: usize) -> String {
    if line.len() <= max {
        return line;
    }
    let mut end = max - '…'.len_utf8();
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.truncate(end);
    line.push('…');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_never_ends_inside_a_character() {
        let text = "ab é € 😀".as_bytes();
        for cut in 0..=text.len() {
            let keep = complete_prefix(&text[..cut]);
            assert!(std::str::from_utf8(&text[..keep]).is_ok(), "cut at {cut}");
            assert!(cut - keep < 4, "at most one character is held back");
        }
        assert_eq!(complete_prefix("é".as_bytes()), 2);
        assert_eq!(complete_prefix(&"xé".as_bytes()[..2]), 1);
        assert_eq!(complete_prefix(&"x😀".as_bytes()[..4]), 1);
    }

    #[test]
    fn invalid_bytes_are_not_held_back() {
        assert_eq!(complete_prefix(b"ab\xff"), 3);
        assert_eq!(complete_prefix(b"ab\x80\x80\x80\x80"), 6);
        assert_eq!(complete_prefix(b"ab\xe9x"), 4);
        assert_eq!(complete_prefix(b""), 0);
    }

    #[test]
    fn a_tail_starts_after_the_first_line_break() {
        assert_eq!(tail_start(b"partial line\nwhole\n"), 13);
        assert_eq!(tail_start(&"éé".as_bytes()[1..]), 1);
        assert_eq!(tail_start(b"no break"), 0);
        assert_eq!(tail_start(b""), 0);
        // The end of one long line: shown from a character's start, not empty.
        assert_eq!(tail_start(b"...end of a long line\n"), 0);
        assert_eq!(tail_start(&"xé\n".as_bytes()[2..]), 1);
    }

    #[test]
    fn the_reason_keeps_a_tracebacks_end() {
        let mut output = String::new();
        for i in 0..50 {
            output.push_str(&format!("step {i}\n"));
        }
        output.push_str(
            "Traceback (most recent call last):\n  File \"model.py\", line 9, in <module>\n    \
             main()\n\n  File \"model.py\", line 7, in main\n    raise ValueError(\"no data for \
             2027-01\")\nValueError: no data for 2027-01\n\n[modelrun] stored 0 output files\n",
        );
        let lines = last_lines(&output);
        assert_eq!(lines.len(), REASON_LINES);
        assert_eq!(
            lines.last().map(String::as_str),
            Some("ValueError: no data for 2027-01")
        );
        assert!(lines.contains(&"Traceback (most recent call last):".to_owned()));
        assert_eq!(
            failure_reason("the model exited with code 1", "oops\n"),
            "the model exited with code 1; the last lines it printed:\noops"
        );
        assert_eq!(failure_reason("ended", "\n\n"), "ended");
    }

    #[test]
    fn the_reason_is_bounded_and_plain() {
        let long = "x".repeat(10_000);
        let lines = last_lines(&format!("first\n{long}\n"));
        assert_eq!(lines.len(), 1);
        assert!(lines[0].len() <= REASON_BYTES && lines[0].ends_with('…'));
        let wide = format!("{}\n", "y".repeat(300)).repeat(20);
        let lines = last_lines(&wide);
        assert_eq!(lines.len(), 6, "six lines of 301 bytes fit in 2 KiB");
        assert_eq!(
            last_lines("10%\r50%\r100%\n\x1b[31mError\x1b[0m\tbad\x07\n"),
            ["100%", "Error bad"]
        );
        assert_eq!(
            last_lines("\u{202e}txt.exe\u{200b} failed\u{2069}\n"),
            ["txt.exe failed"]
        );
    }
}
