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

/// Why a requirements file is refused: a line that names a file of the
/// model (`-r`, `-c`, `-e`, a path) would make two versions with the same
/// text share an environment built from different files.
pub fn check_requirements(text: &str) -> Result<(), String> {
    if text.len() > MAX_REQUIREMENTS_BYTES {
        return Err(format!(
            "is {} bytes; at most {MAX_REQUIREMENTS_BYTES} are accepted",
            text.len()
        ));
    }
    for (number, line) in text.lines().enumerate() {
        let line = line.split(" #").next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let refers_to_a_file = [
            "-r",
            "--requirement",
            "-c",
            "--constraint",
            "-e",
            "--editable",
        ]
        .iter()
        .any(|option| {
            line == *option
                || line.starts_with(&format!("{option} "))
                || line.starts_with(&format!("{option}="))
        }) || line.starts_with(['.', '/', '~'])
            || line.starts_with("file:");
        if refers_to_a_file {
            return Err(format!(
                "line {}: {line:?} refers to a file; name packages (with versions, \
                 such as pandas==2.2.3) so that the environment is fully described by \
                 the requirements",
                number + 1
            ));
        }
    }
    Ok(())
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
    fn requirements_name_packages_not_files() {
        assert!(check_requirements("# pinned\npandas==2.2.3\nstatsmodels>=0.14 # HW\n--index-url https://pypi.example.com/simple\n").is_ok());
        for bad in [
            "-r other.txt",
            "-e .",
            "./pkg",
            "/opt/wheels/x.whl",
            "--constraint=c.txt",
            "file:///x",
        ] {
            let error = check_requirements(&format!("numpy\n{bad}\n")).expect_err(bad);
            assert!(error.starts_with("line 2:"), "{error}");
        }
        assert!(check_requirements(&"x".repeat(MAX_REQUIREMENTS_BYTES + 1)).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for status in EnvironmentStatus::ALL {
            assert_eq!(status.as_str().parse::<EnvironmentStatus>(), Ok(status));
        }
    }
}
