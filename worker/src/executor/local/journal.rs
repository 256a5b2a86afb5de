//! A local job's journal: one small JSON file beside the run's working
//! directory, `<data>/work/<run id>.journal`, out of the model's reach,
//! rewritten atomically (a new file renamed over the old) at each step that
//! a worker which dies must not lose:
//!
//! | journal | the worker died… | a later sweep |
//! |---|---|---|
//! | none | before the model started | dispatches the run again |
//! | `started` | while the model ran | fails the run, and stops what is left of it |
//! | `exited` | after the model ended | stores the outputs and records the end |
//! | `concluded` | after the outputs were stored | records the end |
//!
//! A journal is removed once its run's end is recorded and its working
//! directory removed. A sweep that recovers a run first renames its journal
//! (`rename(2)` is atomic), so that two workers on one machine never
//! recover the same run twice.

use std::io::Write;
use std::path::{Path, PathBuf};

use modelrun_core::ids::RunId;
use modelrun_core::status::RunStatus;
use serde::{Deserialize, Serialize};

/// How a model's process ended, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub(super) enum Ended {
    /// It exited by itself: its wait status (`waitpid(2)`), raw.
    Exited { wait_status: i32 },
    /// It ran past the version's time limit, in seconds, and was stopped.
    TimedOut { after_secs: u64 },
    /// A person cancelled the run; the reason.
    Cancelled { reason: String },
    /// modelrun shut down while it ran.
    Shutdown,
    /// It went past one of the run's limits: which, in words.
    OverLimit { why: String },
    /// Waiting for it failed: the error.
    LostTrack { error: String },
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub(super) enum Entry {
    /// The model's process is about to start; `group` is its process
    /// group once it has one (the unconfined case: what to stop later).
    Started { job_id: String, group: Option<u32> },
    /// The model's processes are gone; `outputs` are the files it left
    /// (relative name, bytes), as they were measured then.
    Exited {
        job_id: String,
        ended: Ended,
        outputs: Vec<(String, u64)>,
    },
    /// The outputs are stored; what the run's end is.
    Concluded {
        job_id: String,
        status: RunStatus,
        reason: Option<String>,
        exit_code: Option<i32>,
    },
}

impl Entry {
    pub(super) fn job_id(&self) -> &str {
        match self {
            Entry::Started { job_id, .. }
            | Entry::Exited { job_id, .. }
            | Entry::Concluded { job_id, .. } => job_id,
        }
    }
}

/// Where the journals of a data directory are.
#[derive(Debug, Clone)]
pub(super) struct Journals {
    dir: PathBuf,
}

impl Journals {
    /// The journals beside the working directories in `work`.
    pub(super) fn new(work: PathBuf) -> Self {
        Journals { dir: work }
    }

    pub(super) fn path(&self, run: RunId) -> PathBuf {
        self.dir.join(format!("{run}.journal"))
    }

    /// Writes `entry` as the run's journal, atomically and durably: a
    /// reader finds the old entry or the new one, never part of one.
    ///
    /// # Errors
    /// Creating, writing, syncing or renaming the file failed (a full disk).
    pub(super) fn write(&self, run: RunId, entry: &Entry) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(run);
        let partial = self.partial(run);
        let written = (|| {
            let mut file = std::fs::File::create(&partial)?;
            file.write_all(&serde_json::to_vec(entry).map_err(std::io::Error::other)?)?;
            file.sync_all()?;
            std::fs::rename(&partial, &path)
        })();
        if written.is_err() {
            remove_quietly(&partial);
        }
        written
    }

    /// [`Self::write`] on a blocking thread: its `fsync` takes milliseconds
    /// (up to 15 ms measured here while other files were written), which on
    /// one of the async runtime's threads would stall every request and
    /// task queued on it.
    ///
    /// # Errors
    /// As [`Self::write`]; or the blocking thread could not run it.
    pub(super) async fn save(&self, run: RunId, entry: Entry) -> std::io::Result<()> {
        let journals = self.clone();
        tokio::task::spawn_blocking(move || journals.write(run, &entry))
            .await
            .map_err(std::io::Error::other)?
    }

    /// Where a journal is written before it replaces the old one.
    fn partial(&self, run: RunId) -> PathBuf {
        self.dir.join(format!("{run}.journal.partial"))
    }

    /// Takes the run's journal for recovery: renames it so that no other
    /// sweep takes it too. `Ok(None)` when there is none (or another
    /// sweep took it first).
    ///
    /// # Errors
    /// It exists but cannot be renamed, read or parsed.
    pub(super) fn take(&self, run: RunId) -> std::io::Result<Option<(Entry, PathBuf)>> {
        let taken = self
            .dir
            .join(format!("{run}.journal.recovering.{}", std::process::id()));
        // The journal, or one that a sweep which died since was recovering.
        let mut candidates = vec![self.path(run)];
        candidates.extend(self.recovering(run).into_iter().filter_map(|(path, pid)| {
            (pid != std::process::id() && !super::process::is_alive(pid)).then_some(path)
        }));
        for path in candidates {
            match std::fs::rename(&path, &taken) {
                Ok(()) => return Ok(read_entry(&taken)?.map(|entry| (entry, taken))),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
        Ok(None)
    }

    /// Whether a live process (another worker's sweep) is recovering the run.
    pub(super) fn being_recovered(&self, run: RunId) -> bool {
        self.recovering(run)
            .into_iter()
            .any(|(_, pid)| super::process::is_alive(pid))
    }

    /// The run's journals taken for recovery, with the taking process's id.
    fn recovering(&self, run: RunId) -> Vec<(PathBuf, u32)> {
        let prefix = format!("{run}.journal.recovering.");
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let pid = entry
                    .file_name()
                    .to_str()?
                    .strip_prefix(&prefix)?
                    .parse()
                    .ok()?;
                Some((entry.path(), pid))
            })
            .collect()
    }

    /// Removes the run's journal, if any, and any left by a recovery.
    pub(super) fn remove(&self, run: RunId) {
        remove_quietly(&self.path(run));
        remove_quietly(&self.partial(run));
        for (path, _) in self.recovering(run) {
            remove_quietly(&path);
        }
    }

    /// The runs with a working directory or a journal here.
    pub(super) fn runs(&self) -> Vec<RunId> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut runs: Vec<RunId> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name();
                let name = name.to_str()?;
                name.split('.').next()?.parse().ok()
            })
            .collect();
        runs.sort_unstable_by_key(|run| run.0);
        runs.dedup();
        runs
    }
}

fn read_entry(path: &Path) -> std::io::Result<Option<Entry>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Removes a file that may already be gone; any other failure is logged.
pub(super) fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => tracing::warn!(%error, "could not remove {}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_is_written_read_and_taken_once() {
        let dir = tempfile::tempdir().expect("dir");
        let journals = Journals::new(dir.path().join("work"));
        let run = RunId(7);
        assert_eq!(read_entry(&journals.path(run)).expect("journal"), None);
        let started = Entry::Started {
            job_id: "modelrun-run-7@host:1".to_owned(),
            group: Some(42),
        };
        journals.write(run, &started).expect("journal");
        assert_eq!(
            read_entry(&journals.path(run)).expect("journal"),
            Some(started.clone())
        );
        let exited = Entry::Exited {
            job_id: started.job_id().to_owned(),
            ended: Ended::Exited { wait_status: 0 },
            outputs: vec![("forecast.csv".to_owned(), 12)],
        };
        journals.write(run, &exited).expect("journal");
        std::fs::create_dir_all(dir.path().join("work/7")).expect("journal");
        assert_eq!(journals.runs(), vec![run]);
        let (taken, path) = journals.take(run).expect("take").expect("a journal");
        assert_eq!(taken, exited);
        assert!(journals.take(run).expect("journal").is_none(), "taken once");
        remove_quietly(&path);
        assert!(!path.exists());
    }
}
