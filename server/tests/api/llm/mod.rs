//! The model side, below the API: the offline model's rules and synthesised arguments, the
//! event-stream decoder, the upstream client (requests, streams, errors), recorded upstream
//! traffic, and the third-party providers. Kept under one `llm` module so that
//! `cargo test --workspace --test api llm` selects them all.

mod arguments;
mod offline_output;
mod offline_rules;
mod providers;
mod recordings;
mod sse;
mod upstream;
