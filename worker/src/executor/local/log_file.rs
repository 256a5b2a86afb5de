//! Reading a run's log file, `<data>/logs/<run id>.log`: page by page from
//! the start (the download), or its end (the run page, and the reason of a
//! failed run). Pieces are cut on character boundaries ([`log_text`]);
//! while the run goes on, a character still being written at the end is
//! held back until it is whole, and once the run has ended whatever is
//! left reads as it is.

use std::io::SeekFrom;
use std::path::Path;

use modelrun_core::executor::{ExecutorError, LogPage, LogTail};
use modelrun_core::log_text;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Most bytes of log returned in one page.
const LOG_PAGE_BYTES: u64 = 256 * 1024;

/// Bytes of a log's end searched for the lines a failed run's reason carries.
const REASON_WINDOW: usize = 16 * 1024;

fn unreadable(error: std::io::Error) -> ExecutorError {
    ExecutorError::Unavailable(format!("cannot read the log: {error}"))
}

/// The log file and its length, or `None` when the run has written none.
async fn open(path: &Path) -> Result<Option<(File, u64)>, ExecutorError> {
    let file = match File::open(path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(error)),
    };
    let length = file.metadata().await.map_err(unreadable)?.len();
    Ok(Some((file, length)))
}

/// Up to `count` bytes of `file` from `start`.
async fn read_at(file: File, start: u64, count: u64) -> Result<Vec<u8>, ExecutorError> {
    let mut file = file;
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(count)
        .read_to_end(&mut bytes)
        .await
        .map_err(unreadable)?;
    Ok(bytes)
}

/// How much of `bytes`, read up to `end` of a log `length` long, to show
/// now: all of it once nothing more can follow, else up to the last whole
/// character.
fn shown(bytes: &[u8], end: u64, length: u64, ended: bool) -> usize {
    if ended && end >= length {
        bytes.len()
    } else {
        log_text::complete_prefix(bytes)
    }
}

/// A page of the log from byte `cursor` (the start when `None`); `ended`
/// says whether the run has ended, so that nothing more will be written.
pub(super) async fn page(
    path: &Path,
    cursor: Option<&str>,
    ended: bool,
) -> Result<LogPage, ExecutorError> {
    let offset: u64 = match cursor {
        None => 0,
        Some(cursor) => cursor
            .parse()
            .map_err(|_| ExecutorError::Refused(format!("invalid log cursor {cursor:?}")))?,
    };
    let Some((file, length)) = open(path).await? else {
        return Ok(LogPage::default());
    };
    let start = offset.min(length);
    let bytes = read_at(file, start, LOG_PAGE_BYTES.min(length - start)).await?;
    let keep = shown(&bytes, start + bytes.len() as u64, length, ended);
    let next = start + keep as u64;
    Ok(LogPage {
        text: String::from_utf8_lossy(&bytes[..keep]).into_owned(),
        next: Some(next.to_string()),
        truncated: next < length,
    })
}

/// The last `max_bytes` of the log at most, from a line's start.
pub(super) async fn tail(
    path: &Path,
    max_bytes: usize,
    ended: bool,
) -> Result<LogTail, ExecutorError> {
    let Some((file, length)) = open(path).await? else {
        return Ok(LogTail::default());
    };
    let start = length.saturating_sub(max_bytes as u64);
    let bytes = read_at(file, start, length - start).await?;
    let from = if start > 0 {
        log_text::tail_start(&bytes)
    } else {
        0
    };
    let keep = shown(&bytes, start + bytes.len() as u64, length, ended).max(from);
    Ok(LogTail {
        text: String::from_utf8_lossy(&bytes[from..keep]).into_owned(),
        earlier: start + from as u64 > 0,
    })
}

/// The reason of a run that failed with `end` (`the model exited with code
/// 1`): that, and the last lines of its log that say something
/// ([`log_text::failure_reason`]). A log that cannot be read leaves `end`
/// as it is.
pub(super) async fn failure_reason(end: &str, path: &Path) -> String {
    match tail(path, REASON_WINDOW, true).await {
        Ok(tail) => log_text::failure_reason(end, &tail.text),
        Err(error) => {
            tracing::warn!(%error, "could not read the end of {}", path.display());
            end.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_of(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("run.log");
        std::fs::write(&path, bytes).expect("write");
        (dir, path)
    }

    #[tokio::test]
    async fn a_character_across_the_page_boundary_reads_whole() {
        let mut bytes = vec![b'a'; LOG_PAGE_BYTES as usize - 1];
        bytes.extend_from_slice("é\n".as_bytes());
        let (_dir, path) = log_of(&bytes);
        let first = page(&path, None, true).await.expect("first");
        assert!(first.truncated);
        assert!(!first.text.contains('\u{FFFD}'));
        let second = page(&path, first.next.as_deref(), true)
            .await
            .expect("second");
        assert_eq!(second.text, "é\n");
        assert!(!second.truncated);
    }

    #[tokio::test]
    async fn a_character_being_written_waits_until_the_run_ends() {
        let (_dir, path) = log_of(&"ok é".as_bytes()[..4]);
        let live = page(&path, None, false).await.expect("live");
        assert_eq!(
            (live.text.as_str(), live.next.as_deref()),
            ("ok ", Some("3"))
        );
        let ended = page(&path, None, true).await.expect("ended");
        assert_eq!(ended.text, "ok \u{FFFD}");
    }

    #[tokio::test]
    async fn the_tail_starts_at_a_line_and_says_what_it_left_out() {
        let (_dir, path) = log_of(b"first line\nsecond line\nthird\n");
        let tail_of = |max| tail(&path, max, true);
        let short = tail_of(15).await.expect("tail");
        assert_eq!(short.text, "third\n");
        assert!(short.earlier);
        let whole = tail_of(1000).await.expect("tail");
        assert_eq!(whole.text, "first line\nsecond line\nthird\n");
        assert!(!whole.earlier);
        let missing = tail(&path.with_extension("none"), 10, true)
            .await
            .expect("none");
        assert_eq!(missing, LogTail::default());
    }
}
