//! Polling steps and status lists against a stub on port 0 whose job changes status after a
//! fixed number of polls: settling, timing out (FAIL with the last answer), the global cap,
//! intermediate schema problems reported once, and `expect.status` lists.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod runner_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;
use conformance::results::FindingKind;
use conformance::spec::Family;
use conformance::{run_with, InMemoryCatalog, Results, Verdict};
use runner_support::{config, fixtures, openai_json, scenario_of, HEADER};
use serde_json::json;

/// Polls answered per job id.
#[derive(Clone, Default)]
struct Jobs {
    polls: Arc<Mutex<HashMap<String, usize>>>,
}

impl Jobs {
    fn count(&self, id: &str) -> usize {
        *self.polls.lock().unwrap().get(id).unwrap_or(&0)
    }
}

/// `GET /v1/jobs/{id}`: `in_progress` for the first two polls, then `completed`; a job named
/// `stuck` never completes and one named `sloppy` lacks `object` while in progress.
async fn get_job(State(jobs): State<Jobs>, Path(id): Path<String>) -> Response {
    let polls = {
        let mut map = jobs.polls.lock().unwrap();
        let count = map.entry(id.clone()).or_default();
        *count += 1;
        *count
    };
    let done = polls >= 3 && id != "stuck";
    let status = if done { "completed" } else { "in_progress" };
    if id == "sloppy" && !done {
        return openai_json(StatusCode::OK, json!({"id": id, "status": status}));
    }
    openai_json(
        StatusCode::OK,
        json!({"id": id, "object": "job", "status": status}),
    )
}

async fn delete_job(Path(id): Path<String>) -> Response {
    if id == "gone" {
        let error = json!({"error": {"message": "No job found.", "type": "invalid_request_error", "param": null, "code": null}});
        return openai_json(StatusCode::NOT_FOUND, error);
    }
    let error =
        json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}});
    openai_json(StatusCode::INTERNAL_SERVER_ERROR, error)
}

async fn run(test: &str, yaml: &str, cap: Option<f64>) -> (Results, Jobs) {
    let jobs = Jobs::default();
    let app = Router::new()
        .route("/v1/jobs/{id}", get(get_job))
        .route("/v1/gone/{id}", delete(delete_job))
        .with_state(jobs.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let catalog = InMemoryCatalog::default()
        .with(
            "getJob",
            "GET",
            "/jobs/{job_id}",
            Family::Runs,
            &["id", "object", "status"],
        )
        .with(
            "deleteJob",
            "DELETE",
            "/gone/{job_id}",
            Family::Runs,
            &["id"],
        );
    let mut config = config(
        &format!("http://{address}/v1"),
        fixtures(test, &[("poll/job", yaml)]),
    );
    config.poll_timeout = cap.map(std::time::Duration::from_secs_f64);
    let results = run_with(&config, &catalog, &conformance::progress::Silent)
        .await
        .expect("run completes");
    (results, jobs)
}

fn poll_step(job: &str, extra: &str) -> String {
    format!(
        "{HEADER}steps:\n  - name: wait\n    operation: getJob\n    path: {{job_id: {job}}}\n    poll: {{pointer: /status, until: [completed, failed]}}\n{extra}    expect:\n      status: 200\n      body: {{id: {job}, object: job, status: completed}}\n"
    )
}

#[tokio::test]
async fn a_poll_repeats_until_the_status_is_final_and_then_matches() {
    let (results, jobs) = run("settles", &poll_step("job_1", ""), None).await;
    let scenario = scenario_of(&results, "poll/job");
    assert_eq!(scenario.verdict, Verdict::Pass, "{:#?}", scenario.steps);
    assert_eq!(
        jobs.count("job_1"),
        3,
        "polling stops at the first final status"
    );
}

#[tokio::test]
async fn a_poll_that_never_settles_fails_with_the_last_answer() {
    let (results, jobs) = run("timeout", &poll_step("stuck", "    timeout_s: 0.4\n"), None).await;
    let step = &scenario_of(&results, "poll/job").steps[0];
    assert_eq!(step.verdict, Verdict::Fail);
    assert_eq!(step.findings[0].kind, FindingKind::Poll);
    assert!(
        step.findings[0].message.contains("\"in_progress\""),
        "{}",
        step.findings[0].message
    );
    let last = step.response.as_ref().expect("the last answer is kept");
    assert!(last.body.contains("in_progress"));
    assert!(jobs.count("stuck") >= 2);
}

#[tokio::test]
async fn the_global_cap_shortens_every_poll() {
    let (results, _) = run("cap", &poll_step("stuck", ""), Some(0.3)).await;
    let step = &scenario_of(&results, "poll/job").steps[0];
    assert_eq!(step.verdict, Verdict::Fail);
    assert_eq!(step.findings[0].kind, FindingKind::Poll);
}

#[tokio::test]
async fn schema_problems_of_intermediate_polls_are_reported_once() {
    let (results, _) = run("sloppy", &poll_step("sloppy", ""), None).await;
    let step = &scenario_of(&results, "poll/job").steps[0];
    assert_eq!(step.verdict, Verdict::Fail);
    let schema: Vec<&str> = step
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Schema)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(schema.len(), 1, "{schema:?}");
    assert!(schema[0].starts_with("poll 1: "), "{}", schema[0]);
}

#[tokio::test]
async fn a_status_list_accepts_any_listed_status() {
    let yaml = format!(
        "{HEADER}steps:\n  - name: gone\n    operation: deleteJob\n    path: {{job_id: gone}}\n    expect: {{status: [200, 404]}}\n  - name: broken\n    operation: deleteJob\n    path: {{job_id: broken}}\n    expect: {{status: [200, 404]}}\n"
    );
    let (results, _) = run("status-list", &yaml, None).await;
    let steps = &scenario_of(&results, "poll/job").steps;
    assert_eq!(steps[0].verdict, Verdict::Pass, "{:#?}", steps[0]);
    assert_eq!(steps[1].verdict, Verdict::Fail);
    assert!(
        steps[1].findings[0]
            .message
            .starts_with("expected status one of [200, 404], got 500: "),
        "{}",
        steps[1].findings[0].message
    );
    assert_eq!(steps[1].findings.len(), 1, "a wrong status is one finding");
}
