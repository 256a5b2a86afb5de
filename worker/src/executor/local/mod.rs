//! The local executor: runs a version's command as a process on this
//! machine, following the container contract.
//!
//! Each run gets a fresh working directory, `<data>/work/<run id>/`, with a
//! copy of the version's files (`model/`, the process's working directory),
//! `inputs.json` and an empty `outputs/`. The process sees only the contract
//! variables and a minimal environment (never modelrun's own secrets). Its
//! stdout and stderr go to `<data>/logs/<run id>-<run key>.log`. At most
//! `max_concurrent_runs` processes run at once; the others wait in
//! `runnable`. The version's timeout is enforced by stopping the whole
//! process group.
//!
//! Each worker process runs its own jobs; a job id names its process
//! (`modelrun-run-42-<key>@host:pid`). Each job keeps a journal beside its
//! working directory, from which a sweep recovers the runs of processes
//! on this host that died (see [`recover`]); runs of live neighbours are
//! theirs to report.

mod conclude;
mod job;
mod journal;
mod log_file;
mod owner;
mod paths;
mod process;
mod recover;
mod sandbox;
mod setup;
mod sweep;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use modelrun_core::blob::BlobStore;
use modelrun_core::config::{DiskWatch, LocalExecutorConfig};
use modelrun_core::diagnosis::{Cause, Diagnosis, Findings};
use modelrun_core::environment::{EnvironmentError, EnvironmentSpec};
use modelrun_core::executor::{
    Executor, ExecutorError, JobReport, JobRequest, LogPage, LogTail, Submitted,
};
use modelrun_core::ids::RunId;
use modelrun_core::intake::Intake;
use modelrun_core::model::{ModelVersion, Runtime};
use modelrun_core::model_secrets::SecretVault;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;

pub use self::job::GIVE_WAY;
use self::journal::Journals;
use self::owner::{Owner, Whose};
use self::paths::{absolute, snapshot_dir};
pub use self::sandbox::{Boundary, BuildSandbox};
use crate::environments::LocalEnvironments;
use crate::recorder::Recorder;

/// Why a job is asked to stop.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    /// A person cancelled the run.
    Cancel(String),
    /// modelrun is shutting down.
    Shutdown,
}

/// What the executor knows of one job.
#[derive(Debug)]
struct JobEntry {
    job_id: String,
    /// What the job last reported: `submitted` until it waits for a slot
    /// (`runnable`) or starts.
    status: RunStatus,
    /// Set once the job ended, until its end is recorded.
    ended: Option<JobReport>,
    stop: watch::Sender<Option<Stop>>,
    /// Set once the dispatcher recorded the run's `submitted`: the job
    /// reports nothing before (see [`Executor::submission_recorded`]).
    recorded: watch::Sender<bool>,
}

#[derive(Debug)]
struct Inner {
    config: LocalExecutorConfig,
    owner: Owner,
    slots: Arc<Semaphore>,
    jobs: Mutex<HashMap<RunId, JobEntry>>,
    blob: Arc<dyn BlobStore>,
    recorder: Recorder,
    tracker: TaskTracker,
    environments: LocalEnvironments,
    /// Where the values of the models' secrets are.
    vault: Arc<dyn SecretVault>,
    /// How runs are contained.
    boundary: Boundary,
    /// Each job's steps, for recovery after a crash.
    journals: Journals,
    /// Submits being answered in this process, which starts give way to.
    intake: Intake,
}

/// Runs versions as local processes.
#[derive(Debug, Clone)]
pub struct LocalExecutor {
    inner: Arc<Inner>,
}

impl LocalExecutor {
    /// A relative `config.data_dir` is made absolute against the working
    /// directory now: every path a model process is given must be absolute,
    /// since it runs in a directory of its own.
    ///
    /// Whether runs execute in a sandbox is decided here, once
    /// ([`Boundary::detect`]); with `SandboxMode::Required` and no way to
    /// make one, the executor is refused, saying why.
    ///
    /// A model starts once `intake` counts no submit being answered, or
    /// after [`GIVE_WAY`] (see [`modelrun_core::intake`]); give it the web
    /// app's when both run in this process, a fresh one otherwise.
    pub fn new(
        mut config: LocalExecutorConfig,
        blob: Arc<dyn BlobStore>,
        recorder: Recorder,
        vault: Arc<dyn SecretVault>,
        intake: Intake,
    ) -> Result<Self, String> {
        config.data_dir = absolute(config.data_dir);
        config.environments.root = absolute(config.environments.root);
        let boundary = Boundary::detect(config.sandbox, &config.search_path)?;
        let slots = Arc::new(Semaphore::new(config.max_concurrent_runs.max(1)));
        let build_sandbox = match &boundary {
            Boundary::Sandbox { bwrap } => Some(BuildSandbox {
                bwrap: bwrap.clone(),
                data_dir: config.data_dir.clone(),
            }),
            Boundary::Unconfined { .. } => None,
        };
        Ok(LocalExecutor {
            inner: Arc::new(Inner {
                journals: Journals::new(config.data_dir.join("work")),
                boundary,
                environments: LocalEnvironments::new(config.environments.clone())
                    .sandboxed(build_sandbox),
                vault,
                config,
                owner: Owner::current(),
                slots,
                jobs: Mutex::new(HashMap::new()),
                blob,
                recorder,
                tracker: TaskTracker::new(),
                intake,
            }),
        })
    }

    /// How runs are contained here.
    pub fn boundary(&self) -> &Boundary {
        &self.inner.boundary
    }

    /// Jobs that have not finished.
    pub fn active_jobs(&self) -> usize {
        self.inner
            .jobs()
            .values()
            .filter(|job| job.ended.is_none())
            .count()
    }

    /// Stops every job (each run ends `failed`, saying modelrun stopped) and
    /// waits for them to record it.
    pub async fn shutdown(&self) {
        for job in self.inner.jobs().values() {
            job.stop.send_replace(Some(Stop::Shutdown));
        }
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
    }

    fn log_path(&self, run: &Run) -> PathBuf {
        self.inner.log_path(run.id, run.job_key.as_deref())
    }
}

/// A run's log file, relative to the data directory (see
/// [`Inner::log_path`]).
fn log_name(run: RunId, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("logs/{run}-{key}.log"),
        None => format!("logs/{run}.log"),
    }
}

impl Inner {
    fn jobs(&self) -> MutexGuard<'_, HashMap<RunId, JobEntry>> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `logs/<id>-<key>.log`: the run's own key keeps another database's
    /// run with this id (the data directory kept through a reset or a
    /// restore) from sharing its log; `logs/<id>.log` for a run made before
    /// runs had keys.
    fn log_path(&self, run: RunId, key: Option<&str>) -> PathBuf {
        self.config.data_dir.join(log_name(run, key))
    }

    /// Where a version's snapshot is: see [`snapshot_dir`].
    fn snapshot_dir(&self, recorded: &str) -> Result<PathBuf, String> {
        snapshot_dir(&self.config.data_dir, recorded)
    }

    fn work_dir(&self, run: RunId) -> PathBuf {
        self.config.data_dir.join("work").join(run.to_string())
    }

    /// Removes a run's working directory, if it has one.
    async fn remove_work_dir(&self, run: RunId) {
        let work = self.work_dir(run);
        match tokio::fs::remove_dir_all(&work).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(run_id = %run, %error, "could not remove the working directory {}", work.display());
            }
        }
    }

    /// Words for a run's reason when the data directory's disk is full
    /// (less than [`DiskWatch::FULL_BELOW_BYTES`] free); `None` otherwise.
    fn disk_full(&self) -> Option<String> {
        let stat = rustix::fs::statvfs(&self.config.data_dir).ok()?;
        let free = stat.f_bavail.saturating_mul(stat.f_frsize);
        (free < DiskWatch::FULL_BELOW_BYTES).then(|| {
            format!(
                "the disk of the data directory {} is full (no space left on device)",
                self.config.data_dir.display()
            )
        })
    }
}

#[async_trait]
impl Executor for LocalExecutor {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn runs_at_once(&self) -> Option<usize> {
        Some(self.inner.config.max_concurrent_runs.max(1))
    }

    async fn submit(&self, request: &JobRequest) -> Result<Submitted, ExecutorError> {
        let Runtime::Local { command, dir } = &request.runtime else {
            return Err(ExecutorError::Refused(
                "this version is a container image; the local executor runs local versions \
                 (registered with `modelrun models register`)"
                    .to_owned(),
            ));
        };
        let mut jobs = self.inner.jobs();
        if let Some(existing) = jobs.get(&request.run_id) {
            return Ok(Submitted {
                job_id: existing.job_id.clone(),
                existing: true,
            });
        }
        let job_id = self.inner.owner.job_id(&request.name);
        let (stop, stopped) = watch::channel(None);
        let (recorded, submission) = watch::channel(false);
        jobs.insert(
            request.run_id,
            JobEntry {
                job_id: job_id.clone(),
                status: RunStatus::Submitted,
                ended: None,
                stop,
                recorded,
            },
        );
        drop(jobs);
        let model_dir = self.inner.snapshot_dir(dir);
        let spec = job::Spec {
            job_id: job_id.clone(),
            request: request.clone(),
            command: command.clone(),
            model_dir,
            submission,
        };
        self.inner
            .tracker
            .spawn(job::run(self.inner.clone(), spec, stopped));
        Ok(Submitted {
            job_id,
            existing: false,
        })
    }

    fn submission_recorded(&self, run: RunId) {
        if let Some(job) = self.inner.jobs().get(&run) {
            job.recorded.send_replace(true);
        }
    }

    fn containment_warning(&self) -> Option<String> {
        (!self.inner.boundary.is_sandboxed()).then(|| self.inner.boundary.describe())
    }

    async fn prepare_environment(
        &self,
        spec: &EnvironmentSpec,
    ) -> Result<String, EnvironmentError> {
        self.inner.environments.build(spec).await
    }

    async fn prepare_version(
        &self,
        _version: &ModelVersion,
    ) -> Result<Option<String>, ExecutorError> {
        // A local version is its snapshot: nothing to prepare.
        Ok(None)
    }

    async fn diagnose(&self, run: &Run) -> Result<Diagnosis, ExecutorError> {
        let slots = self.inner.config.max_concurrent_runs.max(1);
        let busy = slots - self.inner.slots.available_permits();
        let waiting = self
            .inner
            .jobs()
            .values()
            .filter(|job| job.ended.is_none() && job.status == RunStatus::Runnable)
            .count();
        let known = self.inner.jobs().contains_key(&run.id);
        let mut summary = format!(
            "{busy} of {slots} run slots on this machine are busy, and {waiting} {} for one",
            if waiting == 1 {
                "run waits"
            } else {
                "runs wait"
            }
        );
        if let Some(full) = self.inner.disk_full() {
            summary = format!("{full}: runs wait for space before they start; {summary}");
        }
        Ok(Diagnosis {
            summary,
            findings: Findings::Local {
                slots,
                busy,
                waiting,
                job_known: known,
            },
            causes: vec![
                Cause::new(
                    "Every run slot is taken",
                    "Wait for the running runs to end, or start modelrun with a higher \
                     --max-concurrent-runs (MODELRUN_MAX_CONCURRENT_RUNS) if the machine has room.",
                ),
                Cause::new(
                    "A run holds its slot for long",
                    "Look at the running runs of this machine; cancel one that no longer makes \
                     progress.",
                ),
            ],
            checks: Vec::new(),
        })
    }

    async fn describe(&self, runs: &[Run]) -> Result<Vec<JobReport>, ExecutorError> {
        Ok(sweep::describe(&self.inner, runs).await)
    }

    async fn cancel(&self, run: &Run, reason: &str) -> Result<bool, ExecutorError> {
        if let Some(job) = self.inner.jobs().get(&run.id)
            && job.ended.is_none()
        {
            job.stop.send_replace(Some(Stop::Cancel(reason.to_owned())));
            return Ok(true);
        }
        // A job of another worker process is stopped by that process's
        // sweep, which sees the run `cancelling`.
        let owned_elsewhere = run
            .job_id
            .as_deref()
            .map(|id| self.inner.owner.whose(id))
            .is_some_and(|whose| matches!(whose, Whose::LiveNeighbour | Whose::Elsewhere));
        Ok(owned_elsewhere)
    }

    async fn log(&self, run: &Run, cursor: Option<&str>) -> Result<LogPage, ExecutorError> {
        let ended = run.status.is_terminal();
        log_file::page(&self.log_path(run), cursor, ended).await
    }

    async fn log_tail(&self, run: &Run, max_bytes: usize) -> Result<LogTail, ExecutorError> {
        let ended = run.status.is_terminal();
        log_file::tail(&self.log_path(run), max_bytes, ended).await
    }
}
