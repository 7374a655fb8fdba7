//! Answers given before the request body was read (issue 9 item 5): hyper closes such a
//! connection, so the answer must say `Connection: close`, unless the body was already
//! on its way and could be drained, in which case the connection stays usable.

use rstest::rstest;

use super::{closed_by_server, read_answer, send, Served};

const KEY: &str = "sk-connection-test";

/// The request heads of early answers, with the body prefix each sends up front.
#[rstest]
#[case::unknown_url(
    404,
    "POST /v1/nothing-here HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-connection-test\r\nContent-Length: 2\r\n\r\n",
    "",
    "{}"
)]
#[case::no_api_key(
    401,
    "POST /v1/assistants HTTP/1.1\r\nHost: x\r\nOpenAI-Beta: assistants=v2\r\nContent-Length: 2\r\n\r\n",
    "",
    "{}"
)]
#[case::no_beta_header(
    400,
    "POST /v1/assistants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-connection-test\r\nContent-Length: 2\r\n\r\n",
    "",
    "{}"
)]
#[case::body_too_large(
    413,
    "POST /v1/assistants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-connection-test\r\nOpenAI-Beta: assistants=v2\r\nContent-Length: 40\r\n\r\n",
    "{\"model\": \"gpt-4o\", \"name\":",
    " \"twelve chars\"}"
)]
#[case::expecting_continue(
    404,
    "POST /v1/nothing-here HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-connection-test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    "",
    "{}"
)]
#[tokio::test]
async fn an_answer_before_the_body_arrives_says_connection_close(
    #[case] status: u16,
    #[case] head: &str,
    #[case] sent_first: &str,
    #[case] sent_after: &str,
) {
    let served = Served::start(|settings| settings.max_body_bytes = 16).await;
    let mut stream = served.connect().await;
    send(&mut stream, format!("{head}{sent_first}").as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, status, "{answer:?}");
    answer.error();
    assert!(answer.says_close(), "no Connection: close: {}", answer.head);
    // The client's next move on a connection it was told about: the server really closes.
    send(&mut stream, sent_after.as_bytes()).await;
    closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn an_early_answer_whose_small_body_came_along_keeps_the_connection_alive() {
    let served = Served::start(|_| {}).await;
    let mut stream = served.connect().await;
    let request = format!(
        "POST /v1/nothing-here HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Length: 2\r\n\r\n{{}}"
    );
    send(&mut stream, request.as_bytes()).await;
    let first = read_answer(&mut stream).await;
    assert_eq!(first.status, 404);
    assert!(!first.says_close(), "{}", first.head);
    let second = format!(
        "GET /v1/assistants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         OpenAI-Beta: assistants=v2\r\n\r\n"
    );
    send(&mut stream, second.as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        answer.body.contains("\"object\": \"list\""),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn a_body_too_large_to_drain_closes_even_when_it_is_all_there() {
    let served = Served::start(|settings| settings.max_body_bytes = 16).await;
    let stream = served.connect().await;
    let body = format!("{{\"name\": \"{}\"}}", "x".repeat(100_000));
    let request = format!(
        "POST /v1/assistants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
         OpenAI-Beta: assistants=v2\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let writer = {
        let (mut read_half, mut write_half) = stream.into_split();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = write_half.write_all(request.as_bytes()).await;
            write_half
        });
        let answer = {
            let mut buffer = Vec::new();
            use tokio::io::AsyncReadExt;
            super::guarded("the 413", read_half.read_to_end(&mut buffer))
                .await
                .ok();
            String::from_utf8_lossy(&buffer).to_ascii_lowercase()
        };
        assert!(answer.starts_with("http/1.1 413 "), "{answer}");
        assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
        writer
    };
    drop(writer.await);
}
