//! `build_sweep_archive`: builds an ended sweep's archive (every run's
//! outputs in one zip) into the blob store (`crate::sweep_archive`).
//! Idempotent: an archive already stored is left as it is.

use async_trait::async_trait;
use modelrun_core::sweep::BuildSweepArchive;

use super::{Handler, TaskError};
use crate::Services;
use crate::sweep_archive::{ArchiveError, Parts, build};

#[async_trait]
impl Handler for BuildSweepArchive {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let parts = Parts {
            store: services.store.clone(),
            blob: services.blob.clone(),
        };
        match build(&parts, self.sweep_id).await {
            Ok(key) => {
                tracing::info!(sweep_id = %self.sweep_id, %key, "stored the sweep's archive");
                Ok(())
            }
            Err(error) => Err(match error {
                ArchiveError::Store(error) => error.into(),
                ArchiveError::Blob(error) => error.into(),
                ArchiveError::Io(_) => TaskError::Retry(modelrun_core::error_chain(&error)),
                other => TaskError::Fatal(other.to_string()),
            }),
        }
    }
}
