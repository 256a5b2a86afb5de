//! The heart of modelrun: domain types, the run status machine, input
//! schemas and manifests, and the traits that every backend implements
//! (store, task queue, executor, blob store, mailer, kicker). No I/O lives
//! here.

pub mod alias;
pub mod alongside;
pub mod audit;
pub mod blob;
pub mod budget;
pub mod bundle;
pub mod config;
pub mod crypto;
mod definition;
pub mod diagnosis;
pub mod display;
pub mod email;
pub mod environment;
mod error;
pub mod estimate;
pub mod executor;
pub mod ids;
pub mod installation;
pub mod intake;
pub mod job_access;
pub mod kick;
pub mod limit;
pub mod log_text;
pub mod mailer;
pub mod manifest;
pub mod model;
pub mod model_secrets;
pub mod outputs;
pub mod outputs_zip;
pub mod progress;
pub mod registry;
pub mod resources;
pub mod run;
pub mod schedule;
pub mod schema;
pub mod secret;
pub mod status;
pub mod store;
pub mod sweep;
pub mod task;
pub mod timeline;
mod toml_fields;
pub mod user;
pub mod words;

pub use definition::DefinitionError;
pub use error::error_chain;
