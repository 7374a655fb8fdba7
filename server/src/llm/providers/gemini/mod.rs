//! The native Gemini API (`POST {base}/models/{model}:streamGenerateContent?alt=sse`,
//! <https://ai.google.dev/api/generate-content>): the request is rendered by [`body`],
//! the event stream decoded by [`events`]; the transport is
//! [`super::native::NativeModel`]. Keys travel in `x-goog-api-key`.

pub mod body;
pub mod events;
