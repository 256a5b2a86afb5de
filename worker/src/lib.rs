//! The worker: it claims durable tasks and runs them, and keeps runs in step
//! with their executor. Also here: the executors, blob stores and mailers
//! that the worker drives, and local model registration.

pub mod aws;
pub mod blob;
pub mod bundle;
pub mod ecr;
pub mod environments;
pub mod exec;
pub mod executor;
mod files;
mod input_files;
pub mod kick;
pub mod lambda;
mod log_pipe;
pub mod mail;
pub mod outputs_zip;
pub mod preflight;
mod progress_feed;
mod recorder;
pub mod register;
mod runner;
pub mod secrets;
pub mod sweep_archive;
mod tasks;
mod transitions;
mod zip_files;

use std::sync::Arc;

use modelrun_core::blob::{BlobError, BlobStore};
use modelrun_core::executor::{Executor, ExecutorError};
use modelrun_core::mailer::{MailError, Mailer};
use modelrun_core::registry::Registry;
use modelrun_core::store::{Store, StoreError};

pub use recorder::Recorder;
pub use runner::{TaskOutcome, Worker};
pub use tasks::schedules::Fires;

/// Everything the worker's handlers use.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub blob: Arc<dyn BlobStore>,
    pub executor: Arc<dyn Executor>,
    pub mailer: Arc<dyn Mailer>,
    /// Where model images are pushed, when versions come from images.
    pub registry: Option<Arc<dyn Registry>>,
    pub recorder: Recorder,
    /// What starts give way to ([`modelrun_core::intake`]): the local
    /// executor's, in `modelrun up`; a fresh one elsewhere.
    pub intake: modelrun_core::intake::Intake,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Executor(#[from] ExecutorError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("{0}")]
    Internal(String),
}
