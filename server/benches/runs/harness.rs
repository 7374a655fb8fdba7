//! The server under test, started in-process on 127.0.0.1:0 by the test kit's `spawn_app`
//! machinery on a fresh database, and the few API calls the benchmarks make.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use serde_json::{json, Value};
use server::{AppState, Settings};
use testkit::{SpawnedApp, TestDatabase};

use crate::sse::SseReader;
use crate::BenchResult;

/// Any key is accepted when the server has no key list; this one is the only tenant.
const KEY: &str = "sk-bench-0123456789";
/// Run statuses a polling client stops at.
const TERMINAL: &[&str] = &[
    "requires_action",
    "completed",
    "incomplete",
    "failed",
    "cancelled",
    "expired",
];

/// How the app is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Serving {
    /// `server::run`, exactly as the binary serves.
    AsShipped,
    /// `server::app` served with `TCP_NODELAY` on every accepted socket: a diagnostic
    /// showing what Nagle's algorithm (small SSE writes held back until the client's
    /// delayed ACK) costs streamed runs.
    NoDelay,
}

/// A running server and a loopback client for it; [`BenchServer::stop`] shuts it down.
pub(crate) struct BenchServer {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// Keep-alive client, shared by every call (clones share the connection pool).
    pub client: reqwest::Client,
    /// The server, started by the test kit on its database.
    app: SpawnedApp,
}

/// A client that never goes through a proxy (loopback only) and gives up on a stuck
/// answer, so a broken server ends the benchmark instead of hanging it.
pub(crate) fn loopback_client() -> BenchResult<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()?)
}

impl BenchServer {
    /// Starts `server::run` with default settings (offline model, no delay) changed by
    /// `configure`, on a fresh test-kit database (a SQLite file unless
    /// `ASSISTANTS_TEST_BACKEND` says otherwise).
    pub(crate) async fn start(configure: impl FnOnce(&mut Settings)) -> BenchResult<Self> {
        Self::start_serving(Serving::AsShipped, configure).await
    }

    /// [`BenchServer::start`], served as `serving` says.
    pub(crate) async fn start_serving(
        serving: Serving,
        configure: impl FnOnce(&mut Settings),
    ) -> BenchResult<Self> {
        let database = TestDatabase::reconnectable().await;
        Self::start_on(database, serving, configure).await
    }

    /// [`BenchServer::start_serving`] on a given database (one backend or the other).
    pub(crate) async fn start_on(
        database: impl Into<Arc<TestDatabase>>,
        serving: Serving,
        configure: impl FnOnce(&mut Settings),
    ) -> BenchResult<Self> {
        let database: Arc<TestDatabase> = database.into();
        let mut settings = database.settings();
        configure(&mut settings);
        let app = match serving {
            Serving::AsShipped => testkit::spawn_app_on(database, settings).await,
            Serving::NoDelay => {
                testkit::spawn_serving(
                    Some(database),
                    settings,
                    |listener, settings, stopped| async move {
                        let state = AppState::from_settings(&settings).await?;
                        let store = state.store.clone();
                        let listener = listener.tap_io(|socket| {
                            let _ = socket.set_nodelay(true);
                        });
                        let served = axum::serve(listener, server::app(state))
                            .with_graceful_shutdown(stopped)
                            .await;
                        store.close().await;
                        Ok(served?)
                    },
                )
                .await
            }
        };
        let server = Self {
            base_url: app.base_url.clone(),
            client: loopback_client()?,
            app,
        };
        server.wait_until_serving().await?;
        Ok(server)
    }

    /// Polls until the database is migrated and the listener answers.
    async fn wait_until_serving(&self) -> BenchResult<()> {
        let started = Instant::now();
        loop {
            if let Ok(response) = self
                .request(reqwest::Method::GET, "/assistants")
                .send()
                .await
            {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if self.app.is_stopped() {
                return Err(
                    "the server stopped before serving (its error is printed above)".into(),
                );
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("the server did not start within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Shuts the server down and waits for it to drain.
    pub(crate) async fn stop(self) -> BenchResult<()> {
        drop(self.client);
        match tokio::time::timeout(Duration::from_secs(30), self.app.stop()).await {
            Ok(served) => Ok(served?),
            Err(_) => Err("the server did not shut down within 30 s".into()),
        }
    }

    /// A request with the key and the v2 beta header, as the SDKs send it.
    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(KEY)
            .header("openai-beta", "assistants=v2")
    }

    /// POSTs `body` and returns the JSON answer; any non-200 is an error.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> BenchResult<Value> {
        let response = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await?;
        json_of(response).await
    }

    /// GETs `path` and returns the JSON answer; any non-200 is an error.
    pub(crate) async fn get(&self, path: &str) -> BenchResult<Value> {
        json_of(self.request(reqwest::Method::GET, path).send().await?).await
    }

    /// Creates the assistant every run uses (no tools: the offline model just answers).
    pub(crate) async fn create_assistant(&self) -> BenchResult<String> {
        let body = json!({"model": "gpt-4o", "instructions": "Answer briefly."});
        id_of(&self.post("/assistants", &body).await?)
    }

    /// Creates a thread, then posts one user message to it; returns the thread id.
    pub(crate) async fn thread_with_message(&self) -> BenchResult<String> {
        let thread = id_of(&self.post("/threads", &json!({})).await?)?;
        let message =
            json!({"role": "user", "content": "Summarise the weather report in one line."});
        self.post(&format!("/threads/{thread}/messages"), &message)
            .await?;
        Ok(thread)
    }

    /// Starts a streamed run (`stream: true`) and returns its event reader once the
    /// response headers are in.
    pub(crate) async fn stream_run(&self, thread: &str, assistant: &str) -> BenchResult<SseReader> {
        let body = json!({"assistant_id": assistant, "stream": true});
        let response = self
            .request(reqwest::Method::POST, &format!("/threads/{thread}/runs"))
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            return Err(format!("stream run: {status}: {}", response.text().await?).into());
        }
        Ok(SseReader::new(response))
    }

    /// Creates a run and polls it with back-to-back GETs until it settles; returns the
    /// number of polls. A run that settles other than `completed` is an error.
    pub(crate) async fn poll_run(&self, thread: &str, assistant: &str) -> BenchResult<u32> {
        let run = self
            .post(
                &format!("/threads/{thread}/runs"),
                &json!({"assistant_id": assistant}),
            )
            .await?;
        let path = format!("/threads/{thread}/runs/{}", id_of(&run)?);
        let mut polls = 0;
        loop {
            polls += 1;
            let run = self.get(&path).await?;
            let status = run["status"].as_str().unwrap_or_default();
            if status == "completed" {
                return Ok(polls);
            }
            if TERMINAL.contains(&status) {
                return Err(format!("run ended {status}: {}", run["last_error"]).into());
            }
        }
    }
}

/// The JSON body of a 200 answer; the status and body otherwise, as the error.
async fn json_of(response: reqwest::Response) -> BenchResult<Value> {
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        return Err(format!("{status}: {text}").into());
    }
    Ok(serde_json::from_str(&text)?)
}

/// The `id` of an object.
fn id_of(object: &Value) -> BenchResult<String> {
    object["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {object}").into())
}
