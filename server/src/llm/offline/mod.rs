//! The built-in deterministic model (`--llm offline`): answers every model name with
//! no network, so every run path (text, tool rounds, parallel calls, token limits,
//! JSON formats, cancels) can be exercised and tested. Its decisions are the rules in
//! [`rules`]; how a decision is streamed is in [`render`]. With a delay it waits
//! before each delta, for testing cancels and restarts.

pub mod arguments;
pub mod file_search;
pub mod render;
pub mod rules;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use self::file_search::SearchFilesThenCite;
use self::rules::{
    ForcedToolChoice, OfflineRule, Plan, QuoteToolOutputs, QuoteUserMessage, ToolsNamedInMessage,
};
use super::event::ChatEvent;
use super::request::ChatRequest;
use super::{ChatModel, ChatStream, LlmError};

/// The deterministic offline model. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct OfflineModel {
    /// Wait before each text or tool-call delta.
    delay: Duration,
    /// Rules consulted after the forced-tool rule and before name matching (see [`rules`]).
    extra_rules: Vec<Arc<dyn OfflineRule>>,
}

impl OfflineModel {
    /// The model with no delay and the built-in rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits `delay` before each delta.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Adds a rule consulted after the tool-output and forced-tool rules and before the
    /// name-matching and quoting rules: the hook for tools the server itself runs
    /// (file_search has its built-in rule, consulted first).
    pub fn with_rule(mut self, rule: Arc<dyn OfflineRule>) -> Self {
        self.extra_rules.push(rule);
        self
    }

    /// What the model will do with `request`.
    pub fn plan(&self, request: &ChatRequest) -> Result<Plan, LlmError> {
        let before: [&dyn OfflineRule; 3] =
            [&SearchFilesThenCite, &QuoteToolOutputs, &ForcedToolChoice];
        let extra = self.extra_rules.iter().map(|rule| rule.as_ref());
        let named: [&dyn OfflineRule; 1] = [&ToolsNamedInMessage];
        for rule in before.into_iter().chain(extra).chain(named) {
            if let Some(plan) = rule.plan(request)? {
                return Ok(plan);
            }
        }
        Ok(QuoteUserMessage::reply(request))
    }
}

#[async_trait::async_trait]
impl ChatModel for OfflineModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        let plan = self.plan(&request)?;
        let events: VecDeque<ChatEvent> = render::render(&request, plan).into();
        let delay = self.delay;
        let stream = futures::stream::unfold(events, move |mut events| async move {
            let event = events.pop_front()?;
            let is_delta = matches!(event, ChatEvent::TextDelta(_) | ChatEvent::ToolCallDelta(_));
            if is_delta && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((Ok(event), events))
        });
        Ok(stream.boxed())
    }

    fn provider_name(&self, _model: &str) -> Option<String> {
        Some("offline".to_owned())
    }
}
