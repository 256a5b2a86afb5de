//! `modelrun exec -- <command…>`: the entrypoint of model images on AWS
//! Batch. The job's environment names its run, modelrun's address and the
//! run's job token (`MODELRUN_RUN_ID`, `MODELRUN_API_URL`,
//! `MODELRUN_JOB_TOKEN`); the wrapper fetches the inputs and the input
//! files through the job API into a temporary directory (each file input's
//! value becoming the path of its copy), runs the model with
//! `MODELRUN_INPUTS` and `MODELRUN_OUTPUT_DIR` pointing there, lets its
//! output through to stdout and stderr (CloudWatch Logs), stores every file
//! the model wrote through the job API (S3 checks each against its
//! SHA-256), and exits with the model's exit code. The model's progress
//! lines reach modelrun through the job API too, at most once a second.
//! The job role has no S3 rights: a model reaches its own run's files and
//! nothing else. Model authors write plain files and never touch the AWS
//! SDK.

mod job_api;

use std::path::Path;
use std::process::Stdio;

use modelrun_core::blob::BlobKey;
use modelrun_core::job_access::JOB_TOKEN_VARIABLE;
use modelrun_core::model_secrets::SecretValues;
use tokio::process::Command;

pub use job_api::JobApi;

use crate::{files, input_files, log_pipe, progress_feed};

/// Exit code when the wrapper itself fails (inputs missing, outputs not
/// uploaded), as docker uses it for a container that could not run.
pub const WRAPPER_FAILED: i32 = 125;

/// The variable in which the job definition names the model's secrets
/// (`WAREHOUSE_URL,FX_API_KEY`), whose values Batch puts in the
/// environment: the wrapper masks them in the log.
pub const SECRET_NAMES_VARIABLE: &str = "MODELRUN_SECRET_NAMES";

/// What to run, and where its files are.
#[derive(Debug, Clone)]
pub struct Exec {
    pub job: JobApi,
    pub command: Vec<String>,
    /// The model's secrets, as the job got them: masked in its output.
    pub secrets: SecretValues,
}

fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("[modelrun] {message}");
    WRAPPER_FAILED
}

/// Runs the model as described above; returns the exit code to exit with.
pub async fn run(exec: Exec) -> i32 {
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
    if let Err(message) = fetch_inputs(&exec.job, &inputs_path).await {
        return fail(message);
    }
    let (feed, progress_writer) = {
        let job = exec.job.clone();
        progress_feed::start(move |progress| {
            let job = job.clone();
            async move { job.report_progress(&progress).await }
        })
    };
    let ran = run_model(
        &exec.command,
        &inputs_path,
        &outputs_dir,
        &exec.secrets,
        feed,
    )
    .await;
    // The last progress reaches modelrun while the run is still active.
    let _ = tokio::time::timeout(progress_feed::MIN_INTERVAL * 3, progress_writer).await;
    let code = match ran {
        Ok(code) => code,
        Err(message) => return fail(message),
    };
    let uploaded = upload(&exec.job, &outputs_dir).await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    match uploaded {
        Ok((count, bytes)) => {
            println!("[modelrun] stored {count} output files ({bytes} bytes)");
            code
        }
        Err(message) => fail(message),
    }
}

/// Writes the run's `inputs.json` at `path`, each file input as the path of
/// its copy beside it ([`input_files`]).
async fn fetch_inputs(job: &JobApi, path: &Path) -> Result<(), String> {
    let dir = path.parent().unwrap_or(path);
    let inputs = job.fetch_inputs().await?;
    let inputs =
        input_files::materialize(&inputs, dir, |input| job.fetch_file(input.clone())).await?;
    tokio::fs::write(path, inputs)
        .await
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Runs the command with the contract variables pointing at local paths,
/// passing SIGTERM and SIGINT on (Batch stops a job with SIGTERM).
async fn run_model(
    command: &[String],
    inputs: &Path,
    outputs: &Path,
    secrets: &SecretValues,
    progress: progress_feed::Feed,
) -> Result<i32, String> {
    let (program, args) = command
        .split_first()
        .ok_or("no command given: modelrun exec -- <command…>")?;
    let (output, copy) = log_pipe::start(std::io::stdout(), secrets, None, Some(progress))
        .map_err(|error| format!("cannot open the model's output: {error}"))?;
    let stderr = output
        .try_clone()
        .map_err(|error| format!("cannot open the model's output: {error}"))?;
    let mut child = Command::new(program)
        .args(args)
        .env("MODELRUN_INPUTS", inputs)
        .env("MODELRUN_OUTPUT_DIR", outputs)
        .env_remove(SECRET_NAMES_VARIABLE)
        .env_remove(JOB_TOKEN_VARIABLE)
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

/// Stores every regular file below `dir` as an output of the run; returns
/// the count and the total size. Links (symbolic or hard) and special files
/// are skipped, as on one machine, each with a line in the log.
async fn upload(job: &JobApi, dir: &Path) -> Result<(usize, u64), String> {
    let root = dir.to_path_buf();
    let entries = tokio::task::spawn_blocking(move || files::output_entries(&root))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| format!("cannot list the outputs: {error}"))?;
    for (path, why) in &entries.skipped {
        println!(
            "[modelrun] skipped output {:?}: it is {why}",
            path.display().to_string()
        );
    }
    let mut total = 0;
    let mut stored = 0;
    for relative in &entries.files {
        let name = relative
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        if BlobKey::run_output(job.run, &name).is_err() {
            println!("[modelrun] skipped output {name:?}: its name cannot be stored");
            continue;
        }
        total += job.store_output(&name, &dir.join(relative)).await?;
        stored += 1;
    }
    Ok((stored, total))
}
