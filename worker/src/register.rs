//! Registering a model version from a directory (`modelrun models register
//! <dir>`). The directory's files are snapshotted under the data directory,
//! so that the version stays what it was when registered, whatever happens
//! to the directory later.
//!
//! The label defaults to the first 12 hex digits of the content digest.
//! Registering unchanged files again changes nothing, under any label: the
//! answer is the active version they already are. Any change makes a new
//! version. The git commit, when there is one, is kept as the source.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use modelrun_core::DefinitionError;
use modelrun_core::alias::adopted_entry;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::environment::{EnvironmentSpec, check_requirements};
use modelrun_core::manifest::{EnvironmentDecl, Manifest, valid_version_label};
use modelrun_core::model::{ModelMeta, ModelVersion, NewVersion, Registered, Runtime};
use modelrun_core::store::{Store, StoreError};

use crate::environments::LocalEnvironments;
use crate::files;

/// The manifest's file name in a model directory.
pub const MANIFEST: &str = "modelrun.toml";

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Displayed with its cause by `{:#}` and `error_chain`.
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid manifest: {error}")]
    Manifest {
        path: String,
        error: DefinitionError,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to register.
#[derive(Debug, Clone)]
pub struct Registration {
    pub dir: PathBuf,
    /// The version label; by default derived from the content.
    pub label: Option<String>,
    /// How it is registered: `cli`, `example`.
    pub via: String,
    /// Build the version's environment now (`true`), or when its first run
    /// asks for it (the built-in examples, so that a fresh install starts fast).
    pub prepare_environment: bool,
}

/// Reads, checks, snapshots and registers a local model directory.
pub async fn register_local(
    store: &Arc<dyn Store>,
    data_dir: &Path,
    environments: &LocalEnvironments,
    registration: Registration,
) -> Result<Registered, RegisterError> {
    if !data_dir.is_absolute() {
        return Err(RegisterError::Invalid(format!(
            "the data directory {} must be an absolute path: the version records where its \
             files are",
            data_dir.display()
        )));
    }
    let dir = registration.dir.clone();
    let manifest_path = dir.join(MANIFEST);
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| RegisterError::Io { path, source }
    };
    refuse_foreign_entries(&dir).await?;
    let text = tokio::fs::read_to_string(&manifest_path)
        .await
        .map_err(io(&manifest_path))?;
    let manifest = Manifest::parse(&text).map_err(|error| RegisterError::Manifest {
        path: manifest_path.display().to_string(),
        error,
    })?;
    let Some(command) = manifest.command.clone() else {
        return Err(RegisterError::Invalid(format!(
            "{}: `command` is required to run the model locally (for example command = [\"python3\", \"model.py\"])",
            manifest_path.display()
        )));
    };
    let digest = {
        let source = dir.clone();
        tokio::task::spawn_blocking(move || files::digest_tree(&source))
            .await
            .map_err(|error| RegisterError::Invalid(error.to_string()))?
            .map_err(io(&dir))?
    };
    let label = match registration.label {
        Some(label) if valid_version_label(&label) => label,
        Some(label) => {
            return Err(RegisterError::Invalid(format!(
                "the label {label:?} is not valid: use 1–64 letters, digits, '.', '_' or '-', \
                 starting with a letter or digit"
            )));
        }
        None => digest[..12].to_owned(),
    };
    let environment = match &manifest.environment {
        Some(declared) => Some(environment_spec(&dir, declared, environments).await?),
        None => None,
    };
    let snapshot = data_dir.join("models").join(&manifest.name).join(&label);
    let version = NewVersion {
        model: ModelMeta {
            name: manifest.name.clone(),
            title: manifest.title.clone(),
            description: manifest.description.clone(),
            owner: manifest.owner.clone(),
        },
        label,
        digest,
        runtime: Runtime::Local {
            command,
            dir: snapshot.display().to_string(),
        },
        inputs: manifest.inputs.clone(),
        resources: manifest.resources,
        max_resources: manifest.max_resources,
        source_commit: git_commit(&dir).await,
        registered_via: registration.via.clone(),
        environment,
        prepare_environment: registration.prepare_environment,
        secrets: manifest.secrets.clone(),
        network: manifest.network,
        outputs: manifest.outputs.clone(),
    };
    if let Some(same) = already_registered(store, &version).await? {
        return Ok(Registered::Unchanged(same));
    }
    snapshot_once(&dir, &snapshot)
        .await
        .map_err(io(&snapshot))?;
    let registered = store.register_version(version, Vec::new()).await?;
    if let Registered::Created(version) = &registered {
        let entry = NewAuditEntry::new(
            Actor::system(&registration.via),
            AuditAction::VersionRegister,
            format!("version {}", version.id),
        )
        .detail(serde_json::json!({ "model": manifest.name, "label": version.label }));
        store.record_audit(entry).await?;
    }
    if let Some(entry) = adopted_entry(Actor::system(&registration.via), &registered) {
        store.record_audit(entry).await?;
    }
    Ok(registered)
}

/// The active version these files already are under another label, looked
/// up before a snapshot is copied for nothing; the store decides again as
/// it registers. A version with this label leaves the decision to the store
/// (the same files, or a conflict).
async fn already_registered(
    store: &Arc<dyn Store>,
    version: &NewVersion,
) -> Result<Option<ModelVersion>, RegisterError> {
    let Some(model) = store.model(&version.model.name).await? else {
        return Ok(None);
    };
    if model.versions.iter().any(|v| v.label == version.label) {
        return Ok(None);
    }
    Ok(model.versions.into_iter().find(|v| version.repeats(v)))
}

/// Refuses a model directory holding links or special files (the manifest
/// among them), naming each: a version carries only regular files, copied
/// when registered, so a link would be silently left out of it, or, if
/// followed, bring in any file of the machine.
async fn refuse_foreign_entries(dir: &Path) -> Result<(), RegisterError> {
    let root = dir.to_path_buf();
    let foreign = tokio::task::spawn_blocking(move || files::foreign_entries(&root))
        .await
        .map_err(|error| RegisterError::Invalid(error.to_string()))?
        .map_err(|source| RegisterError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    if foreign.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = foreign
        .iter()
        .map(|(path, why)| format!("  {}: {why}", path.display()))
        .collect();
    Err(RegisterError::Invalid(format!(
        "{} holds entries a version cannot carry (it is a copy of regular files and \
         directories only); replace each with the file itself:\n{}",
        dir.display(),
        listed.join("\n")
    )))
}

/// What the version's environment is built from: its requirements file
/// (checked) and the interpreter this machine has for it.
async fn environment_spec(
    dir: &Path,
    declared: &EnvironmentDecl,
    environments: &LocalEnvironments,
) -> Result<EnvironmentSpec, RegisterError> {
    let path = dir.join(&declared.requirements);
    let metadata =
        tokio::fs::symlink_metadata(&path)
            .await
            .map_err(|source| RegisterError::Io {
                path: path.display().to_string(),
                source,
            })?;
    if !metadata.is_file() {
        return Err(RegisterError::Invalid(format!(
            "environment.requirements: {} is not a regular file of the model directory",
            path.display()
        )));
    }
    let requirements =
        tokio::fs::read_to_string(&path)
            .await
            .map_err(|source| RegisterError::Io {
                path: path.display().to_string(),
                source,
            })?;
    check_requirements(&requirements).map_err(|why| {
        RegisterError::Invalid(format!(
            "environment.requirements: {}: {why}",
            path.display()
        ))
    })?;
    let interpreter = environments
        .interpreter(declared.python.as_deref())
        .await
        .map_err(|error| RegisterError::Invalid(format!("environment.python: {error}")))?;
    Ok(EnvironmentSpec {
        requirements,
        python: declared.python.clone(),
        interpreter,
    })
}

/// Copies `from` to `to` unless `to` exists. The copy is made beside it
/// and renamed, so a snapshot is never half there.
async fn snapshot_once(from: &Path, to: &Path) -> std::io::Result<()> {
    if tokio::fs::try_exists(to).await? {
        return Ok(());
    }
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let parent = to.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let temp = parent.join(format!(".tmp-{}", modelrun_core::crypto::random_hex(8)));
        let copied =
            files::copy_tree(&from, &temp, true).and_then(|()| std::fs::rename(&temp, &to));
        if copied.is_err() {
            let _ = std::fs::remove_dir_all(&temp);
        }
        copied
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The short commit of the directory's git checkout, marked `-dirty` when
/// the directory has uncommitted changes; `None` outside git.
async fn git_commit(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        tokio::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
    };
    let head = git(&["rev-parse", "--short", "HEAD"])
        .await
        .ok()
        .filter(|out| out.status.success())?;
    let commit = String::from_utf8(head.stdout).ok()?.trim().to_owned();
    let status = git(&["status", "--porcelain", "--", "."]).await.ok()?;
    let dirty = !status.stdout.is_empty();
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}
