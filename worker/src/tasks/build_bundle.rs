//! `build_bundle`: builds an ended run's reproducibility bundle into the
//! blob store (`crate::bundle`). Idempotent: a bundle already stored is
//! left as it is.

use async_trait::async_trait;
use modelrun_core::bundle::BuildBundle;

use super::{Handler, TaskError};
use crate::Services;
use crate::bundle::{BundleError, Parts, build};

#[async_trait]
impl Handler for BuildBundle {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let parts = Parts {
            store: services.store.clone(),
            blob: services.blob.clone(),
            executor: services.executor.clone(),
        };
        match build(&parts, self.run_id, &self.server_url).await {
            Ok(key) => {
                tracing::info!(run_id = %self.run_id, %key, "stored the run's bundle");
                Ok(())
            }
            Err(error) => Err(match error {
                BundleError::Store(error) => error.into(),
                BundleError::Blob(error) => error.into(),
                BundleError::Log(error) => error.into(),
                BundleError::Io(_) => TaskError::Retry(modelrun_core::error_chain(&error)),
                other => TaskError::Fatal(other.to_string()),
            }),
        }
    }
}
