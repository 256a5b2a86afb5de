//! Executor implementations.

pub mod batch;
pub mod local;

pub use batch::BatchExecutor;
pub use local::{Boundary, GIVE_WAY, LocalExecutor};
