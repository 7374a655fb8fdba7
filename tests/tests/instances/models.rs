//! Models for the in-process instances: one that starts an answer and never finishes
//! it (a turn on an instance that is about to die, or is slow), counting how often a
//! turn started and how many of its streams were dropped (the turn was stopped).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use server::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, LlmError};

/// Answers "Half" and then nothing, forever.
#[derive(Default)]
pub(crate) struct Stuck {
    /// Turns started.
    pub started: Arc<AtomicUsize>,
    /// Turn streams dropped by the run's task.
    pub dropped: Arc<AtomicUsize>,
}

/// Counts a drop.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl ChatModel for Stuck {
    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream, LlmError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let guard = DropCount(Arc::clone(&self.dropped));
        let first = futures::stream::iter([Ok(ChatEvent::TextDelta("Half".into()))]);
        let never = futures::stream::pending().map(move |event| {
            let _held = &guard;
            event
        });
        Ok(first.chain(never).boxed())
    }
}

impl Stuck {
    /// How many turn streams were dropped.
    pub(crate) fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// How many turns started.
    pub(crate) fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
}

/// The offline model with no delay.
pub(crate) fn offline() -> Arc<dyn ChatModel> {
    server::settings::offline_llm()
        .build_model()
        .expect("the offline model builds")
}
