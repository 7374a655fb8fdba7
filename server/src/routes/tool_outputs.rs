//! `POST /v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs`
//! (submitToolOuputsToRun, OpenAI's spelling): answers a `requires_action` run's calls,
//! completes the tool step with each call's `function.output` and queues the run again.
//! Concurrent submissions to one run have one winner; the others are refused as for a
//! run that is no longer waiting.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::api_error::ApiError;
use crate::extract::{JsonObject, PathParams as Path};
use crate::ids::unix_now;
use crate::json::Pretty;
use crate::models::{RunStatus, StepStatus};
use crate::routes::runs::{load_run, run_access};
use crate::runs::events::sse_response;
use crate::runs::writes::Writer;
use crate::runs::RunKey;
use crate::state::AppState;
use crate::store::Tenant;
use crate::validation::{json_type_name, string_value, Checked, Fields};

/// Most outputs one submission may carry.
const MAX_TOOL_OUTPUTS: usize = 128;

/// One checked `{tool_call_id, output}`.
struct ToolOutput {
    tool_call_id: String,
    output: String,
}

fn read_outputs(body: &crate::models::JsonMap) -> Checked<(Vec<ToolOutput>, bool)> {
    let fields = Fields::new(body, "");
    fields.only(&["tool_outputs", "stream"])?;
    let Some(items) = fields.array("tool_outputs", MAX_TOOL_OUTPUTS)?.set() else {
        return Err(ApiError::missing_parameter("tool_outputs"));
    };
    let outputs = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let param = format!("tool_outputs[{index}]");
            let Value::Object(map) = item else {
                return Err(ApiError::invalid_type(
                    &param,
                    "an object",
                    json_type_name(item),
                ));
            };
            let prefix = format!("{param}.");
            let output = Fields::new(map, &prefix);
            output.only(&["tool_call_id", "output"])?;
            Ok(ToolOutput {
                tool_call_id: output.required_string("tool_call_id", usize::MAX)?,
                output: match output.value("output") {
                    Some(value) => string_value(&output.param("output"), value, usize::MAX)?,
                    None => String::new(),
                },
            })
        })
        .collect::<Checked<Vec<_>>>()?;
    Ok((outputs, fields.boolean("stream")?.set().unwrap_or(false)))
}

/// The call ids a `requires_action` run waits for.
fn pending_call_ids(required_action: Option<&Value>) -> Vec<String> {
    required_action
        .and_then(|action| action["submit_tool_outputs"]["tool_calls"].as_array())
        .map(|calls| {
            calls
                .iter()
                .filter_map(|call| call["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// POST /v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs
pub async fn submit_tool_ouputs_to_run(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    Path((thread_id, run_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let run = load_run(&state, &tenant, &thread_id, &run_id).await?;
    let (outputs, stream) = read_outputs(&body)?;
    if run.status != RunStatus::RequiresAction {
        return Err(ApiError::run_rejects_tool_outputs(run.status));
    }
    let key = RunKey {
        tenant,
        thread_id,
        run_id,
    };
    if crate::runs::drive::due(&run, unix_now()) {
        // Too late: the run expires now, on whichever instance gets here first.
        state.runs.expire_if_waiting(&key).await?;
        return Err(ApiError::run_rejects_tool_outputs(RunStatus::Expired));
    }
    let mut expected = pending_call_ids(run.required_action.as_ref());
    let mut got: Vec<String> = outputs.iter().map(|o| o.tool_call_id.clone()).collect();
    expected.sort();
    got.sort();
    if expected != got {
        return Err(ApiError::tool_outputs_mismatch(&expected, &got));
    }
    let receiver = stream.then(|| state.runs.hub.subscribe(&key.run_id));
    // One compare-and-set: of concurrent submissions (on any instance), only the one
    // whose write moved the run out of requires_action completes the step and starts the
    // next turn, here: the same write takes the run's lease, so its stream is local.
    let run = state
        .runs
        .transition(
            &key,
            RunStatus::RequiresAction,
            Writer::Request,
            true,
            |run| {
                run.status = RunStatus::Queued;
                run.required_action = None;
            },
        )
        .await
        .map_err(|e| ApiError::from_store(e, "run", &key.run_id))?
        .map_err(|now| ApiError::run_rejects_tool_outputs(now.status))?;
    let steps = state.runs.steps_of(&key).await?;
    let waiting = steps
        .into_iter()
        .find(|s| s.kind == "tool_calls" && s.status == StepStatus::InProgress);
    if let Some(mut step) = waiting {
        if let Some(calls) = step.step_details["tool_calls"].as_array_mut() {
            for call in calls {
                let output = outputs
                    .iter()
                    .find(|o| call["id"] == o.tool_call_id.as_str());
                if let Some(output) = output {
                    call["function"]["output"] = Value::String(output.output.clone());
                }
            }
        }
        step.status = StepStatus::Completed;
        step.completed_at = Some(unix_now());
        step.usage = Some(
            state
                .store
                .held_usage(&key.tenant, &step.id)
                .await?
                .unwrap_or_default(),
        );
        state.store.update_step(&key.tenant, &step).await?;
        state
            .runs
            .emit(&key.run_id, "thread.run.step.completed", &step);
    }
    state
        .runs
        .emit(&key.run_id, "thread.run.queued", &run.for_stream());
    state.runs.start(key, Some(run_access(&headers)));
    Ok(match receiver {
        Some(receiver) => sse_response(receiver),
        None => Pretty(run).into_response(),
    })
}
