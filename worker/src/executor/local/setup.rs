//! Setting a local job up: its working directory, the values of its
//! model's secrets, and the environment its process gets.

use std::path::{Path, PathBuf};

use modelrun_core::blob::{BlobKey, MAX_DOCUMENT_BYTES};
use modelrun_core::executor::JobRequest;
use modelrun_core::ids::RunId;
use modelrun_core::model_secrets::SecretValues;

use super::Inner;
use super::job::Spec;
use super::process::{Limits, Start, cpus_for};
use super::sandbox::{Boundary, Reach, wrap};
use crate::{files, input_files};

/// Where a run's files are.
pub(super) struct Paths {
    pub model: PathBuf,
    pub inputs: PathBuf,
    pub outputs: PathBuf,
    pub tmp: PathBuf,
}

/// A fresh working directory for the run: its `inputs.json`, a copy of
/// each of its input files in `files/<input>/<name>` (the path that
/// `inputs.json` gives), empty `outputs/` and `tmp/`, and, outside a
/// sandbox, a copy of the version's files (in a sandbox the snapshot itself
/// is mounted there, read-only).
pub(super) async fn prepare(inner: &Inner, spec: &Spec) -> Result<Paths, String> {
    let work = inner.work_dir(spec.request.run_id);
    let paths = Paths {
        model: work.join("model"),
        inputs: work.join("inputs.json"),
        outputs: work.join("outputs"),
        tmp: work.join("tmp"),
    };
    let source = spec.model_dir.clone()?;
    let copy = !inner.boundary.is_sandboxed();
    let (from, model, outputs, tmp, work_dir) = (
        source.clone(),
        paths.model.clone(),
        paths.outputs.clone(),
        paths.tmp.clone(),
        work.clone(),
    );
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if work_dir.exists() {
            std::fs::remove_dir_all(&work_dir)?;
        }
        if copy {
            files::copy_tree(&from, &model, false)?;
        }
        std::fs::create_dir_all(&outputs)?;
        std::fs::create_dir_all(&tmp)
    })
    .await
    .map_err(|error| error.to_string())?
    .map_err(|error| format!("copying the model from {}: {error}", source.display()))?;
    let inputs = inner
        .blob
        .read_all(&spec.request.inputs, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|error| format!("reading {}: {error}", spec.request.inputs))?;
    let inputs = input_files::materialize(&inputs, &work, |input| {
        let (blob, key) = (inner.blob.clone(), BlobKey::input_file(&input.file));
        async move {
            let key = key.map_err(|error| error.to_string())?;
            let read = blob.get(&key).await;
            read.map(|blob| blob.body)
                .map_err(|error| error.to_string())
        }
    })
    .await?;
    tokio::fs::write(&paths.inputs, inputs)
        .await
        .map_err(|error| format!("writing inputs.json: {error}"))?;
    Ok(paths)
}

/// The values of the secrets the run's model declares; a missing one is
/// the run's failure, naming it.
pub(super) async fn secret_values(
    inner: &Inner,
    request: &JobRequest,
) -> Result<SecretValues, String> {
    if request.secrets.is_empty() {
        return Ok(SecretValues::default());
    }
    let values = inner
        .vault
        .values(&request.model, &request.secrets)
        .await
        .map_err(|error| format!("the model's secrets could not be read: {error}"))?;
    let missing: Vec<_> = request
        .secrets
        .iter()
        .filter(|name| !values.0.contains_key(*name))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the model's secrets {} are not set; an administrator sets them on the model's page",
            missing.join(", ")
        ));
    }
    Ok(values)
}

/// The environment of a model process: the contract, its secrets, and
/// little else. With a model environment its `bin` comes first on `PATH`,
/// so that `python3` is the environment's.
pub(super) fn contract_env(
    inner: &Inner,
    run: RunId,
    paths: &Paths,
    environment: Option<&Path>,
    secrets: &SecretValues,
) -> Vec<(String, String)> {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let search_path = match environment {
        Some(dir) => format!("{}:{}", path(&dir.join("bin")), inner.config.search_path),
        None => inner.config.search_path.clone(),
    };
    let mut env = vec![
        ("PATH".to_owned(), search_path),
        ("HOME".to_owned(), path(&paths.tmp)),
        ("TMPDIR".to_owned(), path(&paths.tmp)),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
        ("PYTHONUNBUFFERED".to_owned(), "1".to_owned()),
        ("MODELRUN_RUN_ID".to_owned(), run.to_string()),
        ("MODELRUN_INPUTS".to_owned(), path(&paths.inputs)),
        ("MODELRUN_OUTPUT_DIR".to_owned(), path(&paths.outputs)),
    ];
    if let Some(dir) = environment {
        env.push(("VIRTUAL_ENV".to_owned(), path(dir)));
    }
    env.extend(
        secrets
            .0
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().clone())),
    );
    env
}

/// What starts the run: its command in the sandbox, or by itself in its
/// copy of the version's files.
pub(super) fn start<'a>(
    inner: &Inner,
    spec: &Spec,
    paths: &'a Paths,
    snapshot: &Path,
    env: &[(String, String)],
) -> std::io::Result<Start<'a>> {
    match &inner.boundary {
        Boundary::Sandbox { bwrap } => {
            find_program(&spec.command, &search_path_of(env), snapshot)?;
            let work = paths.model.parent().unwrap_or(&paths.model);
            let reach = Reach {
                data_dir: &inner.config.data_dir,
                work,
                snapshot,
                environments: &inner.config.environments.root,
                network: spec.request.network,
            };
            let (program, args) = wrap(bwrap, &reach, &spec.command);
            Ok(Start {
                program: program.into_os_string(),
                args,
                cwd: work,
            })
        }
        Boundary::Unconfined { .. } => Start::plain(&spec.command, &paths.model),
    }
}

/// What the run's processes may use: the run's memory, its vCPUs
/// (rounded up) and the output limit as the largest file.
pub(super) fn limits(inner: &Inner, request: &JobRequest) -> Limits {
    let mib = u64::try_from(request.resources.memory_mib).unwrap_or(0);
    let vcpus = request.resources.vcpu.ceil().max(1.0) as usize;
    Limits {
        memory_bytes: (mib > 0).then_some(mib * 1024 * 1024),
        file_bytes: Some(inner.config.max_output_bytes),
        cpus: cpus_for(vcpus, u64::try_from(request.run_id.0).unwrap_or(0)),
    }
}

fn search_path_of(env: &[(String, String)]) -> String {
    env.iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// Checks that the command's program exists where the sandbox will look
/// for it (the model's files for a path, else `PATH`), so that a missing
/// one is named as such rather than as a failure of the sandbox.
fn find_program(command: &[String], search_path: &str, snapshot: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let not_found = |what: String| std::io::Error::new(std::io::ErrorKind::NotFound, what);
    let program = command.first().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the command is empty")
    })?;
    let runnable = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = Path::new(program);
        let path = if path.is_relative() {
            snapshot.join(path)
        } else {
            path.to_path_buf()
        };
        return match runnable(&path) {
            true => Ok(()),
            false => Err(not_found(format!("{program} is not an executable file"))),
        };
    }
    if search_path
        .split(':')
        .filter(|dir| !dir.is_empty())
        .any(|dir| runnable(&Path::new(dir).join(program)))
    {
        Ok(())
    } else {
        Err(not_found(format!(
            "{program} is not on the run's PATH ({search_path})"
        )))
    }
}
