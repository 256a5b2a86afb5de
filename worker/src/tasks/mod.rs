//! One handler per task kind. Every handler is idempotent: a task runs at
//! least once, so running it again after a crash must do no harm.

mod cancel_run;
mod dispatch_run;
mod register_job_definition;
mod send_email;
mod sync_images;

use modelrun_core::blob::BlobError;
use modelrun_core::error_chain;
use modelrun_core::executor::ExecutorError;
use modelrun_core::mailer::MailError;
use modelrun_core::store::StoreError;
use modelrun_core::task::{Task, TaskKind};
use serde::de::DeserializeOwned;

use crate::{Services, WorkerError};

/// Why a handler did not finish.
#[derive(Debug)]
pub(crate) enum TaskError {
    /// Worth another attempt, after a backoff.
    Retry(String),
    /// Another attempt cannot help.
    Fatal(String),
}

impl TaskError {
    pub(crate) fn message(&self) -> &str {
        match self {
            TaskError::Retry(message) | TaskError::Fatal(message) => message,
        }
    }
}

impl From<StoreError> for TaskError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound | StoreError::Corrupt(_) => TaskError::Fatal(error.to_string()),
            other => TaskError::Retry(error_chain(&other)),
        }
    }
}

impl From<ExecutorError> for TaskError {
    fn from(error: ExecutorError) -> Self {
        match error {
            ExecutorError::Unavailable(_) => TaskError::Retry(error.to_string()),
            ExecutorError::Refused(_) => TaskError::Fatal(error.to_string()),
        }
    }
}

impl From<MailError> for TaskError {
    fn from(error: MailError) -> Self {
        match error {
            MailError::Unavailable(_) => TaskError::Retry(error.to_string()),
            MailError::Refused(_) => TaskError::Fatal(error.to_string()),
        }
    }
}

impl From<modelrun_core::registry::RegistryError> for TaskError {
    fn from(error: modelrun_core::registry::RegistryError) -> Self {
        TaskError::Retry(error.to_string())
    }
}

impl From<BlobError> for TaskError {
    fn from(error: BlobError) -> Self {
        match error {
            BlobError::InvalidKey(_) | BlobError::TooLarge { .. } => {
                TaskError::Fatal(error.to_string())
            }
            other => TaskError::Retry(error_chain(&other)),
        }
    }
}

impl From<WorkerError> for TaskError {
    fn from(error: WorkerError) -> Self {
        match error {
            WorkerError::Store(error) => error.into(),
            WorkerError::Blob(error) => error.into(),
            WorkerError::Executor(error) => error.into(),
            WorkerError::Mail(error) => error.into(),
            WorkerError::Internal(message) => TaskError::Fatal(message),
        }
    }
}

fn payload<T: DeserializeOwned>(task: &Task) -> Result<T, TaskError> {
    serde_json::from_value(task.payload.clone())
        .map_err(|error| TaskError::Fatal(format!("invalid {} payload: {error}", task.kind)))
}

/// Runs a task's handler.
pub(crate) async fn handle(services: &Services, task: &Task) -> Result<(), TaskError> {
    match task.kind {
        TaskKind::DispatchRun => dispatch_run::run(services, payload(task)?).await,
        TaskKind::SendEmail => send_email::run(services, payload(task)?).await,
        TaskKind::CancelRun => cancel_run::run(services, payload(task)?).await,
        TaskKind::RegisterJobDefinition => {
            register_job_definition::run(services, payload(task)?).await
        }
        TaskKind::SyncImages => sync_images::run(services).await,
    }
}

/// What giving up on a task means for what it was about. A payload that
/// cannot be read names nothing to clean up.
pub(crate) async fn on_dead(
    services: &Services,
    task: &Task,
    error: &str,
) -> Result<(), WorkerError> {
    match task.kind {
        TaskKind::DispatchRun => {
            if let Ok(payload) = payload(task) {
                dispatch_run::on_dead(services, payload, error).await?;
            }
        }
        TaskKind::SendEmail => {
            if let Ok(payload) = payload(task) {
                send_email::on_dead(services, payload, error).await?;
            }
        }
        TaskKind::CancelRun => {
            if let Ok(payload) = payload(task) {
                cancel_run::on_dead(services, payload, error).await?;
            }
        }
        // The next dispatch of a run of the version tries again; the next
        // sync looks at every image again.
        TaskKind::RegisterJobDefinition | TaskKind::SyncImages => {}
    }
    Ok(())
}
