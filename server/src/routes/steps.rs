//! `/v1/threads/{thread_id}/runs/{run_id}/steps`: listRunSteps and getRunStep (both
//! with `include[]`). Once the run has ended, REST steps show `expires_at: null`.

use axum::extract::{RawQuery, State};
use axum::http::Method;
use axum::routing::get;
use axum::Router;

use crate::api_error::ApiError;
use crate::extract::{check_id, ListQuery, PathParams as Path};
use crate::ids::IdKind;
use crate::json::Pretty;
use crate::models::{ListPage, Run, RunStep};
use crate::routes::run_input::check_include;
use crate::routes::runs::load_run;
use crate::routes::serving_only;
use crate::runs::file_search::without_results;
use crate::state::AppState;
use crate::store::Tenant;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    let steps = "/v1/threads/{thread_id}/runs/{run_id}/steps";
    Router::new()
        .route(steps, serving_only(get(list_run_steps), &[Method::GET]))
        .route(
            &format!("{steps}/{{step_id}}"),
            serving_only(get(get_run_step), &[Method::GET]),
        )
}

/// The step as REST shows it: no `expires_at` once its run has ended, and file_search
/// results only when `include[]` asked for them.
fn as_listed(mut step: RunStep, run: &Run, include_search_results: bool) -> RunStep {
    if !run.is_active() {
        step.expires_at = None;
    }
    if include_search_results {
        step
    } else {
        without_results(step)
    }
}

/// GET /v1/threads/{thread_id}/runs/{run_id}/steps
pub async fn list_run_steps(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, run_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    query: ListQuery,
) -> Result<Pretty<ListPage<RunStep>>, ApiError> {
    let include = check_include(raw.as_deref())?;
    let run = load_run(&state, &tenant, &thread_id, &run_id).await?;
    let page = state
        .store
        .list_steps(&tenant, &run_id, &query.page)
        .await?;
    let steps = page
        .items
        .into_iter()
        .map(|s| as_listed(s, &run, include))
        .collect();
    Ok(Pretty(ListPage::new(steps, page.has_more, |s| &s.id)))
}

/// GET /v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}
pub async fn get_run_step(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((thread_id, run_id, step_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Pretty<RunStep>, ApiError> {
    let include = check_include(raw.as_deref())?;
    let run = load_run(&state, &tenant, &thread_id, &run_id).await?;
    check_id(IdKind::Step, "step_id", &step_id)?;
    let step = state
        .store
        .get_step(&tenant, &run_id, &step_id)
        .await
        .map_err(|e| ApiError::from_store(e, "run step", &step_id))?;
    Ok(Pretty(as_listed(step, &run, include)))
}
