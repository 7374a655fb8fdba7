//! The conformance harness for OpenAI Assistants API implementations: replays recorded scenarios
//! against any base URL and checks every response against OpenAI's OpenAPI document and the
//! recorded behaviour of the real service.

pub mod recordings;
pub mod spec;
pub mod sse;
