//! Helpers of the operations tests: a real server with chosen settings (and an operator
//! listener), models that wait for a gate or log, and reading one series of a scrape.

use std::sync::Arc;

use async_trait::async_trait;
use server::llm::{ChatModel, ChatRequest, ChatStream, LlmError, OfflineModel};
use server::{Listeners, Settings};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

/// A server on 127.0.0.1:0 (and an operator listener on another port) with a fresh
/// SQLite file.
pub(super) struct Served {
    /// `http://127.0.0.1:PORT` of the API.
    pub api: String,
    /// `http://127.0.0.1:PORT` of the operator listener.
    pub operator: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Starts `server::run_listeners` with `settings` adjusted by `adjust`.
    pub(super) async fn start(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("assistants.db").display());
        let mut settings = Settings::new(url);
        adjust(&mut settings);
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let operator = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (api_address, operator_address) =
            (api.local_addr().unwrap(), operator.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let listeners = Listeners {
            api,
            operator: Some(operator),
        };
        let task = tokio::spawn(async move {
            server::run_listeners(listeners, settings, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        Self {
            api: format!("http://{api_address}"),
            operator: format!("http://{operator_address}"),
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// Asks the server to shut down (it drains open requests first).
    pub(super) fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts down and waits until both listeners are closed.
    pub(super) async fn stop(mut self) {
        self.begin_shutdown();
        (&mut self.task).await.expect("server task");
    }
}

/// The offline model, each turn waiting for a permit of `gate` first (tests release
/// turns one by one); its provider is `gated`.
pub(super) struct GatedModel {
    /// Permits let turns through.
    pub gate: Arc<Semaphore>,
}

#[async_trait]
impl ChatModel for GatedModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        if let Ok(permit) = self.gate.acquire().await {
            permit.forget();
        }
        OfflineModel::new().stream(request).await
    }

    fn provider_name(&self, _model: &str) -> Option<String> {
        Some("gated".to_owned())
    }
}

/// A model that always fails with `rate_limit_exceeded` (provider `limited`).
pub(super) struct RateLimitedModel;

#[async_trait]
impl ChatModel for RateLimitedModel {
    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream, LlmError> {
        Err(LlmError::rate_limited("slow down"))
    }

    fn provider_name(&self, _model: &str) -> Option<String> {
        Some("limited".to_owned())
    }
}

/// The value of the series `series` (name and labels, exactly as exposed), if exposed.
pub(super) fn series(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().expect("a number"))
}
