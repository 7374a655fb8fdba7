//! One model turn of a run: the prompt goes to the model, and what comes back is
//! forwarded as it arrives (message and step deltas) while the run's message or
//! tool-call step is written. The turn ends the run, or leaves it in `requires_action`.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::citations::Sources;
use super::file_search::{file_search_tool, ranking_options};
use super::progress::{new_step, Progress};
use super::prompt::{build_request, PromptStop};
use super::signals::{signalled, Signal};
use super::{RunEngine, RunKey};
use crate::ids::{new_id, unix_now, IdKind};
use crate::llm::offline::file_search::FILE_SEARCH_FUNCTION;
use crate::llm::{ChatEvent, FinishReason, ToolCallDelta};
use crate::models::{
    Message, MessageStatus, Run, RunStatus, RunStep, RunUsage, StepStatus, StreamMessage,
};
use crate::store::StoreResult;

/// Appended to the error of a model call that fails on a run taken over from another
/// instance: per-request credentials never leave the instance that received them.
pub const TAKEN_OVER_NOTE: &str = "(This run was resumed by another server instance, which \
    uses the server's configured upstream credentials: the per-request credentials of the \
    request that started the run are never stored.)";

impl RunEngine {
    /// Runs one model turn of an `in_progress` run.
    pub(super) async fn turn(
        self: &Arc<Self>,
        key: &RunKey,
        mut run: Run,
        mut signals: watch::Receiver<Signal>,
    ) -> StoreResult<()> {
        loop {
            if !self.turn_once(key, run, &mut signals).await? {
                return Ok(());
            }
            // The server ran the model's searches: the model answers in a new turn.
            run = self.mutate_worked(key, |_| false).await?;
            if run.status == RunStatus::Cancelling {
                return self.finish_cancelled(key, &mut []).await;
            }
        }
    }

    /// One model turn; true when it ended in searches the model must now read.
    async fn turn_once(
        self: &Arc<Self>,
        key: &RunKey,
        run: Run,
        signals: &mut watch::Receiver<Signal>,
    ) -> StoreResult<bool> {
        let steps = self.store.steps_of_run(&key.tenant, &key.run_id).await?;
        let taken_over = !self.has_access(&key.run_id);
        let access = self.access_of(&key.run_id);
        let request =
            match build_request(self.store.as_ref(), &key.tenant, &run, &steps, access).await {
                Ok(request) => request,
                Err(PromptStop::Store(error)) => return Err(error),
                Err(PromptStop::PromptTooLong) => {
                    return self
                        .end_incomplete(key, "max_prompt_tokens", None)
                        .await
                        .map(|()| false)
                }
                Err(PromptStop::NoCompletionTokensLeft) => {
                    return self
                        .end_incomplete(key, "max_completion_tokens", None)
                        .await
                        .map(|()| false)
                }
            };
        let mut progress = Progress::new(run);
        progress.sources = Sources::of_steps(steps.iter().map(|s| &s.step_details));
        let started = tokio::select! {
            started = self.model.stream(request) => started,
            signal = signalled(signals) => {
                if signal == Signal::Stop {
                    self.stopped(key);
                    return Ok(false);
                }
                return self.finish_cancelled(key, &mut []).await.map(|()| false);
            }
        };
        let mut stream = match started {
            Ok(stream) => stream,
            Err(error) => {
                let message = if taken_over {
                    format!("{} {TAKEN_OVER_NOTE}", error.message)
                } else {
                    error.message.clone()
                };
                return self
                    .fail(key, &mut [], error.code(), &message)
                    .await
                    .map(|()| false);
            }
        };
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                signal = signalled(signals) => {
                    drop(stream);
                    if signal == Signal::Stop {
                        // Another instance has (or is about to have) the run: what was
                        // written of this turn is its to discard.
                        self.stopped(key);
                        return Ok(false);
                    }
                    let mut open = self.stop_early(key, &mut progress).await?;
                    return self.finish_cancelled(key, &mut open).await.map(|()| false);
                }
            };
            match event {
                None => break,
                Some(Ok(event)) => self.forward(key, &mut progress, event).await?,
                Some(Err(error)) => {
                    let mut open = self.stop_early(key, &mut progress).await?;
                    return self
                        .fail(key, &mut open, error.code(), &error.message)
                        .await
                        .map(|()| false);
                }
            }
        }
        drop(stream);
        self.finish_turn(key, progress, &steps).await
    }

    /// Forwards one model event and writes the message or step it starts.
    async fn forward(
        &self,
        key: &RunKey,
        progress: &mut Progress,
        event: ChatEvent,
    ) -> StoreResult<()> {
        progress.answer.push(&event);
        match &event {
            ChatEvent::TextDelta(text) => {
                if progress.message.is_none() {
                    self.open_message(key, progress).await?;
                }
                self.forward_text(key, progress, text, false);
            }
            ChatEvent::ToolCallDelta(delta) => self.forward_call(key, progress, delta).await?,
            ChatEvent::Finish(_) | ChatEvent::Usage(_) => {}
        }
        Ok(())
    }

    async fn forward_call(
        &self,
        key: &RunKey,
        progress: &mut Progress,
        delta: &ToolCallDelta,
    ) -> StoreResult<()> {
        if progress.tool_step.is_none() {
            self.confirm_lease(key).await?;
            let step = new_step(
                &progress.run,
                "tool_calls",
                json!({"type": "tool_calls", "tool_calls": []}),
            );
            self.store.insert_step(&key.tenant, &step).await?;
            self.emit_while_working(&key.run_id, "thread.run.step.created", &step);
            self.emit_while_working(&key.run_id, "thread.run.step.in_progress", &step);
            progress.tool_step = Some(step);
        }
        let Some(step) = &progress.tool_step else {
            return Ok(());
        };
        let step_delta = |call: Value| {
            json!({"id": step.id, "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}}})
        };
        if delta.index >= progress.call_ids.len() {
            while progress.call_ids.len() <= delta.index {
                progress.call_ids.push(String::new());
            }
            let id = delta
                .id
                .clone()
                .unwrap_or_else(crate::llm::offline::render::new_call_id);
            progress.call_ids[delta.index] = id.clone();
            let name = delta.name.clone().unwrap_or_default();
            let search_tool = file_search_tool(&progress.run.tools);
            let call = match search_tool.filter(|_| name == FILE_SEARCH_FUNCTION) {
                Some(tool) => {
                    progress.search_calls.push(delta.index);
                    json!({"index": delta.index, "id": id, "type": "file_search",
                        "file_search": {"ranking_options": ranking_options(tool), "results": []}})
                }
                None => json!({"index": delta.index, "id": id, "type": "function",
                    "function": {"name": name, "arguments": "", "output": null}}),
            };
            self.emit_while_working(&key.run_id, "thread.run.step.delta", &step_delta(call));
        }
        if !delta.arguments.is_empty() && !progress.search_calls.contains(&delta.index) {
            let call = json!({"index": delta.index, "type": "function",
                "function": {"arguments": delta.arguments}});
            self.emit_while_working(&key.run_id, "thread.run.step.delta", &step_delta(call));
        }
        Ok(())
    }

    /// Writes the run's (empty, in-progress) message and its message_creation step.
    async fn open_message(&self, key: &RunKey, progress: &mut Progress) -> StoreResult<()> {
        self.confirm_lease(key).await?;
        let run = &progress.run;
        let message = Message {
            id: new_id(IdKind::Message),
            object: "thread.message".into(),
            created_at: unix_now(),
            assistant_id: Some(run.assistant_id.clone()),
            thread_id: run.thread_id.clone(),
            run_id: Some(run.id.clone()),
            role: "assistant".into(),
            content: Vec::new(),
            attachments: Vec::new(),
            metadata: Default::default(),
        };
        let details =
            json!({"type": "message_creation", "message_creation": {"message_id": message.id}});
        let step = new_step(run, "message_creation", details);
        self.store.insert_step(&key.tenant, &step).await?;
        self.store.insert_message(&key.tenant, &message).await?;
        self.emit_while_working(&key.run_id, "thread.run.step.created", &step);
        self.emit_while_working(&key.run_id, "thread.run.step.in_progress", &step);
        let shown = StreamMessage::of(&message, MessageStatus::InProgress);
        self.emit_while_working(&key.run_id, "thread.message.created", &shown);
        self.emit_while_working(&key.run_id, "thread.message.in_progress", &shown);
        progress.message = Some((message, step));
        Ok(())
    }

    /// Ends the turn: requires_action for tool calls, else the message and the run end.
    async fn finish_turn(
        self: &Arc<Self>,
        key: &RunKey,
        mut progress: Progress,
        earlier: &[RunStep],
    ) -> StoreResult<bool> {
        let completion = match progress.answer.clone().finish() {
            Ok(completion) => completion,
            Err(error) => {
                let mut open = self.stop_early(key, &mut progress).await?;
                return self
                    .fail(key, &mut open, error.code(), &error.message)
                    .await
                    .map(|()| false);
            }
        };
        if progress.message.is_some() {
            self.forward_text(key, &mut progress, "", true);
        }
        let usage = RunUsage::from_turn(&completion.usage);
        let now = unix_now();
        let truncated = completion.finish_reason == FinishReason::Length;
        let calls: Vec<Value> = completion
            .tool_calls
            .iter()
            .enumerate()
            .map(|(index, call)| {
                let id = progress.call_ids.get(index).filter(|id| !id.is_empty()).cloned().unwrap_or_else(|| call.id.clone());
                json!({"id": id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}})
            })
            .collect();
        let wants_tools = !calls.is_empty() && !truncated;
        if wants_tools && !progress.search_calls.is_empty() {
            return self.run_searches(key, progress, &completion).await;
        }
        if truncated {
            // Calls cut by the token limit are not asked for: their step ends with what
            // was written of them, and the run's message and usage tell the rest.
            if let Some(mut step) = progress.tool_step.take() {
                let cut: Vec<Value> = calls
                    .iter()
                    .map(|call| {
                        let mut call = call.clone();
                        call["function"]["output"] = Value::Null;
                        call
                    })
                    .collect();
                step.step_details = json!({"type": "tool_calls", "tool_calls": cut});
                step.status = StepStatus::Completed;
                step.completed_at = Some(now);
                step.usage = Some(RunUsage::default());
                self.store.update_step(&key.tenant, &step).await?;
                self.emit(&key.run_id, "thread.run.step.completed", &step);
            }
        }
        if !wants_tools && progress.message.is_none() {
            self.open_message(key, &mut progress).await?;
        }
        if let Some((mut message, mut step)) = progress.message.take() {
            let annotations = progress.sources.annotate(&completion.text);
            message.content = vec![json!({"type": "text",
                "text": {"value": completion.text, "annotations": annotations}})];
            self.store.update_message(&key.tenant, &message).await?;
            let mut shown = StreamMessage::of(
                &message,
                if truncated {
                    MessageStatus::Incomplete
                } else {
                    MessageStatus::Completed
                },
            );
            if truncated {
                shown.incomplete_details = Some(json!({"reason": "max_tokens"}));
                shown.incomplete_at = Some(now);
                self.emit(&key.run_id, "thread.message.incomplete", &shown);
            } else {
                shown.completed_at = Some(now);
                self.emit(&key.run_id, "thread.message.completed", &shown);
            }
            step.status = StepStatus::Completed;
            step.completed_at = Some(now);
            step.usage = Some(if wants_tools {
                RunUsage::default()
            } else {
                usage
            });
            self.store.update_step(&key.tenant, &step).await?;
            self.emit(&key.run_id, "thread.run.step.completed", &step);
        }
        if wants_tools {
            let Some(mut step) = progress.tool_step.take() else {
                return Ok(false);
            };
            let detailed: Vec<Value> = calls
                .iter()
                .map(|call| {
                    let mut call = call.clone();
                    call["function"]["output"] = Value::Null;
                    call
                })
                .collect();
            step.step_details = json!({"type": "tool_calls", "tool_calls": detailed});
            self.store.update_step(&key.tenant, &step).await?;
            self.store.hold_usage(&key.tenant, &step.id, &usage).await?;
            return self.await_outputs(key, calls).await.map(|()| false);
        }
        let total = earlier
            .iter()
            .filter_map(|s| s.usage)
            .fold(usage, RunUsage::plus);
        if truncated {
            return self
                .end_incomplete(key, "max_completion_tokens", Some(total))
                .await
                .map(|()| false);
        }
        let mut cancelled_meanwhile = false;
        let run = self
            .mutate_worked(key, |run| {
                cancelled_meanwhile = run.status == RunStatus::Cancelling;
                if cancelled_meanwhile {
                    return false;
                }
                run.status = RunStatus::Completed;
                run.completed_at = Some(now);
                run.expires_at = None;
                run.usage = Some(total);
                true
            })
            .await?;
        if cancelled_meanwhile {
            return self.finish_cancelled(key, &mut []).await.map(|()| false);
        }
        self.forget_access(&key.run_id);
        self.emit(&key.run_id, "thread.run.completed", &run.for_stream());
        Ok(false)
    }
}
