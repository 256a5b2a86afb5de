//! Setting and deleting model secrets: the one path that the model page,
//! the API and the command line share. A value is checked, handed to the
//! vault and forgotten; the audit log records who set which name, never
//! the value. What a model needs before it can run is checked here too.

use std::sync::Arc;

use chrono::Utc;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::environment::EnvironmentStatus;
use modelrun_core::kick::Kicker;
use modelrun_core::model::ModelVersion;
use modelrun_core::model_secrets::{
    SecretInfo, SecretVault, check_secret_declared, check_secret_name, check_secret_value,
};
use modelrun_core::secret::Secret;
use modelrun_core::store::Store;

use crate::error::{AppError, AppResult};

/// Who sets or deletes, for the audit log.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub actor: Actor,
    pub address: &'a str,
}

/// Sets the value of secret `name` of `model`, which one of its versions
/// must declare. A name that cannot be a secret's is `400`; one that no
/// version declares `409` (registering a version that declares it resolves
/// it); a bad value `422`, naming the field, as any other field of a
/// request the API refuses.
pub async fn set(
    store: &Arc<dyn Store>,
    vault: &Arc<dyn SecretVault>,
    change: Change<'_>,
    model: &str,
    name: &str,
    value: &Secret<String>,
) -> AppResult<()> {
    check_secret_name(name).map_err(AppError::BadRequest)?;
    check_secret_value(value.expose())
        .map_err(|why| AppError::invalid_field("the value is not valid", "value", why))?;
    let found = store.model(model).await?.ok_or(AppError::NotFound)?;
    let declared = found.versions.iter().flat_map(|v| &v.secrets);
    check_secret_declared(model, name, declared.map(String::as_str)).map_err(AppError::Conflict)?;
    vault.put(model, name, value, &change.actor.name).await?;
    tracing::info!(model, secret = name, "secret set");
    record(store, change, AuditAction::SecretSet, model, name).await
}

/// Deletes the value of secret `name` of `model`; `false` when none was set.
pub async fn delete(
    store: &Arc<dyn Store>,
    vault: &Arc<dyn SecretVault>,
    change: Change<'_>,
    model: &str,
    name: &str,
) -> AppResult<bool> {
    check_secret_name(name).map_err(AppError::BadRequest)?;
    store.model(model).await?.ok_or(AppError::NotFound)?;
    let deleted = vault.delete(model, name).await?;
    if deleted {
        record(store, change, AuditAction::SecretDelete, model, name).await?;
    }
    Ok(deleted)
}

async fn record(
    store: &Arc<dyn Store>,
    change: Change<'_>,
    action: AuditAction,
    model: &str,
    name: &str,
) -> AppResult<()> {
    let entry = NewAuditEntry::new(change.actor, action, format!("model {model}"))
        .detail(serde_json::json!({ "secret": name }))
        .from_address(change.address);
    store.record_audit(entry).await?;
    Ok(())
}

/// A declared secret and whether it is set.
#[derive(Debug, Clone)]
pub struct SecretState {
    pub name: String,
    /// Whether the latest version of the model reads it.
    pub declared: bool,
    pub set: Option<SecretInfo>,
}

/// The secrets a model's versions declare (the newest first) and the ones
/// that are set, each once.
pub async fn states(
    vault: &Arc<dyn SecretVault>,
    model: &str,
    versions: &[ModelVersion],
) -> AppResult<Vec<SecretState>> {
    let set = vault.list(model).await?;
    let latest = versions.iter().find(|v| v.is_active()).or(versions.first());
    let mut names: Vec<String> = Vec::new();
    for name in versions
        .iter()
        .flat_map(|v| &v.secrets)
        .chain(set.iter().map(|s| &s.name))
    {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    Ok(names
        .into_iter()
        .map(|name| SecretState {
            declared: latest.is_some_and(|v| v.secrets.contains(&name)),
            set: set.iter().find(|s| s.name == name).cloned(),
            name,
        })
        .collect())
}

/// Whether a run of a version can be accepted now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Accepted, but it waits in `queued` until its environment is built;
    /// `pending` when nobody has asked for the build yet.
    Waits {
        pending: bool,
        note: String,
    },
    /// Refused, and why.
    Blocked(String),
}

/// Every secret `version` declares must be set, and its environment built
/// or being built; an environment that failed blocks, with its reason.
pub async fn readiness(
    store: &Arc<dyn Store>,
    vault: &Arc<dyn SecretVault>,
    version: &ModelVersion,
) -> AppResult<Readiness> {
    if !version.secrets.is_empty() {
        let set = vault.list(&version.model).await?;
        let missing: Vec<_> = version
            .secrets
            .iter()
            .filter(|name| !set.iter().any(|s| &&s.name == name))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Ok(Readiness::Blocked(format!(
                "This model reads secrets that are not set: {}. An administrator sets them on \
                 the model's page.",
                missing.join(", ")
            )));
        }
        if let Some(why) = set
            .iter()
            .filter(|s| version.secrets.contains(&s.name))
            .find_map(|s| s.unreadable.as_deref())
        {
            return Ok(Readiness::Blocked(format!(
                "A secret of this model cannot be read: {why}."
            )));
        }
    }
    let Some(digest) = &version.environment else {
        return Ok(Readiness::Ready);
    };
    let environment = store.environment(digest).await?.ok_or(AppError::NotFound)?;
    let waits = |pending: bool| Readiness::Waits {
        pending,
        note: format!(
            "Version {}'s environment (its Python packages) {}; a run submitted now waits in \
             queued until it is ready, usually a minute or two.",
            version.label,
            match pending {
                true => "is built when the first run asks for it",
                false => "is being built",
            }
        ),
    };
    Ok(match environment.status {
        EnvironmentStatus::Failed => Readiness::Blocked(format!(
            "Version {} cannot run: its environment could not be built ({}). An administrator \
             can build it again on the version's page.",
            version.label,
            environment
                .log
                .lines()
                .next()
                .unwrap_or("the installer failed")
        )),
        EnvironmentStatus::Pending => waits(true),
        EnvironmentStatus::Preparing => waits(false),
        EnvironmentStatus::Ready => Readiness::Ready,
    })
}

/// Refuses a run that [`readiness`] blocks; asks for the environment's
/// build when the run is the first to need it.
pub async fn check_runnable(
    store: &Arc<dyn Store>,
    vault: &Arc<dyn SecretVault>,
    kicker: &Arc<dyn Kicker>,
    version: &ModelVersion,
) -> AppResult<()> {
    match readiness(store, vault, version).await? {
        Readiness::Blocked(why) => Err(AppError::Conflict(why)),
        Readiness::Waits { pending: true, .. } => {
            if let Some(digest) = &version.environment
                && let Some(task) = store.request_environment(digest, Utc::now()).await?
            {
                kicker.kick(&[task]).await;
            }
            Ok(())
        }
        Readiness::Waits { .. } | Readiness::Ready => Ok(()),
    }
}
