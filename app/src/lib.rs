//! The `modelrun` binary's library: the command line ([`cli`]), the
//! composition root that builds every part from the configuration
//! ([`runtime`]), what a fresh install needs ([`bootstrap`]) and the AWS
//! Lambda entry ([`lambda`]). `main.rs` only calls [`cli::run`]. This is the
//! one crate that knows every implementation; nothing depends on it.

pub mod bootstrap;
pub mod cli;
pub mod lambda;
pub mod runtime;
