//! Writing stored files into a zip, shared by a run's bundle and a
//! sweep's archive: each file is read from the blob store a piece at a
//! time on a blocking thread (the runtime's `Handle` waits for each
//! piece), hashed on the way and written, so memory stays flat whatever
//! the sizes.

use std::fs::File;
use std::io::Write;

use futures_util::StreamExt;
use modelrun_core::blob::{BlobError, BlobKey, BlobStore};
use modelrun_core::ids::RunId;
use modelrun_core::run::RunOutput;
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Files larger than this are stored, not deflated: large outputs are
/// mostly compressed already (Parquet, images), and deflating a gigabyte
/// costs more time than it saves.
const DEFLATE_UP_TO: u64 = 64 * 1024 * 1024;

/// How an entry of `size` bytes (as expected; 0 when unknown) is written.
pub(crate) fn options(size: u64) -> SimpleFileOptions {
    let method = if size <= DEFLATE_UP_TO {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    SimpleFileOptions::default()
        .compression_method(method)
        .unix_permissions(0o644)
        .large_file(size >= u64::from(u32::MAX))
}

/// A file as copied: its size in bytes and hex SHA-256.
#[derive(Debug)]
pub(crate) struct Copied {
    pub size: u64,
    pub sha256: String,
}

/// Copies the object at `key` (`size` bytes expected) into the zip at
/// `path`; `None`, and no entry, when the store no longer has it.
///
/// # Errors
/// Reading the store, or writing the zip.
pub(crate) fn copy<E>(
    zip: &mut ZipWriter<File>,
    blob: &dyn BlobStore,
    handle: &Handle,
    key: &BlobKey,
    path: &str,
    size: u64,
) -> Result<Option<Copied>, E>
where
    E: From<BlobError> + From<ZipError> + From<std::io::Error>,
{
    let mut body = match handle.block_on(blob.get(key)) {
        Ok(found) => found.body,
        Err(BlobError::NotFound(_)) => {
            tracing::warn!(%key, "a stored file is missing from the blob store; the zip says so");
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    zip.start_file(path, options(size))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = handle.block_on(body.next()) {
        let chunk = chunk?;
        hasher.update(&chunk);
        zip.write_all(&chunk)?;
        size += chunk.len() as u64;
    }
    Ok(Some(Copied {
        size,
        sha256: hex::encode(hasher.finalize()),
    }))
}

/// Why a run's output cannot go into a zip as the run recorded it: a zip
/// without it, or with other bytes, could not stand for the run's outputs.
#[derive(Debug, thiserror::Error)]
pub enum OutputFault {
    #[error("output {name:?} of run {run} is missing from the blob store, so no zip can be made")]
    Missing { run: RunId, name: String },
    #[error(
        "output {name:?} of run {run} does not match its recorded SHA-256 (recorded {recorded}, read {read})"
    )]
    Corrupt {
        run: RunId,
        name: String,
        recorded: String,
        read: String,
    },
}

/// Copies output `output` of run `run` into the zip at `path`, checking
/// its bytes against the SHA-256 recorded when it was stored.
///
/// # Errors
/// [`OutputFault`] for a missing or changed output; reading the store, or
/// writing the zip.
pub(crate) fn copy_output<E>(
    zip: &mut ZipWriter<File>,
    blob: &dyn BlobStore,
    handle: &Handle,
    run: RunId,
    output: &RunOutput,
    path: &str,
) -> Result<Copied, E>
where
    E: From<BlobError> + From<ZipError> + From<std::io::Error> + From<OutputFault>,
{
    let key = BlobKey::run_output(run, &output.name)?;
    let size = u64::try_from(output.size).unwrap_or(0);
    let copied =
        copy::<E>(zip, blob, handle, &key, path, size)?.ok_or_else(|| OutputFault::Missing {
            run,
            name: output.name.clone(),
        })?;
    if let Some(recorded) = &output.sha256
        && !recorded.eq_ignore_ascii_case(&copied.sha256)
    {
        return Err(OutputFault::Corrupt {
            run,
            name: output.name.clone(),
            recorded: recorded.clone(),
            read: copied.sha256,
        }
        .into());
    }
    Ok(copied)
}
