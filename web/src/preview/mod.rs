//! Looking at outputs instead of downloading them: CSV as a table and, when
//! it has a date or month column and numbers, as a line chart drawn here as
//! SVG (no script, so it works under the strict CSP and in a screenshot);
//! JSON pretty-printed; text as text; PNG and SVG images shown.
//!
//! Previews read at most [`MAX_PREVIEW_BYTES`] of a file: a large file is
//! shown in part, with a note, and never held whole. What a page shows of
//! it is bounded again ([`view`], [`MAX_TEXT_BYTES`]), so that no file makes
//! a page larger than a Lambda response may be (6 MB).

pub mod chart;
pub mod chart_svg;
pub mod declared;
pub mod load;
pub mod sweep_chart;
pub mod table;
pub mod ticks;
pub mod time_axis;
pub mod view;
pub mod x_axis;

/// The most of one file a preview reads.
pub const MAX_PREVIEW_BYTES: usize = 2 * 1024 * 1024;

/// The most of a text or JSON file a preview page shows: HTML escaping
/// makes a byte at most six (`"` is `&quot;`), so at most 3 MiB of page.
pub const MAX_TEXT_BYTES: usize = 512 * 1024;

/// How an output can be previewed, from its name and content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Csv,
    Json,
    Text,
    Image,
    None,
}

impl Kind {
    pub fn of(name: &str, content_type: &str) -> Kind {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map_or("", |(_, ext)| ext);
        match (ext, content_type) {
            ("csv" | "tsv", _) | (_, "text/csv") => Kind::Csv,
            ("json", _) | (_, "application/json") => Kind::Json,
            ("png" | "svg", _) | (_, "image/png" | "image/svg+xml") => Kind::Image,
            ("txt" | "log" | "md", _) => Kind::Text,
            (_, t) if t.starts_with("text/") => Kind::Text,
            _ => Kind::None,
        }
    }
}

/// Text from bytes that may not be UTF-8: UTF-8 when it is (a byte-order
/// mark dropped), else Windows-1252, which any byte sequence decodes as:
/// what Excel and most Windows programs save, Latin-1's printable
/// characters and, in 0x80–0x9F, `€`, curly quotes and dashes (the WHATWG
/// table, as browsers read it). The flag says which. A cut in the middle
/// of a UTF-8 character at the end of a partial read is not counted as
/// "not UTF-8".
pub fn decode(bytes: &[u8], partial: bool) -> (String, bool) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), true),
        Err(error) if partial && error.error_len().is_none() => (
            String::from_utf8_lossy(&bytes[..error.valid_up_to()]).into_owned(),
            true,
        ),
        Err(_) => {
            let text = encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0;
            (text.into_owned(), false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_name_or_the_type() {
        assert_eq!(
            Kind::of("forecast.csv", "application/octet-stream"),
            Kind::Csv
        );
        assert_eq!(Kind::of("metrics.json", "application/json"), Kind::Json);
        assert_eq!(Kind::of("chart.PNG", ""), Kind::Image);
        assert_eq!(Kind::of("notes", "text/plain; charset=utf-8"), Kind::Text);
        assert_eq!(
            Kind::of("model.bin", "application/octet-stream"),
            Kind::None
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_read_as_windows_1252() {
        assert_eq!(decode("é".as_bytes(), false), ("é".to_owned(), true));
        assert_eq!(decode(b"\xEF\xBB\xBFa,b", false), ("a,b".to_owned(), true));
        assert_eq!(decode(b"caf\xE9", false), ("café".to_owned(), false));
        assert_eq!(
            decode(b"price;\x80 12,50;\x93ok\x94 \x96 \x85", false),
            ("price;€ 12,50;“ok” – …".to_owned(), false),
            "0x80-0x9F as Excel means them, not as control characters"
        );
        // A partial read that ends inside a character is still UTF-8.
        assert_eq!(decode(&"aé".as_bytes()[..2], true), ("a".to_owned(), true));
    }
}
