//! Building a run's reproducibility bundle ([`modelrun_core::bundle`]) into
//! the blob store. The zip is written to a temporary file, reading each
//! input file and output from the blob store piece by piece, hashing it on
//! the way, and is then stored whole under
//! [`BlobKey::run_bundle`](modelrun_core::blob::BlobKey::run_bundle): no
//! file is ever held in memory, and nothing is built inside a request (on
//! AWS Lambda a response carries at most 6 MB). The web hands the stored
//! zip out like an output: a presigned URL on S3, the file itself locally.

mod read;
mod readme;
mod write;

use std::sync::Arc;

use chrono::Utc;
use modelrun_core::blob::{BlobError, BlobKey, BlobStore};
use modelrun_core::bundle::{
    BundleManifest, BundleRun, BundleVersion, FORMAT, NOT_RECORDED, key, offered, stored,
};
use modelrun_core::executor::{Executor, ExecutorError};
use modelrun_core::ids::RunId;
use modelrun_core::model::{ModelVersion, Runtime};
use modelrun_core::run::Run;
use modelrun_core::schema::FileRef;
use modelrun_core::store::{Store, StoreError};

pub use read::OpenBundle;
pub use readme::readme;

/// Why a bundle could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("run {0} does not exist")]
    NoRun(RunId),
    #[error(
        "run {0} has not ended: a bundle is made once a run has succeeded, failed or been cancelled"
    )]
    NotEnded(RunId),
    #[error("the version of run {0} does not exist")]
    NoVersion(RunId),
    /// An output missing from the blob store, or changed since it was
    /// stored.
    #[error(transparent)]
    Output(#[from] crate::zip_files::OutputFault),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("reading the run's log failed: {0}")]
    Log(#[from] ExecutorError),
    #[error("writing the zip failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the bundle failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What the bundle of a run is built from.
#[derive(Clone, Debug)]
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub blob: Arc<dyn BlobStore>,
    pub executor: Arc<dyn Executor>,
}

/// Builds the bundle of `run` and stores it, unless it is stored already
/// (a task runs at least once). `server_url` is the server's public URL,
/// for the manifest and the README. Returns the stored bundle's key.
pub async fn build(parts: &Parts, run: RunId, server_url: &str) -> Result<BlobKey, BundleError> {
    let run = parts.store.run(run).await?.ok_or(BundleError::NoRun(run))?;
    if !offered(run.status) {
        return Err(BundleError::NotEnded(run.id));
    }
    let key = key(run.id);
    if stored(parts.blob.as_ref(), &key).await? {
        return Ok(key);
    }
    let version = parts
        .store
        .version(run.version_id)
        .await?
        .ok_or(BundleError::NoVersion(run.id))?;
    let outputs = parts.store.run_outputs(run.id).await?;
    let manifest = manifest(&run, &version, server_url);
    let plan = write::Plan {
        manifest,
        input_files: input_files(&run),
        outputs,
        run,
    };
    let temp = tempfile::Builder::new()
        .prefix("modelrun-bundle-")
        .suffix(".zip")
        .tempfile()?;
    let (file, path) = temp.into_parts();
    let blob = parts.blob.clone();
    let executor = parts.executor.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        write::write(file, plan, blob.as_ref(), executor.as_ref(), &handle)
    })
    .await
    .map_err(|error| std::io::Error::other(error.to_string()))??;
    parts.blob.put_file(&key, &path, "application/zip").await?;
    Ok(key)
}

/// The manifest without its files, which [`write::write`] adds as it
/// reads and hashes them.
fn manifest(run: &Run, version: &ModelVersion, server_url: &str) -> BundleManifest {
    let (runtime, image_uri, image_digest) = match &version.runtime {
        Runtime::Local { .. } => ("local", None, None),
        Runtime::Image { uri, digest } => ("image", Some(uri.clone()), digest.clone()),
    };
    BundleManifest {
        format: FORMAT.to_owned(),
        server_url: server_url.trim_end_matches('/').to_owned(),
        run: BundleRun {
            id: run.id,
            status: run.status,
            status_reason: run.status_reason.clone(),
            submitted_by: run.submitter_email.clone(),
            created_at: run.created_at,
            finished_at: run.finished_at,
            resources: run.resources,
        },
        model: run.model_name.clone(),
        version: BundleVersion {
            label: version.label.clone(),
            digest: version.digest.clone(),
            runtime: runtime.to_owned(),
            image_uri,
            image_digest,
            source_commit: version
                .source_commit
                .clone()
                .filter(|commit| !commit.trim().is_empty())
                .unwrap_or_else(|| NOT_RECORDED.to_owned()),
            registered_at: version.registered_at,
        },
        inputs: serde_json::Value::Object(run.inputs.clone()),
        input_files: Vec::new(),
        outputs: Vec::new(),
        created_at: Utc::now(),
    }
}

/// The run's file inputs: each input's name and its file.
fn input_files(run: &Run) -> Vec<(String, FileRef)> {
    run.inputs
        .iter()
        .filter_map(|(input, value)| Some((input.clone(), FileRef::from_value(value)?)))
        .collect()
}
