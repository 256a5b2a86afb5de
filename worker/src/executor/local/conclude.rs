//! The end of a local job once its processes are gone: its outputs stored
//! and its report made. The same code concludes a job that its worker saw
//! to the end and one that a later sweep recovers from its journal.

use std::io::Write;
use std::path::Path;

use modelrun_core::blob::{BlobKey, BlobStore, MAX_OUTPUT_NAME_BYTES, check_relative_path};
use modelrun_core::error_chain;
use modelrun_core::executor::JobReport;
use modelrun_core::ids::RunId;
use modelrun_core::status::RunStatus;

use super::Inner;
use super::journal::{Ended, Entry};
use super::{log_file, process};
use crate::files;

/// Most output files one run may leave.
const MAX_OUTPUTS: usize = 10_000;

/// Stores what the job left in `outputs` (none past the output limit) and
/// says how the run ended.
pub(super) async fn conclude(
    inner: &Inner,
    (run, key): (RunId, Option<&str>),
    job_id: &str,
    ended: &Ended,
    outputs: &Path,
) -> JobReport {
    let log_path = inner.log_path(run, key);
    // Outputs over the limit are not kept, so no cut-off file is offered.
    let stored = match ended {
        Ended::OverLimit { .. } => Ok(()),
        _ => store_outputs(inner.blob.as_ref(), run, outputs, &log_path).await,
    };
    let mut report = JobReport::new(run, job_id, RunStatus::Failed);
    match ended {
        Ended::Exited { wait_status } => {
            use std::os::unix::process::ExitStatusExt;
            let status = std::process::ExitStatus::from_raw(*wait_status);
            report.exit_code = status.code();
            match (status.code(), &stored) {
                (Some(0), Ok(())) => report.status = RunStatus::Succeeded,
                (Some(0), Err(error)) => {
                    report.reason = Some(format!("could not store the outputs: {error}"))
                }
                _ => {
                    let sandboxed = inner.boundary.is_sandboxed();
                    let end = process::describe_end(&status, sandboxed);
                    report.reason = Some(log_file::failure_reason(&end, &log_path).await);
                }
            }
        }
        Ended::TimedOut { after_secs } => {
            note(
                &log_path,
                &format!("timed out after {after_secs} s; the process was stopped"),
            );
            report.reason = Some(format!(
                "timed out after {after_secs} s (the run's time limit)"
            ));
        }
        Ended::Cancelled { reason } => {
            report.status = RunStatus::Cancelled;
            report.reason = Some(reason.clone());
        }
        Ended::Shutdown => report.reason = Some(SHUTDOWN.to_owned()),
        Ended::OverLimit { why } => {
            note(&log_path, &format!("{why}; the run was stopped"));
            report.reason = Some(why.clone());
        }
        Ended::LostTrack { error } => {
            report.reason = Some(format!("lost track of the process: {error}"))
        }
    }
    if report.status == RunStatus::Failed
        && let Some(full) = inner.disk_full()
    {
        let reason = report.reason.take().unwrap_or_default();
        report.reason = Some(format!("{reason}; {full}"));
    }
    report
}

/// Why a run ended when modelrun shut down while it ran.
pub(super) const SHUTDOWN: &str = "modelrun stopped while the run was in progress; submit it again";

/// The journal entry of a concluded job.
pub(super) fn concluded(report: &JobReport) -> Entry {
    Entry::Concluded {
        job_id: report.job_id.clone(),
        status: report.status,
        reason: report.reason.clone(),
        exit_code: report.exit_code,
    }
}

/// The report a concluded journal entry stands for.
pub(super) fn report_of(run: RunId, entry: Entry) -> Option<JobReport> {
    let Entry::Concluded {
        job_id,
        status,
        reason,
        exit_code,
    } = entry
    else {
        return None;
    };
    let mut report = JobReport::new(run, job_id, status);
    report.reason = reason;
    report.exit_code = exit_code;
    Some(report)
}

/// Appends a line from modelrun itself to a run's log.
pub(super) fn note(log_path: &Path, message: &str) {
    let written = std::fs::OpenOptions::new()
        .append(true)
        .open(log_path)
        .and_then(|mut file| writeln!(file, "[modelrun] {message}"));
    if let Err(error) = written {
        tracing::warn!(%error, "could not write to {}", log_path.display());
    }
}

/// The regular files of an output directory with their sizes, as the
/// journal records them.
pub(super) fn measured_outputs(outputs: &Path) -> std::io::Result<Vec<(String, u64)>> {
    let entries = files::output_entries(outputs)?;
    entries
        .files
        .into_iter()
        .map(|relative| {
            let size = std::fs::symlink_metadata(outputs.join(&relative))?.len();
            Ok((relative.to_string_lossy().into_owned(), size))
        })
        .collect()
}

/// Copies every regular file of the output directory into the blob store.
/// Links (symbolic or hard), special files and names that are not plain
/// relative paths are skipped, each with a note in the log. Storing again
/// what is stored already is harmless: a key is overwritten.
async fn store_outputs(
    blob: &dyn BlobStore,
    run: RunId,
    outputs: &Path,
    log_path: &Path,
) -> Result<(), String> {
    let dir = outputs.to_path_buf();
    let entries = tokio::task::spawn_blocking(move || files::output_entries(&dir))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| format!("listing the output directory: {error}"))?;
    for (path, why) in &entries.skipped {
        note(
            log_path,
            &format!(
                "skipped output {:?}: it is {why}",
                path.display().to_string()
            ),
        );
    }
    let listed = entries.files;
    if listed.len() > MAX_OUTPUTS {
        return Err(format!(
            "the model wrote {} files; at most {MAX_OUTPUTS} are kept",
            listed.len()
        ));
    }
    for relative in listed {
        let Some(name) = relative
            .to_str()
            .map(|name| name.replace(std::path::MAIN_SEPARATOR, "/"))
        else {
            note(
                log_path,
                &format!(
                    "skipped output {:?}: its name is not UTF-8",
                    relative.display()
                ),
            );
            continue;
        };
        if let Err(why) = check_relative_path(&name, MAX_OUTPUT_NAME_BYTES) {
            note(
                log_path,
                &format!("skipped output {name:?}: the name {why}"),
            );
            continue;
        }
        let key = BlobKey::run_output(run, &name).map_err(|error| error.to_string())?;
        let content_type = mime_guess::from_path(&name).first_or_octet_stream();
        blob.put_file(&key, &outputs.join(&relative), content_type.essence_str())
            .await
            .map_err(|error| format!("{name}: {}", error_chain(&error)))?;
    }
    Ok(())
}
