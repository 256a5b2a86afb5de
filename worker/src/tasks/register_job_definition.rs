//! `register_job_definition`: prepares the executor for a new version (on
//! AWS Batch, registers its job definition) and keeps what it returns with
//! the version. Idempotent: a version that has one is left alone.

use async_trait::async_trait;
use modelrun_core::task::RegisterJobDefinition;

use super::{Handler, TaskError};
use crate::Services;
use crate::tasks::dispatch_run::prepare;

/// A dead registration needs nothing undone: the next dispatch of a run of
/// the version tries again.
#[async_trait]
impl Handler for RegisterJobDefinition {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let payload = self;
        let Some(version) = services.store.version(payload.version_id).await? else {
            return Err(TaskError::Fatal(format!(
                "version {} does not exist",
                payload.version_id
            )));
        };
        prepare(services, version).await?;
        Ok(())
    }
}
