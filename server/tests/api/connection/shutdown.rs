//! Graceful shutdown through the connection layer: idle connections close at once, an
//! answer being streamed is finished first, then `server::run` returns.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use super::{closed_by_server, eventually, guarded, Served};

const KEY: &str = "sk-connection-test";

#[tokio::test]
async fn shutdown_closes_idle_connections_and_finishes_a_stream_first() {
    let mut served = Served::start(|settings| {
        settings.llm.offline_delay_ms = 100;
        // Only the shutdown may close the idle connection within the test's patience.
        settings.connections.idle_timeout = Duration::from_secs(3600);
    })
    .await;
    let client = reqwest::Client::new();
    let assistant: Value = client
        .post(format!("{}/assistants", served.base_url()))
        .bearer_auth(KEY)
        .header("OpenAI-Beta", "assistants=v2")
        .json(&json!({"model": "gpt-4o"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut idle = served.connect().await;
    let mut stream = client
        .post(format!("{}/threads/runs", served.base_url()))
        .bearer_auth(KEY)
        .header("OpenAI-Beta", "assistants=v2")
        .json(&json!({
            "assistant_id": assistant["id"],
            "stream": true,
            "thread": {"messages": [{"role": "user", "content": "Say something long enough to stream."}]}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // Shut down once the stream has begun.
    let first = guarded("the first event", stream.chunk()).await.unwrap();
    assert!(first.is_some());
    served.begin_shutdown();
    closed_by_server(&mut idle).await;
    let mut text = String::from_utf8_lossy(&first.unwrap()).into_owned();
    while let Some(chunk) = guarded("the rest of the stream", stream.chunk())
        .await
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: thread.run.completed\n"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    eventually("server::run to return", || served.stopped()).await;
    // Nothing listens any more.
    let refused = tokio::net::TcpStream::connect(served.address).await;
    if let Ok(mut late) = refused {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), late.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    }
}
