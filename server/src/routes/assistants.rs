//! `/v1/assistants`: createAssistant, listAssistants, getAssistant, modifyAssistant,
//! deleteAssistant.

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::extract::{check_id, JsonObject, ListQuery, PathParams as Path};
use crate::ids::{new_id, unix_now, IdKind};
use crate::json::Pretty;
use crate::models::{Assistant, Deleted, JsonMap, ListPage};
use crate::routes::embedding_model::EmbeddingModelHeader;
use crate::routes::resource_stores::create_requested_stores;
use crate::routes::serving_only;
use crate::state::AppState;
use crate::store::Tenant;
use crate::validation::tools::{
    assistant_tool_resources, normalize_response_format, normalize_tool_resources, normalize_tools,
    MAX_TOOLS,
};
use crate::validation::{Checked, Field, Fields};

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    Router::new()
        .route(
            "/v1/assistants",
            serving_only(
                get(list_assistants).post(create_assistant),
                &[M::GET, M::POST],
            ),
        )
        .route(
            "/v1/assistants/{assistant_id}",
            serving_only(
                get(get_assistant)
                    .post(modify_assistant)
                    .delete(delete_assistant),
                &[M::GET, M::POST, M::DELETE],
            ),
        )
}

/// Every body key createAssistant and modifyAssistant accept.
const ASSISTANT_FIELDS: &[&str] = &[
    "model",
    "name",
    "description",
    "instructions",
    "tools",
    "tool_resources",
    "metadata",
    "temperature",
    "top_p",
    "response_format",
    "reasoning_effort",
];
const REASONING_EFFORTS: &[&str] = &["minimal", "low", "medium", "high"];

/// A checked create/modify body; `Absent` leaves a field as it is.
struct AssistantChanges {
    model: Option<String>,
    name: Field<String>,
    description: Field<String>,
    instructions: Field<String>,
    tools: Option<Vec<Value>>,
    tool_resources: Option<JsonMap>,
    metadata: Field<JsonMap>,
    temperature: Field<f64>,
    top_p: Field<f64>,
    response_format: Option<Value>,
    reasoning_effort: Field<String>,
}

fn read_changes(body: &JsonMap, creating: bool) -> Checked<AssistantChanges> {
    let fields = Fields::new(body, "");
    fields.only(ASSISTANT_FIELDS)?;
    let model = if creating {
        Some(fields.required_string("model", 256)?)
    } else {
        fields.string("model", 256)?.set()
    };
    let tools = match fields.array("tools", MAX_TOOLS)? {
        Field::Set(items) => Some(normalize_tools(items)?),
        Field::Null => Some(Vec::new()),
        Field::Absent => None,
    };
    let tool_resources = match fields.object("tool_resources")? {
        Field::Set(map) => Some(normalize_tool_resources(map)?),
        Field::Null => Some(JsonMap::new()),
        Field::Absent => None,
    };
    let response_format = fields
        .value("response_format")
        .map(normalize_response_format)
        .transpose()?;
    Ok(AssistantChanges {
        model,
        name: fields.string("name", 256)?,
        description: fields.string("description", 512)?,
        instructions: fields.string("instructions", 256_000)?,
        tools,
        tool_resources,
        metadata: fields.metadata()?,
        temperature: fields.number("temperature", 0.0, 2.0)?,
        top_p: fields.number("top_p", 0.0, 1.0)?,
        response_format,
        reasoning_effort: fields.choice("reasoning_effort", REASONING_EFFORTS)?,
    })
}

impl AssistantChanges {
    fn apply(self, assistant: &mut Assistant) {
        if let Some(model) = self.model {
            assistant.model = model;
        }
        if let Some(name) = self.name.into_update() {
            assistant.name = name;
        }
        if let Some(description) = self.description.into_update() {
            assistant.description = description;
        }
        if let Some(instructions) = self.instructions.into_update() {
            assistant.instructions = instructions;
        }
        if let Some(metadata) = self.metadata.into_update() {
            assistant.metadata = metadata.unwrap_or_default();
        }
        if let Some(temperature) = self.temperature.into_update() {
            assistant.temperature = temperature.unwrap_or(1.0);
        }
        if let Some(top_p) = self.top_p.into_update() {
            assistant.top_p = top_p.unwrap_or(1.0);
        }
        if let Some(format) = self.response_format {
            assistant.response_format = format;
        }
        if let Some(effort) = self.reasoning_effort.into_update() {
            assistant.reasoning_effort = effort;
        }
        let resources_changed = self.tools.is_some() || self.tool_resources.is_some();
        if let Some(tools) = self.tools {
            assistant.tools = tools;
        }
        if resources_changed {
            let given = match self.tool_resources {
                Some(given) => given,
                None => assistant
                    .tool_resources
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            };
            assistant.tool_resources = assistant_tool_resources(&assistant.tools, given);
        }
    }
}

/// POST /v1/assistants
pub async fn create_assistant(
    State(state): State<AppState>,
    tenant: Tenant,
    requested_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Assistant>, ApiError> {
    let mut changes = read_changes(&body, true)?;
    if let Some(model) = &changes.model {
        state.runs.check_model(model)?;
    }
    if let Some(resources) = changes.tool_resources.as_mut() {
        create_requested_stores(&state, &tenant, resources, &requested_model).await?;
    }
    let mut assistant = Assistant {
        id: new_id(IdKind::Assistant),
        object: "assistant".to_owned(),
        created_at: unix_now(),
        name: None,
        description: None,
        model: String::new(),
        instructions: None,
        tools: Vec::new(),
        top_p: 1.0,
        temperature: 1.0,
        reasoning_effort: None,
        tool_resources: json!({}),
        metadata: JsonMap::new(),
        response_format: json!("auto"),
    };
    changes.apply(&mut assistant);
    state.store.insert_assistant(&tenant, &assistant).await?;
    Ok(Pretty(assistant))
}

/// GET /v1/assistants
pub async fn list_assistants(
    State(state): State<AppState>,
    tenant: Tenant,
    query: ListQuery,
) -> Result<Pretty<ListPage<Assistant>>, ApiError> {
    let page = state.store.list_assistants(&tenant, &query.page).await?;
    Ok(Pretty(ListPage::new(page.items, page.has_more, |a| &a.id)))
}

/// GET /v1/assistants/{assistant_id}
pub async fn get_assistant(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(assistant_id): Path<String>,
) -> Result<Pretty<Assistant>, ApiError> {
    Ok(Pretty(load(&state, &tenant, &assistant_id).await?))
}

async fn load(
    state: &AppState,
    tenant: &Tenant,
    assistant_id: &str,
) -> Result<Assistant, ApiError> {
    check_id(IdKind::Assistant, "assistant_id", assistant_id)?;
    state
        .store
        .get_assistant(tenant, assistant_id)
        .await
        .map_err(|e| ApiError::from_store(e, "assistant", assistant_id))
}

/// POST /v1/assistants/{assistant_id}
pub async fn modify_assistant(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(assistant_id): Path<String>,
    requested_model: EmbeddingModelHeader,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Assistant>, ApiError> {
    let mut assistant = load(&state, &tenant, &assistant_id).await?;
    let mut changes = read_changes(&body, false)?;
    if let Some(model) = &changes.model {
        state.runs.check_model(model)?;
    }
    if let Some(resources) = changes.tool_resources.as_mut() {
        create_requested_stores(&state, &tenant, resources, &requested_model).await?;
    }
    changes.apply(&mut assistant);
    state
        .store
        .update_assistant(&tenant, &assistant)
        .await
        .map_err(|e| ApiError::from_store(e, "assistant", &assistant_id))?;
    Ok(Pretty(assistant))
}

/// DELETE /v1/assistants/{assistant_id}
pub async fn delete_assistant(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(assistant_id): Path<String>,
) -> Result<Pretty<Deleted>, ApiError> {
    check_id(IdKind::Assistant, "assistant_id", &assistant_id)?;
    state
        .store
        .delete_assistant(&tenant, &assistant_id)
        .await
        .map_err(|e| ApiError::from_store(e, "assistant", &assistant_id))?;
    Ok(Pretty(Deleted::new(assistant_id, "assistant.deleted")))
}
