//! A model's output on its way to the run's log. Its stdout and stderr
//! share one pipe, so their lines keep the order the model wrote them in;
//! modelrun copies the pipe to the log (a file on one machine, the
//! wrapper's own stdout on AWS, which goes to CloudWatch Logs), masking the
//! values of the model's secrets and, where a limit is set, keeping at most
//! that many bytes. Past the limit the model keeps running and its output
//! is read and dropped, so that it never blocks on a full pipe.

use std::io::{PipeReader, PipeWriter, Read, Write};

use modelrun_core::model_secrets::{Masker, SecretValues};
use tokio::task::JoinHandle;

/// What the copy did, once the last writer closed the pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Copied {
    /// Bytes written to the log.
    pub written: u64,
    /// Whether output was dropped at the limit.
    pub truncated: bool,
}

/// The write end of a run's log pipe, for the model's stdout and stderr,
/// and the copy into `log` that ends when every writer (the model, and
/// anything it started) has closed it.
pub(crate) fn start<W: Write + Send + 'static>(
    log: W,
    secrets: &SecretValues,
    max_bytes: Option<u64>,
) -> std::io::Result<(PipeWriter, JoinHandle<std::io::Result<Copied>>)> {
    let (reader, writer) = std::io::pipe()?;
    let masker = Masker::new(secrets);
    let copy = tokio::task::spawn_blocking(move || copy(reader, log, masker, max_bytes));
    Ok((writer, copy))
}

fn copy(
    mut reader: PipeReader,
    mut log: impl Write,
    mut masker: Masker,
    max_bytes: Option<u64>,
) -> std::io::Result<Copied> {
    let mut copied = Copied {
        written: 0,
        truncated: false,
    };
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let masked = masker.push(&buffer[..read]);
        write_within(&mut log, &masked, max_bytes, &mut copied)?;
        log.flush()?;
    }
    let rest = masker.finish();
    write_within(&mut log, &rest, max_bytes, &mut copied)?;
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
    if copied.truncated || bytes.is_empty() {
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
        writeln!(
            log,
            "\n[modelrun] the log reached its limit of {max_bytes} bytes; the rest of the \
             model's output was not kept"
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
    }
}
