//! `/metrics`: who may read it on the main address, what it counts (requests by route
//! template, runs, queue depth, model turns) and that it never carries a tenant's ids,
//! key or content.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use server::llm::ChatModel;
use server::ops::MetricsToken;
use server::store::Tenant;
use server::Settings;
use tokio::sync::Semaphore;

use super::support::{series, GatedModel, RateLimitedModel};
use crate::support::runs::{assistant, create_run, poll_until, thread_with, SETTLED};
use testkit::{assert_error, TestApp, TestResponse, KEY};

const TOKEN: &str = "metrics-token-0123456789";

fn with_token(settings: &mut Settings) {
    settings.metrics_token = MetricsToken::new(TOKEN);
}

async fn get_with(app: &TestApp, path: &str, authorization: Option<&str>) -> TestResponse {
    let mut request = Request::builder().method(Method::GET).uri(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

async fn scrape(app: &TestApp) -> String {
    let response = get_with(app, "/metrics", Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.text
}

async fn app_with_model(
    model: Arc<dyn ChatModel>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    TestApp::with_model(model, |settings| {
        with_token(settings);
        configure(settings);
    })
    .await
}

#[tokio::test]
async fn the_main_address_serves_metrics_only_with_the_token() {
    let app = TestApp::configured(with_token).await;
    let scraped = get_with(&app, "/metrics", Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(scraped.status, StatusCode::OK);
    assert_eq!(
        scraped.headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(scraped.text.ends_with("# EOF\n"), "{}", scraped.text);
    assert!(scraped.text.contains("# TYPE assistants_runs_active gauge"));

    // Anything else is the unknown URL it is there: first the key check, then 404.
    let unknown = get_with(&app, "/nothing-here", None).await;
    let without = get_with(&app, "/metrics", None).await;
    assert_eq!(without.status, unknown.status);
    assert_eq!(without.json(), unknown.json());
    let wrong = get_with(&app, "/metrics", Some(&format!("Bearer {TOKEN}x"))).await;
    assert_error(&wrong, 404, "Invalid URL (GET /metrics)", None, None);
    let post = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/metrics")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_error(&post, 404, "Invalid URL (POST /metrics)", None, None);

    // Without a token configured, no bearer opens it.
    let closed = TestApp::new().await;
    let response = get_with(&closed, "/metrics", Some(&format!("Bearer {TOKEN}"))).await;
    assert_error(&response, 404, "Invalid URL (GET /metrics)", None, None);
}

#[tokio::test]
async fn the_token_is_no_api_key_and_api_keys_do_not_open_metrics() {
    let app = TestApp::configured(|settings| {
        with_token(settings);
        settings.api_keys = Some([KEY.to_owned()].into());
    })
    .await;
    assert!(scrape(&app).await.contains("assistants_runs_active 0"));
    let as_key = get_with(&app, "/metrics", Some(&format!("Bearer {KEY}"))).await;
    assert_error(&as_key, 404, "Invalid URL (GET /metrics)", None, None);
    let api = app
        .call_as(TOKEN, Method::GET, "/v1/assistants", None)
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{}", api.text);
}

#[tokio::test]
async fn requests_are_counted_by_route_template_method_and_status() {
    let app = TestApp::configured(with_token).await;
    app.get("/v1/threads/thread_abc").await;
    app.get("/v1/threads/thread_abc").await;
    app.get("/v1/no/such/path/thread_xyz").await;
    app.call(Method::from_bytes(b"BREW").unwrap(), "/v1/assistants", None)
        .await;
    let text = scrape(&app).await;
    let requests = |labels: &str| {
        series(
            &text,
            &format!("assistants_http_requests_total{{{labels}}}"),
        )
    };
    assert_eq!(
        requests(r#"route="/v1/threads/{thread_id}",method="GET",status="404""#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        requests(r#"route="unmatched",method="GET",status="404""#),
        Some(1.0)
    );
    assert_eq!(
        requests(r#"route="/v1/assistants",method="other",status="404""#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            r#"assistants_http_request_duration_seconds_count{route="/v1/threads/{thread_id}",method="GET"}"#
        ),
        Some(2.0)
    );
}

#[tokio::test]
async fn runs_waiting_for_a_slot_and_working_are_gauged_and_endings_counted() {
    let gate = Arc::new(Semaphore::new(0));
    let app = app_with_model(Arc::new(GatedModel { gate: gate.clone() }), |settings| {
        settings.max_concurrent_runs = 1;
    })
    .await;
    let assistant_id = assistant(&app, json!([])).await;
    let mut runs = Vec::new();
    for text in ["first", "second"] {
        let thread_id = thread_with(&app, text).await;
        let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
        runs.push((thread_id, run["id"].as_str().unwrap().to_owned()));
    }
    // One run holds the only slot (its model turn waits at the gate), the other waits.
    let mut gauges = (None, None);
    for _ in 0..2000 {
        let text = scrape(&app).await;
        gauges = (
            series(&text, "assistants_runs_active"),
            series(&text, "assistants_runs_waiting"),
        );
        if gauges == (Some(1.0), Some(1.0)) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(gauges, (Some(1.0), Some(1.0)));
    gate.add_permits(2);
    for (thread_id, run_id) in &runs {
        let run = poll_until(&app, thread_id, run_id, SETTLED).await;
        assert_eq!(run["status"], "completed");
    }
    // A run's task lets go of its slot just after its last write (the lease release
    // follows the terminal status), so a poll may see `completed` a moment before.
    let mut text = scrape(&app).await;
    for _ in 0..2000 {
        if series(&text, "assistants_runs_active") == Some(0.0) {
            break;
        }
        tokio::task::yield_now().await;
        text = scrape(&app).await;
    }
    assert_eq!(series(&text, "assistants_runs_active"), Some(0.0), "{text}");
    assert_eq!(series(&text, "assistants_runs_waiting"), Some(0.0));
    assert_eq!(
        series(
            &text,
            r#"assistants_runs_finished_total{status="completed"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        series(
            &text,
            r#"assistants_upstream_requests_total{provider="gated"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        series(
            &text,
            r#"assistants_upstream_duration_seconds_count{provider="gated"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        series(
            &text,
            r#"assistants_upstream_first_event_seconds_count{provider="gated"}"#
        ),
        Some(2.0)
    );
}

#[tokio::test]
async fn upstream_errors_are_counted_by_provider_and_code() {
    let app = app_with_model(Arc::new(RateLimitedModel), |_| {}).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "hello").await;
    let run = create_run(&app, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run = poll_until(&app, &thread_id, run["id"].as_str().unwrap(), SETTLED).await;
    assert_eq!(run["status"], "failed");
    let text = scrape(&app).await;
    assert_eq!(
        series(
            &text,
            r#"assistants_upstream_errors_total{provider="limited",code="rate_limit_exceeded"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, r#"assistants_runs_finished_total{status="failed"}"#),
        Some(1.0)
    );
}

#[tokio::test]
async fn metrics_never_carry_ids_keys_tenants_or_content() {
    let key = "sk-ops-tenant-key-5bd1c0ffee";
    let secret_text = "the-secret-message-text-7f3a";
    let app = TestApp::configured(with_token).await;
    let created = |path: &'static str, body: serde_json::Value| {
        let app = app.clone();
        async move {
            let response = app
                .call_as(key, Method::POST, path, Some(&body.to_string()))
                .await;
            assert_eq!(response.status, StatusCode::OK, "{}", response.text);
            response.json()
        }
    };
    let assistant = created(
        "/v1/assistants",
        json!({"model": "gpt-4o", "name": "secret-assistant-name", "instructions": secret_text}),
    )
    .await;
    let thread = created(
        "/v1/threads",
        json!({"messages": [{"role": "user", "content": secret_text}],
               "metadata": {"secret-key": "secret-metadata-value"}}),
    )
    .await;
    let thread_id = thread["id"].as_str().unwrap().to_owned();
    let store = created("/v1/vector_stores", json!({"name": "secret-store-name"})).await;
    let run_path = format!("/v1/threads/{thread_id}/runs");
    let run = app
        .call_as(
            key,
            Method::POST,
            &run_path,
            Some(&json!({"assistant_id": assistant["id"]}).to_string()),
        )
        .await
        .json();
    let run_id = run["id"].as_str().unwrap().to_owned();
    let mut settled = None;
    for _ in 0..2000 {
        let now = app
            .call_as(key, Method::GET, &format!("{run_path}/{run_id}"), None)
            .await
            .json();
        if SETTLED.contains(&now["status"].as_str().unwrap_or_default()) {
            settled = Some(now);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(settled.unwrap()["status"], "completed");
    let messages = app
        .call_as(
            key,
            Method::GET,
            &format!("/v1/threads/{thread_id}/messages"),
            None,
        )
        .await
        .json();
    let steps = app
        .call_as(
            key,
            Method::GET,
            &format!("{run_path}/{run_id}/steps"),
            None,
        )
        .await
        .json();
    // A miss with an id-shaped path and a query.
    app.call_as(
        key,
        Method::GET,
        "/v1/assistants/asst_secretsecretsecret0000?x=secret-query",
        None,
    )
    .await;

    let text = scrape(&app).await;
    let mut forbidden = vec![
        key.to_owned(),
        Tenant::from_api_key(key).as_str().to_owned(),
        secret_text.to_owned(),
        "secret".to_owned(),
        assistant["id"].as_str().unwrap().to_owned(),
        thread_id.clone(),
        run_id.clone(),
        store["id"].as_str().unwrap().to_owned(),
        "gpt-4o".to_owned(),
    ];
    for item in messages["data"].as_array().unwrap() {
        forbidden.push(item["id"].as_str().unwrap().to_owned());
        forbidden.push(
            item["content"][0]["text"]["value"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for item in steps["data"].as_array().unwrap() {
        forbidden.push(item["id"].as_str().unwrap().to_owned());
    }
    assert!(forbidden.len() >= 12, "{forbidden:?}");
    for value in &forbidden {
        assert!(
            !text.contains(value.as_str()),
            "metrics carry {value:?}:\n{text}"
        );
    }
    // Not vacuous: the requests above are there, by template.
    assert!(
        text.contains(r#"route="/v1/threads/{thread_id}/runs/{run_id}",method="GET",status="200""#),
        "{text}"
    );
    assert!(text.contains(r#"route="/v1/assistants/{assistant_id}",method="GET",status="404""#));
}
