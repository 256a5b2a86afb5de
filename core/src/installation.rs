//! This installation's identity, made once by the database migrations
//! (`migrations/*/0010_installation.sql`).
//!
//! Two installations may share an AWS Batch job queue and an S3 bucket: a
//! database restored from a snapshot or reset, staging beside production.
//! Their run ids overlap, so a run id alone never names a job or an object:
//! jobs carry the installation's id and the run's own key
//! ([`crate::run::Run::job_key`]), and object keys in a bucket go under the
//! installation's id.

/// Who this installation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// 12 lowercase hex characters, random.
    pub id: String,
    /// Whether its objects live under its id in a shared bucket. False for
    /// an installation that stored objects before it had an id: they stay
    /// where they are.
    pub scoped_storage: bool,
}

impl Installation {
    /// The prefix of this installation's objects in a bucket, if any.
    pub fn storage_prefix(&self) -> Option<&str> {
        self.scoped_storage.then_some(self.id.as_str())
    }
}

/// The first segments of blob keys that belong to one installation: its
/// runs' files, its uploads and its sweeps' archives (a sweep's id, like a
/// run's, starts again in a new database). Image manifests (`manifests/`),
/// written by the image build, belong to the stack and are shared.
const SCOPED_KINDS: [&str; 3] = ["runs", "uploads", "sweeps"];

/// Where an installation's blobs are stored: `runs/<id>/…` and
/// `uploads/<id>/…` put under its id, `runs/<installation>/<id>/…`, so that
/// another database on the same bucket or data directory (restored, reset)
/// never reads, lists or overwrites them. The id comes after the first
/// segment so that lifecycle rules and IAM policies on `runs/` and
/// `uploads/` hold as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageScope(Option<String>);

impl StorageScope {
    /// Keys as they are: an installation that stored blobs before it had
    /// an id.
    pub fn none() -> Self {
        StorageScope(None)
    }

    pub fn of(installation: &Installation) -> Self {
        StorageScope(installation.storage_prefix().map(str::to_owned))
    }

    /// The stored path of blob key `key`.
    pub fn apply(&self, key: &str) -> String {
        match (&self.0, key.split_once('/')) {
            (Some(scope), Some((kind, rest))) if SCOPED_KINDS.contains(&kind) => {
                format!("{kind}/{scope}/{rest}")
            }
            _ => key.to_owned(),
        }
    }

    /// The blob key of a stored path; `None` when the path is another
    /// installation's (or an unscoped one's, seen from a scoped one).
    pub fn remove(&self, stored: &str) -> Option<String> {
        match (&self.0, stored.split_once('/')) {
            (Some(scope), Some((kind, rest))) if SCOPED_KINDS.contains(&kind) => Some(format!(
                "{kind}/{}",
                rest.strip_prefix(scope.as_str())?.strip_prefix('/')?
            )),
            _ => Some(stored.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_uploads_and_sweeps_go_under_the_installation() {
        let scope = StorageScope::of(&Installation {
            id: "0a1b2c3d4e5f".to_owned(),
            scoped_storage: true,
        });
        for (key, stored) in [
            ("runs/7/outputs/a.csv", "runs/0a1b2c3d4e5f/7/outputs/a.csv"),
            ("uploads/u1/data.csv", "uploads/0a1b2c3d4e5f/u1/data.csv"),
            (
                "sweeps/3/modelrun-sweep-3.zip",
                "sweeps/0a1b2c3d4e5f/3/modelrun-sweep-3.zip",
            ),
            (
                "manifests/forecast/v1/modelrun.toml",
                "manifests/forecast/v1/modelrun.toml",
            ),
        ] {
            assert_eq!(scope.apply(key), stored);
            assert_eq!(scope.remove(stored).as_deref(), Some(key));
        }
        assert_eq!(scope.remove("runs/ffffffffffff/7/outputs/a.csv"), None);
        assert_eq!(scope.remove("runs/7/outputs/a.csv"), None);

        let legacy = StorageScope::of(&Installation {
            id: "0a1b2c3d4e5f".to_owned(),
            scoped_storage: false,
        });
        assert_eq!(legacy, StorageScope::none());
        assert_eq!(legacy.apply("runs/7/inputs.json"), "runs/7/inputs.json");
        assert_eq!(
            legacy.remove("runs/7/inputs.json").as_deref(),
            Some("runs/7/inputs.json")
        );
    }
}
