//! File-tree helpers for local models: snapshots, per-run copies, digests.
//! Symbolic links and special files are never followed or copied, so a
//! model directory cannot smuggle in files from elsewhere on the machine.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Directories that are never part of a model: version control, caches,
/// virtual environments, modelrun's own data.
pub fn is_ignored(name: &str) -> bool {
    matches!(
        name,
        ".git"
            | ".hg"
            | ".svn"
            | "__pycache__"
            | ".venv"
            | "venv"
            | "node_modules"
            | ".modelrun"
            | ".pytest_cache"
    )
}

/// Every regular file below `root`, as paths relative to it, sorted.
/// Ignored directories are skipped when `skip_ignored` is set; links and
/// special files are left out (see [`foreign_entries`]).
pub fn regular_files(root: &Path, skip_ignored: bool) -> io::Result<Vec<PathBuf>> {
    Ok(walk(root, skip_ignored)?.0)
}

/// The entries below `root`, outside ignored directories, that a model
/// version cannot carry, each with why: symbolic links (followed, they
/// could name any file of the machine) and special files. Paths are
/// relative to `root`, sorted.
pub fn foreign_entries(root: &Path) -> io::Result<Vec<Foreign>> {
    Ok(walk(root, true)?.1)
}

/// An entry a version cannot carry, and why.
type Foreign = (PathBuf, String);

fn walk(root: &Path, skip_ignored: bool) -> io::Result<(Vec<PathBuf>, Vec<Foreign>)> {
    let (mut files, mut foreign) = (Vec::new(), Vec::new());
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in fs::read_dir(root.join(&relative))? {
            let entry = entry?;
            let name = entry.file_name();
            let path = relative.join(&name);
            if skip_ignored && is_ignored(&name.to_string_lossy()) {
                continue;
            }
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() {
                files.push(path);
            } else if file_type.is_symlink() {
                let target = fs::read_link(entry.path())
                    .map(|target| format!("a symbolic link to {}", target.display()))
                    .unwrap_or_else(|_| "a symbolic link".to_owned());
                foreign.push((path, target));
            } else {
                foreign.push((path, "not a regular file".to_owned()));
            }
        }
    }
    files.sort();
    foreign.sort();
    Ok((files, foreign))
}

/// The bytes every file below `root` takes, links and special files
/// counted as their own size, never followed.
pub fn total_size(root: &Path) -> io::Result<u64> {
    let mut total = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let metadata = fs::symlink_metadata(entry.path())?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                total += metadata.len();
            }
        }
    }
    Ok(total)
}

/// What a model left in its output directory: the files that can become
/// outputs (relative paths, sorted), and the entries that cannot, each with
/// why: links (symbolic or hard, which could name a file outside the run)
/// and special files.
#[derive(Debug, Default)]
pub struct OutputEntries {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, &'static str)>,
}

pub fn output_entries(root: &Path) -> io::Result<OutputEntries> {
    use std::os::unix::fs::MetadataExt;
    let mut found = OutputEntries::default();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in fs::read_dir(root.join(&relative))? {
            let entry = entry?;
            let path = relative.join(entry.file_name());
            let metadata = fs::symlink_metadata(entry.path())?;
            let kind = metadata.file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_symlink() {
                found.skipped.push((path, "a symbolic link"));
            } else if !kind.is_file() {
                found.skipped.push((path, "not a regular file"));
            } else if metadata.nlink() > 1 {
                found
                    .skipped
                    .push((path, "a hard link to a file elsewhere"));
            } else {
                found.files.push(path);
            }
        }
    }
    found.files.sort();
    found.skipped.sort();
    Ok(found)
}

/// Copies the regular files of `from` into `to` (created if missing).
pub fn copy_tree(from: &Path, to: &Path, skip_ignored: bool) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for relative in regular_files(from, skip_ignored)? {
        let target = to.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from.join(&relative), target)?;
    }
    Ok(())
}

/// SHA-256 over the names and contents of a model's files: equal digests
/// mean equal models.
pub fn digest_tree(root: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    for relative in regular_files(root, true)? {
        let name = relative.to_string_lossy();
        let content = fs::read(root.join(&relative))?;
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("dir");
        fs::write(dir.path().join("model.py"), "print(1)").expect("write");
        fs::create_dir_all(dir.path().join("data")).expect("mkdir");
        fs::write(dir.path().join("data/rates.csv"), "a,b").expect("write");
        fs::create_dir_all(dir.path().join("__pycache__")).expect("mkdir");
        fs::write(dir.path().join("__pycache__/x.pyc"), "junk").expect("write");
        dir
    }

    #[test]
    fn copies_regular_files_but_not_caches() {
        let from = tree();
        let to = tempfile::tempdir().expect("dir");
        copy_tree(from.path(), &to.path().join("copy"), true).expect("copy");
        let copied = regular_files(&to.path().join("copy"), false).expect("list");
        assert_eq!(
            copied,
            [PathBuf::from("data/rates.csv"), PathBuf::from("model.py")]
        );
    }

    #[test]
    fn digests_change_with_names_and_contents_only() {
        let dir = tree();
        let first = digest_tree(dir.path()).expect("digest");
        fs::write(dir.path().join("__pycache__/y.pyc"), "more junk").expect("write");
        assert_eq!(digest_tree(dir.path()).expect("digest"), first);
        fs::write(dir.path().join("model.py"), "print(2)").expect("write");
        let changed = digest_tree(dir.path()).expect("digest");
        assert_ne!(changed, first);
        fs::rename(dir.path().join("model.py"), dir.path().join("main.py")).expect("rename");
        assert_ne!(digest_tree(dir.path()).expect("digest"), changed);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_not_followed() {
        let dir = tree();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).expect("symlink");
        std::os::unix::fs::symlink("/etc", dir.path().join("etc")).expect("symlink");
        std::os::unix::fs::symlink("/opt/venv", dir.path().join(".venv")).expect("symlink");
        let files = regular_files(dir.path(), true).expect("list");
        assert_eq!(
            files,
            [PathBuf::from("data/rates.csv"), PathBuf::from("model.py")]
        );
        let foreign = foreign_entries(dir.path()).expect("list");
        assert_eq!(
            foreign,
            [
                (PathBuf::from("etc"), "a symbolic link to /etc".to_owned()),
                (
                    PathBuf::from("link"),
                    "a symbolic link to /etc/hostname".to_owned()
                ),
            ]
        );
    }
}
