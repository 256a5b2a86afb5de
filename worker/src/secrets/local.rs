//! Secret values on one machine: sealed with the installation's key and
//! kept in the store. The store only ever holds sealed values.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use modelrun_core::model_secrets::{SecretInfo, SecretValues, SecretVault, VaultError};
use modelrun_core::secret::Secret;
use modelrun_core::store::{Store, StoreError};

use super::key::SecretsKey;

/// Secrets sealed in the store.
#[derive(Debug, Clone)]
pub struct LocalVault {
    store: Arc<dyn Store>,
    key: SecretsKey,
}

impl LocalVault {
    pub fn new(store: Arc<dyn Store>, key: SecretsKey) -> Self {
        LocalVault { store, key }
    }
}

fn store_error(error: StoreError) -> VaultError {
    match error {
        StoreError::Unavailable(_) | StoreError::DiskFull(_) => {
            VaultError::Unavailable(error.to_string())
        }
        other => VaultError::Backend(modelrun_core::error_chain(&other)),
    }
}

#[async_trait]
impl SecretVault for LocalVault {
    fn kind(&self) -> &'static str {
        "local"
    }

    async fn put(
        &self,
        model: &str,
        name: &str,
        value: &Secret<String>,
        by: &str,
    ) -> Result<(), VaultError> {
        let sealed = self.key.seal(model, name, value)?;
        match self
            .store
            .put_sealed_secret(model, name, &sealed, by, Utc::now())
            .await
        {
            Err(StoreError::NotFound) => {
                Err(VaultError::Backend(format!("there is no model {model}")))
            }
            other => other.map_err(store_error),
        }
    }

    async fn delete(&self, model: &str, name: &str) -> Result<bool, VaultError> {
        self.store
            .delete_sealed_secret(model, name)
            .await
            .map_err(store_error)
    }

    /// Each value is opened, and dropped at once, to tell one that this
    /// key cannot read (sealed with another key) from one that a run can use.
    async fn list(&self, model: &str) -> Result<Vec<SecretInfo>, VaultError> {
        Ok(self
            .store
            .sealed_secrets(model)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|(mut info, sealed)| {
                info.unreadable = self
                    .key
                    .open(model, &info.name, &sealed)
                    .err()
                    .map(|error| error.to_string());
                info
            })
            .collect())
    }

    async fn values(&self, model: &str, names: &[String]) -> Result<SecretValues, VaultError> {
        let mut values = SecretValues::default();
        for (info, sealed) in self
            .store
            .sealed_secrets(model)
            .await
            .map_err(store_error)?
        {
            if names.contains(&info.name) {
                let value = self.key.open(model, &info.name, &sealed)?;
                values.0.insert(info.name, value);
            }
        }
        Ok(values)
    }
}
