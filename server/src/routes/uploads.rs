//! `/v1/uploads`: createUpload, addUploadPart (multipart `data`), completeUpload
//! (parts joined in the given order, optional MD5 checked, the result an ordinary
//! file) and cancelUpload. Uploads expire an hour after creation. A part that would
//! take the parts past the declared `bytes` is refused as it arrives.

use std::collections::{HashMap, HashSet};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::Method;
use axum::middleware::from_fn;
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use md5::{Digest, Md5};
use serde_json::Value;

use crate::api_error::ApiError;
use crate::extract::{JsonObject, PathParams as Path};
use crate::files::expiry::{expire_upload, is_overdue, upload_blob};
use crate::files::housekeeping::discard;
use crate::files::ids::{new_file_id, new_part_id, new_upload_id};
use crate::files::multipart::Form;
use crate::files::purpose::check_purpose;
use crate::files::{BlobError, BlobKey};
use crate::ids::unix_now;
use crate::json::Pretty;
use crate::models::file::FileObject;
use crate::models::upload::{Upload, UploadPart};
use crate::models::{FileStatus, UploadStatus};
use crate::routes::files::{check_expires_after, storage_failure, Room};
use crate::routes::serving_only;
use crate::state::AppState;
use crate::store::{StoreError, Tenant, UploadRecord};
use crate::validation::{json_type_name, Fields};

/// OpenAI's largest upload: 8 GB.
pub const MAX_UPLOAD_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// OpenAI's largest part: 64 MB.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Seconds an upload accepts parts: one hour, as OpenAI documented.
pub const UPLOAD_LIFETIME_SECONDS: i64 = 3_600;
/// Most parts one completion may list.
pub const MAX_PARTS: usize = 10_000;

/// Routes of this resource; parts stream past axum's default body limit.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route("/v1/uploads", serving_only(post(create_upload), &[M::POST]))
        .route(
            "/v1/uploads/{upload_id}/parts",
            serving_only(post(add_upload_part), &[M::POST]),
        )
        .route(
            "/v1/uploads/{upload_id}/complete",
            serving_only(post(complete_upload), &[M::POST]),
        )
        .route(
            "/v1/uploads/{upload_id}/cancel",
            serving_only(post(cancel_upload), &[M::POST]),
        )
        .route_layer(DefaultBodyLimit::disable())
        .route_layer(from_fn(crate::files::wire::file_service_format))
}

/// POST /v1/uploads
pub async fn create_upload(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Upload>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&["bytes", "filename", "mime_type", "purpose", "expires_after"])?;
    let bytes = fields.require("bytes")?;
    let Some(bytes) = bytes.as_i64() else {
        return Err(ApiError::invalid_type(
            "bytes",
            "an integer",
            json_type_name(bytes),
        ));
    };
    if bytes < 0 {
        return Err(ApiError::integer_below_min("bytes", 0, &bytes.to_string()));
    }
    let bytes = bytes as u64;
    if bytes > MAX_UPLOAD_BYTES {
        return Err(ApiError::upload_too_large(MAX_UPLOAD_BYTES, bytes));
    }
    let filename = fields.required_string("filename", 1024)?;
    if filename.is_empty() {
        return Err(ApiError::string_too_short("filename"));
    }
    fields.required_string("mime_type", 256)?;
    let purpose = fields.required_string("purpose", 64)?;
    check_purpose(&purpose)?;
    let file_expires_after = match fields.object("expires_after")?.set() {
        Some(expiry) => {
            let anchor = expiry.get("anchor").map(text_of);
            let seconds = expiry.get("seconds").map(text_of);
            check_expires_after(anchor.as_deref(), seconds.as_deref())?
        }
        None => None,
    };
    let created_at = unix_now();
    let upload = Upload {
        id: new_upload_id(),
        object: "upload".to_owned(),
        bytes,
        created_at,
        filename,
        purpose,
        status: UploadStatus::Pending,
        expires_at: created_at + UPLOAD_LIFETIME_SECONDS,
        file: None,
    };
    let record = UploadRecord {
        upload,
        file_expires_after,
    };
    state.store.insert_upload(&tenant, &record).await?;
    Ok(Pretty(record.upload))
}

/// A JSON value as the text `check_expires_after` reads (numbers unquoted).
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Loads an upload of this tenant, expiring it first if its hour is over.
async fn load_upload(
    state: &AppState,
    tenant: &Tenant,
    upload_id: &str,
) -> Result<UploadRecord, ApiError> {
    let mut record = match state.store.get_upload(tenant, upload_id).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Err(ApiError::no_such_upload(upload_id)),
        Err(other) => return Err(other.into()),
    };
    if is_overdue(&record.upload, unix_now()) {
        record.upload = expire_upload(
            state.store.as_ref(),
            state.data.as_ref(),
            tenant,
            record.upload,
        )
        .await?;
    }
    Ok(record)
}

/// Loads an upload that must still be pending.
async fn load_pending(
    state: &AppState,
    tenant: &Tenant,
    upload_id: &str,
) -> Result<UploadRecord, ApiError> {
    let record = load_upload(state, tenant, upload_id).await?;
    if record.upload.status != UploadStatus::Pending {
        return Err(ApiError::upload_not_pending(
            upload_id,
            record.upload.status,
        ));
    }
    Ok(record)
}

/// The answer when a write or a read of parts found the upload changed by a
/// concurrent request; an upload still pending means something else went wrong.
async fn changed_meanwhile(state: &AppState, tenant: &Tenant, upload_id: &str) -> ApiError {
    match load_upload(state, tenant, upload_id).await {
        Ok(record) if record.upload.status == UploadStatus::Pending => {
            tracing::error!(%upload_id, "upload parts missing while the upload is pending");
            ApiError::internal("")
        }
        Ok(record) => ApiError::upload_not_pending(upload_id, record.upload.status),
        Err(error) => error,
    }
}

/// POST /v1/uploads/{upload_id}/parts
pub async fn add_upload_part(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(upload_id): Path<String>,
    mut form: Form,
) -> Result<Pretty<UploadPart>, ApiError> {
    let declared = load_pending(&state, &tenant, &upload_id)
        .await?
        .upload
        .bytes;
    // Parts stop arriving at the declared size (and at the quota), not only at
    // completion: a `bytes: 1` upload cannot take 64 MB parts.
    let so_far = state.store.upload_parts_bytes(&tenant, &upload_id).await?;
    let left = declared.saturating_sub(so_far);
    let room = Room::of(&state, &tenant, MAX_PART_BYTES).await?;
    let part = UploadPart {
        id: new_part_id(),
        object: "upload.part".to_owned(),
        created_at: unix_now(),
        upload_id: upload_id.clone(),
    };
    // Each part is its own blob, so parts sent to different instances all land in the
    // shared store and whichever instance completes the upload finds them.
    let key = BlobKey::part(&tenant, &upload_id, &part.id);
    let mut blob = None;
    while let Some(field) = form.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        if name != "data" {
            return Err(ApiError::unknown_parameter(&name));
        }
        let received = state
            .data
            .receive(&key, field, room.limit().min(left))
            .await;
        blob = Some(received.map_err(|error| match error {
            BlobError::TooLarge { read, .. } if left < room.limit() => {
                ApiError::upload_part_past_declared(declared, so_far.saturating_add(read))
            }
            other => room.refuse(other),
        })?);
    }
    let blob = blob.ok_or_else(|| ApiError::missing_parameter("data"))?;
    let bytes = blob.len();
    blob.persist().await.map_err(storage_failure)?;
    let quota = state.storage_quota;
    match state.store.insert_part(&tenant, &part, bytes, quota).await {
        Ok(()) => Ok(Pretty(part)),
        Err(error) => {
            let _ = state.data.remove(&key).await;
            match error {
                StoreError::Conflict(_) => {
                    Err(changed_meanwhile(&state, &tenant, &upload_id).await)
                }
                other => Err(ApiError::from_file_store(other)),
            }
        }
    }
}

/// The checked body of completeUpload.
struct Completion {
    part_ids: Vec<String>,
    md5: Option<String>,
}

fn read_completion(body: &serde_json::Map<String, Value>) -> Result<Completion, ApiError> {
    let fields = Fields::new(body, "");
    fields.only(&["part_ids", "md5"])?;
    let items = fields.require("part_ids")?;
    let Value::Array(items) = items else {
        return Err(ApiError::invalid_type(
            "part_ids",
            "an array",
            json_type_name(items),
        ));
    };
    if items.len() > MAX_PARTS {
        return Err(ApiError::array_too_long("part_ids", MAX_PARTS, items.len()));
    }
    let mut part_ids = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::String(id) = item else {
            return Err(ApiError::invalid_type(
                &format!("part_ids[{index}]"),
                "a string",
                json_type_name(item),
            ));
        };
        part_ids.push(id.clone());
    }
    let md5 = fields
        .string("md5", 64)?
        .set()
        .filter(|md5| !md5.is_empty());
    Ok(Completion { part_ids, md5 })
}

/// POST /v1/uploads/{upload_id}/complete
pub async fn complete_upload(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(upload_id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Upload>, ApiError> {
    let completion = read_completion(&body)?;
    let record = load_pending(&state, &tenant, &upload_id).await?;
    let sizes: HashMap<String, u64> = state
        .store
        .parts_of_upload(&tenant, &upload_id)
        .await?
        .into_iter()
        .map(|(part, bytes)| (part.id, bytes))
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0u64;
    for id in &completion.part_ids {
        let size = sizes.get(id).ok_or_else(|| ApiError::no_such_part(id))?;
        if !seen.insert(id.as_str()) {
            return Err(ApiError::duplicate_part(id));
        }
        total += size;
    }
    let mut upload = record.upload;
    if total != upload.bytes {
        return Err(ApiError::upload_size_mismatch(upload.bytes, total));
    }
    let file_id = new_file_id();
    let file_key = BlobKey::file(&tenant, &file_id);
    // The parts stream through this instance (whichever received the call) into the
    // file's blob, which appears only once whole and checked.
    let mut blob = state
        .data
        .temp_blob(&file_key)
        .await
        .map_err(storage_failure)?;
    let mut hasher = Md5::new();
    for id in &completion.part_ids {
        let key = BlobKey::part(&tenant, &upload_id, id);
        let mut part = match state.data.open(&key).await {
            Ok(part) => part,
            // A concurrent cancel (or expiry) removed the parts meanwhile.
            Err(BlobError::NotFound) => {
                return Err(changed_meanwhile(&state, &tenant, &upload_id).await)
            }
            Err(error) => return Err(storage_failure(error)),
        };
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(storage_failure)?;
            hasher.update(&chunk);
            blob.write(chunk).await.map_err(storage_failure)?;
        }
    }
    let actual: String = hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if let Some(given) = &completion.md5 {
        if !given.eq_ignore_ascii_case(&actual) {
            return Err(ApiError::md5_mismatch(given, &actual));
        }
    }
    let file = FileObject {
        object: "file".to_owned(),
        id: file_id,
        purpose: upload.purpose.clone(),
        filename: upload.filename.clone(),
        bytes: total,
        // As recorded: the file carries the upload's creation time.
        created_at: upload.created_at,
        expires_at: record
            .file_expires_after
            .map(|seconds| upload.created_at + seconds),
        status: FileStatus::Processed,
        status_details: None,
    };
    upload.status = UploadStatus::Completed;
    upload.file = Some(file.clone());
    blob.persist().await.map_err(storage_failure)?;
    if let Err(error) = state.store.complete_upload(&tenant, &upload, &file).await {
        let _ = state.data.remove(&file_key).await;
        return Err(match error {
            StoreError::Conflict(_) => changed_meanwhile(&state, &tenant, &upload_id).await,
            other => other.into(),
        });
    }
    let parts = upload_blob(&tenant, &upload_id);
    discard(state.store.as_ref(), state.data.as_ref(), &parts).await;
    Ok(Pretty(upload))
}

/// POST /v1/uploads/{upload_id}/cancel
pub async fn cancel_upload(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(upload_id): Path<String>,
) -> Result<Pretty<Upload>, ApiError> {
    let mut upload = load_pending(&state, &tenant, &upload_id).await?.upload;
    upload.status = UploadStatus::Cancelled;
    match state.store.end_pending_upload(&tenant, &upload).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(changed_meanwhile(&state, &tenant, &upload_id).await)
        }
        Err(other) => return Err(other.into()),
    }
    let parts = upload_blob(&tenant, &upload_id);
    discard(state.store.as_ref(), state.data.as_ref(), &parts).await;
    Ok(Pretty(upload))
}
