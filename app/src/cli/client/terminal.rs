//! What of a model's text reaches a person's terminal. A run's log is what
//! the model wrote; printed as it is, an escape sequence in it could retitle
//! the window, rewrite what is already on screen, plant a link (OSC 8) or
//! talk back to the terminal, and a bidirectional override could make text
//! read in another order than it runs. So on a terminal the log is shown
//! without them; anywhere else (a pipe, a file) it is written byte for byte.
//!
//! Escape sequences (CSI, OSC, DCS, SOS/PM/APC and the plain ESC ones) are
//! recognised by `anstyle-parse`, the VT parser that clap's own terminal
//! handling uses (a descendant of alacritty's `vte`). Its state is kept
//! between chunks, so that a sequence cut between two reads of a followed
//! log is still recognised. What it lets through as text is filtered here:
//! C0 controls but `\n` and `\t` are dropped (`\r` alone becomes a line
//! end, so that progress bars stay readable), and C1 controls and
//! bidirectional overrides become `�`.

use anstyle_parse::{Params, Parser, Perform};

/// Turns a model's bytes, chunk by chunk, into text safe to show.
#[derive(Debug, Default)]
pub struct Sanitizer {
    parser: Parser,
    text: Printable,
}

impl Sanitizer {
    /// The printable text of `chunk`, after what came before.
    pub fn push(&mut self, chunk: &[u8]) -> String {
        for byte in chunk {
            self.parser.advance(&mut self.text, *byte);
        }
        std::mem::take(&mut self.text.out)
    }
}

/// `text` as one line of a table: escapes and controls removed as in a
/// log, and line ends and tabs as spaces.
pub fn one_line(text: &str) -> String {
    if !text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return text.to_owned();
    }
    let mut parser: Parser = Parser::default();
    let mut printable = Printable {
        one_line: true,
        ..Printable::default()
    };
    for byte in text.as_bytes() {
        parser.advance(&mut printable, *byte);
    }
    printable.out
}

#[derive(Debug, Default)]
struct Printable {
    out: String,
    one_line: bool,
    /// A `\r` waits for the next byte: before `\n` it is dropped.
    after_cr: bool,
}

impl Printable {
    fn line_end(&mut self) {
        self.out.push(if self.one_line { ' ' } else { '\n' });
    }

    /// Ends a pending `\r` as a line of its own.
    fn settle(&mut self) {
        if std::mem::take(&mut self.after_cr) {
            self.line_end();
        }
    }
}

/// The characters that reorder text on screen (the "Trojan Source" set).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl Perform for Printable {
    fn print(&mut self, c: char) {
        self.settle();
        if c == '\u{7f}' {
            return;
        }
        let shown = if c.is_control() || is_bidi_control(c) {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        };
        self.out.push(shown);
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\n' => {
                self.after_cr = false;
                self.line_end();
            }
            b'\r' => {
                self.settle();
                self.after_cr = true;
            }
            b'\t' => {
                self.settle();
                self.out.push(if self.one_line { ' ' } else { '\t' });
            }
            _ => {}
        }
    }

    fn hook(&mut self, _: &Params, _: &[u8], _: bool, _: u8) {
        self.settle();
    }

    fn osc_dispatch(&mut self, _: &[&[u8]], _: bool) {
        self.settle();
    }

    fn csi_dispatch(&mut self, _: &Params, _: &[u8], _: bool, _: u8) {
        self.settle();
    }

    fn esc_dispatch(&mut self, _: &[u8], _: bool, _: u8) {
        self.settle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[u8] =
        b"\x1b]0;owned\x07\x1b[31mred\x1b[0m \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\n\
        bell\x07 back\x08space\tTab\n10%\r50%\r100%\r\nwin\r\n\
        \xe2\x80\xaeevil\xe2\x80\xac \xc2\x9b2J \x1bP1$qm\x1b\\done\n";
    const SHOWN: &str = "red link\nbell backspace\tTab\n10%\n50%\n100%\nwin\n\
        \u{FFFD}evil\u{FFFD} \u{FFFD}2J done\n";

    #[test]
    fn escapes_and_controls_never_reach_the_terminal() {
        assert_eq!(Sanitizer::default().push(HOSTILE), SHOWN);
    }

    #[test]
    fn a_sequence_cut_between_chunks_is_still_recognised() {
        for size in 1..HOSTILE.len() {
            let mut sanitizer = Sanitizer::default();
            let shown: String = HOSTILE
                .chunks(size)
                .map(|chunk| sanitizer.push(chunk))
                .collect();
            assert_eq!(shown, SHOWN, "chunks of {size}");
        }
    }

    #[test]
    fn table_cells_stay_on_one_line() {
        assert_eq!(one_line("forecast.csv"), "forecast.csv");
        assert_eq!(one_line("a\x1b[2Jb\nc\td\u{202E}e"), "ab c d\u{FFFD}e");
        assert_eq!(one_line("naïve — ok"), "naïve — ok");
    }
}
