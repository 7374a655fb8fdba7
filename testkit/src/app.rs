//! The whole API driven in-process, without a socket: each request goes through the router
//! with `tower::ServiceExt::oneshot`, as the SDKs would send it (key and v2 beta header).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use server::llm::ChatModel;
use server::{app, AppState, Settings};
use tower::ServiceExt;

use crate::database::TestDatabase;
use crate::KEY;

/// An app on its own fresh database, which lives as long as any clone of the app.
#[derive(Clone)]
pub struct TestApp {
    /// The whole API, as `server::app` builds it.
    pub router: Router,
    /// Keeps the database (and on PostgreSQL its schema) until the last clone goes.
    database: Arc<TestDatabase>,
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
    /// An app with default settings on a fresh database.
    pub async fn new() -> Self {
        Self::configured(|_| {}).await
    }

    /// An app on a fresh database with the default settings changed by `configure`.
    pub async fn configured(configure: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::new().await;
        let mut settings = database.settings();
        configure(&mut settings);
        Self::on(database, &settings).await
    }

    /// An app with `settings` (whose database URL is normally `database`'s) that keeps
    /// `database` alive; a shared database lets a second app reopen it, as a restart does.
    pub async fn on(database: impl Into<Arc<TestDatabase>>, settings: &Settings) -> Self {
        let database = database.into();
        let state = AppState::from_settings(settings)
            .await
            .unwrap_or_else(|error| panic!("the app starts on {}: {error}", database.backend()));
        Self::from_state(database, state)
    }

    /// An app on a fresh database whose model is `model` (scripted, recording, stalled)
    /// instead of the one the settings describe, with the settings changed by `configure`.
    pub async fn with_model(
        model: Arc<dyn ChatModel>,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        Self::with_model_state(model, configure).await.0
    }

    /// [`TestApp::with_model`], also returning the state behind the app (its run engine).
    pub async fn with_model_state(
        model: Arc<dyn ChatModel>,
        configure: impl FnOnce(&mut Settings),
    ) -> (Self, AppState) {
        let database = TestDatabase::new().await;
        let mut settings = database.settings();
        configure(&mut settings);
        let store = database.connect().await;
        let state = AppState::with_parts(store, model, &settings);
        (Self::from_state(database, state.clone()), state)
    }

    /// An app around a state the test assembled itself (a scripted model, a shared store),
    /// keeping `database` alive.
    pub fn from_state(database: impl Into<Arc<TestDatabase>>, state: AppState) -> Self {
        Self {
            router: app(state),
            database: database.into(),
        }
    }

    /// The app's database, e.g. to open a second store on it.
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// The app's database, shared, for a second app on it (a restart).
    pub fn shared_database(&self) -> Arc<TestDatabase> {
        Arc::clone(&self.database)
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
            .expect("the body is read");
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
        self.send(builder.body(body).expect("a valid request"))
            .await
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
