//! `/v1/files`: createFile (multipart), listFiles, retrieveFile, deleteFile,
//! downloadFile. Bytes stream to the blob store (data directory or bucket); the record
//! is written only once they are in place (within the optional per-key storage quota),
//! and deleting removes the record, detaches the file from vector stores and then
//! removes the bytes.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::api_error::ApiError;
use crate::extract::PathParams as Path;
use crate::files::expiry::remove_expired_files;
use crate::files::housekeeping::discard;
use crate::files::ids::new_file_id;
use crate::files::multipart::{file_name, read_text, Form};
use crate::files::purpose::check_purpose;
use crate::files::{BlobError, BlobKey, TempBlob};
use crate::ids::unix_now;
use crate::json::Pretty;
use crate::models::file::{FileDeleted, FileList, FileObject};
use crate::models::FileStatus;
use crate::routes::serving_only;
use crate::state::AppState;
use crate::store::{BlobKind, Order, PageRequest, PendingBlob, StoreError, Tenant};

/// Largest `limit` of listFiles, which is also its default.
pub const MAX_FILES_LIMIT: u32 = 10_000;
/// Bounds of `expires_after.seconds`: one hour to thirty days.
pub const EXPIRES_AFTER_SECONDS: (i64, i64) = (3_600, 2_592_000);

/// Routes of this resource. Uploads stream past axum's default body limit; the
/// handlers enforce `max_file_bytes` themselves.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route(
            "/v1/files",
            serving_only(get(list_files).post(create_file), &[M::GET, M::POST]),
        )
        .route(
            "/v1/files/{file_id}",
            serving_only(get(retrieve_file).delete(delete_file), &[M::GET, M::DELETE]),
        )
        .route(
            "/v1/files/{file_id}/content",
            serving_only(get(download_file), &[M::GET]),
        )
        .route_layer(DefaultBodyLimit::disable())
        .route_layer(from_fn(crate::files::wire::file_service_format))
}

/// How many bytes a new blob may take: the size limit, or less when the tenant's
/// storage quota has less room left, so an over-quota body is cut off early.
#[derive(Debug, Clone, Copy)]
pub struct Room {
    /// The size limit of this kind of blob.
    max: u64,
    /// `(bytes stored, quota)` when a quota is set.
    quota: Option<(u64, u64)>,
}

impl Room {
    /// The room `tenant` has for one blob of at most `max` bytes.
    pub async fn of(state: &AppState, tenant: &Tenant, max: u64) -> Result<Self, ApiError> {
        let quota = match state.storage_quota {
            Some(quota) => Some((state.store.storage_used(tenant).await?, quota)),
            None => None,
        };
        Ok(Self { max, quota })
    }

    /// Bytes to accept before giving up.
    pub fn limit(&self) -> u64 {
        match self.quota {
            Some((used, quota)) => self.max.min(quota.saturating_sub(used)),
            None => self.max,
        }
    }

    /// The answer to a failure to receive: past the quota's room it is the quota error,
    /// otherwise as [`blob_error`] says.
    pub fn refuse(&self, error: BlobError) -> ApiError {
        match (error, self.quota) {
            (BlobError::TooLarge { read, .. }, Some((used, quota))) if self.limit() < self.max => {
                ApiError::storage_quota_exceeded(used.saturating_add(read), quota)
            }
            (error, _) => blob_error(error),
        }
    }
}

/// Maps a failure to store bytes onto OpenAI's answers.
pub fn blob_error(error: BlobError) -> ApiError {
    match error {
        BlobError::TooLarge { limit, read } => ApiError::content_too_large(limit, read),
        BlobError::Body(detail) => ApiError::malformed_multipart(&detail),
        error @ (BlobError::Io(_)
        | BlobError::Object(_)
        | BlobError::NotFound
        | BlobError::Config(_)) => storage_failure(error),
    }
}

/// Logs a failure of the blob store (disk or bucket) and answers 500.
pub fn storage_failure(error: BlobError) -> ApiError {
    tracing::error!(%error, "file bytes");
    ApiError::internal("")
}

/// The fields of a createFile form.
#[derive(Default)]
struct FileForm {
    blob: Option<TempBlob>,
    filename: Option<String>,
    purpose: Option<String>,
    anchor: Option<String>,
    seconds: Option<String>,
}

/// Reads the form, streaming the `file` field towards `key` (visible once persisted).
async fn read_file_form(
    state: &AppState,
    key: &BlobKey,
    room: Room,
    mut form: Form,
) -> Result<FileForm, ApiError> {
    let mut fields = FileForm::default();
    while let Some(field) = form.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                fields.filename = file_name(&field);
                let received = state.data.receive(key, field, room.limit()).await;
                fields.blob = Some(received.map_err(|error| room.refuse(error))?);
            }
            "purpose" => fields.purpose = Some(read_text(field).await?),
            "expires_after[anchor]" => fields.anchor = Some(read_text(field).await?),
            "expires_after[seconds]" => fields.seconds = Some(read_text(field).await?),
            _ => return Err(ApiError::unknown_parameter(&name)),
        }
    }
    Ok(fields)
}

/// Checks `expires_after` (anchor `created_at`, one hour to thirty days) and returns
/// its seconds.
pub fn check_expires_after(
    anchor: Option<&str>,
    seconds: Option<&str>,
) -> Result<Option<i64>, ApiError> {
    let (anchor, seconds) = match (anchor, seconds) {
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(ApiError::missing_parameter("expires_after.anchor")),
        (Some(_), None) => return Err(ApiError::missing_parameter("expires_after.seconds")),
        (Some(anchor), Some(seconds)) => (anchor, seconds),
    };
    if anchor != "created_at" {
        return Err(ApiError::invalid_value(
            "expires_after.anchor",
            anchor,
            &["created_at"],
        ));
    }
    let param = "expires_after.seconds";
    let Ok(value) = seconds.trim().parse::<i64>() else {
        return Err(ApiError::invalid_type(param, "an integer", "a string"));
    };
    let (min, max) = EXPIRES_AFTER_SECONDS;
    if value < min {
        return Err(ApiError::integer_below_min(param, min, seconds));
    }
    if value > max {
        return Err(ApiError::integer_above_max(param, max, seconds));
    }
    Ok(Some(value))
}

/// POST /v1/files
pub async fn create_file(
    State(state): State<AppState>,
    tenant: Tenant,
    form: Form,
) -> Result<Pretty<FileObject>, ApiError> {
    let room = Room::of(&state, &tenant, state.max_file_bytes).await?;
    // The id comes first: the bytes stream straight to their final key (in object
    // storage a multipart upload), becoming visible only once complete.
    let id = new_file_id();
    let key = BlobKey::file(&tenant, &id);
    let fields = read_file_form(&state, &key, room, form).await?;
    let purpose = fields
        .purpose
        .ok_or_else(|| ApiError::missing_parameter("purpose"))?;
    check_purpose(&purpose)?;
    let blob = fields
        .blob
        .ok_or_else(|| ApiError::missing_parameter("file"))?;
    let ttl = check_expires_after(fields.anchor.as_deref(), fields.seconds.as_deref())?;
    let created_at = unix_now();
    let file = FileObject {
        object: "file".to_owned(),
        id,
        purpose,
        filename: fields.filename.unwrap_or_else(|| "file".to_owned()),
        bytes: blob.len(),
        created_at,
        expires_at: ttl.map(|seconds| created_at + seconds),
        status: FileStatus::Processed,
        status_details: None,
    };
    store_new_file(&state, &tenant, blob, &file).await?;
    Ok(Pretty(file))
}

/// Makes `blob` (created for `file`'s key) visible, then records the file (within the
/// tenant's quota); if recording fails the bytes go again, so no file exists half
/// (bytes a failed removal leaves are swept as orphans).
pub async fn store_new_file(
    state: &AppState,
    tenant: &Tenant,
    blob: TempBlob,
    file: &FileObject,
) -> Result<(), ApiError> {
    blob.persist().await.map_err(storage_failure)?;
    let recorded = state
        .store
        .insert_file_within(tenant, file, state.storage_quota)
        .await;
    if let Err(error) = recorded {
        let _ = state.data.remove(&BlobKey::file(tenant, &file.id)).await;
        return Err(ApiError::from_file_store(error));
    }
    Ok(())
}

/// The query of listFiles.
#[derive(Debug, Default)]
struct FilesQuery {
    purpose: Option<String>,
    page: PageRequest,
}

fn parse_files_query(query: &str) -> Result<FilesQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut parsed = FilesQuery {
        purpose: None,
        page: PageRequest {
            limit: MAX_FILES_LIMIT,
            ..PageRequest::default()
        },
    };
    for (key, value) in pairs {
        match key.as_str() {
            "purpose" if !value.is_empty() => parsed.purpose = Some(value),
            "limit" => {
                let Ok(limit) = value.trim().parse::<i64>() else {
                    return Err(ApiError::invalid_type("limit", "an integer", "a string"));
                };
                if limit < 1 {
                    return Err(ApiError::integer_below_min("limit", 1, &value));
                }
                if limit > i64::from(MAX_FILES_LIMIT) {
                    return Err(ApiError::integer_above_max(
                        "limit",
                        i64::from(MAX_FILES_LIMIT),
                        &value,
                    ));
                }
                parsed.page.limit = limit as u32;
            }
            "order" => {
                parsed.page.order = match value.as_str() {
                    "asc" => Order::Asc,
                    "desc" => Order::Desc,
                    _ => return Err(ApiError::invalid_value("order", &value, &["asc", "desc"])),
                }
            }
            "after" if !value.is_empty() => parsed.page.after = Some(value),
            _ => {}
        }
    }
    Ok(parsed)
}

/// Applies lazy expiry before a files request.
async fn expire(state: &AppState) -> Result<(), ApiError> {
    remove_expired_files(state.store.as_ref(), state.data.as_ref())
        .await
        .map_err(ApiError::from)
}

/// GET /v1/files
pub async fn list_files(
    State(state): State<AppState>,
    tenant: Tenant,
    RawQuery(query): RawQuery,
) -> Result<Pretty<FileList>, ApiError> {
    let query = parse_files_query(query.as_deref().unwrap_or_default())?;
    expire(&state).await?;
    let page = state
        .store
        .list_files(&tenant, query.purpose.as_deref(), &query.page)
        .await?;
    Ok(Pretty(FileList::new(page.items, page.has_more)))
}

/// Loads a live file of this tenant or answers `No such File object`.
pub async fn load_file(
    state: &AppState,
    tenant: &Tenant,
    file_id: &str,
) -> Result<FileObject, ApiError> {
    expire(state).await?;
    match state.store.get_file(tenant, file_id).await {
        Ok(file) if file.expires_at.is_some_and(|at| at <= unix_now()) => {
            Err(ApiError::no_such_file(file_id))
        }
        Ok(file) => Ok(file),
        Err(StoreError::NotFound) => Err(ApiError::no_such_file(file_id)),
        Err(other) => Err(other.into()),
    }
}

/// GET /v1/files/{file_id}
pub async fn retrieve_file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(file_id): Path<String>,
) -> Result<Pretty<FileObject>, ApiError> {
    Ok(Pretty(load_file(&state, &tenant, &file_id).await?))
}

/// DELETE /v1/files/{file_id}
pub async fn delete_file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(file_id): Path<String>,
) -> Result<Pretty<FileDeleted>, ApiError> {
    expire(&state).await?;
    match state.store.delete_file(&tenant, &file_id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(ApiError::no_such_file(&file_id)),
        Err(other) => return Err(other.into()),
    }
    // The record is gone and its bytes are queued: the deletion has happened. Bytes
    // that cannot be removed now are retried by the housekeeping sweep, never a 500.
    let blob = PendingBlob {
        tenant,
        kind: BlobKind::File,
        id: file_id.clone(),
    };
    discard(state.store.as_ref(), state.data.as_ref(), &blob).await;
    Ok(Pretty(FileDeleted::new(file_id)))
}

/// GET /v1/files/{file_id}/content: the exact bytes, streamed from the blob store.
pub async fn download_file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(file_id): Path<String>,
) -> Result<Response, ApiError> {
    let file = load_file(&state, &tenant, &file_id).await?;
    let bytes = state
        .data
        .open(&BlobKey::file(&tenant, &file.id))
        .await
        .map_err(storage_failure)?;
    let mut response = Body::from_stream(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.bytes));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_list_defaults_to_10000_newest_first() {
        let query = parse_files_query("").unwrap();
        assert_eq!((query.page.limit, query.page.order), (10_000, Order::Desc));
        assert!(parse_files_query("limit=10000").is_ok());
        assert_eq!(
            parse_files_query("limit=10001").unwrap_err().code,
            Some("integer_above_max_value")
        );
        let query = parse_files_query("purpose=vision&after=file-a&order=asc").unwrap();
        assert_eq!(query.purpose.as_deref(), Some("vision"));
        assert_eq!(query.page.after.as_deref(), Some("file-a"));
    }

    #[test]
    fn expires_after_is_checked() {
        assert_eq!(check_expires_after(None, None).unwrap(), None);
        assert_eq!(
            check_expires_after(Some("created_at"), Some("3600")).unwrap(),
            Some(3600)
        );
        assert!(check_expires_after(Some("created_at"), Some("59")).is_err());
        assert!(check_expires_after(Some("last_active_at"), Some("3600")).is_err());
        assert!(check_expires_after(Some("created_at"), None).is_err());
    }
}
