//! Slow clients (issue 9 item 3): idle connections, trickled heads and stalled bodies are
//! closed after their limits; a legitimate client is served once they are gone; slow but
//! steady uploads and long event streams are not cut.

use std::time::Duration;

use serde_json::{json, Value};
use server::serve::ConnectionLimits;

use super::{closed_by_server, eventually, guarded, read_answer, send, Served};

const KEY: &str = "sk-connection-test";

fn short_limits() -> ConnectionLimits {
    ConnectionLimits {
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        body_min_rate: 0,
        ..ConnectionLimits::default()
    }
}

/// A client that opens a fresh connection per request, so no request lands on a
/// connection the server is closing for idleness.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

#[tokio::test]
async fn idle_connections_beyond_the_limit_do_not_lock_out_a_client() {
    let served = Served::start(|settings| {
        settings.connections = ConnectionLimits {
            max_connections: 4,
            ..short_limits()
        }
    })
    .await;
    // Three times the limit in connections that never send a byte.
    let mut idle = Vec::new();
    for _ in 0..12 {
        idle.push(served.connect().await);
    }
    let response = guarded(
        "a request behind 12 idle connections",
        client()
            .get(format!("{}/assistants", served.base_url()))
            .bearer_auth(KEY)
            .header("OpenAI-Beta", "assistants=v2")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    for stream in &mut idle {
        closed_by_server(stream).await;
    }
}

#[tokio::test]
async fn a_trickled_head_is_cut_by_the_header_timeout() {
    let served = Served::start(|settings| {
        settings.connections = ConnectionLimits {
            // Only the header timeout can end this connection within the hang guard.
            idle_timeout: Duration::from_secs(3600),
            ..short_limits()
        }
    })
    .await;
    let mut stream = served.connect().await;
    send(&mut stream, b"GET /v1/assistants HTTP/1.1\r\n").await;
    let mut line = 0;
    let cut = guarded("a slowloris head", async {
        loop {
            line += 1;
            let header = format!("X-Slow-{line}: y\r\n");
            if tokio::io::AsyncWriteExt::write_all(&mut stream, header.as_bytes())
                .await
                .is_err()
            {
                return;
            }
            let mut byte = [0u8; 1];
            let read = tokio::time::timeout(
                Duration::from_millis(50),
                tokio::io::AsyncReadExt::read(&mut stream, &mut byte),
            )
            .await;
            match read {
                Err(_) => {}
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(_)) => panic!("answered a head that never ended"),
            }
        }
    });
    cut.await;
}

/// A multipart upload's head and first bytes, announcing `total` body bytes.
fn upload_start(total: usize) -> (String, String) {
    let boundary = "----connection-test-boundary";
    let opening = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    );
    let head = format!(
        "POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {total}\r\n\r\n"
    );
    (head, opening)
}

fn upload_closing() -> String {
    "\r\n------connection-test-boundary--\r\n".to_owned()
}

#[tokio::test]
async fn a_stalled_upload_is_cut_and_its_temporary_file_removed() {
    let served = Served::start(|settings| {
        settings.connections = ConnectionLimits {
            idle_timeout: Duration::from_secs(3600),
            header_timeout: Duration::from_secs(3600),
            ..short_limits()
        }
    })
    .await;
    let mut stream = served.connect().await;
    let (head, opening) = upload_start(200_000_000);
    send(&mut stream, head.as_bytes()).await;
    send(&mut stream, opening.as_bytes()).await;
    send(&mut stream, &[b'x'; 64 * 1024]).await;
    eventually("the upload's temporary file to appear", || {
        served.temporary_files() == 1
    })
    .await;
    // Then nothing more: the body timeout closes the connection without an answer.
    closed_by_server(&mut stream).await;
    eventually("the temporary file to be removed", || {
        served.temporary_files() == 0
    })
    .await;
}

#[tokio::test]
async fn a_slow_but_steady_upload_outlasting_the_body_timeout_succeeds() {
    let served = Served::start(|settings| {
        settings.connections = ConnectionLimits {
            body_timeout: Duration::from_millis(1000),
            body_min_rate: 1000,
            ..short_limits()
        }
    })
    .await;
    let mut stream = served.connect().await;
    let chunk = [b'y'; 1000];
    let chunks = 8;
    let (_, opening) = upload_start(0);
    let total = opening.len() + chunk.len() * chunks + upload_closing().len();
    let (head, _) = upload_start(total);
    send(&mut stream, head.as_bytes()).await;
    send(&mut stream, opening.as_bytes()).await;
    // 1,000 bytes every 200 ms for 1.6 s: pauses below the timeout, 5,000 B/s on average.
    for _ in 0..chunks {
        tokio::time::sleep(Duration::from_millis(200)).await;
        send(&mut stream, &chunk).await;
    }
    send(&mut stream, upload_closing().as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let file: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(file["bytes"], 8000);
    assert_eq!(served.temporary_files(), 0);
}

#[tokio::test]
async fn an_event_stream_with_pauses_longer_than_every_timeout_is_not_cut() {
    let served = Served::start(|settings| {
        settings.connections = short_limits();
        // Each delta waits longer than any connection timeout.
        settings.llm.offline_delay_ms = 400;
    })
    .await;
    let client = client();
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
    let response = client
        .post(format!("{}/threads/runs", served.base_url()))
        .bearer_auth(KEY)
        .header("OpenAI-Beta", "assistants=v2")
        .json(&json!({
            "assistant_id": assistant["id"],
            "stream": true,
            "thread": {"messages": [{"role": "user", "content": "Tell me about connection timeouts."}]}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = guarded("the event stream", response.text()).await.unwrap();
    let deltas = text.matches("event: thread.message.delta\n").count();
    assert!(deltas >= 2, "{text}");
    assert!(text.contains("event: thread.run.completed\n"), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
}

#[tokio::test]
async fn past_the_connection_limit_a_client_waits_until_a_connection_closes() {
    let served = Served::start(|settings| {
        settings.connections = ConnectionLimits {
            max_connections: 2,
            idle_timeout: Duration::from_secs(3600),
            ..short_limits()
        }
    })
    .await;
    let first = served.connect().await;
    let _second = served.connect().await;
    let mut third = served.connect().await;
    send(
        &mut third,
        format!("GET /v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n")
            .as_bytes(),
    )
    .await;
    // Not served while two connections hold the server's two slots...
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(
        Duration::from_millis(300),
        tokio::io::AsyncReadExt::read(&mut third, &mut byte),
    )
    .await;
    assert!(early.is_err(), "served past the limit: {early:?}");
    // ...and served as soon as one of them goes.
    drop(first);
    let answer = read_answer(&mut third).await;
    assert_eq!(answer.status, 404);
}
