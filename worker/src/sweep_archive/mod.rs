//! Building a sweep's archive ([`modelrun_core::sweep::archive`]) into the
//! blob store: every output of every run of an ended sweep in one zip,
//! with `index.csv`. As for a run's bundle, the zip is written to a
//! temporary file, each output read from the blob store piece by piece and
//! hashed on the way ([`crate::zip_files`]), then stored whole under
//! [`BlobKey::sweep_archive`](modelrun_core::blob::BlobKey::sweep_archive):
//! no file is held in memory, and nothing is built inside a request.

mod write;

use std::sync::Arc;

use modelrun_core::blob::{BlobError, BlobKey, BlobStore};
use modelrun_core::bundle::stored;
use modelrun_core::ids::SweepId;
use modelrun_core::store::{Store, StoreError};
use modelrun_core::sweep::archive::{key, offered};

/// Why an archive could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("sweep {0} does not exist")]
    NoSweep(SweepId),
    #[error(
        "sweep {0} has runs that have not ended: its archive is made once every run has \
         succeeded, failed or been cancelled"
    )]
    NotEnded(SweepId),
    /// An output missing from the blob store, or changed since it was
    /// stored.
    #[error(transparent)]
    Output(#[from] crate::zip_files::OutputFault),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("writing the zip failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the index failed: {0}")]
    Index(#[from] csv::Error),
    #[error("writing the archive failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What an archive is built from.
#[derive(Clone, Debug)]
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub blob: Arc<dyn BlobStore>,
}

/// Builds the archive of `sweep` and stores it, unless it is stored
/// already (a task runs at least once). Returns the stored archive's key.
///
/// # Errors
/// [`ArchiveError::NotEnded`] while a run has not ended; a missing or
/// corrupt output; the store, the blob store or the disk failing.
pub async fn build(parts: &Parts, sweep: SweepId) -> Result<BlobKey, ArchiveError> {
    let sweep = parts
        .store
        .sweep(sweep)
        .await?
        .ok_or(ArchiveError::NoSweep(sweep))?;
    let runs = parts.store.sweep_runs(sweep.id).await?;
    if !offered(&runs) {
        return Err(ArchiveError::NotEnded(sweep.id));
    }
    let key = key(sweep.id);
    if stored(parts.blob.as_ref(), &key).await? {
        return Ok(key);
    }
    let mut plan = Vec::with_capacity(runs.len());
    for run in runs {
        let outputs = parts.store.run_outputs(run.id).await?;
        plan.push((run, outputs));
    }
    let temp = tempfile::Builder::new()
        .prefix("modelrun-sweep-")
        .suffix(".zip")
        .tempfile()?;
    let (file, path) = temp.into_parts();
    let blob = parts.blob.clone();
    let handle = tokio::runtime::Handle::current();
    let axes = sweep.axes.clone();
    tokio::task::spawn_blocking(move || write::write(file, &axes, &plan, blob.as_ref(), &handle))
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))??;
    parts.blob.put_file(&key, &path, "application/zip").await?;
    Ok(key)
}
