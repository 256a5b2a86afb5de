//! `modelrun exec -- <command…>`: the entrypoint of model images on AWS
//! Batch. The job's environment names its inputs and outputs in S3
//! (`MODELRUN_INPUTS=s3://…/inputs.json`, `MODELRUN_OUTPUT_DIR=s3://…/outputs/`);
//! the wrapper fetches the inputs into a temporary directory, runs the
//! model with the same variables pointing at local paths, lets its output
//! through to stdout and stderr (CloudWatch Logs), uploads every file the
//! model wrote with a SHA-256 checksum, and exits with the model's exit code.
//! Model authors write plain files and never touch the AWS SDK.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;

use modelrun_core::blob::{BlobKey, BlobStore, MAX_DOCUMENT_BYTES};
use modelrun_core::config::S3Config;
use modelrun_core::model_secrets::SecretValues;
use tokio::process::Command;

use crate::blob::S3BlobStore;
use crate::{files, log_pipe};

/// Exit code when the wrapper itself fails (inputs missing, outputs not
/// uploaded), as docker uses it for a container that could not run.
pub const WRAPPER_FAILED: i32 = 125;

/// `s3://bucket/key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl FromStr for S3Uri {
    type Err = String;

    fn from_str(uri: &str) -> Result<Self, String> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{uri:?} is not an s3:// URI"))?;
        let (bucket, key) = rest
            .split_once('/')
            .ok_or_else(|| format!("{uri:?} names no object"))?;
        if bucket.is_empty() {
            return Err(format!("{uri:?} names no bucket"));
        }
        Ok(S3Uri {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

/// The variable in which the job definition names the model's secrets
/// (`WAREHOUSE_URL,FX_API_KEY`), whose values Batch puts in the
/// environment: the wrapper masks them in the log.
pub const SECRET_NAMES_VARIABLE: &str = "MODELRUN_SECRET_NAMES";

/// What to run, and where its files are.
#[derive(Debug, Clone)]
pub struct Exec {
    pub inputs: S3Uri,
    pub outputs: S3Uri,
    pub command: Vec<String>,
    /// Path-style S3 URLs (emulators).
    pub force_path_style: bool,
    /// The model's secrets, as the job got them: masked in its output.
    pub secrets: SecretValues,
}

fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("[modelrun] {message}");
    WRAPPER_FAILED
}

/// Runs the model as described above; returns the exit code to exit with.
pub async fn run(sdk: &aws_config::SdkConfig, exec: Exec) -> i32 {
    let store = |bucket: &str| {
        S3BlobStore::new(
            sdk,
            S3Config {
                bucket: bucket.to_owned(),
                prefix: None,
                force_path_style: exec.force_path_style,
            },
        )
    };
    // The model runs in the image's working directory: every path it is
    // given is absolute, even under a relative TMPDIR.
    let temp =
        std::env::temp_dir().join(format!("modelrun-{}", modelrun_core::crypto::random_hex(6)));
    let work = match std::path::absolute(&temp) {
        Ok(work) => work,
        Err(error) => return fail(format!("cannot resolve {}: {error}", temp.display())),
    };
    let (inputs_path, outputs_dir) = (work.join("inputs.json"), work.join("outputs"));
    if let Err(error) = tokio::fs::create_dir_all(&outputs_dir).await {
        return fail(format!("cannot create {}: {error}", outputs_dir.display()));
    }
    if let Err(message) = fetch(&store(&exec.inputs.bucket), &exec.inputs.key, &inputs_path).await {
        return fail(message);
    }
    let code = match run_model(&exec.command, &inputs_path, &outputs_dir, &exec.secrets).await {
        Ok(code) => code,
        Err(message) => return fail(message),
    };
    let uploaded = upload(
        &store(&exec.outputs.bucket),
        &outputs_dir,
        exec.outputs.key.trim_end_matches('/'),
    )
    .await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    match uploaded {
        Ok((count, bytes)) => {
            println!("[modelrun] stored {count} output files ({bytes} bytes)");
            code
        }
        Err(message) => fail(message),
    }
}

async fn fetch(store: &S3BlobStore, key: &str, to: &Path) -> Result<(), String> {
    let key = BlobKey::new(key).map_err(|error| error.to_string())?;
    let bytes = store
        .read_all(&key, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|error| format!("cannot read the inputs {key}: {error}"))?;
    tokio::fs::write(to, bytes)
        .await
        .map_err(|error| format!("cannot write {}: {error}", to.display()))
}

/// Runs the command with the contract variables pointing at local paths,
/// passing SIGTERM and SIGINT on (Batch stops a job with SIGTERM).
async fn run_model(
    command: &[String],
    inputs: &Path,
    outputs: &Path,
    secrets: &SecretValues,
) -> Result<i32, String> {
    let (program, args) = command
        .split_first()
        .ok_or("no command given: modelrun exec -- <command…>")?;
    let (output, copy) = log_pipe::start(std::io::stdout(), secrets, None)
        .map_err(|error| format!("cannot open the model's output: {error}"))?;
    let stderr = output
        .try_clone()
        .map_err(|error| format!("cannot open the model's output: {error}"))?;
    let mut child = Command::new(program)
        .args(args)
        .env("MODELRUN_INPUTS", inputs)
        .env("MODELRUN_OUTPUT_DIR", outputs)
        .env_remove(SECRET_NAMES_VARIABLE)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(stderr)
        .spawn()
        .map_err(|error| format!("cannot start `{}`: {error}", command.join(" ")))?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut interrupt =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(|error| format!("lost the model's process: {error}"))?,
            Some(()) = async { term.as_mut()?.recv().await } => forward(&child, libc::SIGTERM),
            Some(()) = async { interrupt.as_mut()?.recv().await } => forward(&child, libc::SIGINT),
        }
    };
    // What the model printed last reaches the log before the wrapper's own lines.
    if let Ok(Err(error)) = copy.await {
        eprintln!("[modelrun] the model's output could not be copied: {error}");
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

#[allow(unsafe_code)]
fn forward(child: &tokio::process::Child, signal: libc::c_int) {
    if let Some(pid) = child.id().and_then(|pid| libc::pid_t::try_from(pid).ok()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Uploads every regular file below `dir` to `prefix/<name>`; returns the
/// count and the total size.
async fn upload(store: &S3BlobStore, dir: &Path, prefix: &str) -> Result<(usize, u64), String> {
    let root = dir.to_path_buf();
    let names: Vec<PathBuf> =
        tokio::task::spawn_blocking(move || files::regular_files(&root, false))
            .await
            .map_err(|error| error.to_string())?
            .map_err(|error| format!("cannot list the outputs: {error}"))?;
    let mut total = 0;
    for relative in &names {
        let name = relative
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        let Ok(key) = BlobKey::new(format!("{prefix}/{name}")) else {
            eprintln!("[modelrun] skipped the output {name:?}: its name cannot be stored");
            continue;
        };
        let content_type = mime_guess::from_path(&name).first_or_octet_stream();
        let stored = store
            .put_file(&key, &dir.join(relative), content_type.essence_str())
            .await
            .map_err(|error| format!("cannot store the output {name}: {error}"))?;
        total += stored.size;
    }
    Ok((names.len(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_uris() {
        assert_eq!(
            "s3://artifacts/runs/1/inputs.json".parse(),
            Ok(S3Uri {
                bucket: "artifacts".to_owned(),
                key: "runs/1/inputs.json".to_owned()
            })
        );
        assert!("runs/1/inputs.json".parse::<S3Uri>().is_err());
        assert!("s3://bucket-only".parse::<S3Uri>().is_err());
        assert!("s3:///key".parse::<S3Uri>().is_err());
    }
}
