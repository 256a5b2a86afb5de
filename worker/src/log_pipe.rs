//! A model's output on its way to the run's log. Its stdout and stderr
//! share one pipe, so their lines keep the order the model wrote them in;
//! modelrun copies the pipe to the log (a file on one machine, the
//! wrapper's own stdout on AWS, which goes to CloudWatch Logs), masking the
//! values of the model's secrets and, where a limit is set, keeping at most
//! that many bytes. Past the limit the model keeps running and its output
//! is read and dropped, so that it never blocks on a full pipe; the last
//! few KiB of what was dropped are written after the limit's note once the
//! output ends, so that the log still ends as the output did (a failed
//! run's exception, say).
//!
//! Progress lines ([`modelrun_core::progress`]) stay in the log and are
//! also put in the run's progress feed, after masking (a message never
//! carries a secret) and whether or not the log has reached its limit.

use std::io::{PipeReader, PipeWriter, Read, Write};

use modelrun_core::log_text;
use modelrun_core::model_secrets::{Masker, SecretValues};
use modelrun_core::progress::LineScanner;
use tokio::task::JoinHandle;

use crate::progress_feed::Feed;

/// Most bytes of dropped output written after the limit's note: room for
/// a traceback's last lines.
const DROPPED_END_BYTES: usize = 16 * 1024;

/// What the copy did, once the last writer closed the pipe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Copied {
    /// Bytes written to the log, before the end of the dropped output.
    pub written: u64,
    /// Whether output was dropped at the limit.
    pub truncated: bool,
    /// The last [`DROPPED_END_BYTES`] of the dropped output at most.
    dropped_end: Vec<u8>,
    /// Whether more was dropped than `dropped_end` holds.
    dropped_more: bool,
}

impl Copied {
    fn drop_bytes(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(DROPPED_END_BYTES)..];
        let over = (self.dropped_end.len() + bytes.len()).saturating_sub(DROPPED_END_BYTES);
        self.dropped_more |= over > 0;
        self.dropped_end.drain(..over);
        self.dropped_end.extend_from_slice(bytes);
    }

    /// The end of the dropped output, from a line's start when more went
    /// before it.
    fn dropped_end(&self) -> &[u8] {
        let from = match self.dropped_more {
            true => log_text::tail_start(&self.dropped_end),
            false => 0,
        };
        &self.dropped_end[from..]
    }
}

/// The write end of a run's log pipe, for the model's stdout and stderr,
/// and the copy into `log` that ends when every writer (the model, and
/// anything it started) has closed it. Progress lines go to `progress`,
/// which is dropped when the copy ends.
pub(crate) fn start<W: Write + Send + 'static>(
    log: W,
    secrets: &SecretValues,
    max_bytes: Option<u64>,
    progress: Option<Feed>,
) -> std::io::Result<(PipeWriter, JoinHandle<std::io::Result<Copied>>)> {
    let (reader, writer) = std::io::pipe()?;
    let masker = Masker::new(secrets);
    let copy = tokio::task::spawn_blocking(move || copy(reader, log, masker, max_bytes, progress));
    Ok((writer, copy))
}

fn copy(
    mut reader: PipeReader,
    mut log: impl Write,
    mut masker: Masker,
    max_bytes: Option<u64>,
    progress: Option<Feed>,
) -> std::io::Result<Copied> {
    let mut scanner = LineScanner::default();
    let scan = |bytes: &[u8], scanner: &mut LineScanner| {
        if let Some(feed) = &progress {
            scanner.push(bytes, |found| {
                feed.send_replace(Some(found));
            });
        }
    };
    let mut copied = Copied::default();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let masked = masker.push(&buffer[..read]);
        scan(&masked, &mut scanner);
        write_within(&mut log, &masked, max_bytes, &mut copied)?;
        log.flush()?;
    }
    let rest = masker.finish();
    scan(&rest, &mut scanner);
    if let (Some(feed), Some(last)) = (&progress, scanner.finish()) {
        feed.send_replace(Some(last));
    }
    write_within(&mut log, &rest, max_bytes, &mut copied)?;
    let end = copied.dropped_end();
    if !end.is_empty() {
        writeln!(log, "[modelrun] the output ended with:")?;
        log.write_all(end)?;
    }
    log.flush()?;
    Ok(copied)
}

/// Writes what fits under the limit; the first time something does not,
/// notes it in the log.
fn write_within(
    log: &mut impl Write,
    bytes: &[u8],
    max_bytes: Option<u64>,
    copied: &mut Copied,
) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    if copied.truncated {
        copied.drop_bytes(bytes);
        return Ok(());
    }
    let Some(max_bytes) = max_bytes else {
        log.write_all(bytes)?;
        copied.written += bytes.len() as u64;
        return Ok(());
    };
    let room = usize::try_from(max_bytes.saturating_sub(copied.written)).unwrap_or(usize::MAX);
    let fits = &bytes[..bytes.len().min(room)];
    log.write_all(fits)?;
    copied.written += fits.len() as u64;
    if fits.len() < bytes.len() {
        copied.truncated = true;
        copied.drop_bytes(&bytes[fits.len()..]);
        writeln!(
            log,
            "\n[modelrun] the log reached its limit of {max_bytes} bytes; the rest of the \
             model's output was not kept, but for its last lines below"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelrun_core::secret::Secret;

    fn secrets() -> SecretValues {
        SecretValues(
            [(
                "API_KEY".to_owned(),
                Secret::new("sk-live-123456".to_owned()),
            )]
            .into_iter()
            .collect(),
        )
    }

    #[tokio::test]
    async fn output_is_masked_and_bounded() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("run.log");
        let (mut writer, copy) = start(
            std::fs::File::create(&path).expect("log"),
            &secrets(),
            Some(40),
            None,
        )
        .expect("pipe");
        writer.write_all(b"key sk-live-").expect("write");
        writer.write_all(b"123456 ok\n").expect("write");
        writer.write_all(&[b'x'; 100]).expect("write");
        drop(writer);
        let copied = copy.await.expect("join").expect("copy");
        assert!(copied.truncated);
        assert_eq!(copied.written, 40);
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.starts_with("key [secret API_KEY] ok\nxxxxxxxxxxxxxxxx\n"),
            "{text}"
        );
        assert!(
            text.contains("the log reached its limit of 40 bytes"),
            "{text}"
        );
        assert!(!text.contains("sk-live"));
        assert!(
            text.ends_with(&format!(
                "[modelrun] the output ended with:\n{}",
                "x".repeat(84)
            )),
            "what was dropped follows the note: {text}"
        );
    }

    #[tokio::test]
    async fn a_long_dropped_output_ends_the_log_with_its_last_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("run.log");
        let log = std::fs::File::create(&path).expect("log");
        let (mut writer, copy) = start(log, &secrets(), Some(1000), None).expect("pipe");
        let model = std::thread::spawn(move || {
            for i in 0..10_000 {
                writeln!(writer, "line {i}").expect("write");
            }
            writeln!(writer, "ValueError: sk-live-123456 is wrong").expect("write");
        });
        model.join().expect("model");
        let copied = copy.await.expect("join").expect("copy");
        assert_eq!(copied.written, 1000);
        let text = std::fs::read_to_string(&path).expect("read");
        let (_, end) = text
            .split_once("[modelrun] the output ended with:\n")
            .expect("the end follows a note");
        assert!(
            end.starts_with("line "),
            "from a line's start: {}",
            &end[..20]
        );
        assert!(end.len() <= DROPPED_END_BYTES);
        assert!(end.ends_with("line 9999\nValueError: [secret API_KEY] is wrong\n"));
    }

    #[tokio::test]
    async fn progress_lines_stay_in_the_log_and_reach_the_feed_masked() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("run.log");
        let log = std::fs::File::create(&path).expect("log");
        let (feed, mut latest) = tokio::sync::watch::channel(None);
        let (mut writer, copy) = start(log, &secrets(), Some(30), Some(feed)).expect("pipe");
        writer
            .write_all(b"::progress 0.2 loading\n::progress 50% key sk-live-123456\n")
            .expect("write");
        drop(writer);
        copy.await.expect("join").expect("copy");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("::progress 0.2 loading\n"), "{text}");
        let last = latest.borrow_and_update().clone().expect("progress");
        assert_eq!(last.fraction, 0.5);
        assert_eq!(last.message.as_deref(), Some("key [secret API_KEY]"));
        assert!(
            latest.changed().await.is_err(),
            "the feed is dropped at the end"
        );
    }
}
