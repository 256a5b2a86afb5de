//! Runs whose worker process died (killed, crashed, the machine restarted):
//! what a sweep makes of each, from the run's journal (see
//! [`super::journal`]).
//!
//! - The model never started (no journal): the run is dispatched again;
//!   it never ran, so running it is safe.
//! - The model was running (`started`): the run fails, saying so, and
//!   whatever is left of its processes is killed.
//! - The model had ended (`exited`, `concluded`): its end and outputs are
//!   recorded from the working directory, when they are all still there;
//!   otherwise the run fails, saying what is missing.
//!
//! Working directories and journals of ended runs are removed by the same
//! sweep ([`tidy`]), also when the worker died after recording the end.

use modelrun_core::executor::{JobReport, JobRequest};
use modelrun_core::ids::RunId;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;

use super::Inner;
use super::conclude::{conclude, concluded, report_of};
use super::journal::{Entry, remove_quietly};
use super::process;

/// Why a run is dispatched again: the `reason` of a report with status
/// `queued`.
pub(super) const DISPATCH_AGAIN: &str =
    "dispatched again: the worker process that had the run stopped before its model started";

/// Why a run fails when its worker died while the model ran.
const DIED_WHILE_RUNNING: &str = "the worker process that ran the model stopped (it was killed \
     or crashed) while the model was running; the model's processes were stopped with it and \
     its outputs were not kept; submit it again";

/// The same, outside a sandbox, where only the model's process group can
/// be found and stopped.
const DIED_WHILE_RUNNING_UNCONFINED: &str = "the worker process that ran the model stopped (it \
     was killed or crashed) while the model was running; the processes of its process group were \
     stopped (one it moved out of the group may still run) and its outputs were not kept; submit \
     it again";

/// What becomes of an active run whose job belongs to a worker process
/// that is gone. `None` when another sweep is recovering it already.
pub(super) async fn recover(inner: &Inner, run: &Run, job_id: String) -> Option<JobReport> {
    let taken = match inner.journals.take(run.id) {
        Ok(taken) => taken,
        Err(error) => {
            return Some(failed(
                run,
                job_id,
                format!(
                    "the worker process that ran the model stopped, and the run's journal cannot \
                     be read ({error}); submit it again"
                ),
            ));
        }
    };
    // A journal left by another database's run with this id (the data
    // directory kept through a reset) is not this run's: its job name
    // carries another key.
    let taken = taken.filter(|(entry, path)| {
        let ours = is_journal_of(entry, run);
        if !ours {
            tracing::warn!(run_id = %run.id, job_id = entry.job_id(), "removed a journal of another run with the same id");
            remove_quietly(path);
        }
        ours
    });
    let Some((entry, taken_path)) = taken else {
        if inner.journals.being_recovered(run.id) {
            return None;
        }
        return Some(never_journaled(inner, run, job_id).await);
    };
    let mut report = from_journal(inner, run, entry).await;
    report.facts.insert(
        "recovered".to_owned(),
        "its worker process stopped; the end was read from the run's journal".into(),
    );
    // The end is kept until the sweep has recorded it: [`tidy`] removes
    // the journal once the run has ended. If it cannot be written (a full
    // disk), the journal as it was goes back, with the working directory,
    // for the next sweep to recover the run again should this report not
    // be recorded either.
    match inner.journals.save(run.id, concluded(&report)).await {
        Ok(()) => {
            remove_quietly(&taken_path);
            inner.remove_work_dir(run.id).await;
        }
        Err(error) => {
            tracing::warn!(run_id = %run.id, %error, "could not write the run's journal");
            if let Err(error) = std::fs::rename(&taken_path, inner.journals.path(run.id)) {
                tracing::warn!(run_id = %run.id, %error, "could not put the run's journal back");
            }
        }
    }
    Some(report)
}

/// A run with no journal: its model never started, unless it is already
/// past starting (a run of an earlier modelrun, which kept no journal).
async fn never_journaled(inner: &Inner, run: &Run, job_id: String) -> JobReport {
    inner.remove_work_dir(run.id).await;
    match run.status {
        RunStatus::Submitted | RunStatus::Pending | RunStatus::Runnable | RunStatus::Starting => {
            let mut report = JobReport::new(run.id, job_id, RunStatus::Queued);
            report.reason = Some(DISPATCH_AGAIN.to_owned());
            report
        }
        RunStatus::Cancelling => {
            let mut report = JobReport::new(run.id, job_id, RunStatus::Cancelled);
            report.reason = Some("cancelled; the process had already stopped".to_owned());
            report
        }
        _ => failed(
            run,
            job_id,
            "the run was lost: the worker process that ran it stopped while it was in progress; \
             submit it again"
                .to_owned(),
        ),
    }
}

/// Whether a journal's job is `run`'s: its name (before `@host:pid`) is
/// the run's job name, with the run's own key.
fn is_journal_of(entry: &Entry, run: &Run) -> bool {
    let name = entry
        .job_id()
        .rsplit_once('@')
        .map_or(entry.job_id(), |(name, _)| name);
    JobRequest::is_job_of(name, run)
}

async fn from_journal(inner: &Inner, run: &Run, entry: Entry) -> JobReport {
    let job_id = entry.job_id().to_owned();
    match entry {
        Entry::Started { group, .. } => {
            if let Some(group) = group {
                let killed = process::kill_leftovers(group, run.id);
                if killed > 0 {
                    tracing::warn!(run_id = %run.id, killed, "killed what was left of a run whose worker died");
                }
            }
            let reason = match inner.boundary.is_sandboxed() {
                true => DIED_WHILE_RUNNING,
                false => DIED_WHILE_RUNNING_UNCONFINED,
            };
            failed(run, job_id, reason.to_owned())
        }
        Entry::Exited { ended, outputs, .. } => {
            let dir = inner.work_dir(run.id).join("outputs");
            match missing_output(&dir, &outputs) {
                None => {
                    conclude(
                        inner,
                        (run.id, run.job_key.as_deref()),
                        &job_id,
                        &ended,
                        &dir,
                    )
                    .await
                }
                Some(missing) => failed(
                    run,
                    job_id,
                    format!(
                        "the model had ended when its worker process stopped, but its outputs \
                         are no longer complete in {} ({missing}); submit it again",
                        dir.display()
                    ),
                ),
            }
        }
        entry @ Entry::Concluded { .. } => report_of(run.id, entry)
            .unwrap_or_else(|| failed(run, job_id, DIED_WHILE_RUNNING.to_owned())),
    }
}

/// The first output the journal lists that is gone or changed size.
fn missing_output(dir: &std::path::Path, outputs: &[(String, u64)]) -> Option<String> {
    if !dir.is_dir() {
        return Some("the output directory is gone".to_owned());
    }
    outputs.iter().find_map(
        |(name, size)| match std::fs::symlink_metadata(dir.join(name)) {
            Ok(metadata) if metadata.len() == *size => None,
            Ok(metadata) => Some(format!(
                "{name:?} has {} bytes where it had {size}",
                metadata.len()
            )),
            Err(_) => Some(format!("{name:?} is gone")),
        },
    )
}

fn failed(run: &Run, job_id: String, reason: String) -> JobReport {
    let mut report = JobReport::new(run.id, job_id, RunStatus::Failed);
    report.reason = Some(reason);
    report
}

/// Removes the working directories and journals of runs that have ended
/// (or no longer exist), leaving those of runs this process or any other
/// may still be working on: `active` (the sweep's runs) and the job table's.
pub(super) async fn tidy(inner: &Inner, active: &[RunId]) {
    let leftovers: Vec<RunId> = {
        let jobs = inner.jobs();
        inner
            .journals
            .runs()
            .into_iter()
            .filter(|run| !active.contains(run) && !jobs.contains_key(run))
            .collect()
    };
    for run in leftovers {
        match inner.recorder.run_status(run).await {
            Ok(Some(status)) if !status.is_terminal() => {}
            Ok(_) => {
                inner.remove_work_dir(run).await;
                inner.journals.remove(run);
            }
            Err(error) => {
                tracing::warn!(run_id = %run, %error, "could not look up a run to tidy its files");
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn run(key: Option<&str>) -> Run {
        Run {
            job_key: key.map(str::to_owned),
            ..Run::fixture(RunId(7), RunStatus::Running)
        }
    }

    fn started(job_id: &str) -> Entry {
        Entry::Started {
            job_id: job_id.to_owned(),
            group: None,
        }
    }

    #[test]
    fn a_journal_of_another_run_with_the_same_id_is_not_this_runs() {
        let mine = run(Some("00112233aabbccdd"));
        assert!(is_journal_of(
            &started("modelrun-run-7-00112233aabbccdd@host:42"),
            &mine
        ));
        assert!(!is_journal_of(
            &started("modelrun-run-7-ffeeddccbbaa9988@host:42"),
            &mine
        ));
        assert!(!is_journal_of(&started("modelrun-run-7@host:42"), &mine));
        // A run from before runs had keys keeps its old name.
        assert!(is_journal_of(
            &started("modelrun-run-7@host:42"),
            &run(None)
        ));
    }
}
