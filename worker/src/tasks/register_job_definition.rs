//! `register_job_definition`: prepares the executor for a new version (on
//! AWS Batch, registers its job definition) and keeps what it returns with
//! the version. Idempotent: a version that has one is left alone.

use modelrun_core::task::VersionPayload;

use super::TaskError;
use crate::Services;
use crate::tasks::dispatch_run::prepare;

pub(super) async fn run(services: &Services, payload: VersionPayload) -> Result<(), TaskError> {
    let Some(version) = services.store.version(payload.version_id).await? else {
        return Err(TaskError::Fatal(format!(
            "version {} does not exist",
            payload.version_id
        )));
    };
    prepare(services, version).await?;
    Ok(())
}
