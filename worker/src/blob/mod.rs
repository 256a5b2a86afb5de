//! Blob store implementations.

mod local;
mod s3;

pub use local::LocalBlobStore;
pub use s3::S3BlobStore;
