//! Third-party providers by model name: routing, the native adapters (Anthropic, Cohere,
//! Gemini, Bedrock), the OpenAI-compatible providers, embeddings routing (Bedrock's
//! included), upstream rate limits, and file_search through a provider; `support` holds
//! what they share.

mod anthropic;
mod bedrock;
mod bedrock_embeddings;
mod cohere;
mod compatible;
mod embeddings;
mod file_search;
mod gemini;
mod rate_limits;
mod routing;
mod support;
