//! Run overhead: how long a run takes from `POST /runs` to `completed` when the model
//! itself costs nothing (offline model, no delay), polled and streamed. Each iteration
//! gets a fresh thread with one user message (created untimed) so every prompt is the
//! same size, and the two variants alternate so machine noise hits both alike.

use std::time::{Duration, Instant};

use crate::config::BenchConfig;
use crate::harness::{BenchServer, Serving};
use crate::stats::{latency_header, latency_row, Summary};
use crate::BenchResult;

/// The measured latencies of the overhead section.
pub(crate) struct OverheadReport {
    /// `POST /runs` → a `GET` that reads `completed`.
    pub polled: Summary,
    /// `POST /runs` (stream) → the `thread.run.completed` event.
    pub streamed_completed: Summary,
    /// `POST /runs` (stream) → the `done` event.
    pub streamed_done: Summary,
    /// The streamed variant on a server with `TCP_NODELAY` (diagnostic).
    pub streamed_nodelay: Summary,
    /// Mean `GET`s per polled run, to show how tight the polling was.
    pub polls_per_run: f64,
}

/// Runs the section on a fresh server.
pub(crate) async fn measure(config: &BenchConfig) -> BenchResult<OverheadReport> {
    let server = BenchServer::start(|_| {}).await?;
    let assistant = server.create_assistant().await?;
    let nodelay = BenchServer::start_serving(Serving::NoDelay, |_| {}).await?;
    let nodelay_assistant = nodelay.create_assistant().await?;
    let (mut polled, mut completed, mut done, mut nodelay_completed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut polls = 0u64;
    for iteration in 0..config.warmup + config.runs {
        let timed = iteration >= config.warmup;

        let thread = server.thread_with_message().await?;
        let started = Instant::now();
        let count = server.poll_run(&thread, &assistant).await?;
        if timed {
            polled.push(started.elapsed());
            polls += u64::from(count);
        }

        let thread = server.thread_with_message().await?;
        let started = Instant::now();
        let (to_completed, to_done) = stream_to_done(&server, &thread, &assistant).await?;
        if timed {
            completed.push(to_completed - started);
            done.push(to_done - started);
        }

        let thread = nodelay.thread_with_message().await?;
        let started = Instant::now();
        let (to_completed, _) = stream_to_done(&nodelay, &thread, &nodelay_assistant).await?;
        if timed {
            nodelay_completed.push(to_completed - started);
        }
    }
    server.stop().await?;
    nodelay.stop().await?;
    let summary = |samples: &[Duration]| Summary::of(samples).ok_or("no samples");
    Ok(OverheadReport {
        polled: summary(&polled)?,
        streamed_completed: summary(&completed)?,
        streamed_done: summary(&done)?,
        streamed_nodelay: summary(&nodelay_completed)?,
        polls_per_run: polls as f64 / polled.len() as f64,
    })
}

/// Streams one run; returns when `thread.run.completed` and `done` arrived.
async fn stream_to_done(
    server: &BenchServer,
    thread: &str,
    assistant: &str,
) -> BenchResult<(Instant, Instant)> {
    let mut events = server.stream_run(thread, assistant).await?;
    let mut completed = None;
    while let Some(event) = events.next_event().await? {
        match event.name.as_str() {
            "thread.run.completed" => completed = Some(Instant::now()),
            "error" => return Err(format!("stream error event: {}", event.data).into()),
            "done" => {
                let completed = completed.ok_or("`done` without thread.run.completed")?;
                return Ok((completed, Instant::now()));
            }
            _ => {}
        }
    }
    Err("stream body ended without `done`".into())
}

impl OverheadReport {
    /// The section's table.
    pub(crate) fn render(&self) -> String {
        let mut out = String::from(
            "## 1. Run overhead, offline model (no delay), sequential, fresh thread per run\n\n",
        );
        out += &latency_header();
        out += &latency_row("polled: POST /runs -> GET reads completed", &self.polled);
        out += &latency_row(
            "streamed: POST /runs -> thread.run.completed",
            &self.streamed_completed,
        );
        out += &latency_row("streamed: POST /runs -> done", &self.streamed_done);
        out += &latency_row(
            "diagnostic: streamed -> completed, TCP_NODELAY",
            &self.streamed_nodelay,
        );
        out += &format!(
            "\npolled runs took {:.1} back-to-back GETs each on average; \
             median polled/streamed(completed) = {:.2}\n",
            self.polls_per_run,
            self.polled.p50.as_secs_f64() / self.streamed_completed.p50.as_secs_f64()
        );
        out
    }
}
