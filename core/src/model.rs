//! Models and their immutable versions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alias::Alias;
use crate::environment::EnvironmentSpec;
use crate::ids::{ModelId, VersionId};
use crate::manifest::Resources;
use crate::outputs::Outputs;
use crate::resources::ResourceBounds;
use crate::schema::InputSchema;

/// A model: the thing people pick, with its versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub id: ModelId,
    pub name: String,
    pub title: String,
    pub description: String,
    pub owner: String,
    pub created_at: DateTime<Utc>,
}

/// How a version's code is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Runtime {
    /// A command run by the local executor in a copy of `dir`, the snapshot
    /// taken when the version was registered.
    Local { command: Vec<String>, dir: String },
    /// A container image, run by AWS Batch.
    Image { uri: String, digest: Option<String> },
}

/// One immutable version of a model. Changes make a new version; the only
/// later writes are `retired_at` and, once, `job_definition_arn`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    pub id: VersionId,
    pub model_id: ModelId,
    /// The model's name.
    pub model: String,
    pub label: String,
    /// A digest of what was registered: the model directory's contents for a
    /// local version, the image digest for an image.
    pub digest: String,
    pub runtime: Runtime,
    pub inputs: InputSchema,
    pub resources: Resources,
    /// The most one run may ask for (`[resources.max]`); the version's own
    /// resources for versions registered before runs could ask.
    pub max_resources: Resources,
    pub source_commit: Option<String>,
    /// How it was registered: `cli`, `example`, `api`, `ecr`.
    pub registered_via: String,
    pub registered_at: DateTime<Utc>,
    pub job_definition_arn: Option<String>,
    pub retired_at: Option<DateTime<Utc>>,
    /// The digest of the environment its runs use, if its manifest declares one.
    pub environment: Option<String>,
    /// Names of the secrets its model reads.
    pub secrets: Vec<String>,
    /// Whether its runs may use the network.
    pub network: bool,
    /// The charts and key figures its manifest declares (`[outputs]`);
    /// empty for versions registered before declarations.
    pub outputs: Outputs,
    /// Production or candidate: read with the version, from its model's
    /// one production version.
    pub alias: Alias,
}

impl ModelVersion {
    pub fn is_active(&self) -> bool {
        self.retired_at.is_none()
    }

    /// What its runs may ask for.
    pub fn resource_bounds(&self) -> ResourceBounds {
        ResourceBounds {
            default: self.resources,
            max: self.max_resources,
        }
    }
}

/// The model-level facts that come with a registration.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMeta {
    pub name: String,
    pub title: String,
    pub description: String,
    pub owner: String,
}

/// A version to register (creating its model if it is the first).
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub model: ModelMeta,
    pub label: String,
    pub digest: String,
    pub runtime: Runtime,
    pub inputs: InputSchema,
    pub resources: Resources,
    /// The most one run may ask for, at least `resources`.
    pub max_resources: Resources,
    pub source_commit: Option<String>,
    pub registered_via: String,
    /// What its runs need installed, if anything.
    pub environment: Option<EnvironmentSpec>,
    /// Build the environment now (`true`), or when a run first asks for it.
    pub prepare_environment: bool,
    /// Names of the secrets its model reads.
    pub secrets: Vec<String>,
    /// Whether its runs may use the network.
    pub network: bool,
    /// The charts and key figures its manifest declares.
    pub outputs: Outputs,
}

impl NewVersion {
    /// Whether `existing`, a version of the same model, already is what this
    /// registration carries, whatever its label: registering unchanged files
    /// again makes no new version. Only a local version qualifies, whose
    /// digest covers every file, its manifest among them; an image's digest
    /// leaves out the manifest that comes beside it, so each pushed tag is a
    /// version of its own. A retired version does not count: registering its
    /// files under a new label brings them back.
    pub fn repeats(&self, existing: &ModelVersion) -> bool {
        matches!(self.runtime, Runtime::Local { .. })
            && matches!(existing.runtime, Runtime::Local { .. })
            && existing.digest == self.digest
            && existing.is_active()
    }
}

/// What a registration did.
#[derive(Debug, Clone)]
pub enum Registered {
    /// A new version exists.
    Created(ModelVersion),
    /// Nothing changed: this label was already registered with the same
    /// digest, or the same files are already an active version under
    /// another label ([`NewVersion::repeats`]); this is that version.
    Unchanged(ModelVersion),
}

impl Registered {
    pub fn version(&self) -> &ModelVersion {
        match self {
            Registered::Created(version) | Registered::Unchanged(version) => version,
        }
    }
}

/// A model with all its versions, newest first.
#[derive(Debug, Clone)]
pub struct ModelWithVersions {
    pub model: Model,
    pub versions: Vec<ModelVersion>,
}

impl ModelWithVersions {
    /// The newest version that is not retired, production or not. What
    /// planners run is [`ModelWithVersions::production`].
    pub fn latest_active(&self) -> Option<&ModelVersion> {
        self.versions.iter().find(|version| version.is_active())
    }
}
