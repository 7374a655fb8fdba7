//! The event-stream decoder against the framings upstreams really send.

use rstest::rstest;
use server::llm::sse::{SseDecoder, SseMessage};

fn data(text: &str) -> SseMessage {
    SseMessage {
        event: None,
        data: text.into(),
    }
}

fn decode_in_chunks(wire: &[u8], size: usize) -> Vec<SseMessage> {
    let mut decoder = SseDecoder::new();
    let mut out: Vec<SseMessage> = wire
        .chunks(size)
        .flat_map(|chunk| decoder.push(chunk))
        .collect();
    out.extend(decoder.finish());
    out
}

#[rstest]
#[case::openai("data: {\"a\":1}\n\ndata: [DONE]\n\n")]
#[case::no_space("data:{\"a\":1}\n\ndata:[DONE]\n\n")]
#[case::crlf("data: {\"a\":1}\r\n\r\ndata: [DONE]\r\n\r\n")]
#[case::bare_cr("data: {\"a\":1}\r\rdata: [DONE]\r\r")]
#[case::comments("id: 1\n: keep-alive\n\ndata: {\"a\":1}\n: ping\n\nretry: 10\n\ndata: [DONE]\n\n")]
#[case::no_final_blank_line("data: {\"a\":1}\n\ndata: [DONE]")]
fn framings_decode_to_the_same_events(#[case] wire: &str) {
    for size in [1, 2, 3, 7, wire.len()] {
        assert_eq!(
            decode_in_chunks(wire.as_bytes(), size),
            vec![data("{\"a\":1}"), data("[DONE]")],
            "chunk size {size}"
        );
    }
}

#[test]
fn multi_line_data_and_event_names_are_kept() {
    let wire = b"event: error\ndata: first\ndata:\ndata:  second\n\n";
    assert_eq!(
        decode_in_chunks(wire, 4),
        vec![SseMessage {
            event: Some("error".into()),
            data: "first\n\n second".into()
        }]
    );
}

#[test]
fn characters_split_across_network_chunks_survive() {
    let wire = "data: {\"t\":\"Zürich 東京 🎉\"}\n\n".as_bytes();
    assert_eq!(
        decode_in_chunks(wire, 1),
        vec![data("{\"t\":\"Zürich 東京 🎉\"}")]
    );
}

#[test]
fn blank_lines_without_data_dispatch_nothing() {
    assert_eq!(decode_in_chunks(b"\n\n\r\n: only a comment\n\n", 5), vec![]);
}
