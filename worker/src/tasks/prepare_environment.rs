//! `prepare_environment`: builds a model environment where runs execute,
//! and records how it went (`ready`, or `failed` with the installer's
//! output). Idempotent: building an environment that is built does nothing.
//! Runs that wait for the environment are dispatched by their own tasks,
//! which look again until it is ready.

use async_trait::async_trait;
use chrono::Utc;
use modelrun_core::environment::{EnvironmentError, EnvironmentStatus};
use modelrun_core::task::PrepareEnvironment;

use super::{Handler, TaskError};
use crate::{Services, WorkerError};

#[async_trait]
impl Handler for PrepareEnvironment {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        let store = &services.store;
        let Some(environment) = store.environment(&self.digest).await? else {
            return Err(TaskError::Fatal(format!(
                "environment {} does not exist",
                self.digest
            )));
        };
        let (status, log) = match services
            .executor
            .prepare_environment(&environment.spec)
            .await
        {
            Ok(log) => (EnvironmentStatus::Ready, log),
            Err(EnvironmentError::Failed { summary, log }) => {
                tracing::warn!(digest = %self.digest, %summary, "the environment failed to build");
                (EnvironmentStatus::Failed, format!("{summary}\n\n{log}"))
            }
            Err(EnvironmentError::Io(error)) => return Err(TaskError::Retry(error)),
        };
        store
            .finish_environment(&self.digest, status, log.trim(), Utc::now())
            .await?;
        Ok(())
    }

    /// The machine could not build it however often it tried: the
    /// environment is `failed`, and runs that wait for it fail with the reason.
    async fn on_dead(self, services: &Services, error: &str) -> Result<(), WorkerError> {
        services
            .store
            .finish_environment(&self.digest, EnvironmentStatus::Failed, error, Utc::now())
            .await?;
        Ok(())
    }
}
