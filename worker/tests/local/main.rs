//! The worker with the embedded defaults, end to end: a SQLite store, a blob
//! directory, real processes, an outbox directory.

mod boundary;
mod build_boundary;
mod builds;
mod bundles;
#[path = "../common/mod.rs"]
mod common;
mod environments;
mod input_files;
mod logs;
mod mail;
mod registration;
mod runs;
mod secrets;
mod starts;
mod stops;
mod support;
