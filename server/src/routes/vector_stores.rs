//! `/v1/vector_stores`: createVectorStore, listVectorStores, getVectorStore,
//! modifyVectorStore, deleteVectorStore and searchVectorStore. No OpenAI-Beta header
//! is needed (the 2025 .NET SDK sent none); one is accepted.

use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::extract::{JsonObject, ListQuery, PathParams as Path};
use crate::ids::unix_now;
use crate::json::Pretty;
use crate::models::{Deleted, JsonMap, ListPage, VectorStoreStatus};
use crate::routes::embedding_model::{model_for_new_store, EmbeddingModelHeader};
use crate::routes::serving_only;
use crate::routes::vector_store_files::{check_file_ids, new_attachment};
use crate::state::AppState;
use crate::store::{StoreError, Tenant};
use crate::validation::{json_type_name, Checked, Field, Fields};
use crate::vector_stores::chunking::parse_chunking;
use crate::vector_stores::errors::{bad_param, expired, no_vector_store};
use crate::vector_stores::filters::parse_filter;
use crate::vector_stores::ids::new_vector_store_id;
use crate::vector_stores::model::{ExpiresAfter, FileCounts, VectorStore};
use crate::vector_stores::{search_with, SearchOptions, SearchResult};

/// Most files one request may attach (OpenAI's batch limit).
pub const MAX_FILES_PER_REQUEST: usize = 500;
/// Bounds of `expires_after.days`.
const EXPIRY_DAYS: (i64, i64) = (1, 365);
/// Bounds of `max_num_results` and its default.
const MAX_NUM_RESULTS: (i64, i64, u32) = (1, 50, 10);
/// Rankers searchVectorStore accepts (the spec's enum).
const RANKERS: &[&str] = &["none", "auto", "default-2024-11-15"];

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route(
            "/v1/vector_stores",
            serving_only(
                get(list_vector_stores).post(create_vector_store),
                &[M::GET, M::POST],
            ),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}",
            serving_only(
                get(get_vector_store)
                    .post(modify_vector_store)
                    .delete(delete_vector_store),
                &[M::GET, M::POST, M::DELETE],
            ),
        )
        .route(
            "/v1/vector_stores/{vector_store_id}/search",
            serving_only(post(search_vector_store), &[M::POST]),
        )
}

/// Loads a store of this tenant or answers `No vector store found`.
pub async fn load_vector_store(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<VectorStore, ApiError> {
    match state.store.get_vector_store(tenant, id, unix_now()).await {
        Ok(store) => Ok(store),
        Err(StoreError::NotFound) => Err(no_vector_store(id)),
        Err(other) => Err(other.into()),
    }
}

/// Loads a store that must not have expired (attaching, searching).
pub async fn load_live_vector_store(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<VectorStore, ApiError> {
    let store = load_vector_store(state, tenant, id).await?;
    if store.status == VectorStoreStatus::Expired {
        return Err(expired(id));
    }
    Ok(store)
}

/// Records use of a store: `last_active_at` moves and with it `expires_at`.
pub async fn touch(
    state: &AppState,
    tenant: &Tenant,
    mut store: VectorStore,
) -> Result<VectorStore, ApiError> {
    store.last_active_at = unix_now();
    store.refresh_expiry();
    state.store.update_vector_store(tenant, &store).await?;
    load_vector_store(state, tenant, &store.id).await
}

fn parse_expires_after(map: &JsonMap) -> Checked<ExpiresAfter> {
    let fields = Fields::new(map, "expires_after.");
    fields.only(&["anchor", "days"])?;
    let anchor = fields.required_string("anchor", 64)?;
    if anchor != "last_active_at" {
        return Err(ApiError::invalid_value(
            "expires_after.anchor",
            &anchor,
            &["last_active_at"],
        ));
    }
    let (min, max) = EXPIRY_DAYS;
    let days = fields
        .integer("days", min, max)?
        .set()
        .ok_or_else(|| ApiError::missing_parameter("expires_after.days"))?;
    Ok(ExpiresAfter { anchor, days })
}

fn expires_after_field(fields: &Fields) -> Checked<Field<ExpiresAfter>> {
    Ok(match fields.object("expires_after")? {
        Field::Absent => Field::Absent,
        Field::Null => Field::Null,
        Field::Set(map) => Field::Set(parse_expires_after(map)?),
    })
}

/// POST /v1/vector_stores (an `embedding-model` header picks the store's model)
pub async fn create_vector_store(
    State(state): State<AppState>,
    tenant: Tenant,
    requested_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<VectorStore>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&[
        "name",
        "description",
        "file_ids",
        "chunking_strategy",
        "expires_after",
        "metadata",
    ])?;
    let name = fields.string("name", 256)?.set();
    let description = fields.string("description", 512)?.set();
    let metadata = fields.metadata()?.set().unwrap_or_default();
    let expires_after = expires_after_field(&fields)?.set();
    let file_ids = match fields.array("file_ids", MAX_FILES_PER_REQUEST)? {
        Field::Set(items) => check_file_ids(&state, &tenant, items, "file_ids").await?,
        _ => Vec::new(),
    };
    let chunking = parse_chunking(fields.value("chunking_strategy"))?;
    let embedding_model = model_for_new_store(&state, &requested_model)?;
    if file_ids.is_empty() && fields.value("chunking_strategy").is_some() {
        return Err(bad_param(
            "chunking_strategy",
            "Invalid 'chunking_strategy': chunking_strategy is only applicable if file_ids is \
             non-empty."
                .to_owned(),
        ));
    }
    let now = unix_now();
    let mut store = VectorStore {
        id: new_vector_store_id(),
        object: "vector_store".to_owned(),
        created_at: now,
        name,
        description,
        usage_bytes: 0,
        file_counts: FileCounts::default(),
        status: VectorStoreStatus::Completed,
        expires_after,
        expires_at: None,
        last_active_at: now,
        metadata,
    };
    store.refresh_expiry();
    let files = file_ids
        .iter()
        .map(|id| new_attachment(&store.id, id, chunking, JsonMap::new(), now))
        .collect::<Vec<_>>();
    state
        .store
        .insert_vector_store_embedded(&tenant, &store, &files, embedding_model.as_deref())
        .await?;
    state
        .ingest
        .enqueue_with(&tenant, files, requested_model.access())
        .await;
    Ok(Pretty(load_vector_store(&state, &tenant, &store.id).await?))
}

/// GET /v1/vector_stores
pub async fn list_vector_stores(
    State(state): State<AppState>,
    tenant: Tenant,
    query: ListQuery,
) -> Result<Pretty<ListPage<VectorStore>>, ApiError> {
    let page = state
        .store
        .list_vector_stores(&tenant, &query.page, unix_now())
        .await?;
    Ok(Pretty(ListPage::new(page.items, page.has_more, |s| &s.id)))
}

/// GET /v1/vector_stores/{vector_store_id}
pub async fn get_vector_store(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Pretty<VectorStore>, ApiError> {
    Ok(Pretty(load_vector_store(&state, &tenant, &id).await?))
}

/// POST /v1/vector_stores/{vector_store_id}
pub async fn modify_vector_store(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Pretty<VectorStore>, ApiError> {
    let fields = Fields::new(&body, "");
    fields.only(&["name", "expires_after", "metadata"])?;
    let name = fields.string("name", 256)?;
    let metadata = fields.metadata()?;
    let expires_after = expires_after_field(&fields)?;
    let mut store = load_vector_store(&state, &tenant, &id).await?;
    if let Some(name) = name.into_update() {
        store.name = name;
    }
    if let Some(metadata) = metadata.into_update() {
        store.metadata = metadata.unwrap_or_default();
    }
    if let Some(policy) = expires_after.into_update() {
        store.expires_after = policy;
    }
    Ok(Pretty(touch(&state, &tenant, store).await?))
}

/// DELETE /v1/vector_stores/{vector_store_id}: files, batches and chunks go with it.
pub async fn delete_vector_store(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Pretty<Deleted>, ApiError> {
    match state.store.delete_vector_store(&tenant, &id).await {
        Ok(()) => Ok(Pretty(Deleted::new(id, "vector_store.deleted"))),
        Err(StoreError::NotFound) => Err(no_vector_store(&id)),
        Err(other) => Err(other.into()),
    }
}

/// `vector_store.search_results.page`, keys in the spec's order.
#[derive(Debug, Serialize)]
pub struct SearchResultsPage {
    /// Always `vector_store.search_results.page`.
    pub object: &'static str,
    /// The query strings searched.
    pub search_query: Vec<String>,
    /// The results, best first.
    pub data: Vec<SearchResult>,
    /// Always false: every result fits one page.
    pub has_more: bool,
    /// Always null, for the same reason.
    pub next_page: Option<String>,
}

fn parse_queries(value: Option<&Value>) -> Checked<Vec<String>> {
    match value {
        None => Err(ApiError::missing_parameter("query")),
        Some(Value::String(text)) => Ok(vec![text.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(ApiError::invalid_type(
                    &format!("query[{i}]"),
                    "a string",
                    json_type_name(other),
                )),
            })
            .collect(),
        Some(Value::Array(_)) => Err(ApiError::array_too_short("query")),
        Some(other) => Err(ApiError::invalid_type(
            "query",
            "a string or an array of strings",
            json_type_name(other),
        )),
    }
}

fn parse_search(body: &JsonMap) -> Checked<SearchOptions> {
    let fields = Fields::new(body, "");
    fields.only(&[
        "query",
        "filters",
        "max_num_results",
        "ranking_options",
        "rewrite_query",
    ])?;
    let queries = parse_queries(fields.value("query"))?;
    // Offline there is no model to rewrite with: the flag is accepted and ignored.
    fields.boolean("rewrite_query")?;
    let (min, max, default) = MAX_NUM_RESULTS;
    let max_num_results = fields
        .integer("max_num_results", min, max)?
        .set()
        .map_or(default, |n| n as u32);
    let filter = fields
        .value("filters")
        .map(|value| parse_filter(value, "filters"))
        .transpose()?;
    let mut score_threshold = 0.0;
    if let Field::Set(options) = fields.object("ranking_options")? {
        let options = Fields::new(options, "ranking_options.");
        options.only(&["ranker", "score_threshold"])?;
        options.choice("ranker", RANKERS)?;
        score_threshold = options
            .number("score_threshold", 0.0, 1.0)?
            .set()
            .unwrap_or(0.0);
    }
    Ok(SearchOptions {
        queries,
        max_num_results,
        score_threshold,
        filter,
    })
}

/// POST /v1/vector_stores/{vector_store_id}/search
pub async fn search_vector_store(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    access: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<SearchResultsPage>, ApiError> {
    let options = parse_search(&body)?;
    let store = load_live_vector_store(&state, &tenant, &id).await?;
    touch(&state, &tenant, store).await?;
    let embeddings = access.client(&state);
    let embeddings = embeddings.as_ref();
    let data = search_with(state.store.as_ref(), embeddings, &tenant, &[id], &options).await?;
    Ok(Pretty(SearchResultsPage {
        object: "vector_store.search_results.page",
        search_query: options.queries,
        data,
        has_more: false,
        next_page: None,
    }))
}
