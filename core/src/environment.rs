//! Model environments: the Python packages a version needs, declared in its
//! manifest (`[environment] requirements = "requirements.txt"`).
//!
//! On one machine a version's environment is a virtual environment that
//! modelrun builds from the requirements, keyed by a digest of the
//! requirements and the interpreter, so that versions with the same
//! requirements share one build. On AWS the version's image is its
//! environment: the image build installs the same requirements.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::sha256_hex;

/// Largest requirements file accepted.
pub const MAX_REQUIREMENTS_BYTES: usize = 64 * 1024;

/// What an environment is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentSpec {
    /// The requirements file's text, in pip's format.
    pub requirements: String,
    /// The interpreter asked for (`3.11`), if any; else the server's `python3`.
    pub python: Option<String>,
    /// The interpreter it resolves to on this machine (`Python 3.11.7`):
    /// part of the digest, so that a new interpreter makes a new environment.
    pub interpreter: String,
}

impl EnvironmentSpec {
    /// The environment's key: SHA-256 of what it is built from.
    pub fn digest(&self) -> String {
        sha256_hex(format!(
            "modelrun-environment-1\0{}\0{}\0{}",
            self.python.as_deref().unwrap_or(""),
            self.interpreter,
            self.requirements
        ))
    }
}

/// Where an environment is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentStatus {
    /// Declared; built when the first run asks for it.
    Pending,
    /// Being built.
    Preparing,
    /// Built: runs may use it.
    Ready,
    /// The installer failed; its log says why.
    Failed,
}

impl EnvironmentStatus {
    pub const ALL: [EnvironmentStatus; 4] = [
        EnvironmentStatus::Pending,
        EnvironmentStatus::Preparing,
        EnvironmentStatus::Ready,
        EnvironmentStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentStatus::Pending => "pending",
            EnvironmentStatus::Preparing => "preparing",
            EnvironmentStatus::Ready => "ready",
            EnvironmentStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for EnvironmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnvironmentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EnvironmentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown environment status {s:?}"))
    }
}

/// A stored environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Environment {
    pub digest: String,
    pub spec: EnvironmentSpec,
    pub status: EnvironmentStatus,
    /// The end of the installer's output (the whole of it is in the data
    /// directory), kept to show why a build failed.
    pub log: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why an environment could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// The installer failed: the end of its output says why.
    #[error("{summary}")]
    Failed { summary: String, log: String },
    /// The machine could not be asked (a file, a process): worth retrying.
    #[error("{0}")]
    Io(String),
}

/// Why a requirements file is refused, one line per refused line (`line 3:
/// "-e ." refers to a file ...`). An environment is shared by every version
/// whose requirements have the same text, and where packages come from is
/// the server's setting, so each line must name packages of the index:
///
/// - a line that names a file of the model (`-r`, `-c`, `-e`, a path, a
///   `file:` URL, a wheel or archive) would make two versions with the same
///   text share an environment built from different files;
/// - a direct reference (`name @ URL`, a bare URL, a VCS URL) can serve
///   other contents under the same text;
/// - an index option (`-i`, `--index-url`, `--extra-index-url`, `-f`,
///   `--find-links`, `--no-index`, `--trusted-host`) would override the
///   server's index (its private mirror, its wheelhouse without internet) or
///   turn off certificate checks; the server sets it (`PIP_INDEX_URL` ...).
pub fn check_requirements(text: &str) -> Result<(), String> {
    if text.len() > MAX_REQUIREMENTS_BYTES {
        return Err(format!(
            "is {} bytes; at most {MAX_REQUIREMENTS_BYTES} are accepted",
            text.len()
        ));
    }
    let refused: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(number, line)| {
            let line = line.split(" #").next().unwrap_or_default().trim();
            let why = refused_requirement(line)?;
            Some(format!("line {}: {line:?} {why}", number + 1))
        })
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(format!("\n  {}", refused.join("\n  ")))
    }
}

/// Options of a requirements file that name a file of the model.
const FILE_OPTIONS: [&str; 6] = [
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
];
/// Options of a requirements file that say where packages come from.
const INDEX_OPTIONS: [&str; 9] = [
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-index",
    "--trusted-host",
    "--index",
    "--default-index",
];
/// Ends of a requirement that is a file rather than a package name.
const ARCHIVES: [&str; 6] = [".whl", ".tar.gz", ".zip", ".tgz", ".tar.bz2", ".tar.xz"];

/// Why one line (without its comment) of a requirements file is refused.
fn refused_requirement(line: &str) -> Option<&'static str> {
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let is_option = |options: &[&str]| {
        options.iter().any(|option| {
            line == *option
                || line.starts_with(&format!("{option} "))
                || line.starts_with(&format!("{option}="))
                // `-ihttps://...`, `-rother.txt`: short options glued to values.
                || (option.len() == 2 && line.starts_with(option))
        })
    };
    let requirement = line.split(';').next().unwrap_or_default().trim();
    let lower = requirement.to_ascii_lowercase();
    const FILE: &str = "refers to a file; name packages (with versions, such as pandas==2.2.3) \
                        so that the environment is fully described by the requirements";
    if is_option(&FILE_OPTIONS)
        || line.starts_with(['.', '/', '~'])
        || lower.starts_with("file:")
        || lower.contains("@ file:")
        || lower.contains("@file:")
    {
        Some(FILE)
    } else if is_option(&INDEX_OPTIONS) {
        Some(
            "sets where packages come from, which is the server's setting (PIP_INDEX_URL, \
             PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX); ask its operator, and \
             name only packages here",
        )
    } else if requirement.contains('@') || lower.contains("://") {
        Some(
            "is a direct reference (a URL), whose contents can change under the same text; \
             name a package of the index with its version, or publish the package to the \
             server's index",
        )
    } else if requirement.contains(['/', '\\']) || ARCHIVES.iter().any(|end| lower.ends_with(end)) {
        Some(FILE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(requirements: &str, interpreter: &str) -> EnvironmentSpec {
        EnvironmentSpec {
            requirements: requirements.to_owned(),
            python: None,
            interpreter: interpreter.to_owned(),
        }
    }

    #[test]
    fn the_digest_follows_requirements_and_interpreter() {
        let a = spec("pandas==2.2.3\n", "Python 3.11.7");
        assert_eq!(
            a.digest(),
            spec("pandas==2.2.3\n", "Python 3.11.7").digest()
        );
        assert_ne!(
            a.digest(),
            spec("pandas==2.2.2\n", "Python 3.11.7").digest()
        );
        assert_ne!(
            a.digest(),
            spec("pandas==2.2.3\n", "Python 3.12.1").digest()
        );
        assert_eq!(a.digest().len(), 64);
    }

    #[test]
    fn requirements_name_packages_of_the_index() {
        let good = "# pinned\npandas==2.2.3\nstatsmodels>=0.14 # HW\n\
                    numpy==2.1; python_version >= \"3.10\"\nscipy==1.14 --hash=sha256:00\n\
                    --prefer-binary\nrequests[socks]~=2.32\n";
        assert_eq!(check_requirements(good), Ok(()));
        for bad in [
            "-r other.txt",
            "-rother.txt",
            "-e .",
            "./pkg",
            "/opt/wheels/x.whl",
            "wheels/x-1.0-py3-none-any.whl",
            "x-1.0.tar.gz",
            "--constraint=c.txt",
            "file:///x",
            "pkg @ file:///opt/pkg",
            "-i https://evil.example/simple",
            "--index-url https://evil.example/simple",
            "--extra-index-url=https://evil.example/simple",
            "-f /opt/wheels",
            "--find-links https://evil.example/wheels",
            "--trusted-host evil.example",
            "--no-index",
            "pkg @ https://example.com/pkg-1.0.tar.gz",
            "git+https://github.com/example/pkg",
            "https://example.com/pkg-1.0-py3-none-any.whl",
        ] {
            let error = check_requirements(&format!("numpy\n{bad}\n")).expect_err(bad);
            assert!(error.trim_start().starts_with("line 2:"), "{bad}: {error}");
            let kind = if bad.starts_with("-i")
                || bad.starts_with("-f")
                || bad.starts_with("--") && !bad.starts_with("--constraint")
            {
                "sets where packages come from"
            } else if bad.contains("://") && !bad.contains("file:") {
                "is a direct reference"
            } else {
                "refers to a file"
            };
            assert!(error.contains(kind), "{bad}: {error}");
        }
        let every =
            check_requirements("-e .\nnumpy\n--index-url https://x/simple\nx @ git+https://y\n")
                .expect_err("three lines");
        for line in ["line 1:", "line 3:", "line 4:"] {
            assert!(every.contains(line), "{line} missing from: {every}");
        }
        assert!(!every.contains("line 2:"), "{every}");
        assert!(check_requirements(&"x".repeat(MAX_REQUIREMENTS_BYTES + 1)).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for status in EnvironmentStatus::ALL {
            assert_eq!(status.as_str().parse::<EnvironmentStatus>(), Ok(status));
        }
    }
}
