//! Where file bytes live, as one interface: the data directory ([`super::DataDir`], the
//! default) or S3-compatible object storage ([`super::ObjectBlobs`], for many instances
//! sharing one bucket). Every blob has a [`BlobKey`]; its bytes are written through a
//! [`TempBlob`] that makes them visible only when persisted, so a reader (and a record
//! written afterwards) never sees a partial blob.

use std::fmt::Debug;
use std::io;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use axum::body::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use crate::store::{PendingBlob, Tenant};

/// Why bytes could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// More than `limit` bytes arrived; `read` is how many had arrived when we stopped.
    #[error("more than {limit} bytes ({read} read)")]
    TooLarge {
        /// The limit that was passed.
        limit: u64,
        /// Bytes received before giving up.
        read: u64,
    },
    /// The client's body broke off or was malformed.
    #[error("reading the request body: {0}")]
    Body(String),
    /// The blob does not exist (removed by a concurrent request, or never written).
    #[error("no such blob")]
    NotFound,
    /// The disk failed.
    #[error("file system: {0}")]
    Io(#[from] io::Error),
    /// The object storage service failed or refused.
    #[error("object storage: {0}")]
    Object(#[from] object_store::Error),
    /// The blob store is configured wrongly (bad URL, unusable settings).
    #[error("blob store configuration: {0}")]
    Config(String),
}

/// The name of one blob: where a file's bytes or an upload part's bytes are kept. Both
/// stores lay them out alike: `files/<tenant>/<file id>` and
/// `uploads/<tenant>/<upload id>/<part id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BlobKey {
    /// The bytes of a file.
    File {
        /// Whose file it is.
        tenant: Tenant,
        /// The file id.
        id: String,
    },
    /// The bytes of one part of a pending upload.
    Part {
        /// Whose upload it is.
        tenant: Tenant,
        /// The upload id.
        upload_id: String,
        /// The part id.
        part_id: String,
    },
}

impl BlobKey {
    /// The key of `file_id`'s bytes.
    pub fn file(tenant: &Tenant, file_id: &str) -> Self {
        BlobKey::File {
            tenant: tenant.clone(),
            id: file_id.to_owned(),
        }
    }

    /// The key of one upload part's bytes.
    pub fn part(tenant: &Tenant, upload_id: &str, part_id: &str) -> Self {
        BlobKey::Part {
            tenant: tenant.clone(),
            upload_id: upload_id.to_owned(),
            part_id: part_id.to_owned(),
        }
    }

    /// The path segments below the store's root.
    pub fn segments(&self) -> Vec<&str> {
        match self {
            BlobKey::File { tenant, id } => vec![FILES, tenant.as_str(), id],
            BlobKey::Part {
                tenant,
                upload_id,
                part_id,
            } => vec![UPLOADS, tenant.as_str(), upload_id, part_id],
        }
    }

    /// The key that `segments` (as [`Self::segments`] gives them) name, if any.
    pub fn from_segments(segments: &[&str]) -> Option<Self> {
        let tenant = |name: &str| Tenant::from_stored(name.to_owned());
        match segments {
            [FILES, owner, id] => Some(BlobKey::file(&tenant(owner), id)),
            [UPLOADS, owner, upload_id, part_id] => {
                Some(BlobKey::part(&tenant(owner), upload_id, part_id))
            }
            _ => None,
        }
    }
}

/// The top folder of file bytes.
pub const FILES: &str = "files";
/// The top folder of upload parts.
pub const UPLOADS: &str = "uploads";

/// Which kind of blob a listing walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobArea {
    /// Every file's bytes.
    Files,
    /// Every upload part.
    Parts,
}

/// A blob found by a listing, for the orphan sweep.
#[derive(Debug, Clone)]
pub struct StoredBlob {
    /// Which blob it is.
    pub key: BlobKey,
    /// When it was last written; blobs younger than the sweep's grace are left alone.
    pub modified: SystemTime,
}

/// A blob's bytes as they are read, in chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// Bytes being written; they become visible at their key only when persisted.
#[async_trait]
pub trait BlobWriter: Send + Debug {
    /// Appends `bytes`.
    async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError>;
    /// Makes the bytes visible at their key, all at once.
    async fn persist(self: Box<Self>) -> Result<(), BlobError>;
}

/// A place file bytes are kept. Dropping a writer without persisting it leaves nothing
/// behind (as far as the store allows: see the README on abandoned S3 multipart uploads).
#[async_trait]
pub trait BlobStore: Send + Sync + Debug {
    /// Starts writing the bytes of `key`.
    async fn create(&self, key: &BlobKey) -> Result<Box<dyn BlobWriter>, BlobError>;
    /// Streams the bytes of `key`; [`BlobError::NotFound`] when there are none.
    async fn open(&self, key: &BlobKey) -> Result<ByteStream, BlobError>;
    /// Removes the bytes of `key`; absent bytes are not an error (removal is idempotent).
    async fn remove(&self, key: &BlobKey) -> Result<(), BlobError>;
    /// Removes every part of an upload; absent parts are not an error.
    async fn remove_upload(&self, tenant: &Tenant, upload_id: &str) -> Result<(), BlobError>;
    /// Every blob of `area`, for the orphan sweep.
    async fn list(&self, area: BlobArea) -> Result<Vec<StoredBlob>, BlobError>;
    /// Removes a blob the orphan sweep found unrecorded, whatever is in its place.
    async fn remove_orphan(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.remove(key).await
    }
    /// Removes bytes still arriving that were abandoned more than `grace` ago (by a
    /// previous process); how many went.
    async fn sweep_temporary(&self, grace: Duration) -> Result<usize, BlobError>;
    /// Checks the store can be used at startup (object storage: the bucket answers).
    async fn check(&self) -> Result<(), BlobError> {
        Ok(())
    }
    /// Where the bytes are, for logs and errors (never credentials).
    fn describe(&self) -> String;
}

impl dyn BlobStore + '_ {
    /// Writes `stream` as the bytes of `key`, failing with `TooLarge` past `limit` bytes;
    /// nothing is visible at `key` until the returned blob is persisted.
    pub async fn receive<S, E>(
        &self,
        key: &BlobKey,
        stream: S,
        limit: u64,
    ) -> Result<TempBlob, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let mut stream = std::pin::pin!(stream);
        let mut blob = self.temp_blob(key).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
            let read = blob.len + chunk.len() as u64;
            if read > limit {
                return Err(BlobError::TooLarge { limit, read });
            }
            blob.write(chunk).await?;
        }
        Ok(blob)
    }

    /// A new, empty blob for `key`, visible only once persisted.
    pub async fn temp_blob(&self, key: &BlobKey) -> Result<TempBlob, BlobError> {
        Ok(TempBlob {
            writer: self.create(key).await?,
            len: 0,
        })
    }

    /// The whole of a blob known to be at most `limit` bytes (ingestion reads files it
    /// has checked the size of); more than that fails with `TooLarge`.
    pub async fn read_all(&self, key: &BlobKey, limit: u64) -> Result<Vec<u8>, BlobError> {
        let mut stream = self.open(key).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let read = (bytes.len() + chunk.len()) as u64;
            if read > limit {
                return Err(BlobError::TooLarge { limit, read });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Removes the bytes a pending deletion names; absent bytes are not an error.
    pub async fn remove_blob(&self, blob: &PendingBlob) -> Result<(), BlobError> {
        match blob.kind {
            crate::store::BlobKind::File => {
                self.remove(&BlobKey::file(&blob.tenant, &blob.id)).await
            }
            crate::store::BlobKind::Upload => self.remove_upload(&blob.tenant, &blob.id).await,
        }
    }
}

/// Bytes being written to a blob store; dropped unpersisted, they are discarded, so a
/// failed or refused request leaves nothing behind.
#[derive(Debug)]
pub struct TempBlob {
    /// The store's writer for the blob's key.
    writer: Box<dyn BlobWriter>,
    /// Bytes written so far (the size limits and the recorded `bytes` use it).
    len: u64,
}

impl TempBlob {
    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes`.
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        let added = bytes.len() as u64;
        self.writer.write(bytes).await?;
        self.len += added;
        Ok(())
    }

    /// Makes the bytes visible at the key they were created for, in one step.
    pub async fn persist(self) -> Result<(), BlobError> {
        self.writer.persist().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_segments() {
        let tenant = Tenant::from_api_key("k");
        for key in [
            BlobKey::file(&tenant, "file-abc"),
            BlobKey::part(&tenant, "upload_1", "part_2"),
        ] {
            assert_eq!(BlobKey::from_segments(&key.segments()), Some(key.clone()));
        }
        assert_eq!(BlobKey::from_segments(&["files", "t"]), None);
        assert_eq!(BlobKey::from_segments(&["tmp", "t", "x"]), None);
    }
}
