//! `sync_images`: registers a version for every new image in the registry.
//!
//! The build pushes the image tagged with the git sha, and uploads the
//! model's `modelrun.toml` to the blob store at
//! `manifests/<model>/<tag>/modelrun.toml`; the image alone cannot say what
//! its inputs are. An image whose manifest is not there yet is skipped and
//! picked up by a later sync. Safe to run any number of times: a tag that is
//! registered already is left alone.

use std::collections::HashSet;

use modelrun_core::alias::adopted_entry;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::blob::{BlobKey, MAX_DOCUMENT_BYTES};
use modelrun_core::manifest::Manifest;
use modelrun_core::model::{ModelMeta, NewVersion, Registered, Runtime};
use modelrun_core::registry::PushedImage;
use modelrun_core::task::{Job, RegisterJobDefinition, SyncImages};

use async_trait::async_trait;

use super::{Handler, TaskError};
use crate::Services;

/// Where the build leaves an image's manifest.
pub fn manifest_key(model: &str, tag: &str) -> Result<BlobKey, modelrun_core::blob::BlobError> {
    BlobKey::new(format!("manifests/{model}/{tag}/modelrun.toml"))
}

/// A dead sync needs nothing undone: the next one looks at every image again.
#[async_trait]
impl Handler for SyncImages {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        sync(services).await
    }
}

async fn sync(services: &Services) -> Result<(), TaskError> {
    let Some(registry) = &services.registry else {
        return Err(TaskError::Fatal(
            "no image registry is configured (--ecr-repository-prefix)".to_owned(),
        ));
    };
    let images = registry.images().await?;
    let mut known: HashSet<(String, String)> = HashSet::new();
    for model in services.store.models().await? {
        for version in model.versions {
            known.insert((model.model.name.clone(), version.label));
        }
    }
    let (mut created, mut waiting) = (0, 0);
    for image in images
        .iter()
        .filter(|i| !known.contains(&(i.model.clone(), i.tag.clone())))
    {
        match register(services, image).await? {
            Some(true) => created += 1,
            Some(false) => {}
            None => waiting += 1,
        }
    }
    tracing::info!(
        images = images.len(),
        created,
        waiting,
        "image sync finished"
    );
    Ok(())
}

/// `Some(true)` when a version was created, `None` when the manifest is not there yet.
async fn register(services: &Services, image: &PushedImage) -> Result<Option<bool>, TaskError> {
    let key = manifest_key(&image.model, &image.tag)?;
    let text = match services.blob.read_all(&key, MAX_DOCUMENT_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(modelrun_core::blob::BlobError::NotFound(_)) => {
            tracing::info!(model = %image.model, tag = %image.tag, "no manifest for this image yet");
            return Ok(None);
        }
        Err(error) => return Err(error.into()),
    };
    let manifest = match Manifest::parse(&text) {
        Ok(manifest) if manifest.name == image.model => manifest,
        Ok(manifest) => {
            tracing::warn!(model = %image.model, tag = %image.tag, named = %manifest.name,
                "the manifest names another model; the image is not registered");
            return Ok(Some(false));
        }
        Err(error) => {
            tracing::warn!(model = %image.model, tag = %image.tag, %error, "the manifest is not valid; the image is not registered");
            return Ok(Some(false));
        }
    };
    // A version whose own resources the executor cannot give would be
    // listed, offered in the form, and fail every run that keeps them.
    if let Err(refusal) = services.executor.check_resources(&manifest.resources) {
        tracing::warn!(model = %image.model, tag = %image.tag, field = %format!("resources.{}", refusal.field),
            reason = %refusal.message, "the manifest asks for resources the executor cannot give; the image is not registered");
        return Ok(Some(false));
    }
    let version = NewVersion {
        model: ModelMeta {
            name: manifest.name,
            title: manifest.title,
            description: manifest.description,
            owner: manifest.owner,
        },
        label: image.tag.clone(),
        digest: image.digest.clone(),
        runtime: Runtime::Image {
            uri: image.uri.clone(),
            digest: Some(image.digest.clone()),
        },
        inputs: manifest.inputs,
        resources: manifest.resources,
        max_resources: manifest.max_resources,
        source_commit: Some(image.tag.clone()),
        registered_via: "ecr".to_owned(),
        // The image is the environment: its build installed the requirements.
        environment: None,
        prepare_environment: false,
        secrets: manifest.secrets,
        network: manifest.network,
        outputs: manifest.outputs,
    };
    let registered = services.store.register_version(version, Vec::new()).await?;
    match &registered {
        Registered::Created(version) => {
            tracing::info!(model = %image.model, tag = %image.tag, "registered a version from an image");
            let entry = NewAuditEntry::new(
                Actor::system("image-sync"),
                AuditAction::VersionRegister,
                format!("version {}", version.id),
            )
            .detail(serde_json::json!({
                "model": image.model,
                "label": version.label,
                "digest": image.digest,
            }));
            services.store.record_audit(entry).await?;
            // A model's first image becomes production on its own; later ones are candidates.
            if let Some(entry) = adopted_entry(Actor::system("image-sync"), &registered) {
                services.store.record_audit(entry).await?;
            }
            services
                .store
                .enqueue(
                    RegisterJobDefinition {
                        version_id: version.id,
                    }
                    .task(),
                )
                .await?;
            Ok(Some(true))
        }
        Registered::Unchanged(_) => Ok(Some(false)),
    }
}
