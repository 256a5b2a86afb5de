//! The life of one local job: wait for a slot, prepare the working
//! directory, run the process, store the outputs, report the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use modelrun_core::executor::{JobReport, JobRequest};
use modelrun_core::ids::RunId;
use modelrun_core::status::RunStatus;
use modelrun_core::timeline::WAITING_FOR_SLOT;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::conclude::{SHUTDOWN, conclude, concluded, measured_outputs, note};
use super::journal::{Ended, Entry};
use super::process::{self, Outcome};
use super::setup::{contract_env, limits, prepare, secret_values, start};
use super::{Inner, Stop};
use crate::files;
use crate::{log_pipe, progress_feed};

/// The longest a model's start waits while submits are being answered in
/// this process ([`modelrun_core::intake`]): long enough for a burst of 50
/// on two cores to be answered (about 0.1 s), short against a run.
pub const GIVE_WAY: Duration = Duration::from_millis(500);

/// How long the log's copy may go on once the model's process group is gone.
const LOG_DRAIN: Duration = Duration::from_secs(5);

/// What one job runs.
pub(super) struct Spec {
    /// The job's id: its name and its owning process.
    pub job_id: String,
    pub request: JobRequest,
    pub command: Vec<String>,
    /// The version's snapshot, or why it cannot be used.
    pub model_dir: Result<PathBuf, String>,
    /// Turns `true` once the run's `submitted` is recorded.
    pub submission: watch::Receiver<bool>,
}

/// How long a new job waits for its run's `submitted` to be recorded
/// before it goes on anyway (the dispatcher may have failed after starting
/// it; its retry finds this job): the run's history may then show
/// `starting` without `submitted`, and nothing else is lost.
const SUBMISSION_WAIT: Duration = Duration::from_secs(10);

/// Runs a job to its end. Never fails: every problem becomes the run's
/// `failed` status with a reason a person can act on. A job still waiting
/// for a slot when modelrun shuts down is left as it is: its model never
/// started, and the next worker's sweep dispatches it again.
pub(super) async fn run(inner: Arc<Inner>, spec: Spec, mut stopped: watch::Receiver<Option<Stop>>) {
    let run_id = spec.request.run_id;
    let report = |status| JobReport::new(run_id, spec.job_id.clone(), status);
    let mut submission = spec.submission.clone();
    let recorded = async move { submission.wait_for(|recorded| *recorded).await.map(|_| ()) };
    tokio::select! {
        waited = tokio::time::timeout(SUBMISSION_WAIT, recorded) => {
            if waited.is_err() {
                tracing::warn!(run_id = %run_id, "the run's submission was not recorded in time; its job starts anyway");
            }
        }
        stop = wait_for_stop(&mut stopped) => {
            stopped_before_start(&inner, stop, report(RunStatus::Failed)).await;
            return;
        }
    }
    let slot = match inner.slots.clone().try_acquire_owned() {
        // A slot is free: the run starts at once, and a `runnable` that
        // lasted no time is not worth a status change of its own.
        Ok(slot) => Ok(slot),
        Err(_) => {
            // Every slot is taken: the run page says so while the run waits.
            let mut waiting = report(RunStatus::Runnable);
            let slots = inner.config.max_concurrent_runs.max(1);
            waiting
                .facts
                .insert(WAITING_FOR_SLOT.to_owned(), slots.into());
            progress(&inner, waiting).await;
            tokio::select! {
                slot = inner.slots.clone().acquire_owned() => slot,
                stop = wait_for_stop(&mut stopped) => {
                    stopped_before_start(&inner, stop, report(RunStatus::Failed)).await;
                    return;
                }
            }
        }
    };
    if let Err(stop) = wait_for_space(&inner, report(RunStatus::Runnable), &mut stopped).await {
        stopped_before_start(&inner, stop, report(RunStatus::Failed)).await;
        return;
    }
    // The run has its slot and its space: only submits being answered
    // meanwhile (in a burst, its neighbours') come before its start, and a
    // cancel meanwhile ends it without its model having run.
    tokio::select! {
        _ = inner.intake.quiet(GIVE_WAY) => {}
        stop = wait_for_stop(&mut stopped) => {
            stopped_before_start(&inner, stop, report(RunStatus::Failed)).await;
            return;
        }
    }
    progress(&inner, report(RunStatus::Starting)).await;
    let ended = execute(&inner, &spec, &mut stopped).await;
    inner.remove_work_dir(run_id).await;
    drop(slot);
    finish(&inner, ended).await;
}

/// A job stopped before its model started: a cancel ends the run; a
/// shutdown leaves it for the next worker to dispatch again.
async fn stopped_before_start(inner: &Inner, stop: Stop, report: JobReport) {
    match stop {
        Stop::Shutdown => {
            inner.jobs().remove(&report.run_id);
        }
        Stop::Cancel(_) => finish(inner, ended_by_stop(report, &stop)).await,
    }
}

/// How often a run that waits for disk space looks again.
const SPACE_POLL: Duration = Duration::from_secs(2);

/// Waits, in `runnable` (recorded with `waiting`, which repeats nothing
/// when the run already waited for a slot), while the data directory's
/// disk is full: a model started now could not write its inputs, log or
/// outputs, and the run would be lost. `Err` when the job is stopped
/// meanwhile.
async fn wait_for_space(
    inner: &Inner,
    waiting: JobReport,
    stopped: &mut watch::Receiver<Option<Stop>>,
) -> Result<(), Stop> {
    let mut warned = false;
    while let Some(full) = inner.disk_full() {
        if !warned {
            let run = waiting.run_id;
            tracing::warn!(run_id = %run, "{full}: the run waits for space before it starts");
            progress(inner, waiting.clone()).await;
            warned = true;
        }
        tokio::select! {
            () = tokio::time::sleep(SPACE_POLL) => {}
            stop = wait_for_stop(stopped) => return Err(stop),
        }
    }
    Ok(())
}

async fn wait_for_stop(stopped: &mut watch::Receiver<Option<Stop>>) -> Stop {
    match stopped.wait_for(Option::is_some).await {
        Ok(stop) => stop.clone().unwrap_or(Stop::Shutdown),
        // The executor is gone: treat it as a shutdown.
        Err(_) => Stop::Shutdown,
    }
}

fn ended_by_stop(mut report: JobReport, stop: &Stop) -> JobReport {
    match stop {
        Stop::Cancel(reason) => {
            report.status = RunStatus::Cancelled;
            report.reason = Some(reason.clone());
        }
        Stop::Shutdown => {
            report.status = RunStatus::Failed;
            report.reason = Some(SHUTDOWN.to_owned());
        }
    }
    report
}

/// Records progress; a failure to record is logged, and the end is retried.
async fn progress(inner: &Inner, report: JobReport) {
    if let Some(job) = inner.jobs().get_mut(&report.run_id) {
        job.status = report.status;
    }
    if let Err(error) = inner.recorder.report(report.clone()).await {
        tracing::warn!(run_id = %report.run_id, status = %report.status, %error, "could not record progress");
    }
}

/// Records the end, retrying for a while; if the store stays unreachable
/// (or its disk is full) the end waits in the job table for the sweep to
/// collect it, and in the journal should this process die first.
async fn finish(inner: &Inner, report: JobReport) {
    if let Some(job) = inner.jobs().get_mut(&report.run_id) {
        job.status = report.status;
        job.ended = Some(report.clone());
    }
    for attempt in 0..5u32 {
        match inner.recorder.report(report.clone()).await {
            Ok(_) => {
                inner.jobs().remove(&report.run_id);
                inner.journals.remove(report.run_id);
                return;
            }
            Err(error) => {
                tracing::warn!(run_id = %report.run_id, attempt, %error, "could not record the end of a run");
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            }
        }
    }
}

async fn execute(
    inner: &Inner,
    spec: &Spec,
    stopped: &mut watch::Receiver<Option<Stop>>,
) -> JobReport {
    let request = &spec.request;
    let mut report = JobReport::new(request.run_id, spec.job_id.clone(), RunStatus::Failed);
    let log_path = inner.log_path(request.run_id, request.job_key.as_deref());
    let log = match open_log(&log_path) {
        Ok(log) => log,
        Err(error) => {
            report.reason = Some(format!(
                "could not create the log file {}: {error}",
                log_path.display()
            ));
            return report;
        }
    };
    let paths = match prepare(inner, spec).await {
        Ok(paths) => paths,
        Err(error) => {
            report.reason = Some(format!("could not prepare the run: {error}"));
            return report;
        }
    };
    let secrets = match secret_values(inner, request).await {
        Ok(secrets) => secrets,
        Err(reason) => {
            report.reason = Some(reason);
            return report;
        }
    };
    let environment = match &request.environment {
        Some(spec) => match inner.environments.build(spec).await {
            Ok(_) => Some(inner.environments.dir(&spec.digest())),
            Err(error) => {
                report.reason = Some(format!(
                    "the model's environment could not be built: {error}"
                ));
                return report;
            }
        },
        None => None,
    };
    let env = contract_env(
        inner,
        request.run_id,
        &paths,
        environment.as_deref(),
        &secrets,
    );
    let snapshot = match &spec.model_dir {
        Ok(dir) => dir.clone(),
        Err(why) => {
            report.reason = Some(format!("could not prepare the run: {why}"));
            return report;
        }
    };
    // From here on the model may have run: a worker that dies now must not
    // let the run be dispatched again.
    let starting = Entry::Started {
        job_id: spec.job_id.clone(),
        group: None,
    };
    if let Err(error) = inner.journals.save(request.run_id, starting).await {
        report.reason = Some(format!(
            "could not write the run's journal {}: {error}",
            inner.journals.path(request.run_id).display()
        ));
        return report;
    }
    let (feed, progress_writer) = {
        let (recorder, run) = (inner.recorder.clone(), request.run_id);
        progress_feed::start(move |progress| {
            let recorder = recorder.clone();
            async move { recorder.record_progress(run, &progress).await }
        })
    };
    let max_log = Some(inner.config.max_log_bytes);
    let started = log_pipe::start(log, &secrets, max_log, Some(feed)).and_then(|(output, copy)| {
        let start = start(inner, spec, &paths, &snapshot, &env)?;
        let limits = limits(inner, request);
        Ok((process::spawn(start, env, limits, output)?, copy))
    });
    let (mut child, copy) = match started {
        Ok(started) => started,
        Err(error) => {
            report.reason = Some(format!(
                "could not start `{}`: {error}",
                spec.command.join(" ")
            ));
            return report;
        }
    };
    journal(
        inner,
        request.run_id,
        Entry::Started {
            job_id: spec.job_id.clone(),
            group: child.id(),
        },
    )
    .await;
    let mut running = JobReport::new(request.run_id, spec.job_id.clone(), RunStatus::Running);
    running.log_stream = Some(super::log_name(request.run_id, request.job_key.as_deref()));
    progress(inner, running).await;

    let timeout = Duration::from_secs(request.resources.timeout_seconds.max(1).unsigned_abs());
    let over_limit = outputs_over(&paths.outputs, inner.config.max_output_bytes);
    let outcome = process::wait(&mut child, timeout, stopped, over_limit).await;
    finish_log(copy, &log_path).await;
    finish_progress(progress_writer).await;
    // Measured once more at the end: a run can write its outputs faster
    // than they are measured while it runs, and one whose file hit the
    // file-size limit was cut short.
    let ended = match outcome {
        Ok(Outcome::Exited(status)) => {
            match outputs_at_limit(&paths.outputs, inner.config.max_output_bytes).await {
                Some(why) => Ended::OverLimit { why },
                None => Ended::Exited {
                    wait_status: std::os::unix::process::ExitStatusExt::into_raw(status),
                },
            }
        }
        Ok(Outcome::TimedOut) => Ended::TimedOut {
            after_secs: timeout.as_secs(),
        },
        Ok(Outcome::Stopped(Stop::Cancel(reason))) => Ended::Cancelled { reason },
        Ok(Outcome::Stopped(Stop::Shutdown)) => Ended::Shutdown,
        Ok(Outcome::OverLimit(why)) => Ended::OverLimit { why },
        Err(error) => Ended::LostTrack {
            error: error.to_string(),
        },
    };
    let dir = paths.outputs.clone();
    let outputs = tokio::task::spawn_blocking(move || measured_outputs(&dir))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    journal(
        inner,
        request.run_id,
        Entry::Exited {
            job_id: spec.job_id.clone(),
            ended: ended.clone(),
            outputs,
        },
    )
    .await;
    let run = (request.run_id, request.job_key.as_deref());
    let report = conclude(inner, run, &spec.job_id, &ended, &paths.outputs).await;
    journal(inner, request.run_id, concluded(&report)).await;
    report
}

/// Writes a step of the job to its journal. A journal that cannot be
/// written (a full disk) costs only what a crash would then lose, so the
/// job goes on, with a warning.
async fn journal(inner: &Inner, run: RunId, entry: Entry) {
    if let Err(error) = inner.journals.save(run, entry).await {
        tracing::warn!(run_id = %run, %error, "could not write the run's journal");
    }
}

/// How often a run's outputs are measured while it runs.
const MEASURE_EVERY: Duration = Duration::from_secs(2);

/// Resolves, saying so, once the files in `outputs` take more than
/// `max_bytes` in all.
async fn outputs_over(outputs: &Path, max_bytes: u64) -> String {
    loop {
        tokio::time::sleep(MEASURE_EVERY).await;
        if let Some(why) = outputs_at_limit(outputs, max_bytes).await {
            return why;
        }
    }
}

/// Why the outputs are past the limit of a run: they take `max_bytes` or
/// more (a file cut at the file-size limit takes exactly that).
async fn outputs_at_limit(outputs: &Path, max_bytes: u64) -> Option<String> {
    let dir = outputs.to_path_buf();
    let size = tokio::task::spawn_blocking(move || files::total_size(&dir))
        .await
        .unwrap_or(Ok(0))
        .unwrap_or(0);
    (size >= max_bytes).then(|| {
        format!(
            "the outputs reached {} MiB, the limit of a run (--max-output-mib); none were kept",
            max_bytes / (1024 * 1024)
        )
    })
}

/// Waits for the log's copy to end once the process group is gone; a
/// process that escaped the group and still holds the pipe is not waited for.
async fn finish_log(copy: JoinHandle<std::io::Result<log_pipe::Copied>>, log_path: &Path) {
    match tokio::time::timeout(LOG_DRAIN, copy).await {
        Ok(Ok(Ok(copied))) if copied.truncated => {
            tracing::info!(bytes = copied.written, "the run's log reached its limit");
        }
        Ok(Ok(Ok(_))) => {}
        Ok(Ok(Err(error))) => note(log_path, &format!("the log could not be written: {error}")),
        Ok(Err(error)) => tracing::warn!(%error, "the log copy stopped abnormally"),
        Err(_) => note(
            log_path,
            "a process the model started still holds its output open; the log may be incomplete",
        ),
    }
}

/// Waits for the last progress to be written, before the end is recorded
/// (a finished run keeps the last value its model reported); a writer
/// still fed by a process the model left behind is stopped.
async fn finish_progress(writer: JoinHandle<()>) {
    let abort = writer.abort_handle();
    if tokio::time::timeout(progress_feed::MIN_INTERVAL * 3, writer)
        .await
        .is_err()
    {
        abort.abort();
    }
}

/// The run's log, started afresh; both output streams append to it.
fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::File::create(path)?;
    std::fs::OpenOptions::new().append(true).open(path)
}
