//! `notify_sweep`: emails a sweep's submitter once every run of it has
//! ended. Each run's end queues one ([`NotifySweep`]); the task that finds
//! every run ended and claims the sweep's notice sends the one message, so
//! two runs ending together still make one email.

use async_trait::async_trait;
use chrono::Utc;
use modelrun_core::sweep::{NotifySweep, Tally};

use super::{Handler, TaskError};
use crate::Services;

#[async_trait]
impl Handler for NotifySweep {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let store = &services.store;
        let Some(sweep) = store.sweep(self.sweep_id).await? else {
            return Err(TaskError::Fatal(format!(
                "sweep {} does not exist",
                self.sweep_id
            )));
        };
        let runs = store.sweep_runs(sweep.id).await?;
        if runs.iter().any(|run| !run.status.is_terminal()) {
            return Ok(());
        }
        if !store.claim_sweep_notice(sweep.id, Utc::now()).await? {
            return Ok(());
        }
        services
            .recorder
            .sweep_ended(&sweep, &Tally::of(&runs))
            .await?;
        Ok(())
    }
}
