//! `/v1/threads/{thread_id}/runs`: createRun, listRuns, getRun, modifyRun, cancelRun and
//! submitToolOuputsToRun. Handlers only check and record requests; the work happens
//! in the background executor ([`crate::runs`]).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::extract::{check_id, JsonObject, ListQuery, PathParams as Path};
use crate::ids::{unix_now, IdKind};
use crate::json::Pretty;
use crate::models::{ListPage, Message, Run, RunStatus, StepStatus};
use crate::routes::embedding_model::EmbeddingModelHeader;
use crate::routes::resource_stores::{check_messages_attachments, store_searchable_attachments};
use crate::routes::run_input::{check_include, new_run, read_run_request, RunRequest, RUN_FIELDS};
use crate::routes::serving_only;
use crate::routes::threads::{load_thread, new_message};
use crate::runs::events::{sse_response, RunEvent};
use crate::runs::{RunAccess, RunKey};
use crate::state::AppState;
use crate::store::{StoreError, Tenant};
use crate::validation::Fields;

pub use super::tool_outputs::submit_tool_ouputs_to_run;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    use Method as M;
    let runs = "/v1/threads/{thread_id}/runs";
    Router::new()
        .route(
            runs,
            serving_only(get(list_runs).post(create_run), &[M::GET, M::POST]),
        )
        .route(
            &format!("{runs}/{{run_id}}"),
            serving_only(get(get_run).post(modify_run), &[M::GET, M::POST]),
        )
        .route(
            &format!("{runs}/{{run_id}}/cancel"),
            serving_only(post(cancel_run), &[M::POST]),
        )
        .route(
            &format!("{runs}/{{run_id}}/submit_tool_outputs"),
            serving_only(post(submit_tool_ouputs_to_run), &[M::POST]),
        )
}

/// Upstream access a request asks for: `api-key`, its bearer key, `llm-base-url` and
/// `LLM-PARAM-<name>` headers.
pub fn run_access(headers: &HeaderMap) -> RunAccess {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut access = RunAccess::default();
    access.credentials.api_key = text("api-key");
    // `NONE` is the placeholder of apps that authenticate with `astra-api-token`.
    access.credentials.caller_bearer = text("authorization").and_then(|value| {
        value
            .strip_prefix("Bearer ")
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.eq_ignore_ascii_case("none"))
    });
    access.credentials.base_url = text("llm-base-url");
    for (name, value) in headers {
        let lower = name.as_str().to_ascii_lowercase();
        if let (Some(param), Ok(value)) = (lower.strip_prefix("llm-param-"), value.to_str()) {
            if crate::llm::request::is_credential_param(param) {
                let name = param.replace('-', "_");
                let value = value.trim().to_owned();
                access.credentials.provider_params.insert(name, value);
                continue;
            }
            access.extra.insert(
                param.to_owned(),
                crate::llm::request::parse_extra_param(value),
            );
        }
    }
    access
}

/// Records a new run with its additional messages (checking the thread lock and that
/// there is something to answer) and returns it, queued.
pub async fn record_run(
    state: &AppState,
    tenant: &Tenant,
    thread_id: &str,
    request: &RunRequest,
) -> Result<Run, ApiError> {
    let assistant = state
        .store
        .get_assistant(tenant, &request.assistant_id)
        .await
        .map_err(|e| ApiError::from_store(e, "assistant", &request.assistant_id))?;
    let run = new_run(&assistant, thread_id, request, state.runs.expiry_secs());
    // The assistant's model was checked when it was set, but the routing table may
    // have changed since.
    state.runs.check_model(&run.model)?;
    let messages: Vec<Message> = request
        .additional_messages
        .iter()
        .map(|input| new_message(thread_id, run.created_at, input.clone()))
        .collect();
    let has_instructions = run.instructions.as_deref().is_some_and(|i| !i.is_empty());
    if !has_instructions && !messages.iter().any(|m| m.role == "user") {
        let existing =
            crate::runs::prompt::thread_messages(state.store.as_ref(), tenant, thread_id).await?;
        if !existing.iter().any(|m| m.role == "user") {
            return Err(ApiError::invalid_thread());
        }
    }
    match state.runs.insert_run(tenant, &run, &messages).await {
        Ok(()) => Ok(run),
        Err(StoreError::ActiveRun(active)) => {
            Err(ApiError::thread_has_active_run(thread_id, &active))
        }
        Err(error) => Err(ApiError::from_store(error, "thread", thread_id)),
    }
}

/// Starts a recorded run and answers with it, or with its event stream (after
/// `before`, e.g. `thread.created`), subscribing before anything can be emitted.
pub fn launch(
    state: &AppState,
    tenant: Tenant,
    run: Run,
    access: RunAccess,
    stream: bool,
    before: Vec<RunEvent>,
) -> Response {
    let key = RunKey {
        tenant,
        thread_id: run.thread_id.clone(),
        run_id: run.id.clone(),
    };
    if !stream {
        state.runs.start(key, Some(access));
        return Pretty(run).into_response();
    }
    let receiver = state.runs.hub.subscribe(&run.id);
    for event in before {
        state.runs.hub.emit(&run.id, event);
    }
    let shown = run.for_stream();
    state.runs.emit(&run.id, "thread.run.created", &shown);
    state.runs.emit(&run.id, "thread.run.queued", &shown);
    state.runs.start(key, Some(access));
    sse_response(receiver)
}

/// POST /v1/threads/{thread_id}/runs
pub async fn create_run(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    Path(thread_id): Path<String>,
    RawQuery(query): RawQuery,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let include_search_results = check_include(query.as_deref())?;
    let mut thread = load_thread(&state, &tenant, &thread_id).await?;
    let mut allowed = RUN_FIELDS.to_vec();
    allowed.extend(["additional_instructions", "additional_messages"]);
    Fields::new(&body, "").only(&allowed)?;
    let request = read_run_request(&body)?;
    if let Some(model) = &request.model {
        state.runs.check_model(model)?;
    }
    let given: Vec<&[Value]> = (request.additional_messages.iter())
        .map(|m| m.attachments.as_slice())
        .collect();
    check_messages_attachments(&state, &tenant, &given, "additional_messages").await?;
    let attachments: Vec<Value> = request
        .additional_messages
        .iter()
        .flat_map(|message| message.attachments.iter().cloned())
        .collect();
    let requested_model = EmbeddingModelHeader::of(&headers);
    if store_searchable_attachments(&state, &tenant, &mut thread, &attachments, &requested_model)
        .await?
    {
        state.store.update_thread(&tenant, &thread).await?;
    }
    let run = record_run(&state, &tenant, &thread_id, &request).await?;
    let access = RunAccess {
        include_search_results,
        ..run_access(&headers)
    };
    Ok(launch(
        &state,
        tenant,
        run,
        access,
        request.stream,
        Vec::new(),
    ))
}

/// Loads a run of this tenant's thread, or OpenAI's 400/404.
pub async fn load_run(
    state: &AppState,
    tenant: &Tenant,
    thread_id: &str,
    run_id: &str,
) -> Result<Run, ApiError> {
    load_thread(state, tenant, thread_id).await?;
    check_id(IdKind::Run, "run_id", run_id)?;
    state
        .store
        .get_run(tenant, thread_id, run_id)
        .await
        .map_err(|e| ApiError::from_store(e, "run", run_id))
}

/// GET /v1/threads/{thread_id}/runs/{run_id}
pub async fn get_run(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<Pretty<Run>, ApiError> {
    Ok(Pretty(
        load_run(&state, &tenant, &thread_id, &run_id).await?,
    ))
}

/// GET /v1/threads/{thread_id}/runs
pub async fn list_runs(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(thread_id): Path<String>,
    query: ListQuery,
) -> Result<Pretty<ListPage<Run>>, ApiError> {
    load_thread(&state, &tenant, &thread_id).await?;
    let page = state
        .store
        .list_runs(&tenant, &thread_id, &query.page)
        .await?;
    Ok(Pretty(ListPage::new(page.items, page.has_more, |r| &r.id)))
}

/// POST /v1/threads/{thread_id}/runs/{run_id}: only `metadata` can change, and not
/// while the executor is working on the run (recorded: `Cannot update run with status
/// 'in_progress'.`).
pub async fn modify_run(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, run_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Pretty<Run>, ApiError> {
    load_run(&state, &tenant, &thread_id, &run_id).await?;
    let fields = Fields::new(&body, "");
    fields.only(&["metadata"])?;
    let metadata = fields.metadata()?.into_update();
    let key = RunKey {
        tenant,
        thread_id,
        run_id,
    };
    let mut refused = false;
    let run = state
        .runs
        .mutate_run(&key, |run| {
            refused = run.status.is_worked_on();
            if refused {
                return false;
            }
            match &metadata {
                Some(metadata) => {
                    run.metadata = metadata.clone().unwrap_or_default();
                    true
                }
                None => false,
            }
        })
        .await
        .map_err(|e| ApiError::from_store(e, "run", &key.run_id))?;
    if refused {
        return Err(ApiError::run_not_updatable(run.status));
    }
    Ok(Pretty(run))
}

/// POST /v1/threads/{thread_id}/runs/{run_id}/cancel: answers `cancelling`; the
/// instance working on the run (this one or another) drops the model call and ends the
/// run `cancelled`.
pub async fn cancel_run(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, run_id)): Path<(String, String)>,
) -> Result<Pretty<Run>, ApiError> {
    load_run(&state, &tenant, &thread_id, &run_id).await?;
    let key = RunKey {
        tenant,
        thread_id,
        run_id,
    };
    let mut was_waiting = false;
    let mut accepted = false;
    let mut too_late = false;
    let now = unix_now();
    let run = state
        .runs
        .mutate_run(&key, |run| {
            too_late = crate::runs::drive::due(run, now);
            accepted = !too_late
                && matches!(
                    run.status,
                    RunStatus::Queued | RunStatus::InProgress | RunStatus::RequiresAction
                );
            was_waiting = run.status == RunStatus::RequiresAction;
            if !accepted {
                return false;
            }
            run.status = RunStatus::Cancelling;
            true
        })
        .await
        .map_err(|e| ApiError::from_store(e, "run", &key.run_id))?;
    if too_late {
        // Past its expiry a waiting run expires (here, if no instance did yet).
        state
            .runs
            .expire_if_waiting(&key)
            .await
            .map_err(|e| ApiError::from_store(e, "run", &key.run_id))?;
        return Err(ApiError::run_not_cancellable(RunStatus::Expired));
    }
    if !accepted {
        return Err(ApiError::run_not_cancellable(run.status));
    }
    if !was_waiting {
        // A client streaming this run sees it, when this instance works on the run.
        state.runs.notice_cancel(&run);
        return Ok(Pretty(run));
    }
    // No instance works on a run waiting for tool outputs (its stream has ended): it
    // ends here.
    let engine = state.runs.clone();
    let end = async move {
        let outcome = async {
            let mut open: Vec<_> = engine
                .steps_of(&key)
                .await?
                .into_iter()
                .filter(|s| s.status == StepStatus::InProgress)
                .collect();
            engine.finish_cancelled(&key, &mut open).await
        };
        match outcome.await {
            // The thread was deleted meanwhile: nothing is left to cancel.
            Ok(()) | Err(crate::store::StoreError::NotFound) => {}
            Err(error) => tracing::error!(%error, "cancelling a waiting run failed"),
        }
    };
    tokio::spawn(tracing::Instrument::in_current_span(end));
    Ok(Pretty(run))
}
