//! A sweep's archive ("Download all"): one zip of every output of every
//! run, with `index.csv` saying which file is which run's. The worker
//! builds it (a durable task, [`super::BuildSweepArchive`]) once every run
//! has ended, and the web hands it out like a run's bundle.
//!
//! Layout of the zip:
//!
//! ```text
//! index.csv                     one row per (run, output); a run without
//!                               outputs has one row with the output empty
//! runs/<run id>/<output name>   each output of each run
//! ```
//!
//! The columns of `index.csv`: `run_id`, `position`, one column per varied
//! input (named by the input, in the sweep's order; [`input_column`]), `status`, `output`,
//! `path` (in the zip), `size_bytes` and `sha256` (hex).

use crate::blob::BlobKey;
use crate::ids::{RunId, SweepId};
use crate::run::Run;

/// Name of the index inside the zip.
pub const INDEX: &str = "index.csv";

/// Where a sweep's archive is kept ([`BlobKey::sweep_archive`]).
pub fn key(sweep: SweepId) -> BlobKey {
    BlobKey::sweep_archive(sweep)
}

/// The name the archive is downloaded as: `modelrun-sweep-<id>.zip`.
pub fn file_name(sweep: SweepId) -> String {
    format!("modelrun-sweep-{sweep}.zip")
}

/// The columns of `index.csv` that are not a varied input's.
pub const FIXED_COLUMNS: [&str; 7] = [
    "run_id",
    "position",
    "status",
    "output",
    "path",
    "size_bytes",
    "sha256",
];

/// The column of a varied input in `index.csv`: its name, or
/// `input_<name>` when its name is one of [`FIXED_COLUMNS`], so that no
/// two columns share a name.
pub fn input_column(field: &str) -> String {
    if FIXED_COLUMNS.contains(&field) {
        format!("input_{field}")
    } else {
        field.to_owned()
    }
}

/// Where an output of a run is in the zip: `runs/<run id>/<output name>`.
pub fn path(run: RunId, output: &str) -> String {
    format!("runs/{run}/{output}")
}

/// Whether a sweep whose runs are `runs` offers its archive: once every
/// run has ended (succeeded, failed or been cancelled), when no output
/// changes any more.
pub fn offered(runs: &[Run]) -> bool {
    !runs.is_empty() && runs.iter().all(|run| run.status.is_terminal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_is_kept_under_its_sweep_with_its_download_name() {
        let key = key(SweepId(7));
        assert_eq!(key.as_str(), "sweeps/7/modelrun-sweep-7.zip");
        assert!(key.as_str().ends_with(&file_name(SweepId(7))));
        assert_eq!(path(RunId(12), "forecast.csv"), "runs/12/forecast.csv");
    }

    #[test]
    fn an_input_named_like_an_index_column_gets_a_column_of_its_own() {
        assert_eq!(input_column("growth_rate"), "growth_rate");
        assert_eq!(input_column("status"), "input_status");
        assert_eq!(input_column("path"), "input_path");
    }
}
