//! File bytes in object storage (the `object_store` crate; S3-compatible services in
//! production, see [`super::s3`]), so every server instance reads what any other wrote.
//! Each blob is one object under the configured prefix, named as in the data directory
//! (`files/<tenant>/<id>`, `uploads/<tenant>/<upload>/<part>`). Bytes stream in: up to
//! one part's worth is buffered, then a multipart upload starts, and the object appears
//! only when the upload completes, so no reader sees a partial blob and no record can
//! point at one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use super::blobs::{BlobArea, BlobError, BlobKey, BlobStore, BlobWriter, ByteStream, StoredBlob};
use super::blobs::{FILES, UPLOADS};
use crate::store::Tenant;

/// Default size of one multipart part: S3 wants at least 5 MiB for every part but the
/// last; 8 MiB keeps the parts few without holding much in memory.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one blob sent at once: with [`DEFAULT_PART_SIZE`], a blob being written
/// holds at most about three parts (24 MiB) in memory.
const PARTS_IN_FLIGHT: usize = 2;

/// Blobs kept as objects of an object store, below `prefix`.
#[derive(Clone)]
pub struct ObjectBlobs {
    /// The client (S3, or an in-memory store in unit tests).
    store: Arc<dyn ObjectStore>,
    /// Where this deployment's objects start within the bucket.
    prefix: Path,
    /// What to call this store in logs (e.g. `s3://bucket/prefix`); never credentials.
    name: String,
    /// Bytes buffered before a multipart upload starts, and the size of each part.
    part_size: usize,
}

impl std::fmt::Debug for ObjectBlobs {
    // The client's own Debug may show its configuration; only the name is shown here.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBlobs")
            .field("name", &self.name)
            .field("part_size", &self.part_size)
            .finish()
    }
}

impl ObjectBlobs {
    /// Blobs below `prefix` (`a/b`, or empty for the whole store) of `store`, called
    /// `name` in logs.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        name: impl Into<String>,
    ) -> Result<Self, BlobError> {
        let prefix = Path::parse(prefix.trim_matches('/'))
            .map_err(|error| BlobError::Config(format!("prefix {prefix:?}: {error}")))?;
        Ok(Self {
            store,
            prefix,
            name: name.into(),
            part_size: DEFAULT_PART_SIZE,
        })
    }

    /// The same store writing multipart uploads in parts of `bytes` (at least 5 MiB on
    /// S3); a blob smaller than that is written in one request.
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes;
        self
    }

    /// The object holding `key`'s bytes.
    pub fn location(&self, key: &BlobKey) -> Path {
        key.segments()
            .into_iter()
            .fold(self.prefix.clone(), |path, segment| path.join(segment))
    }

    /// The underlying object store (tests look at what is stored).
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The key an object at `location` holds, if it is one of ours.
    fn key_of(&self, location: &Path) -> Option<BlobKey> {
        let parts: Vec<_> = location.prefix_match(&self.prefix)?.collect();
        let names: Vec<&str> = parts.iter().map(|part| part.as_ref()).collect();
        BlobKey::from_segments(&names)
    }
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn create(&self, key: &BlobKey) -> Result<Box<dyn BlobWriter>, BlobError> {
        let writer =
            BufWriter::with_capacity(Arc::clone(&self.store), self.location(key), self.part_size)
                .with_max_concurrency(PARTS_IN_FLIGHT);
        Ok(Box::new(ObjectWriter {
            writer: Some(writer),
        }))
    }

    async fn open(&self, key: &BlobKey) -> Result<ByteStream, BlobError> {
        match self.store.get(&self.location(key)).await {
            Ok(found) => Ok(found.into_stream().map_err(BlobError::from).boxed()),
            Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound),
            Err(error) => Err(error.into()),
        }
    }

    async fn remove(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.store.delete(&self.location(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    async fn remove_upload(&self, tenant: &Tenant, upload_id: &str) -> Result<(), BlobError> {
        let folder = self
            .prefix
            .clone()
            .join(UPLOADS)
            .join(tenant.as_str())
            .join(upload_id);
        // Deleted in bulk (S3 DeleteObjects: up to 1,000 keys a request) as listed.
        let parts = self
            .store
            .list(Some(&folder))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut deleted = self.store.delete_stream(parts);
        while let Some(outcome) = deleted.next().await {
            match outcome {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    async fn list(&self, area: BlobArea) -> Result<Vec<StoredBlob>, BlobError> {
        let top = match area {
            BlobArea::Files => FILES,
            BlobArea::Parts => UPLOADS,
        };
        let folder = self.prefix.clone().join(top);
        let objects: Vec<_> = self.store.list(Some(&folder)).try_collect().await?;
        Ok(objects
            .into_iter()
            .filter_map(|meta| {
                Some(StoredBlob {
                    key: self.key_of(&meta.location)?,
                    modified: meta.last_modified.into(),
                })
            })
            .collect())
    }

    async fn sweep_temporary(&self, _grace: Duration) -> Result<usize, BlobError> {
        // Bytes still arriving are multipart uploads, invisible until completed; those a
        // crashed process abandoned are left to the bucket's lifecycle rule (README).
        Ok(0)
    }

    async fn check(&self) -> Result<(), BlobError> {
        self.store.list_with_delimiter(Some(&self.prefix)).await?;
        Ok(())
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Bytes on their way to one object: buffered up to a part, then a multipart upload that
/// completes when persisted and is aborted when dropped unpersisted.
struct ObjectWriter {
    /// `None` once shut down (persisted or failed while persisting).
    writer: Option<BufWriter>,
}

impl std::fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectWriter").finish_non_exhaustive()
    }
}

#[async_trait]
impl BlobWriter for ObjectWriter {
    async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| BlobError::Config("writing a blob already persisted".to_owned()))?;
        writer.put(bytes).await?;
        Ok(())
    }

    async fn persist(mut self: Box<Self>) -> Result<(), BlobError> {
        let mut writer = self
            .writer
            .take()
            .ok_or_else(|| BlobError::Config("blob already persisted".to_owned()))?;
        // One PUT for a small blob, CompleteMultipartUpload for a large one: either way
        // the object appears whole.
        writer.shutdown().await?;
        Ok(())
    }
}

impl Drop for ObjectWriter {
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        // A refused or broken request: parts already sent would linger (and be billed)
        // until the bucket's lifecycle rule; abort the upload in the background.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = writer.abort().await {
                    tracing::warn!(%error, "could not abort an abandoned multipart upload");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    fn blobs() -> ObjectBlobs {
        ObjectBlobs::new(Arc::new(InMemory::new()), "/deploy/a/", "memory").unwrap()
    }

    async fn stored(blobs: &ObjectBlobs) -> Vec<String> {
        let mut names: Vec<String> = blobs
            .object_store()
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .unwrap();
        names.sort();
        names
    }

    #[tokio::test]
    async fn blobs_appear_whole_under_the_prefix_only_when_persisted() {
        let blobs = blobs().with_part_size(4);
        let store: &dyn BlobStore = &blobs;
        let tenant = Tenant::from_api_key("k");
        let key = BlobKey::file(&tenant, "file-x");
        let chunks = futures::stream::iter(
            [&b"ab"[..], b"cdef", b"g"].map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))),
        );
        let blob = store.receive(&key, chunks, 7).await.unwrap();
        assert_eq!(blob.len(), 7);
        assert!(
            stored(&blobs).await.is_empty(),
            "nothing visible before persisting"
        );
        blob.persist().await.unwrap();
        assert_eq!(
            stored(&blobs).await,
            [format!("deploy/a/files/{}/file-x", tenant.as_str())]
        );
        assert_eq!(store.read_all(&key, 7).await.unwrap(), b"abcdefg");
        assert!(matches!(
            store.read_all(&key, 6).await,
            Err(BlobError::TooLarge { limit: 6, .. })
        ));
    }

    #[tokio::test]
    async fn refused_bodies_leave_no_object() {
        let blobs = blobs();
        let store: &dyn BlobStore = &blobs;
        let key = BlobKey::file(&Tenant::from_api_key("k"), "file-x");
        let chunks = futures::stream::iter(
            [&b"abc"[..], b"def"].map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))),
        );
        let error = store.receive(&key, chunks, 4).await.unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { limit: 4, read: 6 }));
        assert!(stored(&blobs).await.is_empty());
        assert!(matches!(store.open(&key).await, Err(BlobError::NotFound)));
    }

    #[tokio::test]
    async fn uploads_are_removed_whole_and_listings_find_every_kind() {
        let blobs = blobs();
        let store: &dyn BlobStore = &blobs;
        let tenant = Tenant::from_api_key("k");
        let keys = [
            BlobKey::file(&tenant, "file-a"),
            BlobKey::part(&tenant, "upload_1", "part_1"),
            BlobKey::part(&tenant, "upload_1", "part_2"),
            BlobKey::part(&tenant, "upload_2", "part_1"),
        ];
        for key in &keys {
            let mut blob = store.temp_blob(key).await.unwrap();
            blob.write(Bytes::from_static(b"x")).await.unwrap();
            blob.persist().await.unwrap();
        }
        // Not ours: outside the layout, or outside the prefix.
        let other = blobs.object_store();
        for name in ["deploy/a/tmp/x", "deploy/b/files/t/file-z"] {
            other.put(&Path::from(name), "x".into()).await.unwrap();
        }
        let files = store.list(BlobArea::Files).await.unwrap();
        assert_eq!(files.iter().map(|b| &b.key).collect::<Vec<_>>(), [&keys[0]]);
        assert_eq!(store.list(BlobArea::Parts).await.unwrap().len(), 3);

        store.remove_upload(&tenant, "upload_1").await.unwrap();
        store.remove_upload(&tenant, "upload_1").await.unwrap();
        let parts = store.list(BlobArea::Parts).await.unwrap();
        assert_eq!(parts.iter().map(|b| &b.key).collect::<Vec<_>>(), [&keys[3]]);
        store.remove(&keys[0]).await.unwrap();
        store.remove(&keys[0]).await.unwrap();
        assert!(store.list(BlobArea::Files).await.unwrap().is_empty());
    }
}
