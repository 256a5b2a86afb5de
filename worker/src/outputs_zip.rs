//! Building the zip of an ended run's outputs
//! ([`modelrun_core::outputs_zip`]) into the blob store: each output at its
//! recorded name, read from the blob store piece by piece and checked
//! against its recorded SHA-256 on the way ([`crate::zip_files`]), into a
//! temporary file that is then stored whole. No file is held in memory,
//! and nothing is built inside a request.

use std::fs::File;
use std::sync::Arc;

use modelrun_core::blob::{BlobError, BlobKey, BlobStore};
use modelrun_core::bundle::stored;
use modelrun_core::ids::RunId;
use modelrun_core::outputs_zip::{key, offered};
use modelrun_core::run::RunOutput;
use modelrun_core::store::{Store, StoreError};
use tokio::runtime::Handle;
use zip::ZipWriter;

use crate::zip_files::{OutputFault, copy_output};

/// Why the zip of a run's outputs could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OutputsZipError {
    #[error("run {0} does not exist")]
    NoRun(RunId),
    #[error(
        "run {0} has not ended: the zip of its outputs is made once it has succeeded, failed \
         or been cancelled"
    )]
    NotEnded(RunId),
    /// An output missing from the blob store, or changed since it was
    /// stored.
    #[error(transparent)]
    Output(#[from] OutputFault),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("writing the zip failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the zip failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds the zip of `run`'s outputs and stores it, unless it is stored
/// already (a task runs at least once). Returns the stored zip's key.
///
/// # Errors
/// [`OutputsZipError::NotEnded`] while the run has not ended; a missing or
/// corrupt output; the store, the blob store or the disk failing.
pub async fn build(
    store: &dyn Store,
    blob: &Arc<dyn BlobStore>,
    run: RunId,
) -> Result<BlobKey, OutputsZipError> {
    let run = store.run(run).await?.ok_or(OutputsZipError::NoRun(run))?;
    if !offered(run.status) {
        return Err(OutputsZipError::NotEnded(run.id));
    }
    let key = key(run.id);
    if stored(blob.as_ref(), &key).await? {
        return Ok(key);
    }
    let outputs = store.run_outputs(run.id).await?;
    let temp = tempfile::Builder::new()
        .prefix("modelrun-outputs-")
        .suffix(".zip")
        .tempfile()?;
    let (file, path) = temp.into_parts();
    let (reader, handle, id) = (blob.clone(), Handle::current(), run.id);
    tokio::task::spawn_blocking(move || write(file, id, &outputs, reader.as_ref(), &handle))
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))??;
    blob.put_file(&key, &path, "application/zip").await?;
    Ok(key)
}

/// Writes each of `outputs` of `run` into `file` at its recorded name, on
/// a blocking thread.
fn write(
    file: File,
    run: RunId,
    outputs: &[RunOutput],
    blob: &dyn BlobStore,
    handle: &Handle,
) -> Result<(), OutputsZipError> {
    let mut zip = ZipWriter::new(file);
    for output in outputs {
        copy_output::<OutputsZipError>(&mut zip, blob, handle, run, output, &output.name)?;
    }
    zip.finish()?.sync_all()?;
    Ok(())
}
