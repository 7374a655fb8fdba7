//! Helpers of the API tests that are not part of the shared kit (`testkit`): apps with an
//! inspectable data directory, run and vector store polling, fake upstreams, an S3
//! bucket (moto) for the blob store tests.

pub(crate) mod embeddings;
pub(crate) mod files;
pub(crate) mod llm;
pub(crate) mod runs;
pub(crate) mod s3;
pub(crate) mod vector_stores;
