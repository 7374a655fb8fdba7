//! Shared test helpers: a fresh app per test (in-memory SQLite, driven through
//! `tower::ServiceExt::oneshot`), a real server on port 0, and insta redactions
//! that check a value's shape before hiding it.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use server::{app, AppState, Settings};
use tower::ServiceExt;

/// The key most tests use; any key is accepted unless `api_keys` is set.
pub const KEY: &str = "sk-test-tenant-a-0123456789";
/// A second tenant's key.
pub const OTHER_KEY: &str = "sk-test-tenant-b-0123456789";

/// An app on its own in-memory database.
#[derive(Clone)]
pub struct TestApp {
    /// The whole API, as `server::app` builds it.
    pub router: Router,
}

/// A response with its body read.
#[derive(Debug)]
pub struct TestResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as text (every answer is UTF-8 JSON).
    pub text: String,
}

impl TestResponse {
    /// The body parsed as JSON (keys in order).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    /// `error.message` of an error body.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    /// An app on a fresh in-memory database.
    pub async fn new() -> Self {
        Self::with_settings(Settings::new("sqlite::memory:")).await
    }

    /// An app with custom settings.
    pub async fn with_settings(settings: Settings) -> Self {
        let state = AppState::from_settings(&settings)
            .await
            .expect("in-memory store");
        Self { router: app(state) }
    }

    /// An app answering runs with `model`, on a fresh store of `settings` (without
    /// `from_settings`' checks, so any model object can be plugged in).
    pub async fn with_model(
        model: std::sync::Arc<dyn server::llm::ChatModel>,
        settings: Settings,
    ) -> Self {
        let store = server::store::connect(&settings.database_url)
            .await
            .expect("store opens");
        Self {
            router: app(AppState::with_parts(store, model, &settings)),
        }
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        TestResponse {
            status,
            headers,
            text: String::from_utf8(bytes.to_vec()).expect("bodies are UTF-8"),
        }
    }

    /// A request as the SDKs send it, with `key` and the v2 beta header.
    pub async fn call_as(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header("openai-beta", "assistants=v2");
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let body = body
            .map(|b| Body::from(b.to_owned()))
            .unwrap_or_else(Body::empty);
        self.send(builder.body(body).unwrap()).await
    }

    /// [`Self::call_as`] with the default key.
    pub async fn call(&self, method: Method, path: &str, body: Option<&str>) -> TestResponse {
        self.call_as(KEY, method, path, body).await
    }

    /// GET with key and beta header.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.call(Method::GET, path, None).await
    }

    /// POST a JSON body with key and beta header.
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.call(Method::POST, path, Some(&body.to_string())).await
    }

    /// DELETE with key and beta header.
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates an object and returns its body, failing the test on a non-200.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let response = self.post(path, body).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.json()
    }
}

/// A real server on 127.0.0.1:0 with a fresh SQLite file; stops when dropped.
pub struct SpawnedApp {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

/// Starts `server::run` on port 0 with a fresh SQLite file in a new directory.
pub async fn spawn_app() -> SpawnedApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/assistants.db").display()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server::run(listener, Settings::new(url), async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    SpawnedApp {
        base_url: format!("http://{address}/v1"),
        _shutdown: tx,
        _dir: dir,
    }
}

/// Checks that an id has `prefix` and 24 base62 characters, then hides it.
pub fn id_redaction(prefix: &'static str) -> insta::internals::Redaction {
    insta::dynamic_redaction(move |value, path| {
        let id = value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: id must be a string"));
        let rest = id
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{path}: {id} must start with {prefix}"));
        assert_eq!(rest.len(), 24, "{path}: {id}");
        assert!(
            rest.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{path}: {id}"
        );
        format!("[{prefix}id]")
    })
}

/// Checks that a timestamp is an integer within the last minute, then hides it.
pub fn timestamp_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value, path| {
        let seconds = value
            .as_i64()
            .unwrap_or_else(|| panic!("{path}: timestamp must be an integer"));
        let now = server::ids::unix_now();
        assert!(
            (now - 60..=now + 1).contains(&seconds),
            "{path}: {seconds} is not recent (now {now})"
        );
        "[timestamp]"
    })
}

/// Asserts an OpenAI error envelope: status, message, param and code.
pub fn assert_error(
    response: &TestResponse,
    status: u16,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text);
    let body = response.json();
    let error = &body["error"];
    assert_eq!(error["message"], message, "{}", response.text);
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"].as_str(), param, "{}", response.text);
    assert_eq!(error["code"].as_str(), code, "{}", response.text);
    let keys: Vec<&String> = error.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["message", "type", "param", "code"]);
}
