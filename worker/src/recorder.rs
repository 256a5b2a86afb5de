//! From executor reports to recorded status changes. Every source of news
//! about a job (a local process, a Batch event, a poll) goes through
//! [`Recorder::report`], which builds one [`StatusChange`] and lets the store
//! decide whether it applies. A repeated or late report changes nothing.

use std::sync::Arc;

use modelrun_core::blob::{BlobKey, BlobStore};
use modelrun_core::diagnosis::Diagnosis;
use modelrun_core::executor::JobReport;
use modelrun_core::ids::RunId;
use modelrun_core::kick::Kicker;
use modelrun_core::progress::Progress;
use modelrun_core::run::{FollowUp, Run, RunOutput, StatusChange, Transitioned};
use modelrun_core::status::{Plan, RunStatus, plan, plan_attempt};
use modelrun_core::store::{Store, StoreError, StoreResult};
use modelrun_core::user::Role;
use serde_json::json;

use crate::WorkerError;
use crate::mail;
use crate::transitions::Transitions;

#[derive(Debug, Clone)]
pub struct Recorder {
    store: Arc<dyn Store>,
    /// Every status change the worker writes goes through here.
    transitions: Transitions,
    blob: Arc<dyn BlobStore>,
    kicker: Arc<dyn Kicker>,
    public_url: String,
}

impl Recorder {
    pub fn new(
        store: Arc<dyn Store>,
        blob: Arc<dyn BlobStore>,
        kicker: Arc<dyn Kicker>,
        public_url: impl Into<String>,
    ) -> Self {
        Recorder {
            transitions: Transitions::new(store.clone()),
            store,
            blob,
            kicker,
            public_url: public_url.into(),
        }
    }

    /// Emails a sweep's submitter that it ended ([`mail::sweep_finished`]),
    /// and wakes the worker to send it.
    pub async fn sweep_ended(
        &self,
        sweep: &modelrun_core::sweep::Sweep,
        tally: &modelrun_core::sweep::Tally,
    ) -> Result<(), WorkerError> {
        let email = mail::sweep_finished(sweep, tally, &self.public_url)
            .map_err(|error| WorkerError::Internal(format!("cannot render the email: {error}")))?;
        let queued = self.store.enqueue_email(email).await?;
        self.kicker.kick(&[queued.task]).await;
        Ok(())
    }

    /// Records the latest progress of a run's model. A failure is logged
    /// and otherwise ignored: progress is news, and the next report
    /// replaces it.
    pub async fn record_progress(&self, run: RunId, progress: &Progress) {
        if let Err(error) = self
            .store
            .record_progress(run, progress, chrono::Utc::now())
            .await
        {
            tracing::warn!(run_id = %run, %error, "could not record the run's progress");
        }
    }

    /// Records what an executor says about a run's job. A report with
    /// status `queued` asks for the run to be dispatched again (its job
    /// never started the model; see [`modelrun_core::executor::JobReport`]).
    pub async fn report(&self, report: JobReport) -> Result<Transitioned, WorkerError> {
        if report.status == RunStatus::Queued {
            let reason = report.reason.as_deref().unwrap_or("dispatched again");
            let outcome = self
                .store
                .requeue(report.run_id, &report.job_id, reason)
                .await?;
            if !outcome.tasks().is_empty() {
                self.kicker.kick(outcome.tasks()).await;
            }
            return Ok(outcome);
        }
        if !report.status.is_terminal() {
            // Progress on the way (`runnable`, `starting`, `running`): the
            // store's own plan decides, and the run is read only when the
            // report changed nothing but may name a new log stream.
            let outcome = self.apply(change_of(&report, report.status)).await?;
            if let Transitioned::Ignored(run) = &outcome {
                self.keep_log_stream(run, &report).await?;
            }
            return Ok(outcome);
        }
        let run = self
            .store
            .run(report.run_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        // A late report about a run that ended changes nothing; what a
        // report means otherwise is for the status machine to say: `failed`
        // while cancelling means `cancelled`, and the email must say the same.
        let planned = match run.status.is_terminal() {
            true => Plan::Ignore,
            false => match report.attempt {
                Some(attempt) => plan_attempt(run.status, run.attempt, report.status, attempt),
                None => plan(run.status, report.status),
            }
            .map_err(StoreError::from)?,
        };
        let Plan::Apply(status) = planned else {
            self.keep_log_stream(&run, &report).await?;
            return Ok(Transitioned::Ignored(Box::new(run)));
        };
        let mut change = change_of(&report, status);
        change.outputs = self.index_outputs(&run).await?;
        change.follow_ups.push(self.finished(&run, &change).await?);
        self.apply(change).await
    }

    /// A report that changed no status may still name a new log stream,
    /// which is worth keeping as a fact.
    async fn keep_log_stream(&self, run: &Run, report: &JobReport) -> Result<(), WorkerError> {
        if let Some(stream) = report
            .log_stream
            .as_ref()
            .filter(|s| run.log_stream.as_ref() != Some(*s))
        {
            let message = format!("log stream {stream}");
            self.store
                .add_fact(run.id, &message, json!({ "log_stream": stream }))
                .await?;
        }
        Ok(())
    }

    /// A run's status; `None` when there is no such run.
    pub async fn run_status(&self, run: RunId) -> Result<Option<RunStatus>, WorkerError> {
        Ok(self.store.run(run).await?.map(|run| run.status))
    }

    /// Ends a run from the worker's side (a dispatch that gave up, a cancel
    /// before the run reached the executor), emailing the submitter.
    pub async fn end(
        &self,
        run: &Run,
        status: RunStatus,
        reason: &str,
    ) -> Result<Transitioned, WorkerError> {
        let mut change = StatusChange::new(run.id, status).reason(reason);
        change.follow_ups.push(self.finished(run, &change).await?);
        self.apply(change).await
    }

    /// Records what a check found about a run that waits too long, and
    /// emails every administrator about it.
    pub async fn stuck(
        &self,
        run: &Run,
        diagnosis: &Diagnosis,
        minutes: i64,
    ) -> Result<(), WorkerError> {
        let message = format!(
            "{} for {}: {}",
            run.status,
            modelrun_core::words::count(minutes, "minute"),
            diagnosis.summary
        );
        self.store
            .add_fact(run.id, &message, diagnosis.fact(run.status))
            .await?;
        let mut tasks = Vec::new();
        for admin in self
            .store
            .list_users()
            .await?
            .iter()
            .filter(|u| u.role == Role::Admin)
        {
            let email = mail::run_stuck(run, diagnosis, minutes, &self.public_url, &admin.email)
                .map_err(|error| {
                    WorkerError::Internal(format!("cannot render the email: {error}"))
                })?;
            tasks.push(self.store.enqueue_email(email).await?.task);
        }
        if !tasks.is_empty() {
            self.kicker.kick(&tasks).await;
        }
        Ok(())
    }

    /// Writes a status change, with those that arrive meanwhile
    /// ([`Transitions`]).
    pub async fn transition(&self, change: StatusChange) -> StoreResult<Transitioned> {
        self.transitions.apply(change).await
    }

    async fn apply(&self, change: StatusChange) -> Result<Transitioned, WorkerError> {
        let outcome = self.transition(change).await?;
        if !outcome.tasks().is_empty() {
            self.kicker.kick(outcome.tasks()).await;
        }
        Ok(outcome)
    }

    /// What a run's end sets off: an email to its submitter, or for a run
    /// of a sweep a check whether the whole sweep ended (one email for the
    /// sweep, [`modelrun_core::sweep::NotifySweep`]).
    async fn finished(&self, run: &Run, change: &StatusChange) -> Result<FollowUp, WorkerError> {
        if let Some((sweep_id, _)) = self.store.run_sweep(run.id).await? {
            return Ok(FollowUp::Task(modelrun_core::task::Job::task(
                &modelrun_core::sweep::NotifySweep {
                    sweep_id,
                    run_id: run.id,
                },
            )));
        }
        self.finished_email(run, change)
    }

    fn finished_email(&self, run: &Run, change: &StatusChange) -> Result<FollowUp, WorkerError> {
        let mut ended = run.clone();
        ended.status = change.to;
        ended.status_reason = change.reason.clone();
        let email = mail::run_finished(&ended, &self.public_url).map_err(|error| {
            WorkerError::Internal(format!("cannot render the run email: {error}"))
        })?;
        Ok(FollowUp::Email(email))
    }

    /// The outputs of a run, from what its job left in the blob store.
    async fn index_outputs(&self, run: &Run) -> Result<Vec<RunOutput>, WorkerError> {
        let prefix = BlobKey::run_outputs(run.id);
        let objects = self.blob.list(&prefix).await?;
        Ok(objects
            .into_iter()
            .filter_map(|object| {
                let name = object.key.strip_prefix(&prefix)?.to_owned();
                let content_type = object.content_type.unwrap_or_else(|| {
                    mime_guess::from_path(&name)
                        .first_or_octet_stream()
                        .essence_str()
                        .to_owned()
                });
                Some(RunOutput {
                    size: i64::try_from(object.size).unwrap_or(i64::MAX),
                    content_type,
                    sha256: object.sha256,
                    name,
                })
            })
            .collect())
    }
}

/// The status change a report asks for, as `status`.
fn change_of(report: &JobReport, status: RunStatus) -> StatusChange {
    let mut change = StatusChange::new(report.run_id, status);
    change.reason = report.reason.clone();
    change.job_id = Some(report.job_id.clone());
    change.log_stream = report.log_stream.clone();
    change.attempt = report.attempt;
    if let Some(code) = report.exit_code {
        change = change.fact("exit_code", code);
    }
    if let Some(stream) = &report.log_stream {
        change = change.fact("log_stream", stream.as_str());
    }
    for (name, value) in &report.facts {
        change = change.fact(name, value.clone());
    }
    change
}
