//! One handler per task kind, each in its own file, implemented on the
//! kind's job type from `modelrun_core::task`. Every handler is
//! idempotent: a task runs at least once, so running it again after a crash
//! must do no harm.

mod build_bundle;
mod build_outputs_zip;
mod build_sweep_archive;
mod cancel_run;
mod dispatch_run;
mod dispatch_sweep;
mod notify_sweep;
mod prepare_environment;
mod register_job_definition;
pub(crate) mod schedules;
mod send_email;
mod sync_images;

use modelrun_core::blob::BlobError;
use modelrun_core::error_chain;
use modelrun_core::executor::ExecutorError;
use modelrun_core::mailer::MailError;
use modelrun_core::store::StoreError;
use std::marker::PhantomData;

use async_trait::async_trait;
use modelrun_core::task::{
    CancelRun, DispatchRun, Job, PrepareEnvironment, RegisterJobDefinition, SendEmail, SyncImages,
    Task, TaskKind,
};

use crate::{Services, WorkerError};

/// Why a handler did not finish.
#[derive(Debug)]
pub(crate) enum TaskError {
    /// Worth another attempt, after a backoff.
    Retry(String),
    /// Another attempt cannot help.
    Fatal(String),
    /// What the task needs is not there yet (a run waits for its
    /// environment): due again `after`, counting no attempt.
    Wait {
        after: chrono::Duration,
        why: String,
    },
}

impl TaskError {
    pub(crate) fn message(&self) -> &str {
        match self {
            TaskError::Retry(message) | TaskError::Fatal(message) => message,
            TaskError::Wait { why, .. } => why,
        }
    }
}

impl From<StoreError> for TaskError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound | StoreError::Corrupt(_) | StoreError::Unstorable(_) => {
                TaskError::Fatal(error.to_string())
            }
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

/// A task kind's handler, implemented on its job (the payload) in the
/// kind's own file. Handlers are idempotent: a task runs at least once.
#[async_trait]
pub(crate) trait Handler: Job {
    /// Does the work.
    async fn run(self, services: &Services) -> Result<(), TaskError>;

    /// What giving up on the task means for what it was about; nothing by
    /// default.
    async fn on_dead(self, _services: &Services, _error: &str) -> Result<(), WorkerError> {
        Ok(())
    }
}

/// The handler of every kind: adding a kind is a file with its
/// [`Handler`] and one line here.
fn handler(kind: TaskKind) -> &'static dyn Erased {
    match kind {
        TaskKind::DispatchRun => &Typed::<DispatchRun>(PhantomData),
        TaskKind::SendEmail => &Typed::<SendEmail>(PhantomData),
        TaskKind::CancelRun => &Typed::<CancelRun>(PhantomData),
        TaskKind::RegisterJobDefinition => &Typed::<RegisterJobDefinition>(PhantomData),
        TaskKind::SyncImages => &Typed::<SyncImages>(PhantomData),
        TaskKind::PrepareEnvironment => &Typed::<PrepareEnvironment>(PhantomData),
        TaskKind::BuildBundle => &Typed::<modelrun_core::bundle::BuildBundle>(PhantomData),
        TaskKind::DispatchSweep => &Typed::<modelrun_core::sweep::DispatchSweep>(PhantomData),
        TaskKind::NotifySweep => &Typed::<modelrun_core::sweep::NotifySweep>(PhantomData),
        TaskKind::BuildSweepArchive => {
            &Typed::<modelrun_core::sweep::BuildSweepArchive>(PhantomData)
        }
        TaskKind::BuildOutputsZip => {
            &Typed::<modelrun_core::outputs_zip::BuildOutputsZip>(PhantomData)
        }
    }
}

/// Runs a task's handler.
pub(crate) async fn handle(services: &Services, task: &Task) -> Result<(), TaskError> {
    handler(task.kind).handle(services, task).await
}

/// What giving up on a task means for what it was about. A payload that
/// cannot be read names nothing to clean up.
pub(crate) async fn on_dead(
    services: &Services,
    task: &Task,
    error: &str,
) -> Result<(), WorkerError> {
    handler(task.kind).dead(services, task, error).await
}

/// A handler whose job type is read from the stored payload.
#[async_trait]
trait Erased: Sync {
    async fn handle(&self, services: &Services, task: &Task) -> Result<(), TaskError>;
    async fn dead(&self, services: &Services, task: &Task, error: &str) -> Result<(), WorkerError>;
}

struct Typed<J>(PhantomData<fn() -> J>);

#[async_trait]
impl<J: Handler> Erased for Typed<J> {
    async fn handle(&self, services: &Services, task: &Task) -> Result<(), TaskError> {
        payload::<J>(task)?.run(services).await
    }

    async fn dead(&self, services: &Services, task: &Task, error: &str) -> Result<(), WorkerError> {
        match payload::<J>(task) {
            Ok(job) => job.on_dead(services, error).await,
            Err(_) => Ok(()),
        }
    }
}

fn payload<J: Job>(task: &Task) -> Result<J, TaskError> {
    serde_json::from_value(task.payload.clone())
        .map_err(|error| TaskError::Fatal(format!("invalid {} payload: {error}", task.kind)))
}
