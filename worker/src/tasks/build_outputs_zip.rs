//! `build_outputs_zip`: builds the zip of an ended run's outputs into the
//! blob store (`crate::outputs_zip`). Idempotent: a zip already stored is
//! left as it is.

use async_trait::async_trait;
use modelrun_core::outputs_zip::BuildOutputsZip;

use super::{Handler, TaskError};
use crate::Services;
use crate::outputs_zip::{OutputsZipError, build};

#[async_trait]
impl Handler for BuildOutputsZip {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        match build(services.store.as_ref(), &services.blob, self.run_id).await {
            Ok(key) => {
                tracing::info!(run_id = %self.run_id, %key, "stored the zip of the run's outputs");
                Ok(())
            }
            Err(error) => Err(match error {
                OutputsZipError::Store(error) => error.into(),
                OutputsZipError::Blob(error) => error.into(),
                OutputsZipError::Io(_) => TaskError::Retry(modelrun_core::error_chain(&error)),
                other => TaskError::Fatal(other.to_string()),
            }),
        }
    }
}
