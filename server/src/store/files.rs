//! Storage of file and upload records. The bytes themselves live in the data directory
//! (`crate::files::DataDir`); a record is written only after its bytes are in place.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult, Tenant};
use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};

/// File records.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores a new file record.
    async fn insert_file(&self, tenant: &Tenant, file: &FileObject) -> StoreResult<()>;
    /// Fetches one file; `NotFound` if absent for this tenant.
    async fn get_file(&self, tenant: &Tenant, id: &str) -> StoreResult<FileObject>;
    /// Deletes a file record; `NotFound` if absent.
    async fn delete_file(&self, tenant: &Tenant, id: &str) -> StoreResult<()>;
    /// One page of the tenant's files, optionally of one purpose only.
    async fn list_files(
        &self,
        tenant: &Tenant,
        purpose: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<FileObject>>;
    /// Deletes the records of every file (of any tenant) expired at `now` and returns
    /// them, so their bytes can be removed too.
    async fn take_expired_files(&self, now: i64) -> StoreResult<Vec<(Tenant, String)>>;
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
    /// Records a part whose bytes (`bytes` long) are already on disk.
    async fn insert_part(&self, tenant: &Tenant, part: &UploadPart, bytes: u64) -> StoreResult<()>;
    /// Every part of an upload with its size, oldest first.
    async fn parts_of_upload(
        &self,
        tenant: &Tenant,
        upload_id: &str,
    ) -> StoreResult<Vec<(UploadPart, u64)>>;
    /// Marks the upload completed and records its file, all or nothing; `Conflict`
    /// if the upload was no longer pending (a concurrent complete or cancel).
    async fn complete_upload(
        &self,
        tenant: &Tenant,
        upload: &Upload,
        file: &FileObject,
    ) -> StoreResult<()>;
    /// Changes a pending upload's status (cancel, expiry) and forgets its parts;
    /// `Conflict` if it was no longer pending.
    async fn end_pending_upload(&self, tenant: &Tenant, upload: &Upload) -> StoreResult<()>;
    /// Every pending upload (of any tenant) whose hour is over at `now`.
    async fn overdue_uploads(&self, now: i64) -> StoreResult<Vec<(Tenant, Upload)>>;
}
