//! `/v1/vector_stores/{id}/files`: createVectorStoreFile, listVectorStoreFiles,
//! getVectorStoreFile, updateVectorStoreFileAttributes, deleteVectorStoreFile and
//! retrieveVectorStoreFileContent. Attaching answers at once with `in_progress`; the
//! ingestion queue does the work.

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::extract::{parse_list_query, JsonObject, PathParams as Path};
use crate::ids::unix_now;
use crate::json::Pretty;
use crate::models::{Deleted, JsonMap, ListPage, VectorStoreFileStatus};
use crate::routes::embedding_model::{check_attach, EmbeddingModelHeader};
use crate::routes::serving_only;
use crate::routes::vector_stores::{load_live_vector_store, load_vector_store, touch};
use crate::state::AppState;
use crate::store::{PageRequest, StoreError, Tenant};
use crate::validation::{json_type_name, Checked, Fields};
use crate::vector_stores::chunking::{parse_chunking, Chunking};
use crate::vector_stores::errors::{no_vector_store_file, unknown_file};
use crate::vector_stores::model::VectorStoreFile;

/// Most attributes a file may carry.
const MAX_ATTRIBUTES: usize = 16;
/// Longest attribute key.
const MAX_ATTRIBUTE_KEY: usize = 64;
/// Longest string attribute value.
const MAX_ATTRIBUTE_VALUE: usize = 512;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route(
            "/v1/vector_stores/{vector_store_id}/files",
            serving_only(
                get(list_vector_store_files).post(create_vector_store_file),
                &[M::GET, M::POST],
            ),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}/files/{file_id}",
            serving_only(
                get(get_vector_store_file)
                    .post(update_vector_store_file_attributes)
                    .delete(delete_vector_store_file),
                &[M::GET, M::POST, M::DELETE],
            ),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}/files/{file_id}/content",
            serving_only(get(retrieve_vector_store_file_content), &[M::GET]),
        )
}

/// A fresh `in_progress` attachment of `file_id` to `vector_store_id`.
pub fn new_attachment(
    vector_store_id: &str,
    file_id: &str,
    chunking: Chunking,
    attributes: JsonMap,
    now: i64,
) -> VectorStoreFile {
    VectorStoreFile {
        id: file_id.to_owned(),
        object: "vector_store.file".to_owned(),
        usage_bytes: 0,
        created_at: now,
        vector_store_id: vector_store_id.to_owned(),
        status: VectorStoreFileStatus::InProgress,
        last_error: None,
        chunking_strategy: chunking.to_json(),
        attributes,
    }
}

/// Checks that `file_id` names a live file of the tenant.
pub async fn check_file_id(
    state: &AppState,
    tenant: &Tenant,
    file_id: &str,
    param: &str,
) -> Result<(), ApiError> {
    match state.store.get_file(tenant, file_id).await {
        Ok(file) if file.expires_at.is_none_or(|at| at > unix_now()) => Ok(()),
        Ok(_) | Err(StoreError::NotFound) => Err(unknown_file(param, file_id)),
        Err(other) => Err(other.into()),
    }
}

/// Checks an array of file ids (strings naming live files), without duplicates.
pub async fn check_file_ids(
    state: &AppState,
    tenant: &Tenant,
    items: &[Value],
    param: &str,
) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_param = format!("{param}[{i}]");
        let Value::String(id) = item else {
            return Err(ApiError::invalid_type(
                &item_param,
                "a string",
                json_type_name(item),
            ));
        };
        check_file_id(state, tenant, id, &item_param).await?;
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    Ok(ids)
}

/// Checks `attributes`: up to 16 keys of at most 64 characters, values strings of
/// at most 512 characters, numbers or booleans.
pub fn parse_attributes(value: Option<&Value>, param: &str) -> Checked<JsonMap> {
    let map = match value {
        None | Some(Value::Null) => return Ok(JsonMap::new()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(ApiError::invalid_type(
                param,
                "an object",
                json_type_name(other),
            ))
        }
    };
    if map.len() > MAX_ATTRIBUTES {
        return Err(ApiError::too_many_properties(
            param,
            MAX_ATTRIBUTES,
            map.len(),
        ));
    }
    for (key, value) in map {
        if key.chars().count() > MAX_ATTRIBUTE_KEY {
            return Err(ApiError::key_too_long(param, key, MAX_ATTRIBUTE_KEY));
        }
        let value_param = format!("{param}.{key}");
        match value {
            Value::String(text) if text.chars().count() > MAX_ATTRIBUTE_VALUE => {
                return Err(ApiError::string_too_long(
                    &value_param,
                    MAX_ATTRIBUTE_VALUE,
                    text.chars().count(),
                ))
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {}
            other => {
                return Err(ApiError::invalid_type(
                    &value_param,
                    "a string, number, or boolean",
                    json_type_name(other),
                ))
            }
        }
    }
    Ok(map.clone())
}

/// POST /v1/vector_stores/{vector_store_id}/files
pub async fn create_vector_store_file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(vector_store_id): Path<String>,
    embedding_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<VectorStoreFile>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&["file_id", "attributes", "chunking_strategy"])?;
    let file_id = fields.required_string("file_id", 256)?;
    let attributes = parse_attributes(fields.value("attributes"), "attributes")?;
    let chunking = parse_chunking(fields.value("chunking_strategy"))?;
    let store = load_live_vector_store(&state, &tenant, &vector_store_id).await?;
    check_attach(&state, &tenant, &store.id, &embedding_model).await?;
    check_file_id(&state, &tenant, &file_id, "file_id").await?;
    let file = new_attachment(&store.id, &file_id, chunking, attributes, unix_now());
    state
        .store
        .attach_files(&tenant, std::slice::from_ref(&file), None)
        .await?;
    touch(&state, &tenant, store).await?;
    let access = embedding_model.access();
    state
        .ingest
        .enqueue_with(&tenant, vec![file.clone()], access)
        .await;
    Ok(Pretty(file))
}

/// A list request plus its optional status `filter`.
pub fn parse_files_query(
    query: Option<&str>,
) -> Result<(PageRequest, Option<VectorStoreFileStatus>), ApiError> {
    let query = query.unwrap_or_default();
    let page = parse_list_query(query)?.page;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let mut status = None;
    for (key, value) in pairs {
        if key == "filter" && !value.is_empty() {
            let parsed = value.parse().map_err(|_| {
                ApiError::invalid_value("filter", &value, VectorStoreFileStatus::NAMES)
            })?;
            status = Some(parsed);
        }
    }
    Ok((page, status))
}

/// GET /v1/vector_stores/{vector_store_id}/files
pub async fn list_vector_store_files(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(vector_store_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Pretty<ListPage<VectorStoreFile>>, ApiError> {
    let (page, status) = parse_files_query(query.as_deref())?;
    load_vector_store(&state, &tenant, &vector_store_id).await?;
    let page = state
        .store
        .list_vector_store_files(&tenant, &vector_store_id, None, status, &page)
        .await?;
    Ok(Pretty(ListPage::new(page.items, page.has_more, |f| &f.id)))
}

/// Loads an attached file or answers with a 404.
async fn load_attached(
    state: &AppState,
    tenant: &Tenant,
    vector_store_id: &str,
    file_id: &str,
) -> Result<VectorStoreFile, ApiError> {
    load_vector_store(state, tenant, vector_store_id).await?;
    match state
        .store
        .get_vector_store_file(tenant, vector_store_id, file_id)
        .await
    {
        Ok(file) => Ok(file),
        Err(StoreError::NotFound) => Err(no_vector_store_file(vector_store_id, file_id)),
        Err(other) => Err(other.into()),
    }
}

/// GET /v1/vector_stores/{vector_store_id}/files/{file_id}
pub async fn get_vector_store_file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, file_id)): Path<(String, String)>,
) -> Result<Pretty<VectorStoreFile>, ApiError> {
    Ok(Pretty(
        load_attached(&state, &tenant, &vector_store_id, &file_id).await?,
    ))
}

/// POST /v1/vector_stores/{vector_store_id}/files/{file_id}: replaces `attributes`.
pub async fn update_vector_store_file_attributes(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, file_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Pretty<VectorStoreFile>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&["attributes"])?;
    let Some(value) = body.get("attributes") else {
        return Err(ApiError::missing_parameter("attributes"));
    };
    let attributes = parse_attributes(Some(value), "attributes")?;
    let mut file = load_attached(&state, &tenant, &vector_store_id, &file_id).await?;
    file.attributes = attributes;
    match state.store.update_vector_store_file(&tenant, &file).await {
        Ok(()) => Ok(Pretty(file)),
        Err(StoreError::NotFound) => Err(no_vector_store_file(&vector_store_id, &file_id)),
        Err(other) => Err(other.into()),
    }
}

/// DELETE /v1/vector_stores/{vector_store_id}/files/{file_id}: detaches the file
/// (the File itself stays).
pub async fn delete_vector_store_file(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, file_id)): Path<(String, String)>,
) -> Result<Pretty<Deleted>, ApiError> {
    load_vector_store(&state, &tenant, &vector_store_id).await?;
    match state
        .store
        .delete_vector_store_file(&tenant, &vector_store_id, &file_id)
        .await
    {
        Ok(()) => Ok(Pretty(Deleted::new(file_id, "vector_store.file.deleted"))),
        Err(StoreError::NotFound) => Err(no_vector_store_file(&vector_store_id, &file_id)),
        Err(other) => Err(other.into()),
    }
}

/// One piece of parsed content.
#[derive(Debug, Serialize)]
pub struct ContentPiece {
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The text.
    pub text: String,
}

/// `vector_store.file_content.page`, keys in the spec's order.
#[derive(Debug, Serialize)]
pub struct FileContentPage {
    /// Always `vector_store.file_content.page`.
    pub object: &'static str,
    /// The parsed text: one piece, empty until the file is ingested.
    pub data: Vec<ContentPiece>,
    /// Always false: the whole text is one page.
    pub has_more: bool,
    /// Always null, for the same reason.
    pub next_page: Option<String>,
}

/// GET /v1/vector_stores/{vector_store_id}/files/{file_id}/content
pub async fn retrieve_vector_store_file_content(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((vector_store_id, file_id)): Path<(String, String)>,
) -> Result<Pretty<FileContentPage>, ApiError> {
    load_attached(&state, &tenant, &vector_store_id, &file_id).await?;
    let text = state
        .store
        .vector_store_file_text(&tenant, &vector_store_id, &file_id)
        .await?;
    Ok(Pretty(FileContentPage {
        object: "vector_store.file_content.page",
        data: text
            .into_iter()
            .map(|text| ContentPiece { kind: "text", text })
            .collect(),
        has_more: false,
        next_page: None,
    }))
}
