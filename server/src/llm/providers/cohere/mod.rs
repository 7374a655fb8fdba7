//! The native Cohere v2 chat API (<https://docs.cohere.com/reference/chat-stream>):
//! the request is rendered by [`body`], the event stream decoded by [`events`]; the
//! transport is [`super::native::NativeModel`]. Keys travel as `Authorization: Bearer`.

pub mod body;
pub mod events;
