//! The upstream Chat Completions client against a scripted fake upstream: what it sends,
//! how it reads streams, and how upstream errors reach runs.

mod errors;
mod request;
mod stream;
