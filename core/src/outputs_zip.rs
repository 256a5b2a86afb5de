//! "Download all outputs": one zip of an ended run's outputs, each at its
//! recorded name, its bytes checked against the SHA-256 recorded when it
//! was stored. As for a run's reproducibility bundle ([`crate::bundle`]),
//! the worker builds it (the `build_outputs_zip` task) into the blob store
//! beside the bundle, and the web hands it out like an output: a presigned
//! URL on S3, the file itself from a local directory. No request builds
//! it: a run's outputs may weigh gigabytes, and on AWS Lambda a response
//! carries at most 6 MB.

use serde::{Deserialize, Serialize};

use crate::blob::BlobKey;
use crate::ids::RunId;
use crate::status::RunStatus;
use crate::task::{Job, TaskKind};

/// Where the zip of a run's outputs is kept ([`BlobKey::run_outputs_zip`]).
pub fn key(run: RunId) -> BlobKey {
    BlobKey::run_outputs_zip(run)
}

/// The name the zip is downloaded as: `modelrun-run-<id>-outputs.zip`.
pub fn file_name(run: RunId) -> String {
    format!("modelrun-run-{run}-outputs.zip")
}

/// Whether a run in `status` offers the zip of its outputs: once it has
/// ended, when its outputs no longer change.
pub fn offered(status: RunStatus) -> bool {
    status.is_terminal()
}

/// Build the zip of an ended run's outputs into the blob store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildOutputsZip {
    pub run_id: RunId,
}

impl Job for BuildOutputsZip {
    const KIND: TaskKind = TaskKind::BuildOutputsZip;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("build_outputs_zip:{}", self.run_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_lives_beside_the_bundle_never_among_the_outputs() {
        let run = RunId(7);
        assert_eq!(
            key(run).as_str(),
            "runs/7/bundle/modelrun-run-7-outputs.zip"
        );
        assert!(
            !key(run)
                .as_str()
                .starts_with(BlobKey::run_outputs(run).as_str())
        );
        assert_eq!(file_name(run), "modelrun-run-7-outputs.zip");
        assert!(offered(RunStatus::Failed) && !offered(RunStatus::Running));
    }
}
