//! Image registries: where model images are pushed (ECR). modelrun looks
//! at them to register a version for every new image.

use std::fmt;

use async_trait::async_trait;

/// An image pushed for a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    /// The model's name, from the repository's name.
    pub model: String,
    /// The tag, which becomes the version's label (a git sha).
    pub tag: String,
    /// `<registry>/<repository>:<tag>`.
    pub uri: String,
    /// `sha256:…`.
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the image registry is unavailable: {0}")]
pub struct RegistryError(pub String);

#[async_trait]
pub trait Registry: Send + Sync + fmt::Debug {
    /// Every tagged image of every model repository whose tag follows the
    /// configured pattern.
    async fn images(&self) -> Result<Vec<PushedImage>, RegistryError>;
}
