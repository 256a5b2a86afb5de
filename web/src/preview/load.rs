//! Reading the start of an output for a preview.

use futures_util::StreamExt;
use modelrun_core::blob::{BlobError, BlobKey};
use modelrun_core::ids::RunId;

use crate::state::AppState;

/// The first `max` bytes of an output, and whether there is more.
pub async fn head(
    state: &AppState,
    run: RunId,
    name: &str,
    max: usize,
) -> Result<(Vec<u8>, bool), BlobError> {
    let key = BlobKey::run_output(run, name)?;
    let mut blob = state.blob.get(&key).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = blob.body.next().await {
        let chunk = chunk.map_err(BlobError::Io)?;
        let room = max - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok((bytes, true));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, false))
}
