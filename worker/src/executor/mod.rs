//! Executor implementations.

pub mod local;

pub use local::LocalExecutor;
