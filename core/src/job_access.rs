//! How a job on AWS Batch reaches its own files and nothing else.
//!
//! The job role has no S3 rights. When a run is dispatched to Batch, it
//! gets a random **job token** (`mrj_` and 64 hex digits, 256 bits), passed
//! in the job's environment; the store keeps only its SHA-256. `modelrun
//! exec` in the job trades the token at the job API (`/api/v1/jobs/{run}/…`)
//! for short-lived presigned S3 URLs: one to read the run's inputs, one per
//! input file to read it, one per output file to write it under the run's
//! outputs. The token is good for its own run only, and only until the run
//! ends; each URL lives [`JOB_URL_TTL`], and a new one is asked for each
//! file, so a job may run for hours.
//!
//! A sweep's array job has one token for all its children
//! ([`crate::sweep`]): it is kept once per run of the sweep
//! ([`hash_sweep_job_token`]), so it stands for each of those runs, each
//! until that run ends, and for no other run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crypto::{random_hex, sha256_hex};

/// The first characters of every job token.
pub const JOB_TOKEN_PREFIX: &str = "mrj_";

/// Life of a presigned URL handed to a job: long enough for one large
/// upload to start, short enough to be useless once copied.
pub const JOB_URL_TTL: Duration = Duration::from_secs(15 * 60);

/// The largest single output file: S3's limit for one `PutObject`, 5 GiB
/// (docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html).
pub const MAX_OUTPUT_FILE_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The job API's route to a run's input file: `input` names a file input
/// of the run; the answer is a [`Presigned`] GET of its upload.
pub const JOB_FILE_ROUTE: &str = "/api/v1/jobs/{id}/files/{input}";

/// The variables that tell `modelrun exec` where the job API is.
pub const API_URL_VARIABLE: &str = "MODELRUN_API_URL";
pub const RUN_ID_VARIABLE: &str = "MODELRUN_RUN_ID";
pub const JOB_TOKEN_VARIABLE: &str = "MODELRUN_JOB_TOKEN";

/// A job token. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct JobToken(String);

impl JobToken {
    pub fn generate() -> Self {
        JobToken(format!("{JOB_TOKEN_PREFIX}{}", random_hex(32)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: the SHA-256 of the token, as hex.
    pub fn hash(&self) -> String {
        hash_job_token(&self.0)
    }

    /// What the store keeps for a sweep's shared token, once per run of
    /// the sweep ([`hash_sweep_job_token`]).
    pub fn hash_for_run(&self, run: crate::ids::RunId) -> String {
        hash_sweep_job_token(&self.0, run)
    }
}

impl fmt::Debug for JobToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JobToken(…)")
    }
}

/// The store's key of a token as presented.
pub fn hash_job_token(token: &str) -> String {
    sha256_hex(token)
}

/// The store's key of a sweep's shared token for one of its runs: the
/// SHA-256 of the token and the run's id. The token alone is no key, so
/// it works only for the runs it was kept for.
pub fn hash_sweep_job_token(token: &str, run: crate::ids::RunId) -> String {
    sha256_hex(format!("{token}/{run}"))
}

/// A job's request to store one output file (`POST /api/v1/jobs/{run}/outputs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputUpload {
    /// The file's path below the outputs directory, `/`-separated.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, as 64 lowercase hex digits; S3 checks the upload against it.
    pub sha256: String,
    pub content_type: String,
}

impl OutputUpload {
    /// Refuses a size over [`MAX_OUTPUT_FILE_BYTES`] or a digest that is
    /// not 64 hex digits, naming the field. The name is checked where it
    /// becomes a key.
    pub fn check(&self) -> Result<(), String> {
        if self.size > MAX_OUTPUT_FILE_BYTES {
            return Err(format!(
                "size: {} bytes is over the limit of {MAX_OUTPUT_FILE_BYTES} bytes (5 GiB) for one output file",
                self.size
            ));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("sha256: must be 64 hexadecimal digits".to_owned());
        }
        if self.content_type.is_empty() || self.content_type.len() > 255 {
            return Err("content_type: must be 1 to 255 characters".to_owned());
        }
        Ok(())
    }
}

/// A presigned request: the URL, and the headers it must be sent with
/// (they are part of the signature).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presigned {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_token_is_kept_once_per_run() {
        let token = JobToken::generate();
        let first = token.hash_for_run(crate::ids::RunId(12));
        assert_eq!(
            first,
            hash_sweep_job_token(token.expose(), crate::ids::RunId(12))
        );
        assert_ne!(first, token.hash_for_run(crate::ids::RunId(13)));
        assert_ne!(first, token.hash());
    }

    #[test]
    fn tokens_are_long_random_and_hidden() {
        let token = JobToken::generate();
        assert!(token.expose().starts_with(JOB_TOKEN_PREFIX));
        assert_eq!(token.expose().len(), 4 + 64);
        assert_ne!(token, JobToken::generate());
        assert_eq!(token.hash(), hash_job_token(token.expose()));
        assert!(!format!("{token:?}").contains(&token.expose()[4..]));
    }

    #[test]
    fn uploads_are_checked_field_by_field() {
        let upload = OutputUpload {
            name: "forecast.csv".to_owned(),
            size: 10,
            sha256: "a".repeat(64),
            content_type: "text/csv".to_owned(),
        };
        assert_eq!(upload.check(), Ok(()));
        let big = OutputUpload {
            size: MAX_OUTPUT_FILE_BYTES + 1,
            ..upload.clone()
        };
        assert!(big.check().is_err_and(|e| e.starts_with("size:")));
        let digest = OutputUpload {
            sha256: "xyz".to_owned(),
            ..upload
        };
        assert!(digest.check().is_err_and(|e| e.starts_with("sha256:")));
    }
}
