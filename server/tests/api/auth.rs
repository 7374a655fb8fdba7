//! Authentication, tenants and the `OpenAI-Beta` header, as OpenAI answered them.

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;
use testkit::{assert_error, TestApp, KEY, OTHER_KEY};

const MISSING_KEY: &str = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";

fn request(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().method(Method::GET).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn missing_key_is_401_in_openais_auth_style() {
    let app = TestApp::new().await;
    let response = app
        .send(request(
            "/v1/assistants",
            &[("openai-beta", "assistants=v2")],
        ))
        .await;
    assert_error(&response, 401, MISSING_KEY, None, None);
    assert_eq!(
        response.headers["content-type"],
        "application/json; charset=utf-8"
    );
    insta::assert_snapshot!(response.text);
    let empty_bearer = app
        .send(request("/v1/assistants", &[("authorization", "Bearer ")]))
        .await;
    assert_error(&empty_bearer, 401, MISSING_KEY, None, None);
}

#[tokio::test]
async fn unknown_key_is_masked_like_the_recording() {
    let app = TestApp::configured(|settings| {
        settings.api_keys = Some(HashSet::from([KEY.to_owned()]));
    })
    .await;
    let response = app
        .call_as(
            "not-a-real-key-so-should-be-recognized",
            Method::GET,
            "/v1/assistants",
            None,
        )
        .await;
    assert_error(
        &response,
        401,
        "Incorrect API key provided: not-a-re**************************ized. You can find your API key at https://platform.openai.com/account/api-keys.",
        None,
        Some("invalid_api_key"),
    );
    // Byte length of the recorded 401 (ChatTests/AuthFailure.json Content-Length).
    assert_eq!(response.text.len(), 288);
    assert_eq!(
        app.get("/v1/assistants").await.status,
        200,
        "a listed key passes"
    );
}

#[tokio::test]
async fn beta_header_is_required() {
    let app = TestApp::new().await;
    let auth = ("authorization", "Bearer sk-x");
    let missing = app.send(request("/v1/assistants", &[auth])).await;
    assert_error(
        &missing,
        400,
        "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
        None,
        Some("invalid_beta"),
    );
    let v1 = app
        .send(request(
            "/v1/threads/thread_x",
            &[auth, ("openai-beta", "assistants=v1")],
        ))
        .await;
    assert_error(
        &v1,
        400,
        "The v1 Assistants API has been deprecated. Please try again by setting the header 'OpenAI-Beta: assistants=v2'. See the migration guide for more information: https://platform.openai.com/docs/assistants/migration.",
        None,
        Some("invalid_beta"),
    );
    let listed = app
        .send(request(
            "/v1/assistants",
            &[auth, ("openai-beta", "foo=1, assistants=v2")],
        ))
        .await;
    assert_eq!(listed.status, 200);
}

#[tokio::test]
async fn tenants_never_see_each_others_objects() {
    let app = TestApp::new().await;
    let assistant = app
        .create("/v1/assistants", json!({"model": "gpt-4o"}))
        .await;
    let thread = app
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": "secret"}]}),
        )
        .await;
    let asst_id = assistant["id"].as_str().unwrap();
    let thread_id = thread["id"].as_str().unwrap();

    let other = |method: Method, path: String, body: Option<&'static str>| {
        let app = app.clone();
        async move { app.call_as(OTHER_KEY, method, &path, body).await }
    };
    let no_assistant = format!("No assistant found with id '{asst_id}'.");
    let no_thread = format!("No thread found with id '{thread_id}'.");
    assert_error(
        &other(Method::GET, format!("/v1/assistants/{asst_id}"), None).await,
        404,
        &no_assistant,
        None,
        None,
    );
    assert_error(
        &other(
            Method::POST,
            format!("/v1/assistants/{asst_id}"),
            Some(r#"{"name":"x"}"#),
        )
        .await,
        404,
        &no_assistant,
        None,
        None,
    );
    assert_error(
        &other(Method::DELETE, format!("/v1/assistants/{asst_id}"), None).await,
        404,
        &no_assistant,
        None,
        None,
    );
    assert_error(
        &other(Method::GET, format!("/v1/threads/{thread_id}"), None).await,
        404,
        &no_thread,
        None,
        None,
    );
    assert_error(
        &other(Method::DELETE, format!("/v1/threads/{thread_id}"), None).await,
        404,
        &no_thread,
        None,
        None,
    );
    assert_error(
        &other(
            Method::GET,
            format!("/v1/threads/{thread_id}/messages"),
            None,
        )
        .await,
        404,
        &no_thread,
        None,
        None,
    );
    assert_error(
        &other(
            Method::POST,
            format!("/v1/threads/{thread_id}/messages"),
            Some(r#"{"role":"user","content":"x"}"#),
        )
        .await,
        404,
        &no_thread,
        None,
        None,
    );
    let listed = other(Method::GET, "/v1/assistants".to_owned(), None)
        .await
        .json();
    assert_eq!(listed["data"], json!([]));

    // The owner still sees everything, unchanged.
    assert_eq!(
        app.get(&format!("/v1/assistants/{asst_id}")).await.json(),
        assistant
    );
    assert_eq!(
        app.get(&format!("/v1/threads/{thread_id}/messages"))
            .await
            .json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn every_answer_carries_openais_headers() {
    let app = TestApp::new().await;
    for response in [
        app.get("/v1/assistants").await,
        app.get("/v1/nothing-here").await,
        app.send(request("/v1/assistants", &[])).await,
    ] {
        assert_eq!(response.headers["openai-version"], "2020-10-01");
        let request_id = response.headers["x-request-id"].to_str().unwrap();
        assert!(
            request_id.starts_with("req_") && request_id.len() == 36,
            "{request_id}"
        );
        assert!(response.headers["openai-processing-ms"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .is_ok());
    }
}

#[tokio::test]
async fn unknown_urls_and_methods_are_invalid_url() {
    let app = TestApp::new().await;
    for (method, path) in [
        (Method::GET, "/v1/does-not-exist"),
        (Method::GET, "/v1/threads/runs"),
        (Method::DELETE, "/v1/threads/thread_abc/runs"),
        (Method::PUT, "/v1/files"),
        (Method::PUT, "/v1/vector_stores"),
        (Method::PUT, "/v1/assistants"),
        (Method::DELETE, "/v1/threads/thread_abc/messages"),
        (Method::GET, "/v1/threads"),
    ] {
        let response = app.call(method.clone(), path, None).await;
        assert_error(
            &response,
            404,
            &format!("Invalid URL ({method} {path})"),
            None,
            None,
        );
        assert!(
            response.headers.get("allow").is_none(),
            "{path}: {:?}",
            response.headers
        );
    }
}
