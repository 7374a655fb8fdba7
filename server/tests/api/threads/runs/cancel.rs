//! A cancel that lands while the model is producing output: the stream shows nothing of
//! the turn after `thread.run.cancelling`, whichever of the model's next delta and the
//! cancel the run's task sees first.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use server::llm::{ChatEvent, ChatModel, ChatRequest, ChatStream, FinishReason, LlmError, Usage};
use tokio::sync::Semaphore;

use crate::support::runs::{assistant, start_streamed_run, thread_with};
use testkit::TestApp;

/// A model that says one word, waits for the test to let it go on, then says many more
/// at once (all ready when the run's task next looks).
struct HeldModel {
    go_on: Arc<Semaphore>,
}

#[async_trait]
impl ChatModel for HeldModel {
    async fn stream(&self, _: ChatRequest) -> Result<ChatStream, LlmError> {
        let go_on = self.go_on.clone();
        let first = futures::stream::once(async { Ok(ChatEvent::TextDelta("first".into())) });
        let rest = futures::stream::once(async move {
            go_on.acquire().await.expect("open").forget();
            let words = (0..50).map(|n| ChatEvent::TextDelta(format!(" w{n}")));
            let end = [
                ChatEvent::Finish(FinishReason::Stop),
                ChatEvent::Usage(Usage::default()),
            ];
            futures::stream::iter(words.chain(end).map(Ok))
        })
        .flatten();
        Ok(first.chain(rest).boxed())
    }
}

/// Each round: a streamed run shows its first delta, a request cancels it, then the model
/// goes on. Both the model's next delta and the cancel are ready together, and the task
/// picks either; 16 rounds make a stream that shows output after the cancelling event
/// fail this test all but certainly.
#[tokio::test]
async fn no_model_output_follows_the_cancelling_event() {
    let go_on = Arc::new(Semaphore::new(0));
    let model = Arc::new(HeldModel {
        go_on: go_on.clone(),
    });
    let app = TestApp::with_model(model, |_| {}).await;
    let assistant_id = assistant(&app, json!([])).await;
    for round in 0..16 {
        let thread_id = thread_with(&app, "say something").await;
        let mut stream = start_streamed_run(&app, &thread_id, &assistant_id).await;
        stream.read_until("event: thread.message.delta").await;
        let run_id = stream.run_id();
        let cancelled = app
            .post(
                &format!("/v1/threads/{thread_id}/runs/{run_id}/cancel"),
                json!({}),
            )
            .await;
        assert_eq!(
            cancelled.json()["status"],
            "cancelling",
            "round {round}: {}",
            cancelled.text
        );
        go_on.add_permits(1);
        let events = stream.events().await;
        // The model's stream was dropped before it took this round's permit.
        go_on.forget_permits(go_on.available_permits());
        let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        let cancelling = names
            .iter()
            .position(|name| *name == "thread.run.cancelling")
            .unwrap_or_else(|| panic!("round {round}: no cancelling event: {names:?}"));
        assert_eq!(
            names[cancelling..],
            [
                "thread.run.cancelling",
                "thread.run.step.cancelled",
                "thread.run.cancelled",
                "done"
            ],
            "round {round}: {names:?}"
        );
    }
}
