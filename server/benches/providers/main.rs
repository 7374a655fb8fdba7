//! Added time to first delta per provider adapter (`cargo bench --workspace --bench
//! providers`): for each family (OpenAI-compatible, Anthropic, Gemini, Cohere, Bedrock)
//! a loopback fake writes its whole streamed answer at once ([`fakes`]); the bench times
//! (a) a direct call, a raw POST of a native request to the fake timed to the first
//! chunk holding the first text piece, and (b) the server's routed model
//! ([`server::llm::providers::RoutedModel`]: routing, the native request body, SigV4 for
//! Bedrock, the HTTP call, stream decoding) timed to its first `TextDelta`. The two
//! alternate per iteration so noise hits both alike; the table gives their medians, the
//! median difference b - a (the goal: under 1 ms) and the ratio b/a. `BENCH_SAMPLES`
//! (default 400) sets the timed iterations per family, after 50 untimed.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod fakes;
#[path = "../runs/stats.rs"]
mod stats;

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use server::llm::providers::{RoutedModel, RoutingTable};
use server::llm::{ChatEvent, ChatMessage, ChatModel, ChatRequest, UpstreamConfig};
use stats::{latency_header, latency_row, ms, Summary};

/// Any failure ends the benchmark with its message.
type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One provider family: the model name a run would use, and the direct call's
/// endpoint, headers and body.
struct Family {
    label: &'static str,
    model: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Value,
}

fn families() -> Vec<Family> {
    let prompt = "Summarise the weather report in one line.";
    vec![
        Family {
            label: "openai-compatible (groq/)",
            model: "groq/llama-3.1-8b-instant",
            path: "/openai/v1/chat/completions",
            headers: &[("authorization", "Bearer gsk-bench")],
            body: json!({"model": "llama-3.1-8b-instant", "stream": true,
                "messages": [{"role": "user", "content": prompt}]}),
        },
        Family {
            label: "anthropic (Messages)",
            model: "anthropic/claude-3-5-haiku-latest",
            path: "/anthropic/v1/messages",
            headers: &[
                ("x-api-key", "sk-ant-bench"),
                ("anthropic-version", "2023-06-01"),
            ],
            body: json!({"model": "claude-3-5-haiku-latest", "max_tokens": 4096, "stream": true,
                "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]}),
        },
        Family {
            label: "gemini (streamGenerateContent)",
            model: "gemini/gemini-2.0-flash",
            path: "/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
            headers: &[("x-goog-api-key", "AIza-bench")],
            body: json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}]}),
        },
        Family {
            label: "cohere (v2 chat)",
            model: "cohere/command-r",
            path: "/cohere/v2/chat",
            headers: &[("authorization", "Bearer co-bench")],
            body: json!({"model": "command-r", "stream": true,
                "messages": [{"role": "user", "content": [{"type": "text", "text": prompt}]}]}),
        },
        Family {
            label: "bedrock (ConverseStream, SigV4)",
            model: "bedrock/meta.llama3-8b-instruct-v1:0",
            path: "/bedrock/model/meta.llama3-8b-instruct-v1%3A0/converse-stream",
            headers: &[],
            body: json!({"messages": [{"role": "user", "content": [{"text": prompt}]}]}),
        },
    ]
}

/// The routed model with every family's provider pointed at the fakes.
fn routed_model(origin: &str) -> BenchResult<RoutedModel> {
    let mut table = RoutingTable::built_in();
    table.apply_file(&format!(
        "[providers.groq]\nbase_url = \"{origin}/openai/v1\"\n\
         [providers.anthropic]\nbase_url = \"{origin}/anthropic/v1\"\n\
         [providers.gemini]\nbase_url = \"{origin}/gemini/v1beta\"\n\
         [providers.cohere]\nbase_url = \"{origin}/cohere/v2\"\n\
         [providers.bedrock]\nbase_url = \"{origin}/bedrock\"\n"
    ))?;
    table.read_keys(|name| {
        [
            "GROQ_API_KEY",
            "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY",
            "COHERE_API_KEY",
        ]
        .contains(&name)
        .then(|| "bench-key".to_owned())
    });
    let default = UpstreamConfig {
        base_url: format!("{origin}/openai/v1"),
        ..UpstreamConfig::default()
    };
    Ok(RoutedModel::new(default, table)?)
}

/// A one-message request on `model`, with AWS credentials (only Bedrock reads them).
fn request(model: &str) -> ChatRequest {
    let mut request = ChatRequest {
        model: model.to_owned(),
        messages: vec![ChatMessage::user(
            "Summarise the weather report in one line.",
        )],
        ..ChatRequest::default()
    };
    for (name, value) in [
        ("aws_access_key_id", "AKIDEXAMPLE"),
        (
            "aws_secret_access_key",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("aws_region_name", "us-east-1"),
    ] {
        let params = &mut request.credentials.provider_params;
        params.insert(name.to_owned(), value.to_owned());
    }
    request
}

/// The direct call: POST, then read until the first text piece has arrived; the rest is
/// read untimed so the connection is reused.
async fn direct(client: &reqwest::Client, origin: &str, family: &Family) -> BenchResult<Duration> {
    let started = Instant::now();
    let mut builder = client.post(format!("{origin}{}", family.path));
    for (name, value) in family.headers {
        builder = builder.header(*name, *value);
    }
    let mut response = builder
        .json(&family.body)
        .send()
        .await?
        .error_for_status()?;
    let mut seen = Vec::new();
    let mut first = None;
    while let Some(chunk) = response.chunk().await? {
        seen.extend_from_slice(&chunk);
        if first.is_none() && seen.windows(5).any(|w| w == b"Hello") {
            first = Some(started.elapsed());
        }
    }
    first.ok_or_else(|| "the fake answered without text".into())
}

/// The adapter: `RoutedModel::stream` to its first `TextDelta`, the rest read untimed.
async fn adapter(model: &RoutedModel, family: &Family) -> BenchResult<Duration> {
    let started = Instant::now();
    let mut stream = model.stream(request(family.model)).await?;
    let mut first = None;
    while let Some(event) = stream.next().await {
        if first.is_none() && matches!(event?, ChatEvent::TextDelta(_)) {
            first = Some(started.elapsed());
        }
    }
    first.ok_or_else(|| "the adapter produced no text delta".into())
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let samples: usize = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let origin = fakes::start().await?;
    let model = routed_model(&origin)?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let mut out = format!(
        "## Added time to first delta per provider adapter (loopback fakes, {samples} samples \
         each after 50 untimed)\n\n"
    );
    let mut summary = String::from(
        "\n| family | direct p50 ms | adapter p50 ms | added (p50 b - a) ms | ratio b/a |\n\
         |---|---|---|---|---|\n",
    );
    out += &latency_header();
    for family in families() {
        eprintln!("{} ...", family.label);
        let (mut direct_samples, mut adapter_samples) = (Vec::new(), Vec::new());
        for iteration in 0..50 + samples {
            let a = direct(&client, &origin, &family).await?;
            let b = adapter(&model, &family).await?;
            if iteration >= 50 {
                direct_samples.push(a);
                adapter_samples.push(b);
            }
        }
        let a = Summary::of(&direct_samples).ok_or("no samples")?;
        let b = Summary::of(&adapter_samples).ok_or("no samples")?;
        out += &latency_row(&format!("(a) direct: {}", family.label), &a);
        out += &latency_row(&format!("(b) adapter: {}", family.label), &b);
        let added = b.p50.as_secs_f64() - a.p50.as_secs_f64();
        summary += &format!(
            "| {} | {} | {} | {:.3} | {:.2}x |\n",
            family.label,
            ms(a.p50),
            ms(b.p50),
            added * 1000.0,
            b.p50.as_secs_f64() / a.p50.as_secs_f64()
        );
    }
    println!("{out}{summary}");
    Ok(())
}
