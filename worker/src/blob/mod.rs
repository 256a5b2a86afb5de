//! Blob store implementations.

mod local;

pub use local::LocalBlobStore;
