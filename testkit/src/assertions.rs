//! Assertions shared by the API tests: insta redactions that check a value's shape before
//! hiding it (so a snapshot never accepts a malformed id or a stale timestamp), and the
//! OpenAI error envelope.

use crate::app::TestResponse;

/// Checks that an id has `prefix` and 24 base62 characters, then hides it.
pub fn id_redaction(prefix: &'static str) -> insta::internals::Redaction {
    insta::dynamic_redaction(move |value, path| {
        let id = value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: id must be a string"));
        let rest = id
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{path}: {id} must start with {prefix}"));
        assert_eq!(rest.len(), 24, "{path}: {id}");
        assert!(
            rest.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{path}: {id}"
        );
        format!("[{prefix}id]")
    })
}

/// Checks that a timestamp is an integer within the last minute, then hides it.
pub fn timestamp_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value, path| {
        let seconds = value
            .as_i64()
            .unwrap_or_else(|| panic!("{path}: timestamp must be an integer"));
        let now = server::ids::unix_now();
        assert!(
            (now - 60..=now + 1).contains(&seconds),
            "{path}: {seconds} is not recent (now {now})"
        );
        "[timestamp]"
    })
}

/// Asserts an OpenAI error envelope: status, message, param and code.
pub fn assert_error(
    response: &TestResponse,
    status: u16,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text);
    let body = response.json();
    let error = &body["error"];
    assert_eq!(error["message"], message, "{}", response.text);
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["param"].as_str(), param, "{}", response.text);
    assert_eq!(error["code"].as_str(), code, "{}", response.text);
    let keys: Vec<&String> = error
        .as_object()
        .expect("the error is an object")
        .keys()
        .collect();
    assert_eq!(keys, ["message", "type", "param", "code"]);
}
