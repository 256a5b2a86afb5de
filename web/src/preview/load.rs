//! Reading the start of a file for a preview.

use modelrun_core::blob::{BlobError, BlobKey};

use crate::state::AppState;

/// The first `max` bytes of a stored file (an output, an input file), and
/// whether there is more.
pub async fn head(
    state: &AppState,
    key: &BlobKey,
    max: usize,
) -> Result<(Vec<u8>, bool), BlobError> {
    state.blob.read_head(key, max).await
}
