//! Unit tests of the embeddings client: batching, answer checks, hidden keys.

use super::*;

#[test]
fn batches_respect_count_and_token_limits() {
    let inputs: Vec<String> = (0..5).map(|i| format!("word{i} word word")).collect();
    let by_count = batches("text-embedding-3-small", inputs.clone(), 2, 1000);
    assert_eq!(by_count.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let by_tokens = batches("text-embedding-3-small", inputs, 100, 8);
    assert!(by_tokens.len() >= 3, "{by_tokens:?}");
    assert_eq!(by_tokens.concat().len(), 5);
    let long = "token ".repeat(MAX_INPUT_TOKENS + 500);
    let cut = batches("text-embedding-3-small", vec![long], 10, 1);
    let tokens = tokenizer_for("text-embedding-3-small").encode_with_special_tokens(&cut[0][0]);
    assert!(tokens.len() <= MAX_INPUT_TOKENS);
}

#[test]
fn answers_come_back_in_input_order_unit_length() {
    let text = r#"{"data":[{"index":1,"embedding":[0,2]},{"index":0,"embedding":[3,4]}]}"#;
    let vectors = parse_answer(text, 2).unwrap();
    assert_eq!(vectors[1], [0.0, 1.0]);
    assert!((vectors[0][0] - 0.6).abs() < 1e-6);
}

#[test]
fn broken_answers_are_refused() {
    for (text, expected) in [
        ("<html>", 1),
        (r#"{"data":[]}"#, 1),
        (r#"{"data":[{"embedding":[0,0]}]}"#, 1),
        (r#"{"data":[{"embedding":["x"]}]}"#, 1),
        (
            r#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}"#,
            2,
        ),
        (
            r#"{"data":[{"index":0,"embedding":[1]},{"index":1,"embedding":[1,1]}]}"#,
            2,
        ),
        (r#"{"data":[{"index":5,"embedding":[1]}]}"#, 1),
    ] {
        assert!(parse_answer(text, expected).is_err(), "{text}");
    }
}

#[test]
fn debug_output_never_shows_the_key() {
    let mut config = EmbeddingsConfig::new("http://localhost:1/v1");
    config.api_key = Some("sk-very-secret".to_owned());
    let client = EmbeddingsClient::new(config.clone()).unwrap();
    assert!(!format!("{client:?}").contains("sk-very-secret"));
    assert!(!format!("{config:?}").contains("sk-very-secret"));
    assert_eq!(client.url.as_str(), "http://localhost:1/v1/embeddings");
}
