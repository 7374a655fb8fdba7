//! `/v1/vector_stores/{id}/file_batches`: createVectorStoreFileBatch,
//! getVectorStoreFileBatch, cancelVectorStoreFileBatch and listFilesInVectorStoreBatch.
//! A batch's status and counts follow its files; cancelling marks the files still
//! waiting `cancelled`.

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::extract::{JsonObject, PathParams as Path};
use crate::ids::unix_now;
use crate::json::Pretty;
use crate::models::{FileBatchStatus, JsonMap, ListPage};
use crate::routes::embedding_model::{check_attach, EmbeddingModelHeader};
use crate::routes::serving_only;
use crate::routes::vector_store_files::{
    check_file_id, check_file_ids, new_attachment, parse_attributes, parse_files_query,
};
use crate::routes::vector_stores::{
    load_live_vector_store, load_vector_store, touch, MAX_FILES_PER_REQUEST,
};
use crate::state::AppState;
use crate::store::{StoreError, Tenant};
use crate::validation::{json_type_name, Field, Fields};
use crate::vector_stores::chunking::{parse_chunking, Chunking};
use crate::vector_stores::errors::{bad_param, batch_not_cancellable, no_file_batch};
use crate::vector_stores::ids::new_file_batch_id;
use crate::vector_stores::model::{BatchFileItem, FileBatch, FileCounts, VectorStoreFile};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route(
            "/v1/vector_stores/{vector_store_id}/file_batches",
            serving_only(post(create_vector_store_file_batch), &[M::POST]),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}",
            serving_only(get(get_vector_store_file_batch), &[M::GET]),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel",
            serving_only(post(cancel_vector_store_file_batch), &[M::POST]),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files",
            serving_only(get(list_files_in_vector_store_batch), &[M::GET]),
        )
}

/// One requested file with its own attributes and chunking.
struct BatchEntry {
    file_id: String,
    attributes: JsonMap,
    chunking: Chunking,
}

/// Reads `files: [{file_id, attributes?, chunking_strategy?}]`.
async fn read_entries(
    state: &AppState,
    tenant: &Tenant,
    items: &[Value],
    defaults: (&JsonMap, Chunking),
) -> Result<Vec<BatchEntry>, ApiError> {
    let mut entries: Vec<BatchEntry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let param = format!("files[{i}]");
        let Value::Object(map) = item else {
            return Err(ApiError::invalid_type(
                &param,
                "an object",
                json_type_name(item),
            ));
        };
        let prefix = format!("{param}.");
        let fields = Fields::new(map, &prefix);
        fields.only(&["file_id", "attributes", "chunking_strategy"])?;
        let file_id = fields.required_string("file_id", 256)?;
        check_file_id(state, tenant, &file_id, &format!("{prefix}file_id")).await?;
        let attributes = match fields.value("attributes") {
            Some(value) => parse_attributes(Some(value), &format!("{prefix}attributes"))?,
            None => defaults.0.clone(),
        };
        let chunking = match fields.value("chunking_strategy") {
            Some(value) => parse_chunking(Some(value))?,
            None => defaults.1,
        };
        entries.retain(|e| e.file_id != file_id);
        entries.push(BatchEntry {
            file_id,
            attributes,
            chunking,
        });
    }
    Ok(entries)
}

/// POST /v1/vector_stores/{vector_store_id}/file_batches
pub async fn create_vector_store_file_batch(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(vector_store_id): Path<String>,
    embedding_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<FileBatch>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&["file_ids", "files", "attributes", "chunking_strategy"])?;
    let attributes = parse_attributes(fields.value("attributes"), "attributes")?;
    let chunking = parse_chunking(fields.value("chunking_strategy"))?;
    let file_ids = fields.array("file_ids", MAX_FILES_PER_REQUEST)?;
    let files = fields.array("files", MAX_FILES_PER_REQUEST)?;
    let store = load_live_vector_store(&state, &tenant, &vector_store_id).await?;
    check_attach(&state, &tenant, &store.id, &embedding_model).await?;
    let entries = match (file_ids, files) {
        (Field::Set(_), Field::Set(_)) => {
            return Err(bad_param(
                "files",
                "Invalid 'files': provide either 'file_ids' or 'files', not both.".to_owned(),
            ))
        }
        (Field::Set(items), _) => check_file_ids(&state, &tenant, items, "file_ids")
            .await?
            .into_iter()
            .map(|file_id| BatchEntry {
                file_id,
                attributes: attributes.clone(),
                chunking,
            })
            .collect(),
        (_, Field::Set(items)) => {
            read_entries(&state, &tenant, items, (&attributes, chunking)).await?
        }
        _ => return Err(ApiError::missing_parameter("file_ids")),
    };
    if entries.is_empty() {
        return Err(ApiError::array_too_short("file_ids"));
    }
    let now = unix_now();
    let batch = FileBatch {
        id: new_file_batch_id(),
        object: "vector_store.file_batch".to_owned(),
        created_at: now,
        status: FileBatchStatus::InProgress,
        vector_store_id: store.id.clone(),
        file_counts: FileCounts::default(),
    };
    let files: Vec<VectorStoreFile> = entries
        .into_iter()
        .map(|e| new_attachment(&store.id, &e.file_id, e.chunking, e.attributes, now))
        .collect();
    state
        .store
        .attach_files(&tenant, &files, Some(&batch))
        .await?;
    touch(&state, &tenant, store).await?;
    // The batch is answered as it was when created, as OpenAI answered it.
    let created = load_batch(&state, &tenant, &vector_store_id, &batch.id).await?;
    state
        .ingest
        .enqueue_with(&tenant, files, embedding_model.access())
        .await;
    Ok(Pretty(created))
}

async fn load_batch(
    state: &AppState,
    tenant: &Tenant,
    vector_store_id: &str,
    batch_id: &str,
) -> Result<FileBatch, ApiError> {
    load_vector_store(state, tenant, vector_store_id).await?;
    match state
        .store
        .get_file_batch(tenant, vector_store_id, batch_id)
        .await
    {
        Ok(batch) => Ok(batch),
        Err(StoreError::NotFound) => Err(no_file_batch(batch_id)),
        Err(other) => Err(other.into()),
    }
}

/// GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}
pub async fn get_vector_store_file_batch(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, batch_id)): Path<(String, String)>,
) -> Result<Pretty<FileBatch>, ApiError> {
    Ok(Pretty(
        load_batch(&state, &tenant, &vector_store_id, &batch_id).await?,
    ))
}

/// POST /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel
pub async fn cancel_vector_store_file_batch(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, batch_id)): Path<(String, String)>,
) -> Result<Pretty<FileBatch>, ApiError> {
    let batch = load_batch(&state, &tenant, &vector_store_id, &batch_id).await?;
    if batch.status != FileBatchStatus::InProgress {
        return Err(batch_not_cancellable(batch.status));
    }
    state
        .store
        .cancel_file_batch(&tenant, &vector_store_id, &batch_id)
        .await?;
    Ok(Pretty(
        load_batch(&state, &tenant, &vector_store_id, &batch_id).await?,
    ))
}

/// GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files: the shorter
/// items OpenAI listed here, with `filter` and both cursors.
pub async fn list_files_in_vector_store_batch(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, batch_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Pretty<ListPage<BatchFileItem>>, ApiError> {
    let (page, status) = parse_files_query(query.as_deref())?;
    load_batch(&state, &tenant, &vector_store_id, &batch_id).await?;
    let page = state
        .store
        .list_vector_store_files(&tenant, &vector_store_id, Some(&batch_id), status, &page)
        .await?;
    let items = page.items.into_iter().map(BatchFileItem::from).collect();
    Ok(Pretty(ListPage::new(items, page.has_more, |f| &f.id)))
}
