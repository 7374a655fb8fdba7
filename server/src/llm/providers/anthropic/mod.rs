//! The native Anthropic Messages API: the request is rendered by [`body`], the event
//! stream decoded by [`events`]; the transport is [`super::native::NativeModel`]. Keys
//! go in `x-api-key` with `anthropic-version: 2023-06-01`.

pub mod body;
pub mod events;

/// The API version every request names (the Messages API's current one).
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
