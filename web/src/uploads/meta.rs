//! What an upload's announcement said, kept at `uploads/meta/<id>.json`:
//! the file sent to this server must be exactly that (its name, size and
//! SHA-256), and the media type its uploader declared is known later
//! (a local directory keeps no content types).

use bytes::Bytes;
use modelrun_core::blob::{BlobError, BlobKey};
use modelrun_core::schema::UploadId;
use serde::{Deserialize, Serialize};

use crate::error::AppResult;
use crate::state::AppState;

/// Largest announcement read back: a few hundred bytes in practice.
const MAX_BYTES: usize = 4096;

/// An upload as announced: `{"name", "bytes", "sha256", "media_type", "by"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub name: String,
    pub bytes: u64,
    /// 64 lowercase hex digits.
    pub sha256: String,
    pub media_type: String,
    /// The id of the person who announced it.
    pub by: i64,
}

/// Keeps the announcement of upload `id`.
pub async fn write(state: &AppState, id: &UploadId, announcement: &Announcement) -> AppResult<()> {
    let json = serde_json::to_vec(announcement).map_err(crate::error::AppError::internal)?;
    state
        .blob
        .put(
            &BlobKey::upload_meta(id),
            Bytes::from(json),
            "application/json",
        )
        .await?;
    Ok(())
}

/// The announcement of upload `id`, if there was one.
pub async fn read(state: &AppState, id: &UploadId) -> AppResult<Option<Announcement>> {
    match state
        .blob
        .read_all(&BlobKey::upload_meta(id), MAX_BYTES)
        .await
    {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(BlobError::NotFound(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
