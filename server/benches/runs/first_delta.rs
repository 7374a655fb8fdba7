//! Added time-to-first-delta: how much later a client of the server sees the first
//! `thread.message.delta` than a client calling the upstream directly sees the first
//! content delta. Three paths, alternated per iteration so noise hits all alike:
//! a raw HTTP client straight to the fake upstream, the server's own upstream client
//! ([`server::llm::UpstreamModel`]) straight to it, and a streamed run through the
//! server configured `--llm upstream --llm-base-url <fake>`.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use server::llm::{ChatEvent, ChatMessage, ChatModel, ChatRequest, LlmMode};
use server::llm::{UpstreamConfig, UpstreamModel};

use crate::config::BenchConfig;
use crate::harness::{loopback_client, BenchServer, Serving};
use crate::sse::SseReader;
use crate::stats::{latency_header, latency_row, ms, Summary};
use crate::{fake_upstream, BenchResult};

/// The measured latencies of the first-delta section.
pub(crate) struct FirstDeltaReport {
    /// Raw HTTP POST to the upstream → first chunk with content.
    pub direct: Summary,
    /// `UpstreamModel::stream` → first `ChatEvent::TextDelta`.
    pub upstream_client: Summary,
    /// `POST /threads/{t}/runs` (stream) → first `thread.message.delta`.
    pub via_server: Summary,
    /// The same through a server with `TCP_NODELAY` (diagnostic).
    pub via_nodelay_server: Summary,
}

/// Runs the section against a fresh fake upstream and a fresh server.
pub(crate) async fn measure(config: &BenchConfig) -> BenchResult<FirstDeltaReport> {
    let upstream_url = fake_upstream::start().await?;
    let upstream = |settings: &mut server::Settings| {
        settings.llm.mode = LlmMode::Upstream;
        settings.llm.llm_base_url = upstream_url.clone();
        settings.llm.llm_api_key = Some("sk-fake-upstream".to_owned());
    };
    let server = BenchServer::start(upstream).await?;
    let assistant = server.create_assistant().await?;
    let nodelay = BenchServer::start_serving(Serving::NoDelay, upstream).await?;
    let nodelay_assistant = nodelay.create_assistant().await?;
    let client = loopback_client()?;
    let model = UpstreamModel::new(UpstreamConfig {
        base_url: upstream_url.clone(),
        api_key: Some("sk-fake-upstream".to_owned()),
        ..UpstreamConfig::default()
    })?;
    let (mut direct, mut upstream_client) = (Vec::new(), Vec::new());
    let (mut via_server, mut via_nodelay_server) = (Vec::new(), Vec::new());
    for iteration in 0..config.warmup + config.delta_runs {
        let timed = iteration >= config.warmup;
        let sample = direct_first_delta(&client, &upstream_url).await?;
        let model_sample = model_first_delta(&model).await?;
        let thread = server.thread_with_message().await?;
        let server_sample = server_first_delta(&server, &thread, &assistant).await?;
        let thread = nodelay.thread_with_message().await?;
        let nodelay_sample = server_first_delta(&nodelay, &thread, &nodelay_assistant).await?;
        if timed {
            via_nodelay_server.push(nodelay_sample);
            direct.push(sample);
            upstream_client.push(model_sample);
            via_server.push(server_sample);
        }
    }
    server.stop().await?;
    nodelay.stop().await?;
    let summary = |samples: &[Duration]| Summary::of(samples).ok_or("no samples");
    Ok(FirstDeltaReport {
        direct: summary(&direct)?,
        upstream_client: summary(&upstream_client)?,
        via_server: summary(&via_server)?,
        via_nodelay_server: summary(&via_nodelay_server)?,
    })
}

/// A streamed chat request straight to the upstream, timed to the first content
/// chunk; the rest is read untimed so the connection is reused.
async fn direct_first_delta(client: &reqwest::Client, base_url: &str) -> BenchResult<Duration> {
    let body = json!({"model": "gpt-4o-mini", "stream": true,
        "messages": [{"role": "user", "content": "Summarise the weather report in one line."}]});
    let started = Instant::now();
    let response = client
        .post(format!("{base_url}/chat/completions"))
        .bearer_auth("sk-fake-upstream")
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    let mut events = SseReader::new(response);
    while let Some(event) = events.next_event().await? {
        let chunk: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
        if chunk["choices"][0]["delta"]["content"].is_string() {
            let elapsed = started.elapsed();
            events.drain().await?;
            return Ok(elapsed);
        }
    }
    Err("the upstream answered without a content delta".into())
}

/// The server's upstream client alone, timed to its first text delta.
async fn model_first_delta(model: &UpstreamModel) -> BenchResult<Duration> {
    let request = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![ChatMessage::user(
            "Summarise the weather report in one line.",
        )],
        ..ChatRequest::default()
    };
    let started = Instant::now();
    let mut stream = model.stream(request).await?;
    let mut first = None;
    while let Some(event) = stream.next().await {
        if first.is_none() && matches!(event?, ChatEvent::TextDelta(_)) {
            first = Some(started.elapsed());
        }
    }
    first.ok_or_else(|| "the upstream client produced no text delta".into())
}

/// A streamed run through the server, timed to its first `thread.message.delta`; the
/// rest is read to `done` untimed (the thread must be free for the next run).
async fn server_first_delta(
    server: &BenchServer,
    thread: &str,
    assistant: &str,
) -> BenchResult<Duration> {
    let started = Instant::now();
    let mut events = server.stream_run(thread, assistant).await?;
    while let Some(event) = events.next_event().await? {
        match event.name.as_str() {
            "thread.message.delta" => {
                let elapsed = started.elapsed();
                events.read_to_done().await?;
                return Ok(elapsed);
            }
            "error" => return Err(format!("stream error event: {}", event.data).into()),
            _ => {}
        }
    }
    Err("the run stream ended without a thread.message.delta".into())
}

impl FirstDeltaReport {
    /// The section's table.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from(
            "## 2. Time to first delta, fake upstream on loopback (answers at once)\n\n",
        );
        out += &latency_header();
        out += &latency_row("(a) direct: raw POST -> first content chunk", &self.direct);
        out += &latency_row(
            "(a') server's UpstreamModel -> first TextDelta",
            &self.upstream_client,
        );
        out += &latency_row(
            "(b) via server: POST /runs -> message.delta",
            &self.via_server,
        );
        out += &latency_row(
            "diagnostic: (b) with TCP_NODELAY on the server",
            &self.via_nodelay_server,
        );
        let added = self.via_server.p50.saturating_sub(self.direct.p50);
        out += &format!(
            "\nadded by the server (median b - a) = {} ms; ratio b/a = {:.1}x; \
             median b - a' (run machinery alone) = {} ms\n",
            ms(added),
            self.via_server.p50.as_secs_f64() / self.direct.p50.as_secs_f64(),
            ms(self.via_server.p50.saturating_sub(self.upstream_client.p50)),
        );
        out
    }
}
