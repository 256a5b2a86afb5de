//! Receiving a file through the app: announced first (name, size, SHA-256),
//! then its body, streamed to a temporary file while it is counted and
//! hashed, and stored only when both match what was announced.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use modelrun_core::blob::BlobKey;
use modelrun_core::schema::{FileRef, UploadId, check_file_name, size_text};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A file an uploader announces (`POST /api/v1/uploads`):
/// `{"name": "overrides.csv", "bytes": 1234, "sha256": "<64 hex>", "media_type": "text/csv"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    pub name: String,
    /// Its size in bytes: at most the server's `max_upload_bytes`.
    #[serde(deserialize_with = "whole_number")]
    pub bytes: u64,
    /// Its SHA-256, 64 hex digits: the store refuses a body that differs.
    pub sha256: String,
    /// Its media type; from the name's extension when left out.
    #[serde(default)]
    pub media_type: Option<String>,
}

/// A JSON number that is a whole number of bytes: `1446` or `1446.0`, as
/// JSON Schema's `integer` takes both.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    number
        .as_u64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 2f64.powi(64))
                .map(|x| x as u64)
        })
        .ok_or_else(|| {
            serde::de::Error::custom("bytes: must be a whole number of bytes, 0 or more")
        })
}

impl NewUpload {
    /// Refuses a name that is not one plain file name, a file over `cap`
    /// bytes, or a SHA-256 that is not 64 hex digits; each names its field (422).
    pub fn check(&mut self, cap: u64) -> AppResult<()> {
        let invalid = |field: &str, message: String| {
            AppError::invalid_field("the upload is not valid", field, message)
        };
        check_file_name(&self.name).map_err(|why| invalid("name", why))?;
        if self.bytes > cap {
            return Err(invalid(
                "bytes",
                format!(
                    "must be at most {cap} bytes ({}), this server's limit for a file; the file has {} bytes",
                    size_text(cap),
                    self.bytes
                ),
            ));
        }
        self.sha256 = self.sha256.trim().to_ascii_lowercase();
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                "sha256",
                "must be the file's SHA-256, 64 hex digits".to_owned(),
            ));
        }
        let media = self
            .media_type
            .take()
            .map(|m| m.trim().to_ascii_lowercase())
            .filter(|m| {
                m.split_once('/')
                    .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
            });
        self.media_type =
            Some(media.unwrap_or_else(|| modelrun_core::schema::media_type_of(&self.name)));
        Ok(())
    }

    pub fn media_type(&self) -> &str {
        self.media_type
            .as_deref()
            .unwrap_or("application/octet-stream")
    }
}

/// What a received body must be: its size and SHA-256, when announced.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub bytes: u64,
    pub sha256: &'a str,
}

/// Streams `body` into the upload `id` as `name`: never more than `cap`
/// bytes, and, when `expected` is given, exactly its size and SHA-256.
/// Nothing is stored unless the whole body arrived and matched. Returns the
/// file and its SHA-256.
pub async fn receive<S, E>(
    state: &AppState,
    id: &UploadId,
    name: &str,
    media_type: &str,
    mut body: S,
    cap: u64,
    expected: Option<Expected<'_>>,
) -> AppResult<(FileRef, String)>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let key = BlobKey::upload(id, name)?;
    // Its own temporary file: two requests for one upload never share one.
    let temp = std::env::temp_dir().join(format!(
        "modelrun-upload-{id}-{}",
        modelrun_core::crypto::random_hex(8)
    ));
    let result = async {
        let mut file = tokio::fs::File::create(&temp)
            .await
            .map_err(AppError::io)?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| {
                AppError::BadRequest(format!("the file's upload was cut off: {error}"))
            })?;
            size += chunk.len() as u64;
            if size > cap {
                return Err(AppError::TooLarge(format!(
                    "{name} is larger than {}, the most accepted",
                    size_text(cap)
                )));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(AppError::io)?;
        }
        file.flush().await.map_err(AppError::io)?;
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = expected {
            if size != expected.bytes {
                return Err(AppError::BadRequest(format!(
                    "{name} was announced as {} bytes and {size} arrived",
                    expected.bytes
                )));
            }
            if sha256 != expected.sha256 {
                return Err(AppError::BadRequest(format!(
                    "{name} arrived with another SHA-256 than announced: it changed or was damaged on the way"
                )));
            }
        }
        state.blob.put_file(&key, &temp, media_type).await?;
        let file = FileRef {
            upload: id.clone(),
            name: name.to_owned(),
            bytes: size,
            media_type: media_type.to_owned(),
        };
        Ok((file, sha256))
    }
    .await;
    let _ = tokio::fs::remove_file(&temp).await;
    result
}
