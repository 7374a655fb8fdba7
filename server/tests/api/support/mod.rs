//! Helpers of the API tests that are not part of the shared kit (`testkit`): apps with an
//! inspectable data directory, run and vector store polling, fake upstreams, an S3
//! bucket (moto) for the blob store tests.

pub mod embeddings;
pub mod files;
pub mod llm;
pub mod runs;
pub mod s3;
pub mod vector_stores;
