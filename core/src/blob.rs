//! The blob store: run inputs and outputs, as files under keys such as
//! `runs/42/outputs/forecast.csv`. A local directory on one machine, S3 on AWS.

use std::fmt;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;

use crate::ids::RunId;
use crate::job_access::Presigned;

/// A checked key: relative, `/`-separated, without empty, `.` or `..`
/// segments, backslashes or control characters. A key can never name
/// anything outside the store's root, whatever the backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

/// Longest key accepted (S3 allows 1024 bytes).
pub const MAX_KEY_BYTES: usize = 1024;

/// Longest output name accepted.
pub const MAX_OUTPUT_NAME_BYTES: usize = 512;

/// Most bytes of a document read whole into memory: a run's
/// `inputs.json`, a model manifest, `metrics.json`.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Checks a relative path made of `/`-separated segments.
pub fn check_relative_path(path: &str, max_bytes: usize) -> Result<(), String> {
    if path.is_empty() {
        return Err("is empty".to_owned());
    }
    if path.len() > max_bytes {
        return Err(format!("is longer than {max_bytes} bytes"));
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err("contains a control character or a backslash".to_owned());
    }
    if path
        .split('/')
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err("has an empty, '.' or '..' segment (or starts or ends with /)".to_owned());
    }
    Ok(())
}

impl BlobKey {
    pub fn new(key: impl Into<String>) -> Result<Self, BlobError> {
        let key = key.into();
        check_relative_path(&key, MAX_KEY_BYTES)
            .map_err(|why| BlobError::InvalidKey(format!("{key:?} {why}")))?;
        Ok(BlobKey(key))
    }

    /// `runs/<id>/inputs.json`
    pub fn run_inputs(run: RunId) -> Self {
        BlobKey(format!("runs/{run}/inputs.json"))
    }

    /// `runs/<id>/outputs`, the prefix of every output of a run.
    pub fn run_outputs(run: RunId) -> Self {
        BlobKey(format!("runs/{run}/outputs"))
    }

    /// `runs/<id>/bundle/modelrun-run-<id>.zip`: a run's reproducibility
    /// bundle ([`crate::bundle`]), beside its outputs, never among them.
    pub fn run_bundle(run: RunId) -> Self {
        BlobKey(format!("runs/{run}/bundle/modelrun-run-{run}.zip"))
    }

    /// `runs/<id>/bundle/modelrun-run-<id>-outputs.zip`: every output of a
    /// run in one zip ([`crate::outputs_zip`]), kept with the run's bundle,
    /// where the web function may already look for and hand out a run's zips.
    pub fn run_outputs_zip(run: RunId) -> Self {
        BlobKey(format!("runs/{run}/bundle/modelrun-run-{run}-outputs.zip"))
    }

    /// `sweeps/<id>/modelrun-sweep-<id>.zip`: every output of a sweep's
    /// runs in one zip, with an index.
    pub fn sweep_archive(sweep: crate::ids::SweepId) -> Self {
        BlobKey(format!("sweeps/{sweep}/modelrun-sweep-{sweep}.zip"))
    }

    /// `runs/<id>/outputs/<name>`, refusing names that are not plain relative paths.
    pub fn run_output(run: RunId, name: &str) -> Result<Self, BlobError> {
        check_relative_path(name, MAX_OUTPUT_NAME_BYTES)
            .map_err(|why| BlobError::InvalidKey(format!("output name {name:?} {why}")))?;
        Ok(BlobKey(format!("runs/{run}/outputs/{name}")))
    }

    /// `uploads/<id>`, the prefix under which an upload's one file is.
    pub fn upload_prefix(id: &crate::schema::UploadId) -> Self {
        BlobKey(format!("uploads/{id}"))
    }

    /// `uploads/<id>/<name>`: an uploaded input file, kept for every run
    /// that uses it. `name` is one path segment
    /// ([`crate::schema::check_file_name`]).
    pub fn upload(id: &crate::schema::UploadId, name: &str) -> Result<Self, BlobError> {
        crate::schema::check_file_name(name)
            .map_err(|why| BlobError::InvalidKey(format!("file name {name:?} {why}")))?;
        Ok(BlobKey(format!("uploads/{id}/{name}")))
    }

    /// `uploads/meta/<id>.json`: what the upload's announcement said (name,
    /// size, SHA-256, media type, who), kept beside the file: under
    /// `uploads/`, where the web role's rights and the bucket's expiry of
    /// uploads reach, and outside every upload's own prefix.
    pub fn upload_meta(id: &crate::schema::UploadId) -> Self {
        BlobKey(format!("uploads/meta/{id}.json"))
    }

    /// Where the file of an input is kept.
    pub fn input_file(file: &crate::schema::FileRef) -> Result<Self, BlobError> {
        Self::upload(&file.upload, &file.name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part of this key below `prefix`, if it is below it.
    pub fn strip_prefix<'a>(&'a self, prefix: &BlobKey) -> Option<&'a str> {
        self.0.strip_prefix(prefix.as_str())?.strip_prefix('/')
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is known of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub key: BlobKey,
    pub size: u64,
    /// Hex SHA-256 of the content, where the backend has it.
    pub sha256: Option<String>,
    pub content_type: Option<String>,
}

/// A body read piece by piece; never held in memory whole.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// An object being read.
pub struct Blob {
    pub meta: ObjectMeta,
    pub body: ByteStream,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// `Content-Disposition` for downloading `name` (its last segment) as a
/// file: an ASCII fallback name and the exact UTF-8 name (RFC 6266).
pub fn attachment_disposition(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    let fallback: String = file
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(file, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no object at {0}")]
    NotFound(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("blob store I/O failed")]
    Io(#[from] io::Error),
    #[error("blob store failed: {0}")]
    Backend(String),
    /// An object read whole was larger than the reader allows.
    #[error("{key} is larger than {max} bytes")]
    TooLarge { key: String, max: usize },
}

#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores bytes, replacing what was there.
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError>;
    /// Stores a file's content, streaming it.
    async fn put_file(
        &self,
        key: &BlobKey,
        path: &Path,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError>;
    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError>;
    /// The first `max` bytes of an object, and whether there is more.
    async fn read_head(&self, key: &BlobKey, max: usize) -> Result<(Vec<u8>, bool), BlobError> {
        let mut body = self.get(key).await?.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            let chunk = chunk?;
            let room = max - bytes.len();
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                return Ok((bytes, true));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes, false))
    }
    /// A whole object of at most `max` bytes; [`BlobError::TooLarge`] beyond.
    async fn read_all(&self, key: &BlobKey, max: usize) -> Result<Vec<u8>, BlobError> {
        match self.read_head(key, max).await? {
            (bytes, false) => Ok(bytes),
            (_, true) => Err(BlobError::TooLarge {
                key: key.to_string(),
                max,
            }),
        }
    }
    /// Every object below `prefix`, in key order.
    async fn list(&self, prefix: &BlobKey) -> Result<Vec<ObjectMeta>, BlobError>;
    /// A URL that downloads the object directly for `ttl`, as an attachment
    /// named `download_name`; `None` where the backend cannot sign (a local
    /// directory), and the app streams the object itself.
    async fn presign_get(
        &self,
        key: &BlobKey,
        download_name: &str,
        ttl: Duration,
    ) -> Result<Option<String>, BlobError>;
    /// The file that holds an object, where the store is a local directory:
    /// the app serves it as a file (ranges, large reads). `None` elsewhere.
    fn local_path(&self, _key: &BlobKey) -> Option<std::path::PathBuf> {
        None
    }
    /// Where a browser sends presigned uploads (`https://bucket.s3.eu-west-1.amazonaws.com`),
    /// one or more origins separated by spaces, for the pages'
    /// Content-Security-Policy; `None` where uploads go through the app.
    fn upload_origins(&self) -> Option<&str> {
        None
    }
    /// A request that stores exactly one object at `key` for `ttl`: of
    /// `size` bytes, whose SHA-256 (hex) is `sha256`, of `content_type`.
    /// The store refuses a body that does not match. `None` where the
    /// backend cannot sign (a local directory).
    async fn presign_put(
        &self,
        key: &BlobKey,
        upload: &PutObject<'_>,
        ttl: Duration,
    ) -> Result<Option<Presigned>, BlobError>;
}

/// What a presigned upload will store.
#[derive(Clone, Copy, Debug)]
pub struct PutObject<'a> {
    pub size: u64,
    /// 64 lowercase hex digits.
    pub sha256: &'a str,
    pub content_type: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploads_announcement_is_where_uploads_are_but_beside_every_file() {
        let id = crate::schema::UploadId::generate();
        let meta = BlobKey::upload_meta(&id);
        // The web role may write `uploads/*` and the bucket expires it.
        assert!(meta.as_str().starts_with("uploads/"), "{meta}");
        // Listing an upload's prefix never finds it as the file.
        assert_eq!(meta.strip_prefix(&BlobKey::upload_prefix(&id)), None);
        assert!(
            !meta
                .as_str()
                .starts_with(BlobKey::upload_prefix(&id).as_str())
        );
    }

    #[test]
    fn keys_cannot_escape_their_root() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "a/./b",
            "a\\b",
            "a/",
            "a\0b",
            "a\nb",
        ] {
            assert!(BlobKey::new(bad).is_err(), "{bad:?}");
        }
        assert!(BlobKey::new("runs/1/outputs/charts/a.png").is_ok());
        assert!(BlobKey::new("x".repeat(MAX_KEY_BYTES + 1)).is_err());
    }

    #[test]
    fn output_names_are_checked_before_they_become_keys() {
        let run = RunId(7);
        assert_eq!(
            BlobKey::run_output(run, "charts/a.png")
                .map(|k| k.to_string())
                .ok(),
            Some("runs/7/outputs/charts/a.png".to_owned())
        );
        for bad in [
            "../inputs.json",
            "../../8/outputs/x",
            "/abs",
            "a/../../x",
            "",
        ] {
            assert!(BlobKey::run_output(run, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attachment_names_are_safe_and_exact() {
        assert_eq!(
            attachment_disposition("forecast.csv"),
            "attachment; filename=\"forecast.csv\"; filename*=UTF-8''forecast%2Ecsv"
        );
        assert_eq!(
            attachment_disposition("charts/prévision \"q1\".csv"),
            "attachment; filename=\"pr_vision _q1_.csv\"; filename*=UTF-8''pr%C3%A9vision%20%22q1%22%2Ecsv"
        );
    }

    #[test]
    fn strip_prefix_needs_a_whole_segment() {
        let key = BlobKey::new("runs/1/outputs/a.csv").expect("key");
        assert_eq!(
            key.strip_prefix(&BlobKey::run_outputs(RunId(1))),
            Some("a.csv")
        );
        let other = BlobKey::new("runs/10/outputs/a.csv").expect("key");
        assert_eq!(
            other.strip_prefix(&BlobKey::new("runs/1").expect("key")),
            None
        );
    }
}
