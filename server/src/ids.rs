//! Object ids and request ids in OpenAI's shapes: a prefix and 24 base62 characters
//! (`asst_`, `thread_`, `msg_`, `run_`, `step_`), and `req_` with 32 hex digits.

use rand::distributions::Alphanumeric;
use rand::Rng;

/// Kinds of object this server hands out ids for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `asst_…`
    Assistant,
    /// `thread_…`
    Thread,
    /// `msg_…`
    Message,
    /// `run_…`
    Run,
    /// `step_…`
    Step,
}

impl IdKind {
    /// The prefix including its underscore, e.g. `asst_`.
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Assistant => "asst_",
            IdKind::Thread => "thread_",
            IdKind::Message => "msg_",
            IdKind::Run => "run_",
            IdKind::Step => "step_",
        }
    }

    /// The prefix without underscore, as OpenAI names it in "Expected an ID that begins with".
    pub fn stem(self) -> &'static str {
        let prefix = self.prefix();
        &prefix[..prefix.len() - 1]
    }
}

/// Number of random base62 characters after the prefix.
pub const ID_RANDOM_LEN: usize = 24;

/// A fresh id of the given kind.
pub fn new_id(kind: IdKind) -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(ID_RANDOM_LEN)
        .map(char::from)
        .collect();
    format!("{}{random}", kind.prefix())
}

/// A fresh `x-request-id` value: `req_` and 32 lowercase hex digits.
pub fn new_request_id() -> String {
    let value: u128 = rand::thread_rng().gen();
    format!("req_{value:032x}")
}

/// Whether `id` has the shape this server produces for `kind`.
pub fn is_well_formed(kind: IdKind, id: &str) -> bool {
    id.strip_prefix(kind.prefix()).is_some_and(|rest| {
        rest.len() == ID_RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Current time as unix seconds, the unit of every `created_at`.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(IdKind::Assistant, "asst_")]
    #[case(IdKind::Thread, "thread_")]
    #[case(IdKind::Message, "msg_")]
    #[case(IdKind::Run, "run_")]
    #[case(IdKind::Step, "step_")]
    fn ids_are_prefix_and_24_base62(#[case] kind: IdKind, #[case] prefix: &str) {
        let id = new_id(kind);
        assert!(id.starts_with(prefix), "{id}");
        assert_eq!(id.len(), prefix.len() + 24);
        assert!(is_well_formed(kind, &id));
        assert_ne!(new_id(kind), id, "two ids in a row must differ");
    }

    #[rstest]
    #[case("asst_abc")]
    #[case("thread_0123456789abcdefghijklmn")]
    #[case("asst_0123456789abcdefghijklm!")]
    fn rejects_malformed_ids(#[case] id: &str) {
        assert!(!is_well_formed(IdKind::Assistant, id));
    }

    #[test]
    fn request_ids_are_req_and_32_hex() {
        let id = new_request_id();
        let hex = id.strip_prefix("req_").unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
