//! What a model turn has written so far (its message, its steps, the answer being
//! assembled), and how a turn that stops early leaves them.

use serde_json::{json, Value};

use super::citations::Sources;
use super::{RunEngine, RunKey};
use crate::ids::{new_id, unix_now, IdKind};
use crate::llm::CompletionAccumulator;
use crate::models::{Message, Run, RunStep, StepStatus};
use crate::store::StoreResult;

/// The writes of one model turn.
pub(super) struct Progress {
    /// The run, as it was when the turn started.
    pub run: Run,
    /// The run's message and its message_creation step, once text arrived.
    pub message: Option<(Message, RunStep)>,
    /// The tool_calls step, once a call arrived.
    pub tool_step: Option<RunStep>,
    /// The `call_` id of each call index.
    pub call_ids: Vec<String>,
    /// The answer assembled from the events so far.
    pub answer: CompletionAccumulator,
    /// Call indexes that are file_search calls (run by the server, not the client).
    pub search_calls: Vec<usize>,
    /// The run's search results, for citing the answer's source markers.
    pub sources: Sources,
    /// Answer text held back until a source marker it may start is complete.
    pub held_text: String,
    /// Characters of the answer already sent as message deltas.
    pub sent_chars: usize,
    /// Citations already sent as delta annotations (the next one's `index`).
    pub citations_sent: usize,
}

impl Progress {
    /// Nothing written yet for `run`.
    pub(super) fn new(run: Run) -> Self {
        Self {
            run,
            message: None,
            tool_step: None,
            call_ids: Vec::new(),
            answer: CompletionAccumulator::new(),
            search_calls: Vec::new(),
            sources: Sources::default(),
            held_text: String::new(),
            sent_chars: 0,
            citations_sent: 0,
        }
    }
}

/// A new in-progress step of `run`.
pub fn new_step(run: &Run, kind: &str, details: Value) -> RunStep {
    RunStep {
        id: new_id(IdKind::Step),
        object: "thread.run.step".into(),
        created_at: unix_now(),
        run_id: run.id.clone(),
        assistant_id: run.assistant_id.clone(),
        thread_id: run.thread_id.clone(),
        kind: kind.into(),
        status: StepStatus::InProgress,
        cancelled_at: None,
        completed_at: None,
        expires_at: run.expires_at,
        failed_at: None,
        last_error: None,
        step_details: details,
        usage: None,
    }
}

impl RunEngine {
    /// For a turn that stops early (cancel, model error): keeps the text written so far
    /// in the run's message and hands back the steps still open.
    pub(super) async fn stop_early(
        &self,
        key: &RunKey,
        progress: &mut Progress,
    ) -> StoreResult<Vec<RunStep>> {
        let mut open = Vec::new();
        if let Some((mut message, step)) = progress.message.take() {
            let text = progress.answer.text();
            if !text.is_empty() {
                message.content =
                    vec![json!({"type": "text", "text": {"value": text, "annotations": []}})];
                self.store.update_message(&key.tenant, &message).await?;
            }
            open.push(step);
        }
        open.extend(progress.tool_step.take());
        Ok(open)
    }
}
