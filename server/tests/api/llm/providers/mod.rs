//! Third-party providers by model name: routing, the native adapters (Anthropic, Cohere,
//! Gemini, Bedrock), embeddings routing and file_search through a provider.

mod anthropic;
mod bedrock;
mod cohere;
mod embeddings;
mod file_search;
mod gemini;
mod routing;
