//! What the worker checks now and then, beside its tasks: active runs
//! with the executor (the sweep), runs waiting too long, image syncs that
//! are due, and AWS Batch's job state change events.

use std::time::Instant;

use chrono::Utc;
use modelrun_core::diagnosis::Diagnosis;
use modelrun_core::error_chain;
use modelrun_core::executor::JobRequest;
use modelrun_core::run::Transitioned;
use modelrun_core::status::RunStatus;
use modelrun_core::task::{Job, SyncImages};

use super::Worker;
use crate::WorkerError;

impl Worker {
    /// Records what a "Batch Job State Change" event says. `None` when the
    /// event is not about one of this installation's runs.
    pub async fn handle_batch_event(
        &self,
        event: &serde_json::Value,
    ) -> Result<Option<Transitioned>, WorkerError> {
        use crate::executor::batch::events;
        let name = events::job_name(event).unwrap_or_default();
        let (run, report) = if let Some(report) = events::report(event) {
            let Some(run) = self.services.store.run(report.run_id).await? else {
                return Ok(None);
            };
            // A job without the run's own key belongs to someone else:
            // another installation's run with this id.
            if !JobRequest::is_job_of(name, &run) {
                return Ok(None);
            }
            (run, report)
        } else if let Some((sweep, index, mut report)) = events::sweep_child(event) {
            let store = &self.services.store;
            // Likewise a sweep's job carries the sweep's own key.
            let ours = store
                .sweep(sweep)
                .await?
                .is_some_and(|s| s.job_name() == name);
            let Some(run_id) = store.sweep_run_at(sweep, index).await?.filter(|_| ours) else {
                return Ok(None);
            };
            let Some(run) = store.run(run_id).await? else {
                return Ok(None);
            };
            report.run_id = run.id;
            (run, report)
        } else {
            return Ok(None);
        };
        // Another job than the run's is not about this run.
        if run
            .job_id
            .as_deref()
            .is_some_and(|known| known != report.job_id)
        {
            return Ok(None);
        }
        let report = self.services.executor.explain_failure(&run, report).await;
        Ok(Some(self.services.recorder.report(report).await?))
    }

    /// Queues an image sync if a registry is configured and the last one
    /// was queued more than `image_sync_interval` ago.
    async fn sync_images_when_due(&self) -> Result<(), WorkerError> {
        if self.services.registry.is_none() {
            return Ok(());
        }
        let due = {
            let mut last = self
                .last_sync
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= self.config.image_sync_interval);
            if due {
                *last = Some(Instant::now());
            }
            due
        };
        if due {
            self.services.store.enqueue(SyncImages {}.task()).await?;
        }
        Ok(())
    }

    /// Asks the executor about every run it should have, and records what
    /// it says. Returns how many runs were checked.
    pub async fn sweep(&self) -> Result<usize, WorkerError> {
        self.sync_images_when_due().await?;
        let runs: Vec<_> = self
            .services
            .store
            .active_runs()
            .await?
            .into_iter()
            .filter(|run| {
                run.job_id.is_some()
                    && !matches!(run.status, RunStatus::Queued | RunStatus::Dispatching)
            })
            .collect();
        // Asked even with no active run: the executor tidies what ended
        // runs left behind (a local worker that died after recording one).
        for report in self.services.executor.describe(&runs).await? {
            let run_id = report.run_id;
            let report = match runs.iter().find(|run| run.id == run_id) {
                Some(run) if report.repeats(run) => continue,
                Some(run) => self.services.executor.explain_failure(run, report).await,
                None => report,
            };
            if let Err(error) = self.services.recorder.report(report).await {
                tracing::warn!(%run_id, error = %error_chain(&error), "sweep could not record a report");
            }
        }
        // After the executor's news: a run that has just started is not waiting.
        self.diagnose_waiting().await?;
        // Rate-limit counters whose window has ended count nothing.
        self.services.store.purge_limits(Utc::now()).await?;
        Ok(runs.len())
    }

    /// Runs that have waited in `runnable` or `starting` longer than
    /// `stuck_after` get a diagnosis in their history, and the
    /// administrators an email: once per run and status. The sweep calls
    /// this after recording what the executor reports.
    pub async fn diagnose_waiting(&self) -> Result<(), WorkerError> {
        let now = Utc::now();
        let threshold = chrono::Duration::from_std(self.config.stuck_after)
            .map_err(|error| WorkerError::Internal(format!("stuck_after out of range: {error}")))?;
        let waiting = self
            .services
            .store
            .active_runs()
            .await?
            .into_iter()
            .filter(|run| {
                matches!(run.status, RunStatus::Runnable | RunStatus::Starting)
                    && now - run.updated_at > threshold
            });
        for run in waiting {
            let events = self.services.store.run_events(run.id).await?;
            if Diagnosis::latest(&events, run.status).is_some() {
                continue;
            }
            match self.services.executor.diagnose(&run).await {
                Ok(diagnosis) => {
                    let minutes = (now - run.updated_at).num_minutes();
                    self.services
                        .recorder
                        .stuck(&run, &diagnosis, minutes)
                        .await?;
                }
                Err(error) => {
                    tracing::warn!(run_id = %run.id, %error, "could not diagnose a waiting run")
                }
            }
        }
        Ok(())
    }
}
