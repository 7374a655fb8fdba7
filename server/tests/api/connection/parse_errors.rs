//! Requests hyper cannot parse get its automatic 400/414/431 answer, with OpenAI's error
//! envelope as the body instead of an empty one (issue 9 item 8).

use rstest::rstest;

use super::{closed_by_server, read_answer, send, Served};

fn long_uri() -> String {
    format!(
        "GET /v1/assistants?after={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    )
}

fn many_headers() -> String {
    let headers: String = (0..120).map(|i| format!("X-Padding-{i}: y\r\n")).collect();
    format!("GET /v1/assistants HTTP/1.1\r\nHost: x\r\n{headers}\r\n")
}

#[rstest]
#[case::bad_request_line(400, "GARBAGE\r\n\r\n".to_owned(), "The request could not be parsed as HTTP/1.1.")]
#[case::bad_header(400, "GET /v1/assistants HTTP/1.1\r\nHost x\r\n\r\n".to_owned(), "The request could not be parsed as HTTP/1.1.")]
#[case::uri_too_long(414, long_uri(), "The request URI is too long.")]
#[case::too_many_headers(431, many_headers(), "The request headers are too large.")]
#[tokio::test]
async fn unparsable_requests_get_an_error_envelope(
    #[case] status: u16,
    #[case] request: String,
    #[case] message: &str,
) {
    // Room for a request line longer than hyper accepts, so its 414 is reached.
    let served = Served::start(|settings| settings.connections.max_header_bytes = 256 * 1024).await;
    let mut stream = served.connect().await;
    send(&mut stream, request.as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, status, "{answer:?}");
    assert!(answer
        .head
        .contains("\r\ncontent-type: application/json\r\n"));
    let error = answer.error();
    assert_eq!(error["message"], message);
    assert_eq!(error["type"], "invalid_request_error");
    closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn a_parse_error_after_a_kept_alive_request_still_gets_its_envelope() {
    let served = Served::start(|_| {}).await;
    let mut stream = served.connect().await;
    send(
        &mut stream,
        b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-1\r\n\r\n",
    )
    .await;
    assert_eq!(read_answer(&mut stream).await.status, 404);
    send(&mut stream, b"NOT HTTP AT ALL\r\n\r\n").await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.error()["message"],
        "The request could not be parsed as HTTP/1.1."
    );
}

#[rstest]
#[case::long_header(format!("GET /v1/assistants HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(3000)))]
#[case::long_query(format!("GET /v1/assistants?after={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(3000)))]
#[tokio::test]
async fn a_head_above_max_header_bytes_gets_431(#[case] request: String) {
    let served = Served::start(|settings| settings.connections.max_header_bytes = 2048).await;
    let mut stream = served.connect().await;
    send(&mut stream, request.as_bytes()).await;
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 431, "{answer:?}");
    assert_eq!(
        answer.error()["message"],
        "The request headers are too large."
    );
    closed_by_server(&mut stream).await;

    // A small head on the same server is served.
    let mut stream = served.connect().await;
    send(
        &mut stream,
        b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-1\r\n\r\n",
    )
    .await;
    assert_eq!(read_answer(&mut stream).await.status, 404);
}
