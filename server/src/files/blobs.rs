//! File bytes on disk under the data directory:
//! `files/<tenant>/<file id>` for files, `uploads/<tenant>/<upload id>/<part id>` for
//! upload parts, and `tmp/` for bytes still arriving. Bytes are written to `tmp/` and
//! renamed into place only when complete, so a reader never sees a partial file.

use std::io;
use std::path::{Path, PathBuf};

use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::store::{BlobKind, PendingBlob, Tenant};

/// Why bytes could not be stored.
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
    /// The disk failed.
    #[error("file system: {0}")]
    Io(#[from] io::Error),
}

/// The data directory: the one place file bytes are kept.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root`; folders are created when first needed.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the bytes of `file_id` live.
    pub fn file_path(&self, tenant: &Tenant, file_id: &str) -> PathBuf {
        self.files_root().join(tenant.as_str()).join(file_id)
    }

    /// The folder of an upload's parts.
    pub fn upload_dir(&self, tenant: &Tenant, upload_id: &str) -> PathBuf {
        self.uploads_root().join(tenant.as_str()).join(upload_id)
    }

    /// Where the bytes of one upload part live.
    pub fn part_path(&self, tenant: &Tenant, upload_id: &str, part_id: &str) -> PathBuf {
        self.upload_dir(tenant, upload_id).join(part_id)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// A new, empty temporary file; it is removed when dropped unless persisted.
    pub async fn temp_blob(&self) -> io::Result<TempBlob> {
        let dir = self.tmp_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let name: u128 = rand::random();
        let path = dir.join(format!("{name:032x}.part"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(TempBlob {
            path: Some(path),
            file: Some(file),
            len: 0,
        })
    }

    /// Writes `stream` to a temporary file, failing with `TooLarge` past `limit` bytes.
    pub async fn receive<S, E>(&self, stream: S, limit: u64) -> Result<TempBlob, BlobError>
    where
        S: Stream<Item = Result<axum::body::Bytes, E>>,
        E: std::fmt::Display,
    {
        let mut stream = std::pin::pin!(stream);
        let mut blob = self.temp_blob().await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
            let read = blob.len + chunk.len() as u64;
            if read > limit {
                return Err(BlobError::TooLarge { limit, read });
            }
            blob.write(&chunk).await?;
        }
        Ok(blob)
    }

    /// Removes a file's bytes; absent bytes are not an error (deletion is idempotent).
    pub async fn remove_file(&self, tenant: &Tenant, file_id: &str) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_file(self.file_path(tenant, file_id)).await)
    }

    /// Removes an upload's parts folder.
    pub async fn remove_upload(&self, tenant: &Tenant, upload_id: &str) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_dir_all(self.upload_dir(tenant, upload_id)).await)
    }

    /// Removes the bytes a pending deletion names; absent bytes are not an error.
    pub async fn remove_blob(&self, blob: &PendingBlob) -> io::Result<()> {
        match blob.kind {
            BlobKind::File => self.remove_file(&blob.tenant, &blob.id).await,
            BlobKind::Upload => self.remove_upload(&blob.tenant, &blob.id).await,
        }
    }

    /// The folder holding every tenant's file bytes.
    pub fn files_root(&self) -> PathBuf {
        self.root.join("files")
    }

    /// The folder holding every tenant's upload parts.
    pub fn uploads_root(&self) -> PathBuf {
        self.root.join("uploads")
    }

    /// The folder of bytes still arriving.
    pub fn tmp_root(&self) -> PathBuf {
        self.tmp_dir()
    }

    /// Deletes whatever a previous process left half-written in `tmp/`.
    pub async fn clear_temporary(&self) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_dir_all(self.tmp_dir()).await)
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Bytes being written to `tmp/`; dropped unpersisted, the file is deleted, so a failed
/// or refused request leaves nothing behind.
#[derive(Debug)]
pub struct TempBlob {
    path: Option<PathBuf>,
    file: Option<tokio::fs::File>,
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
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("temporary file already closed"))?;
        file.write_all(bytes).await?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Flushes the bytes to disk and moves them to `destination` in one rename.
    pub async fn persist(mut self, destination: &Path) -> io::Result<()> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        if let Some(parent) = destination.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let path = self
            .path
            .take()
            .ok_or_else(|| io::Error::other("temporary file already persisted"))?;
        if let Err(error) = tokio::fs::rename(&path, destination).await {
            let _ = std::fs::remove_file(&path);
            return Err(error);
        }
        Ok(())
    }
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Close before unlinking (needed on some platforms); a tiny blocking call.
            drop(self.file.take());
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<axum::body::Bytes, io::Error>> {
        futures::stream::iter(
            parts
                .iter()
                .map(|part| Ok(axum::body::Bytes::from_static(part)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn received_bytes_appear_only_after_persisting() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let tenant = Tenant::from_api_key("k");
        let blob = data
            .receive(chunks(&[b"ab", b"\x00\xff"]), 4)
            .await
            .unwrap();
        assert_eq!(blob.len(), 4);
        let target = data.file_path(&tenant, "file-x");
        assert!(!target.exists());
        blob.persist(&target).await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"ab\x00\xff");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn too_large_bodies_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let error = data
            .receive(chunks(&[b"abc", b"def"]), 4)
            .await
            .unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { limit: 4, read: 6 }));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
