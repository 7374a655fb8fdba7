//! File bytes on disk under the data directory (the default blob store):
//! `files/<tenant>/<file id>` for files, `uploads/<tenant>/<upload id>/<part id>` for
//! upload parts, and `tmp/` for bytes still arriving. Bytes are written to `tmp/` and
//! renamed into place only when complete, so a reader never sees a partial file.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use axum::body::Bytes;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::blobs::{BlobArea, BlobError, BlobKey, BlobStore, BlobWriter, ByteStream, StoredBlob};
use super::blobs::{FILES, UPLOADS};
use crate::store::Tenant;

/// Bytes read from disk at a time when streaming a file out.
const READ_CHUNK: usize = 64 * 1024;

/// The data directory: file bytes on this machine's disk.
#[derive(Debug, Clone)]
pub struct DataDir {
    /// The folder holding `files/`, `uploads/` and `tmp/`.
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

    /// Where the bytes of `key` live.
    pub fn path(&self, key: &BlobKey) -> PathBuf {
        key.segments()
            .into_iter()
            .fold(self.root.clone(), |path, segment| path.join(segment))
    }

    /// Where the bytes of `file_id` live.
    pub fn file_path(&self, tenant: &Tenant, file_id: &str) -> PathBuf {
        self.path(&BlobKey::file(tenant, file_id))
    }

    /// The folder of an upload's parts.
    pub fn upload_dir(&self, tenant: &Tenant, upload_id: &str) -> PathBuf {
        self.uploads_root().join(tenant.as_str()).join(upload_id)
    }

    /// Where the bytes of one upload part live.
    pub fn part_path(&self, tenant: &Tenant, upload_id: &str, part_id: &str) -> PathBuf {
        self.path(&BlobKey::part(tenant, upload_id, part_id))
    }

    /// The folder holding every tenant's file bytes.
    pub fn files_root(&self) -> PathBuf {
        self.root.join(FILES)
    }

    /// The folder holding every tenant's upload parts.
    pub fn uploads_root(&self) -> PathBuf {
        self.root.join(UPLOADS)
    }

    /// The folder of bytes still arriving.
    pub fn tmp_root(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Deletes whatever a previous process left half-written in `tmp/`.
    pub async fn clear_temporary(&self) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_dir_all(self.tmp_root()).await)
    }
}

#[async_trait]
impl BlobStore for DataDir {
    async fn create(&self, key: &BlobKey) -> Result<Box<dyn BlobWriter>, BlobError> {
        let dir = self.tmp_root();
        tokio::fs::create_dir_all(&dir).await?;
        let name: u128 = rand::random();
        let path = dir.join(format!("{name:032x}.part"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(Box::new(LocalWriter {
            path: Some(path),
            file: Some(file),
            destination: self.path(key),
        }))
    }

    async fn open(&self, key: &BlobKey) -> Result<ByteStream, BlobError> {
        let file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound)
            }
            Err(error) => return Err(error.into()),
        };
        Ok(
            tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK)
                .map(|chunk| chunk.map_err(BlobError::from))
                .boxed(),
        )
    }

    async fn remove(&self, key: &BlobKey) -> Result<(), BlobError> {
        Ok(ignore_missing(
            tokio::fs::remove_file(self.path(key)).await,
        )?)
    }

    async fn remove_upload(&self, tenant: &Tenant, upload_id: &str) -> Result<(), BlobError> {
        let dir = self.upload_dir(tenant, upload_id);
        Ok(ignore_missing(tokio::fs::remove_dir_all(dir).await)?)
    }

    async fn list(&self, area: BlobArea) -> Result<Vec<StoredBlob>, BlobError> {
        let (root, depth) = match area {
            BlobArea::Files => (self.files_root(), 2),
            BlobArea::Parts => (self.uploads_root(), 3),
        };
        let top = match area {
            BlobArea::Files => FILES,
            BlobArea::Parts => UPLOADS,
        };
        let mut found = Vec::new();
        let mut level = vec![(root, vec![top.to_owned()])];
        for _ in 0..depth {
            let mut next = Vec::new();
            for (dir, names) in level {
                for entry in entries(&dir).await? {
                    let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    let mut names = names.clone();
                    names.push(name.to_owned());
                    next.push((entry, names));
                }
            }
            level = next;
        }
        for (path, names) in level {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let Some(key) = BlobKey::from_segments(&names) else {
                continue;
            };
            if let Some(modified) = modified(&path).await {
                found.push(StoredBlob { key, modified });
            }
        }
        Ok(found)
    }

    async fn remove_orphan(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path(key);
        // A folder in a file's place (nothing this server writes) goes too.
        match tokio::fs::symlink_metadata(&path).await {
            Ok(meta) if meta.is_dir() => tokio::fs::remove_dir_all(&path).await?,
            Ok(_) => ignore_missing(tokio::fs::remove_file(&path).await)?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        if matches!(key, BlobKey::Part { .. }) {
            // Only succeeds once empty; a pending upload's folder is recreated when needed.
            if let Some(dir) = path.parent() {
                let _ = tokio::fs::remove_dir(dir).await;
            }
        }
        Ok(())
    }

    async fn sweep_temporary(&self, grace: Duration) -> Result<usize, BlobError> {
        let mut swept = 0;
        for path in entries(&self.tmp_root()).await? {
            let old = modified(&path)
                .await
                .and_then(|at| SystemTime::now().duration_since(at).ok())
                .is_some_and(|age| age >= grace);
            if old && tokio::fs::remove_file(&path).await.is_ok() {
                swept += 1;
            }
        }
        Ok(swept)
    }

    fn describe(&self) -> String {
        format!("the data directory {}", self.root.display())
    }
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The entries of a folder; none when it does not exist (or is not a folder).
async fn entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut reader = match tokio::fs::read_dir(dir).await {
        Ok(reader) => reader,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new())
        }
        Err(error) => return Err(error),
    };
    let mut found = Vec::new();
    while let Some(entry) = reader.next_entry().await? {
        found.push(entry.path());
    }
    Ok(found)
}

/// When `path` was last modified, if it still exists.
async fn modified(path: &Path) -> Option<SystemTime> {
    tokio::fs::symlink_metadata(path)
        .await
        .ok()?
        .modified()
        .ok()
}

/// Bytes being written to `tmp/`, renamed to `destination` when persisted; dropped
/// unpersisted, the temporary file is deleted.
#[derive(Debug)]
struct LocalWriter {
    /// The temporary file in `tmp/`; `None` once renamed into place.
    path: Option<PathBuf>,
    /// The open temporary file; `None` once closed.
    file: Option<tokio::fs::File>,
    /// Where the bytes go when persisted.
    destination: PathBuf,
}

#[async_trait]
impl BlobWriter for LocalWriter {
    async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("temporary file already closed"))?;
        file.write_all(&bytes).await?;
        Ok(())
    }

    async fn persist(mut self: Box<Self>) -> Result<(), BlobError> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        if let Some(parent) = self.destination.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let path = self
            .path
            .take()
            .ok_or_else(|| io::Error::other("temporary file already persisted"))?;
        if let Err(error) = tokio::fs::rename(&path, &self.destination).await {
            let _ = std::fs::remove_file(&path);
            return Err(error.into());
        }
        Ok(())
    }
}

impl Drop for LocalWriter {
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
    use futures::Stream;

    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, io::Error>> {
        futures::stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn received_bytes_appear_only_after_persisting() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let tenant = Tenant::from_api_key("k");
        let key = BlobKey::file(&tenant, "file-x");
        let store: &dyn BlobStore = &data;
        let blob = store
            .receive(&key, chunks(&[b"ab", b"\x00\xff"]), 4)
            .await
            .unwrap();
        assert_eq!(blob.len(), 4);
        let target = data.file_path(&tenant, "file-x");
        assert!(!target.exists());
        assert!(matches!(store.open(&key).await, Err(BlobError::NotFound)));
        blob.persist().await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"ab\x00\xff");
        assert_eq!(store.read_all(&key, 4).await.unwrap(), b"ab\x00\xff");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn too_large_bodies_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let store: &dyn BlobStore = &data;
        let key = BlobKey::file(&Tenant::from_api_key("k"), "file-x");
        let error = store
            .receive(&key, chunks(&[b"abc", b"def"]), 4)
            .await
            .unwrap_err();
        assert!(matches!(error, BlobError::TooLarge { limit: 4, read: 6 }));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn listings_name_files_and_parts_in_the_same_layout_as_paths() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let tenant = Tenant::from_api_key("k");
        let keys = [
            BlobKey::file(&tenant, "file-a"),
            BlobKey::part(&tenant, "upload_1", "part_1"),
        ];
        for key in &keys {
            let path = data.path(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let files = data.list(BlobArea::Files).await.unwrap();
        let parts = data.list(BlobArea::Parts).await.unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].key, keys[0]);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].key, keys[1]);
        data.remove_orphan(&keys[1]).await.unwrap();
        assert!(
            !data.upload_dir(&tenant, "upload_1").exists(),
            "the emptied upload folder goes with its last part"
        );
    }
}
