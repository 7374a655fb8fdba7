//! Storage of file and upload records. The bytes themselves live in the data directory
//! (`crate::files::DataDir`); a record is written only after its bytes are in place, and
//! removing a record durably queues its bytes for removal ([`PendingBlob`]) in the same
//! transaction, so bytes can never outlive their record.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult, Tenant};
use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};

/// Which folder of the data directory a pending deletion empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
    /// A file's bytes, `files/<tenant>/<id>`.
    File,
    /// An upload's parts, `uploads/<tenant>/<id>/`.
    Upload,
}

impl BlobKind {
    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            BlobKind::File => "file",
            BlobKind::Upload => "upload",
        }
    }

    /// The kind a `kind` column names, if any.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "file" => Some(BlobKind::File),
            "upload" => Some(BlobKind::Upload),
            _ => None,
        }
    }
}

/// Bytes whose record is gone and which still have to leave the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PendingBlob {
    /// Whose bytes they are (part of their path).
    pub tenant: Tenant,
    /// File bytes or an upload's parts.
    pub kind: BlobKind,
    /// The file or upload id (the rest of their path).
    pub id: String,
}

/// File records.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores a new file record.
    async fn insert_file(&self, tenant: &Tenant, file: &FileObject) -> StoreResult<()> {
        self.insert_file_within(tenant, file, None).await
    }
    /// Stores a new file record if the tenant's stored bytes (files and pending upload
    /// parts) stay within `quota`, checked in the same transaction; `OverQuota` if not.
    async fn insert_file_within(
        &self,
        tenant: &Tenant,
        file: &FileObject,
        quota: Option<u64>,
    ) -> StoreResult<()>;
    /// Fetches one file; `NotFound` if absent for this tenant.
    async fn get_file(&self, tenant: &Tenant, id: &str) -> StoreResult<FileObject>;
    /// Deletes a file record, detaches the file from every vector store of the tenant
    /// (its chunks stop being searchable) and queues its bytes for removal, all or
    /// nothing; `NotFound` if absent.
    async fn delete_file(&self, tenant: &Tenant, id: &str) -> StoreResult<()>;
    /// Bytes the tenant stores: its files plus the parts of its pending uploads.
    async fn storage_used(&self, tenant: &Tenant) -> StoreResult<u64>;
    /// One page of the tenant's files, optionally of one purpose only.
    async fn list_files(
        &self,
        tenant: &Tenant,
        purpose: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<FileObject>>;
    /// Deletes every file (of any tenant) expired at `now` as [`Self::delete_file`]
    /// does, and returns their bytes, queued for removal.
    async fn take_expired_files(&self, now: i64) -> StoreResult<Vec<PendingBlob>>;
    /// Up to `limit` queued removals of bytes, oldest first.
    async fn pending_blobs(&self, limit: u32) -> StoreResult<Vec<PendingBlob>>;
    /// Forgets a queued removal once the bytes are gone.
    async fn forget_pending_blob(&self, blob: &PendingBlob) -> StoreResult<()>;
}

/// An upload with what it keeps for the file it becomes but does not show.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadRecord {
    /// The upload as the API shows it.
    pub upload: Upload,
    /// `expires_after.seconds` for the file, counted from the file's `created_at`.
    pub file_expires_after: Option<i64>,
}

/// Upload records and their parts.
#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Stores a new upload.
    async fn insert_upload(&self, tenant: &Tenant, record: &UploadRecord) -> StoreResult<()>;
    /// Fetches one upload; `NotFound` if absent for this tenant.
    async fn get_upload(&self, tenant: &Tenant, id: &str) -> StoreResult<UploadRecord>;
    /// Records a part whose bytes (`bytes` long) are already on disk, all checked in
    /// one transaction: `Conflict` if the upload is no longer pending, `PastDeclared`
    /// if its parts would total more than its declared `bytes`, `OverQuota` if the
    /// tenant's stored bytes would pass `quota`.
    async fn insert_part(
        &self,
        tenant: &Tenant,
        part: &UploadPart,
        bytes: u64,
        quota: Option<u64>,
    ) -> StoreResult<()>;
    /// Total bytes of an upload's parts so far.
    async fn upload_parts_bytes(&self, tenant: &Tenant, upload_id: &str) -> StoreResult<u64>;
    /// Every part of an upload with its size, oldest first.
    async fn parts_of_upload(
        &self,
        tenant: &Tenant,
        upload_id: &str,
    ) -> StoreResult<Vec<(UploadPart, u64)>>;
    /// Marks the upload completed, records its file and queues its parts' bytes for
    /// removal, all or nothing; `Conflict` if the upload was no longer pending (a
    /// concurrent complete or cancel).
    async fn complete_upload(
        &self,
        tenant: &Tenant,
        upload: &Upload,
        file: &FileObject,
    ) -> StoreResult<()>;
    /// Changes a pending upload's status (cancel, expiry), forgets its parts and queues
    /// their bytes for removal; `Conflict` if it was no longer pending.
    async fn end_pending_upload(&self, tenant: &Tenant, upload: &Upload) -> StoreResult<()>;
    /// Every pending upload (of any tenant) whose hour is over at `now`.
    async fn overdue_uploads(&self, now: i64) -> StoreResult<Vec<(Tenant, Upload)>>;
}
