//! Uploaded file bytes and the rules around them, shared by `/v1/files` and
//! `/v1/uploads` (and by vector stores, which read the bytes back): where bytes live
//! (the data directory, or object storage shared by many instances), how a multipart
//! body is read without holding it in memory, the texts of their errors, and the wire
//! quirks of these endpoints.

pub mod blobs;
pub mod errors;
pub mod expiry;
pub mod housekeeping;
pub mod ids;
pub mod local;
pub mod multipart;
pub mod objects;
pub mod purpose;
pub mod s3;
pub mod wire;

pub use blobs::{BlobError, BlobKey, BlobStore, TempBlob};
pub use local::DataDir;
pub use objects::ObjectBlobs;
