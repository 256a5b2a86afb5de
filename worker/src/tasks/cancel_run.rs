//! `cancel_run`: asks the executor to stop a run that a person cancelled.
//! The run is already `cancelling`; it becomes `cancelled` when the job
//! reports its end, or at once when it never reached the executor.

use async_trait::async_trait;
use modelrun_core::status::RunStatus;
use modelrun_core::task::CancelRun;
use serde_json::json;

use super::{Handler, TaskError};
use crate::{Services, WorkerError};

#[async_trait]
impl Handler for CancelRun {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let payload = self;
        let Some(run) = services.store.run(payload.run_id).await? else {
            return Err(TaskError::Fatal(format!(
                "run {} does not exist",
                payload.run_id
            )));
        };
        if run.status != RunStatus::Cancelling {
            return Ok(());
        }
        let by = payload.by.as_deref().unwrap_or("an administrator");
        let reason = format!("cancelled by {by}");
        let stopping = services.executor.cancel(&run, &reason).await?;
        if !stopping {
            services
                .recorder
                .end(&run, RunStatus::Cancelled, &reason)
                .await?;
        }
        Ok(())
    }

    async fn on_dead(self, services: &Services, error: &str) -> Result<(), WorkerError> {
        let payload = self;
        services
            .store
            .add_fact(
                payload.run_id,
                &format!("could not cancel the run: {error}"),
                json!({ "error": error }),
            )
            .await?;
        Ok(())
    }
}
