//! Secret values on AWS: one Secrets Manager secret per model and name,
//! `<prefix><model>/<NAME>` (the prefix is `modelrun/models/` unless
//! configured). Batch jobs receive them through their job definition's
//! `secrets` (`valueFrom` the secret's name), so values never pass through
//! modelrun's database; modelrun only writes, lists and deletes them.
//! Who set a value last is kept in the secret's description.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, Tag};
use chrono::{DateTime, Utc};
use modelrun_core::model_secrets::{SecretInfo, SecretValues, SecretVault, VaultError};
use modelrun_core::secret::Secret;

use crate::aws::AwsFailure;

/// What a secret's description starts with; who set it follows.
const SET_BY: &str = "modelrun model secret, set by ";

/// Secrets in AWS Secrets Manager.
#[derive(Debug, Clone)]
pub struct SecretsManagerVault {
    client: Client,
    prefix: String,
}

impl SecretsManagerVault {
    pub fn new(sdk: &aws_config::SdkConfig, prefix: impl Into<String>) -> Self {
        SecretsManagerVault {
            client: Client::new(sdk),
            prefix: prefix.into(),
        }
    }

    /// The secret's name in Secrets Manager, which job definitions name in `valueFrom`.
    pub fn secret_id(prefix: &str, model: &str, name: &str) -> String {
        format!("{prefix}{model}/{name}")
    }

    fn id(&self, model: &str, name: &str) -> String {
        Self::secret_id(&self.prefix, model, name)
    }
}

fn failure<E>(
    action: &str,
    error: aws_sdk_secretsmanager::error::SdkError<
        E,
        aws_sdk_secretsmanager::config::http::HttpResponse,
    >,
) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = AwsFailure::new(action, error);
    if failure.transient {
        VaultError::Unavailable(failure.message)
    } else {
        VaultError::Backend(failure.message)
    }
}

fn not_found<E: ProvideErrorMetadata>(
    error: &aws_sdk_secretsmanager::error::SdkError<
        E,
        aws_sdk_secretsmanager::config::http::HttpResponse,
    >,
) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ResourceNotFoundException")
}

#[async_trait]
impl SecretVault for SecretsManagerVault {
    fn kind(&self) -> &'static str {
        "secretsmanager"
    }

    async fn put(
        &self,
        model: &str,
        name: &str,
        value: &Secret<String>,
        by: &str,
    ) -> Result<(), VaultError> {
        let id = self.id(model, name);
        let description = format!("{SET_BY}{by}");
        let updated = self
            .client
            .update_secret()
            .secret_id(&id)
            .secret_string(value.expose())
            .description(&description)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(error) if not_found(&error) => {
                let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build();
                self.client
                    .create_secret()
                    .name(&id)
                    .secret_string(value.expose())
                    .description(&description)
                    .tags(tag("modelrun:model", model))
                    .tags(tag("modelrun:secret", name))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|error| failure("Secrets Manager CreateSecret", error))
            }
            Err(error) => Err(failure("Secrets Manager UpdateSecret", error)),
        }
    }

    async fn delete(&self, model: &str, name: &str) -> Result<bool, VaultError> {
        // Whether there is a value to delete: a delete of a secret that is
        // gone already is not an error for every implementation of the API.
        let described = self
            .client
            .describe_secret()
            .secret_id(self.id(model, name))
            .send()
            .await;
        match described {
            Ok(secret) if secret.deleted_date().is_none() => {}
            Ok(_) => return Ok(false),
            Err(error) if not_found(&error) => return Ok(false),
            Err(error) => return Err(failure("Secrets Manager DescribeSecret", error)),
        }
        let deleted = self
            .client
            .delete_secret()
            .secret_id(self.id(model, name))
            // At once: a secret waiting out a recovery window keeps its name
            // taken, and the value could not be set again.
            .force_delete_without_recovery(true)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(error) if not_found(&error) => Ok(false),
            Err(error) => Err(failure("Secrets Manager DeleteSecret", error)),
        }
    }

    async fn list(&self, model: &str) -> Result<Vec<SecretInfo>, VaultError> {
        let folder = self.id(model, "");
        let mut pages = self
            .client
            .list_secrets()
            .filters(
                Filter::builder()
                    .key(FilterNameStringType::Name)
                    .values(&folder)
                    .build(),
            )
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| failure("Secrets Manager ListSecrets", error))?;
            for secret in page.secret_list() {
                // The filter matches prefixes of words; keep this model's own.
                let Some(name) = secret.name().and_then(|n| n.strip_prefix(&folder)) else {
                    continue;
                };
                if name.is_empty() || name.contains('/') {
                    continue;
                }
                let updated_at = secret
                    .last_changed_date()
                    .and_then(|at| DateTime::<Utc>::from_timestamp(at.secs(), at.subsec_nanos()))
                    .unwrap_or_default();
                found.push(SecretInfo {
                    name: name.to_owned(),
                    updated_at,
                    updated_by: secret
                        .description()
                        .and_then(|d| d.strip_prefix(SET_BY))
                        .unwrap_or_default()
                        .to_owned(),
                    unreadable: None,
                });
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    async fn values(&self, model: &str, names: &[String]) -> Result<SecretValues, VaultError> {
        let mut values = SecretValues::default();
        for name in names {
            let got = self
                .client
                .get_secret_value()
                .secret_id(self.id(model, name))
                .send()
                .await;
            match got {
                Ok(output) => {
                    if let Some(value) = output.secret_string() {
                        values.0.insert(name.clone(), Secret::new(value.to_owned()));
                    }
                }
                Err(error) if not_found(&error) => {}
                Err(error) => return Err(failure("Secrets Manager GetSecretValue", error)),
            }
        }
        Ok(values)
    }
}
