//! A run's whole log as one text download, read page by page from the
//! executor and streamed. Where responses are bounded (6 MB on AWS Lambda),
//! the download stops at `max_log_bytes` with a note saying so and where
//! the whole log is.

use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use modelrun_core::run::Run;

use crate::state::AppState;

/// Where the reading stands between pages.
struct Reading {
    /// `Some(cursor)` while there is more to read.
    cursor: Option<Option<String>>,
    /// Bytes still allowed in the response.
    left: Option<usize>,
}

pub fn log(state: &AppState, run: Run) -> Response {
    let executor = state.executor.clone();
    let start = Reading {
        cursor: Some(None),
        left: state.config.max_log_bytes,
    };
    let pages = futures_util::stream::unfold(start, move |reading| {
        let (executor, run) = (executor.clone(), run.clone());
        async move {
            let cursor = reading.cursor?;
            match executor.log(&run, cursor.as_deref()).await {
                Ok(page) if page.text.is_empty() => None,
                Ok(page) => {
                    let next = page.next.filter(|_| page.truncated).map(Some);
                    let Some(left) = reading.left else {
                        let reading = Reading {
                            cursor: next,
                            left: None,
                        };
                        return Some((Ok(Bytes::from(page.text)), reading));
                    };
                    let (mut text, cut) = cut(page.text, left);
                    let left = left - text.len();
                    if cut || (next.is_some() && left == 0) {
                        text.push_str(&cut_note(&run));
                        let reading = Reading {
                            cursor: None,
                            left: Some(0),
                        };
                        return Some((Ok(Bytes::from(text)), reading));
                    }
                    let reading = Reading {
                        cursor: next,
                        left: Some(left),
                    };
                    Some((Ok(Bytes::from(text)), reading))
                }
                Err(error) => {
                    let reading = Reading {
                        cursor: None,
                        left: None,
                    };
                    Some((Err(std::io::Error::other(error)), reading))
                }
            }
        }
    });
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        Body::from_stream(pages.boxed()),
    )
        .into_response()
}

/// Keeps at most `left` bytes of `text`, cut after a whole line where
/// there is one (else at a character boundary). True if anything was cut.
fn cut(mut text: String, left: usize) -> (String, bool) {
    if text.len() <= left {
        return (text, false);
    }
    let mut end = left;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(newline) = text[..end].rfind('\n') {
        end = newline + 1;
    }
    text.truncate(end);
    (text, true)
}

fn cut_note(run: &Run) -> String {
    let whole = match &run.log_stream {
        Some(stream) => format!("in CloudWatch Logs, stream {stream}"),
        None => "with the executor".to_owned(),
    };
    format!("\n[modelrun: this download stops here, at its size limit; the whole log is {whole}]\n")
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cuts_after_a_whole_line() {
        assert_eq!(
            cut("one\ntwo\nthree\n".into(), 10),
            ("one\ntwo\n".into(), true)
        );
        assert_eq!(cut("one\ntwo\n".into(), 8), ("one\ntwo\n".into(), false));
    }

    #[test]
    fn a_long_line_is_cut_on_a_character_boundary() {
        assert_eq!(cut("ééé".into(), 3), ("é".into(), true));
        assert_eq!(cut("abc".into(), 0), (String::new(), true));
    }
}
