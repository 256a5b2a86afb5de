//! Reproducibility bundles: one zip per ended run with what it takes to run
//! it again and to tell whether the new run gave the same outputs. The
//! worker writes the bundle (a durable task, so that a large run's bundle
//! is never built inside a request), the web hands it out like an output,
//! and `modelrun runs reproduce` reads its manifest, `bundle.json`, whose
//! shape is [`BundleManifest`].
//!
//! Layout of the zip:
//!
//! ```text
//! bundle.json              the manifest (machine readable)
//! README.md                for people: what ran, and the commands to run it again
//! inputs.json              the run's inputs, as the model read them
//! inputs/<input>/<name>    each file input's file
//! outputs/<name>           each output
//! log.txt                  the run's log (stdout and stderr)
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::blob::{BlobError, BlobKey, BlobStore};
use crate::ids::RunId;
use crate::manifest::Resources;
use crate::status::RunStatus;
use crate::task::{Job, TaskKind};

/// The `format` of the manifests this version writes and reads.
pub const FORMAT: &str = "modelrun-bundle/1";

/// Name of the manifest inside the zip.
pub const MANIFEST: &str = "bundle.json";

/// Name of the log inside the zip.
pub const LOG: &str = "log.txt";

/// What the bundle's manifest says where the version's source commit was
/// not recorded when it was registered (the README says the same).
pub const NOT_RECORDED: &str = "not recorded";

/// Where a run's bundle is kept ([`BlobKey::run_bundle`]).
pub fn key(run: RunId) -> BlobKey {
    BlobKey::run_bundle(run)
}

/// Whether a run's bundle is stored under `key`. In a local directory the
/// file is looked at (a listing there hashes what it finds); elsewhere its
/// prefix is listed.
pub async fn stored(blob: &dyn BlobStore, key: &BlobKey) -> Result<bool, BlobError> {
    if let Some(path) = blob.local_path(key) {
        return Ok(path.is_file());
    }
    let Some((prefix, _)) = key.as_str().rsplit_once('/') else {
        return Ok(false);
    };
    let found = blob.list(&BlobKey::new(prefix)?).await?;
    Ok(found.iter().any(|object| &object.key == key))
}

/// The name a bundle is downloaded as: `modelrun-run-<id>.zip`.
pub fn file_name(run: RunId) -> String {
    format!("modelrun-run-{run}.zip")
}

/// Whether a run in `status` offers a bundle: once it has ended, whether it
/// succeeded, failed or was cancelled (a failed run is often the one worth
/// running again). Its outputs and log no longer change then.
pub fn offered(status: RunStatus) -> bool {
    status.is_terminal()
}

/// `bundle.json`: everything `modelrun runs reproduce` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleManifest {
    /// [`FORMAT`].
    pub format: String,
    /// The server the run was made on (its public URL).
    pub server_url: String,
    pub run: BundleRun,
    /// The model's name.
    pub model: String,
    pub version: BundleVersion,
    /// The inputs as the model read them; a file input's value is its file
    /// reference (upload id, name, size, media type).
    pub inputs: Value,
    pub input_files: Vec<BundleFile>,
    pub outputs: Vec<BundleFile>,
    /// When the bundle was made.
    pub created_at: DateTime<Utc>,
}

/// The run a bundle is of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleRun {
    pub id: RunId,
    pub status: RunStatus,
    pub status_reason: Option<String>,
    pub submitted_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the run was given (vCPU, MiB, seconds).
    pub resources: Resources,
}

/// The version a run used: what identifies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleVersion {
    pub label: String,
    /// The digest of what was registered: the snapshot of the model's
    /// directory (local versions) or the image's digest (image versions).
    /// `runs reproduce` refuses a version whose digest is not this one.
    pub digest: String,
    /// `local` or `image`.
    pub runtime: String,
    /// For an image version, its URI.
    pub image_uri: Option<String>,
    /// For an image version, its image digest, where known.
    pub image_digest: Option<String>,
    /// The commit the version was built from, or [`NOT_RECORDED`].
    pub source_commit: String,
    pub registered_at: DateTime<Utc>,
}

/// A file in the bundle: an input's file or an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    /// The output's name, or for an input's file the input's name.
    pub name: String,
    /// The file's own name (for an input's file: as uploaded).
    pub file_name: String,
    /// Where it is in the zip; `None` when the stored file was missing.
    pub path: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub content_type: String,
}

/// Build a run's reproducibility bundle into the blob store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildBundle {
    pub run_id: RunId,
    /// The server's public URL, for the manifest and the README's commands.
    pub server_url: String,
}

impl Job for BuildBundle {
    const KIND: TaskKind = TaskKind::BuildBundle;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("build_bundle:{}", self.run_id))
    }
}

/// How two runs' outputs compare, output by output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// Same name, same SHA-256.
    Identical,
    /// Same name, another SHA-256.
    Differs,
    /// In the bundle, not in the new run.
    Missing,
    /// In the new run, not in the bundle.
    New,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Identical => "identical",
            Comparison::Differs => "differs",
            Comparison::Missing => "missing",
            Comparison::New => "new",
        }
    }
}

/// Each output of either run with how it compares, sorted by name:
/// `before` from the bundle, `after` the new run's `(name, sha256)`.
pub fn compare(before: &[BundleFile], after: &[(String, String)]) -> Vec<(String, Comparison)> {
    let mut names: Vec<&str> = before
        .iter()
        .map(|file| file.name.as_str())
        .chain(after.iter().map(|(name, _)| name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let old = before.iter().find(|file| file.name == name);
            let new = after.iter().find(|(n, _)| n == name);
            let comparison = match (old, new) {
                (Some(old), Some((_, sha))) if old.sha256.eq_ignore_ascii_case(sha) => {
                    Comparison::Identical
                }
                (Some(_), Some(_)) => Comparison::Differs,
                (Some(_), None) => Comparison::Missing,
                (None, _) => Comparison::New,
            };
            (name.to_owned(), comparison)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, sha: &str) -> BundleFile {
        BundleFile {
            name: name.to_owned(),
            file_name: name.to_owned(),
            path: Some(format!("outputs/{name}")),
            size: 1,
            sha256: sha.to_owned(),
            content_type: "text/plain".to_owned(),
        }
    }

    #[test]
    fn a_bundle_is_kept_beside_the_outputs_never_among_them() {
        let key = key(RunId(42));
        assert_eq!(key.as_str(), "runs/42/bundle/modelrun-run-42.zip");
        assert_eq!(key.strip_prefix(&BlobKey::run_outputs(RunId(42))), None);
    }

    #[test]
    fn outputs_compare_by_name_and_checksum() {
        let before = [
            file("a.csv", "aa"),
            file("b.csv", "bb"),
            file("c.csv", "cc"),
        ];
        let after = [
            ("a.csv".to_owned(), "AA".to_owned()),
            ("b.csv".to_owned(), "b2".to_owned()),
            ("d.csv".to_owned(), "dd".to_owned()),
        ];
        assert_eq!(
            compare(&before, &after),
            vec![
                ("a.csv".to_owned(), Comparison::Identical),
                ("b.csv".to_owned(), Comparison::Differs),
                ("c.csv".to_owned(), Comparison::Missing),
                ("d.csv".to_owned(), Comparison::New),
            ]
        );
    }

    #[test]
    fn only_ended_runs_offer_a_bundle() {
        assert!(offered(RunStatus::Succeeded));
        assert!(offered(RunStatus::Failed));
        assert!(offered(RunStatus::Cancelled));
        assert!(!offered(RunStatus::Running));
        assert!(!offered(RunStatus::Queued));
    }
}
