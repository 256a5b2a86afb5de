//! Which `Range` requests a local download answers with part of the file.
//!
//! One range of bytes (RFC 9110 §14.1.2: `bytes=first-last`, `bytes=first-`
//! or `bytes=-suffix`) of a file that is not empty, and under an `If-Range`
//! only when it is the file's own `Last-Modified` (§13.1.5: modelrun sends no
//! entity tags). Anything else (another unit, a malformed or multi-range
//! set, an entity-tag or stale `If-Range`, an empty file) gets the whole
//! file with `200`, as §14.2 lets a server do with a range it does not
//! serve, rather than a `416` for a request a client could not fix.

use axum::http::HeaderMap;
use axum::http::header::{IF_RANGE, RANGE};

/// One `bytes=` range: `(first, last)` with either end open, never both.
fn single_byte_range(value: &str) -> Option<(Option<u64>, Option<u64>)> {
    let spec = value.strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let number = |text: &str| -> Option<Option<u64>> {
        if text.is_empty() {
            Some(None)
        } else if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok().map(Some)
        } else {
            None
        }
    };
    let (first, last) = (number(first)?, number(last)?);
    match (first, last) {
        (None, None) => None,
        (Some(first), Some(last)) if last < first => None,
        range => Some(range),
    }
}

/// The `Range` to serve of a file of `len` bytes last modified at
/// `last_modified` (an HTTP date, as `Last-Modified` says it), or `None`
/// for the whole file; see the module's notes. A suffix longer than the
/// file is the whole file as a part (`bytes=0-`, RFC 9110 §14.1.3: "the
/// entire representation is used"), where it would be refused with 416.
pub fn part_to_serve(headers: &HeaderMap, len: u64, last_modified: &str) -> Option<String> {
    let range = headers.get(RANGE).and_then(|v| v.to_str().ok())?;
    if len == 0 {
        return None;
    }
    let served = match single_byte_range(range)? {
        (None, Some(suffix)) if suffix >= len => "bytes=0-".to_owned(),
        _ => range.to_owned(),
    };
    match headers.get(IF_RANGE) {
        Some(condition) if condition.as_bytes() != last_modified.as_bytes() => None,
        _ => Some(served),
    }
}

/// Whether a request goes on with a download already begun: a range that
/// starts past the first byte. Such a request is not recorded again in the
/// audit log (a download manager fetches a file in many parts).
pub fn continues_download(headers: &HeaderMap) -> bool {
    headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(single_byte_range)
        .is_some_and(|(first, _)| first.is_none_or(|first| first > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::headers;

    const MODIFIED: &str = "Mon, 30 Nov 2026 09:00:00 GMT";

    #[test]
    fn one_byte_range_is_served_as_a_part() {
        for range in ["bytes=0-1", "bytes=5-", "bytes=-10", "bytes=7-7"] {
            assert!(
                part_to_serve(&headers(&[("range", range)]), 100, MODIFIED).as_deref()
                    == Some(range),
                "{range}"
            );
        }
    }

    #[test]
    fn a_suffix_longer_than_the_file_is_the_whole_file_as_a_part() {
        for range in ["bytes=-100", "bytes=-101", "bytes=-99999999999"] {
            assert_eq!(
                part_to_serve(&headers(&[("range", range)]), 100, MODIFIED).as_deref(),
                Some("bytes=0-"),
                "{range}"
            );
        }
    }

    #[test]
    fn anything_else_gets_the_whole_file() {
        for range in [
            "items=0-5",
            "bytes=abc",
            "bytes= 0-3",
            "bytes=0-1,5-6",
            "bytes=-",
            "bytes=5-2",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
        ] {
            assert!(
                part_to_serve(&headers(&[("range", range)]), 100, MODIFIED).is_none(),
                "{range}"
            );
        }
        assert!(
            part_to_serve(&headers(&[]), 100, MODIFIED).is_none(),
            "no range"
        );
        assert!(
            part_to_serve(&headers(&[("range", "bytes=0-0")]), 0, MODIFIED).is_none(),
            "an empty file has no bytes to range over"
        );
    }

    #[test]
    fn if_range_must_be_the_files_own_date() {
        let part = |condition: &'static str| {
            part_to_serve(
                &headers(&[("range", "bytes=0-1"), ("if-range", condition)]),
                100,
                MODIFIED,
            )
            .is_some()
        };
        assert!(part(MODIFIED));
        assert!(!part("Mon, 01 Jan 2024 00:00:00 GMT"), "changed since");
        assert!(!part("\"abc\""), "an entity tag modelrun never sent");
        assert!(!part("garbage"));
    }

    #[test]
    fn a_range_past_the_first_byte_continues_a_download() {
        assert!(continues_download(&headers(&[("range", "bytes=100-")])));
        assert!(continues_download(&headers(&[("range", "bytes=-10")])));
        assert!(!continues_download(&headers(&[("range", "bytes=0-99")])));
        assert!(!continues_download(&headers(&[])));
        assert!(!continues_download(&headers(&[("range", "bytes=0-1,5-6")])));
    }
}
