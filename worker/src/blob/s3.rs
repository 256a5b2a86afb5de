//! The blob store in S3. Every object is uploaded with a SHA-256 checksum,
//! which S3 verifies on receipt and returns on request; the output index
//! of a run is built from a listing with those checksums. Downloads are
//! presigned URLs, short-lived and forcing `Content-Disposition: attachment`;
//! a job's uploads are presigned too, bound to their size and checksum.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use bytes::Bytes;
use modelrun_core::blob::{
    Blob, BlobError, BlobKey, BlobStore, ObjectMeta, PutObject, attachment_disposition,
};
use modelrun_core::config::S3Config;
use modelrun_core::installation::StorageScope;
use modelrun_core::job_access::Presigned;
use tokio_util::io::ReaderStream;

use crate::aws::AwsFailure;

/// Longest life of a presigned URL.
pub const MAX_PRESIGNED_TTL: Duration = Duration::from_secs(15 * 60);

/// Most objects listed below one prefix (a run's outputs).
const MAX_LISTED: usize = 10_000;

#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    config: S3Config,
    /// Where this installation's objects go ([`S3BlobStore::scoped`]).
    scope: StorageScope,
    /// Where a browser sends presigned uploads, worked out once.
    origins: Option<String>,
}

/// The origins of the bucket's presigned URLs: the emulator's endpoint
/// (path style) or its bucket host, else the bucket's regional and global
/// hosts on AWS.
fn browser_origins(sdk: &aws_config::SdkConfig, config: &S3Config) -> Option<String> {
    let bucket = &config.bucket;
    if let Some(endpoint) = sdk.endpoint_url() {
        let (scheme, rest) = endpoint.split_once("://")?;
        let host = rest.split('/').next()?;
        return Some(if config.force_path_style {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{bucket}.{host}")
        });
    }
    let region = sdk.region()?;
    Some(format!(
        "https://{bucket}.s3.{region}.amazonaws.com https://{bucket}.s3.amazonaws.com"
    ))
}

impl S3BlobStore {
    pub fn new(sdk: &aws_config::SdkConfig, config: S3Config) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(config.force_path_style)
            .build();
        let origins = browser_origins(sdk, &config);
        S3BlobStore {
            client: Client::from_conf(s3),
            config,
            scope: StorageScope::none(),
            origins,
        }
    }

    /// Keeps this installation's objects apart from another's in a shared
    /// bucket ([`StorageScope`]).
    pub fn scoped(mut self, scope: StorageScope) -> Self {
        self.scope = scope;
        self
    }

    fn object_key(&self, key: &BlobKey) -> String {
        let scoped = self.scope.apply(key.as_str());
        match &self.config.prefix {
            Some(prefix) => format!("{prefix}/{scoped}"),
            None => scoped,
        }
    }

    /// The blob key of an S3 object key, if it is one of ours and valid.
    fn blob_key(&self, object_key: &str) -> Option<BlobKey> {
        let relative = match &self.config.prefix {
            Some(prefix) => object_key
                .strip_prefix(prefix.as_str())?
                .strip_prefix('/')?,
            None => object_key,
        };
        BlobKey::new(self.scope.remove(relative)?).ok()
    }

    async fn put_body(
        &self,
        key: &BlobKey,
        body: ByteStream,
        size: u64,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError> {
        let put = self
            .client
            .put_object()
            .bucket(&self.config.bucket)
            .key(self.object_key(key))
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(body)
            .send()
            .await
            .map_err(|error| backend(AwsFailure::new("S3 PutObject", error)))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            sha256: put.checksum_sha256().and_then(base64_to_hex),
            content_type: Some(content_type.to_owned()),
        })
    }
}

fn backend(failure: AwsFailure) -> BlobError {
    BlobError::Backend(failure.message)
}

/// S3 gives checksums in base64; modelrun shows them in hex.
fn base64_to_hex(checksum: &str) -> Option<String> {
    BASE64_STANDARD.decode(checksum).ok().map(hex::encode)
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(
        &self,
        key: &BlobKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError> {
        let size = bytes.len() as u64;
        self.put_body(key, ByteStream::from(bytes), size, content_type)
            .await
    }

    async fn put_file(
        &self,
        key: &BlobKey,
        path: &Path,
        content_type: &str,
    ) -> Result<ObjectMeta, BlobError> {
        let size = tokio::fs::metadata(path).await?.len();
        let body = ByteStream::from_path(path)
            .await
            .map_err(|error| BlobError::Backend(format!("reading {}: {error}", path.display())))?;
        self.put_body(key, body, size, content_type).await
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.config.bucket)
            .key(self.object_key(key))
            .send()
            .await
        {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Err(BlobError::NotFound(key.to_string()));
            }
            Err(error) => return Err(backend(AwsFailure::new("S3 GetObject", error))),
        };
        let size = object
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        let content_type = object.content_type().map(str::to_owned);
        Ok(Blob {
            meta: ObjectMeta {
                key: key.clone(),
                size,
                sha256: None,
                content_type,
            },
            body: Box::pin(ReaderStream::new(object.body.into_async_read())),
        })
    }

    async fn list(&self, prefix: &BlobKey) -> Result<Vec<ObjectMeta>, BlobError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.config.bucket)
            .prefix(format!("{}/", self.object_key(prefix)))
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| backend(AwsFailure::new("S3 ListObjectsV2", error)))?;
            for object in page.contents() {
                let Some(key) = object.key().and_then(|k| self.blob_key(k)) else {
                    continue;
                };
                keys.push(key);
                if keys.len() > MAX_LISTED {
                    return Err(BlobError::Backend(format!(
                        "more than {MAX_LISTED} objects under {prefix}"
                    )));
                }
            }
        }
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let head = self
                .client
                .head_object()
                .bucket(&self.config.bucket)
                .key(self.object_key(&key))
                .checksum_mode(ChecksumMode::Enabled)
                .send()
                .await
                .map_err(|error| backend(AwsFailure::new("S3 HeadObject", error)))?;
            found.push(ObjectMeta {
                size: head
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                sha256: head.checksum_sha256().and_then(base64_to_hex),
                content_type: head.content_type().map(str::to_owned),
                key,
            });
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn presign_get(
        &self,
        key: &BlobKey,
        download_name: &str,
        ttl: Duration,
    ) -> Result<Option<String>, BlobError> {
        let config = PresigningConfig::expires_in(ttl.min(MAX_PRESIGNED_TTL))
            .map_err(|error| BlobError::Backend(format!("presigning: {error}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.config.bucket)
            .key(self.object_key(key))
            .response_content_disposition(attachment_disposition(download_name))
            .presigned(config)
            .await
            .map_err(|error| backend(AwsFailure::new("S3 presign GetObject", error)))?;
        Ok(Some(request.uri().to_owned()))
    }

    fn upload_origins(&self) -> Option<&str> {
        self.origins.as_deref()
    }

    async fn presign_put(
        &self,
        key: &BlobKey,
        upload: &PutObject<'_>,
        ttl: Duration,
    ) -> Result<Option<Presigned>, BlobError> {
        let config = PresigningConfig::expires_in(ttl.min(MAX_PRESIGNED_TTL))
            .map_err(|error| BlobError::Backend(format!("presigning: {error}")))?;
        let digest = hex::decode(upload.sha256)
            .map_err(|_| BlobError::Backend("the SHA-256 is not hexadecimal".to_owned()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.config.bucket)
            .key(self.object_key(key))
            .content_type(upload.content_type)
            .content_length(i64::try_from(upload.size).unwrap_or(i64::MAX))
            .checksum_sha256(BASE64_STANDARD.encode(digest))
            .presigned(config)
            .await
            .map_err(|error| backend(AwsFailure::new("S3 presign PutObject", error)))?;
        Ok(Some(Presigned {
            method: request.method().to_owned(),
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(prefix: Option<&str>, scope: Option<&str>) -> S3BlobStore {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .build();
        let config = S3Config {
            bucket: "b".to_owned(),
            prefix: prefix.map(str::to_owned),
            force_path_style: true,
        };
        let scope = scope.map_or(StorageScope::none(), |id| {
            StorageScope::of(&modelrun_core::installation::Installation {
                id: id.to_owned(),
                scoped_storage: true,
            })
        });
        S3BlobStore::new(&sdk, config).scoped(scope)
    }

    #[tokio::test]
    async fn an_installations_runs_and_uploads_go_under_its_id() {
        let key = |k: &str| BlobKey::new(k).expect("key");
        let scoped = store(Some("team"), Some("0a1b2c3d4e5f")).await;
        for (blob, object) in [
            (
                "runs/7/outputs/a.csv",
                "team/runs/0a1b2c3d4e5f/7/outputs/a.csv",
            ),
            (
                "uploads/u1/data.csv",
                "team/uploads/0a1b2c3d4e5f/u1/data.csv",
            ),
            (
                "manifests/forecast/v1/modelrun.toml",
                "team/manifests/forecast/v1/modelrun.toml",
            ),
        ] {
            assert_eq!(scoped.object_key(&key(blob)), object);
            assert_eq!(scoped.blob_key(object), Some(key(blob)), "{object}");
        }
        // Another installation's objects, and unscoped ones, are not ours.
        assert_eq!(
            scoped.blob_key("team/runs/ffffffffffff/7/outputs/a.csv"),
            None
        );
        assert_eq!(scoped.blob_key("team/runs/7/outputs/a.csv"), None);

        let unscoped = store(None, None).await;
        assert_eq!(
            unscoped.object_key(&key("runs/7/inputs.json")),
            "runs/7/inputs.json"
        );
        assert_eq!(
            unscoped.blob_key("runs/7/inputs.json"),
            Some(key("runs/7/inputs.json"))
        );
    }

    #[test]
    fn checksums_turn_from_base64_to_hex() {
        // S3's ChecksumSHA256 of "a,b\n1,2\n".
        assert_eq!(
            base64_to_hex("SS1epJYFbxpqZZIkEDL6t2TDIVljF5MLT6Dh6Lw7dHA=").as_deref(),
            Some(modelrun_core::crypto::sha256_hex("a,b\n1,2\n").as_str())
        );
        assert_eq!(base64_to_hex("not base64!"), None);
    }
}
