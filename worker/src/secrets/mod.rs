//! Where model secret values live: sealed in the store on one machine
//! ([`LocalVault`]), in AWS Secrets Manager on AWS ([`SecretsManagerVault`]).

pub mod key;
mod local;
mod secrets_manager;

pub use local::LocalVault;
pub use secrets_manager::SecretsManagerVault;
