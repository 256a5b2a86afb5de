//! Where a local job's files are: the data directory, made absolute once,
//! and each version's snapshot, found even when an earlier install recorded
//! it relative to its working directory.

use std::path::{Component, Path, PathBuf};

/// `dir` made absolute against the working directory (kept as it is in the
/// one case that cannot be: a working directory that no longer exists).
pub(super) fn absolute(dir: PathBuf) -> PathBuf {
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Where a version's snapshot is. Versions record it as an absolute path;
/// one recorded relative to an earlier working directory
/// (`.modelrun/models/<name>/<label>`) is looked up under this data
/// directory's `models/`, and anything else relative is refused.
pub(super) fn snapshot_dir(data_dir: &Path, recorded: &str) -> Result<PathBuf, String> {
    let path = Path::new(recorded);
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let parts: Vec<_> = path.components().collect();
    if let [
        ..,
        Component::Normal(models),
        Component::Normal(name),
        Component::Normal(label),
    ] = parts[..]
        && models == "models"
    {
        let found = data_dir.join("models").join(name).join(label);
        if found.is_dir() {
            return Ok(found);
        }
    }
    Err(format!(
        "the version's files are recorded at the relative path {recorded:?}, which cannot be \
         found under {}; register the model again with `modelrun models register`",
        data_dir.join("models").display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_data_directory_is_made_absolute() {
        let dir = absolute(PathBuf::from(".modelrun"));
        assert!(dir.is_absolute(), "{}", dir.display());
        assert!(dir.ends_with(".modelrun"));
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(dir, cwd.join(".modelrun"));
    }

    #[test]
    fn snapshots_are_absolute_or_refused() {
        let data = tempfile::tempdir().expect("tempdir");
        let kept = snapshot_dir(data.path(), "/srv/models/forecast/v1").expect("absolute");
        assert_eq!(kept, PathBuf::from("/srv/models/forecast/v1"));

        // Recorded relative to an earlier working directory: found under
        // this data directory when the snapshot is there.
        let snapshot = data.path().join("models/forecast/abc123");
        std::fs::create_dir_all(&snapshot).expect("snapshot");
        let found = snapshot_dir(data.path(), ".modelrun/models/forecast/abc123").expect("found");
        assert_eq!(found, snapshot);
        assert!(found.is_absolute());

        for refused in [".modelrun/models/forecast/missing", "model", "../x/y/z"] {
            let error = snapshot_dir(data.path(), refused).expect_err(refused);
            assert!(error.contains("relative path"), "{error}");
            assert!(error.contains("register the model again"), "{error}");
        }
    }
}
