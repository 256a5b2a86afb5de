//! The worker loop: claim due tasks, run them, record the outcome; check
//! active runs with the executor now and then. Tests drive the same code
//! one step at a time with [`Worker::run_one`] and [`Worker::drain`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use modelrun_core::config::WorkerConfig;
use modelrun_core::error_chain;
use modelrun_core::ids::TaskId;
use modelrun_core::store::StoreError;
use modelrun_core::task::{Claimed, Failure, TaskKind, backoff};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::kick::LocalKicker;
use crate::tasks::{self, TaskError};
use crate::{Services, WorkerError};

mod checks;

/// What became of one task.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    Done {
        task: TaskId,
        kind: TaskKind,
    },
    Retrying {
        task: TaskId,
        kind: TaskKind,
        error: String,
    },
    Dead {
        task: TaskId,
        kind: TaskKind,
        error: String,
    },
    /// The lease expired while the handler ran; another worker has the task.
    LeaseLost {
        task: TaskId,
        kind: TaskKind,
    },
    /// What the task needs is not there yet; it is due again later, and the
    /// wait counts as no attempt.
    Waiting {
        task: TaskId,
        kind: TaskKind,
        why: String,
    },
}

#[derive(Debug)]
pub struct Worker {
    services: Services,
    config: WorkerConfig,
    /// When the sweep last queued an image sync.
    last_sync: std::sync::Mutex<Option<Instant>>,
}

impl Worker {
    pub fn new(services: Services, config: WorkerConfig) -> Self {
        Worker {
            services,
            config,
            last_sync: std::sync::Mutex::new(None),
        }
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Fires the schedules due now: a run per due schedule, once per slot
    /// however many workers fire it (see `tasks/schedules.rs`).
    pub async fn fire_schedules(&self) -> Result<crate::Fires, WorkerError> {
        crate::tasks::schedules::fire_due(&self.services, Utc::now()).await
    }

    /// Claims and runs one due task; `None` when nothing is due.
    pub async fn run_one(&self) -> Result<Option<TaskOutcome>, WorkerError> {
        let Some(claimed) = self.claim().await? else {
            return Ok(None);
        };
        Ok(Some(self.process(claimed).await?))
    }

    /// Runs due tasks until none is left; returns how many ran.
    pub async fn run_due(&self) -> Result<usize, WorkerError> {
        let mut ran = 0;
        while self.run_one().await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    /// Runs due tasks until none is left or `deadline` comes near (an AWS
    /// Lambda invocation's end). A task still running [`DEADLINE_MARGIN`]
    /// before the deadline is stopped and given back, uncounted, for the
    /// next invocation to run: released, not abandoned.
    pub async fn run_due_until(&self, deadline: Instant) -> Result<usize, WorkerError> {
        let mut ran = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left <= DEADLINE_MARGIN {
                break;
            }
            let Some(claimed) = self.claim().await? else {
                break;
            };
            match tokio::time::timeout(left - DEADLINE_MARGIN, self.process(claimed.clone())).await
            {
                Ok(outcome) => {
                    outcome?;
                    ran += 1;
                }
                Err(_) => {
                    let task = claimed.task.id;
                    tracing::warn!(%task, "out of time: the task is given back for the next invocation");
                    self.give_back(&claimed).await;
                    break;
                }
            }
        }
        Ok(ran)
    }

    /// Runs tasks until no run is active and no task is due, or fails after
    /// `timeout` naming what is still active.
    pub async fn drain(&self, timeout: Duration) -> Result<(), WorkerError> {
        let deadline = Instant::now() + timeout;
        loop {
            let active = self.services.store.active_runs().await?;
            let ran = self.run_due().await?;
            if active.is_empty() && ran == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                let ids: Vec<String> = active
                    .iter()
                    .map(|run| format!("{} ({})", run.id, run.status))
                    .collect();
                return Err(WorkerError::Internal(format!(
                    "runs still active after {timeout:?}: {}",
                    ids.join(", ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn process(&self, claimed: Claimed) -> Result<TaskOutcome, WorkerError> {
        let task = &claimed.task;
        let (id, kind) = (task.id, task.kind);
        let span = tracing::info_span!("task", task_id = %id, kind = %kind, run_id = tracing::field::Empty);
        if let Some(run_id) = task.payload.get("run_id") {
            span.record("run_id", tracing::field::display(run_id));
        }
        async {
            let result = if task.attempts > task.max_attempts {
                Err(TaskError::Fatal(format!(
                    "gave up after {} attempts whose leases expired (the worker stopped or hung)",
                    task.max_attempts
                )))
            } else {
                self.handle_leased(&claimed).await
            };
            let store = &self.services.store;
            let recorded = match result {
                Ok(()) => store.complete(&claimed, Utc::now()).await.map(|()| TaskOutcome::Done { task: id, kind }),
                Err(TaskError::Wait { after, why }) => {
                    let until = Utc::now() + after;
                    tracing::info!(%why, wait_until = %until, "task waits");
                    store
                        .postpone(&claimed, until, Utc::now())
                        .await
                        .map(|()| TaskOutcome::Waiting { task: id, kind, why })
                }
                Err(TaskError::Retry(error)) if task.attempts < task.max_attempts => {
                    let at = Utc::now() + backoff(task.attempts, jitter());
                    tracing::warn!(attempt = task.attempts, %error, retry_at = %at, "task failed; will retry");
                    store
                        .fail(&claimed, &error, Failure::RetryAt(at), Utc::now())
                        .await
                        .map(|()| TaskOutcome::Retrying { task: id, kind, error })
                }
                Err(error) => {
                    let error = error.message().to_owned();
                    tracing::error!(attempt = task.attempts, %error, "task is dead");
                    tasks::on_dead(&self.services, task, &error).await?;
                    store
                        .fail(&claimed, &error, Failure::Dead, Utc::now())
                        .await
                        .map(|()| TaskOutcome::Dead { task: id, kind, error })
                }
            };
            match recorded {
                Err(StoreError::LeaseLost(_)) => {
                    tracing::warn!("lease expired while the task ran; another worker took it");
                    Ok(TaskOutcome::LeaseLost { task: id, kind })
                }
                other => Ok(other?),
            }
        }
        .instrument(span)
        .await
    }

    /// Runs a task's handler, extending its lease every third of the lease
    /// while the handler is at work, so that a long task (an environment's
    /// build) is not taken over by another worker while this one lives.
    async fn handle_leased(&self, claimed: &Claimed) -> Result<(), TaskError> {
        let lease = chrono::Duration::from_std(self.config.lease)
            .map_err(|error| TaskError::Fatal(format!("lease out of range: {error}")))?;
        let handler = tasks::handle(&self.services, &claimed.task);
        tokio::pin!(handler);
        loop {
            tokio::select! {
                result = &mut handler => return result,
                () = tokio::time::sleep(self.config.lease / 3) => {
                    let until = Utc::now() + lease;
                    if let Err(error) = self.services.store.extend_lease(claimed, until).await {
                        tracing::warn!(%error, "could not extend the task's lease");
                    }
                }
            }
        }
    }

    /// Says how many runs execute at once, the number people ask about,
    /// beside the tasks (dispatches, emails, checks) handled at once.
    fn log_start(&self) {
        let executor = self.services.executor.kind();
        let tasks_at_once = self.config.concurrency;
        let environment_builds = self.config.environment_builds;
        match self.services.executor.runs_at_once() {
            Some(runs_at_once) => tracing::info!(
                executor,
                runs_at_once,
                tasks_at_once,
                environment_builds,
                "worker started: {runs_at_once} {} at once (--max-concurrent-runs), \
                 the others wait in runnable",
                if runs_at_once == 1 { "run" } else { "runs" }
            ),
            None => tracing::info!(
                executor,
                tasks_at_once,
                environment_builds,
                "worker started: runs execute on the {executor} executor, as many at once as its \
                 platform allows"
            ),
        }
    }

    /// Runs until `shutdown`: claims up to `concurrency` tasks at once, wakes
    /// on a kick or every `poll_interval`, sweeps every `sweep_interval`.
    /// On shutdown it stops claiming and waits for the tasks it holds.
    pub async fn run(self: Arc<Self>, wake: LocalKicker, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency.max(1)));
        let builds = Arc::new(Semaphore::new(self.config.environment_builds.max(1)));
        let tracker = TaskTracker::new();
        let mut next_sweep = Instant::now();
        let mut next_schedules = Instant::now();
        self.log_start();
        while !shutdown.is_cancelled() {
            // As many due tasks as there are free slots, in one claim.
            loop {
                let free = slots.available_permits();
                if free == 0 {
                    break;
                }
                let claimed = match self.claim_many(free).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        tracing::error!(error = %error_chain(&error), "could not claim tasks");
                        break;
                    }
                };
                let all_due = claimed.len() < free;
                for claimed in claimed {
                    // Only this loop takes slots: the ones counted are free.
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        self.give_back(&claimed).await;
                        continue;
                    };
                    let slot = if claimed.task.kind.is_long() {
                        // A long task takes a build slot and gives its
                        // slot back, or waits its turn.
                        let Ok(build) = builds.clone().try_acquire_owned() else {
                            self.wait_for_a_build_slot(&claimed).await;
                            continue;
                        };
                        build
                    } else {
                        slot
                    };
                    let (worker, wake) = (self.clone(), wake.clone());
                    tracker.spawn(async move {
                        if let Err(error) = worker.process(claimed).await {
                            tracing::error!(error = %error_chain(&error), "could not record a task's outcome");
                        }
                        drop(slot);
                        // A slot is free: look for more work at once.
                        wake.wake();
                    });
                }
                if all_due {
                    break;
                }
            }
            if Instant::now() >= next_schedules {
                match self.fire_schedules().await {
                    // New runs: claim their dispatch tasks at once.
                    Ok(fires) if !fires.runs.is_empty() => wake.wake(),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(error = %error_chain(&error), "could not fire schedules")
                    }
                }
                next_schedules = Instant::now() + self.config.poll_interval;
            }
            if Instant::now() >= next_sweep {
                if let Err(error) = self.sweep().await {
                    tracing::error!(error = %error_chain(&error), "sweep failed");
                }
                next_sweep = Instant::now() + self.config.sweep_interval;
            }
            tokio::select! {
                () = wake.kicked() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
                () = shutdown.cancelled() => {}
            }
        }
        tracker.close();
        if tokio::time::timeout(self.config.lease, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "stopped waiting for running tasks; their leases will expire and they will run again"
            );
        }
        tracing::info!("worker stopped");
    }

    /// Gives a long task back until a build slot may be free, without
    /// counting the attempt.
    async fn wait_for_a_build_slot(&self, claimed: &Claimed) {
        let until = Utc::now()
            + chrono::Duration::from_std(self.config.poll_interval)
                .unwrap_or(chrono::Duration::seconds(2));
        if let Err(error) = self
            .services
            .store
            .postpone(claimed, until, Utc::now())
            .await
        {
            let task = claimed.task.id;
            tracing::warn!(%task, %error, "could not give the task back; its lease will expire");
        }
    }

    async fn claim(&self) -> Result<Option<Claimed>, WorkerError> {
        Ok(self.claim_many(1).await?.pop())
    }

    /// Up to `most` due tasks, leased in one statement.
    async fn claim_many(&self, most: usize) -> Result<Vec<Claimed>, WorkerError> {
        let lease = chrono::Duration::from_std(self.config.lease)
            .map_err(|error| WorkerError::Internal(format!("lease out of range: {error}")))?;
        let most = u32::try_from(most).unwrap_or(u32::MAX);
        Ok(self
            .services
            .store
            .claim_many(Utc::now(), lease, most)
            .await?)
    }

    /// Gives a claimed task back, uncounted, for the next claim.
    async fn give_back(&self, claimed: &Claimed) {
        if let Err(error) = self.services.store.release(claimed, Utc::now()).await {
            let task = claimed.task.id;
            tracing::warn!(%task, %error, "could not give the task back; its lease will expire");
        }
    }
}

/// How long before an invocation's deadline the worker stops a task.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// A number in [0, 1) to spread retries out.
fn jitter() -> f64 {
    getrandom::u32().map_or(0.5, |n| f64::from(n) / (f64::from(u32::MAX) + 1.0))
}
