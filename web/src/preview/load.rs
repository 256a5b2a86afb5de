//! Reading the start of an output for a preview.

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
    state.blob.read_head(&key, max).await
}
