//! The nested parts of the grammar: a run's steps, one open at a time, and a message_creation
//! step's message (see the parent module for the whole grammar).

use super::{describe, field, Checker, OpenMessage, OpenStep, Phase, StreamOrigin};
use crate::sse::SseEvent;

impl Checker {
    pub(super) fn step_event(&mut self, index: usize, event: &SseEvent, what: &str) {
        let name = event.event.clone();
        let id = field(event, "/id").unwrap_or_default().to_owned();
        if what != "delta" {
            self.same_run(index, event, "/run_id");
        }
        // a streamed submit_tool_outputs reports the tool step completing first (§3.5 item 28)
        let resuming = self.origin == StreamOrigin::SubmitToolOutputs
            && self.phase == Phase::Start
            && index == 0;
        if resuming {
            if what != "completed" {
                let message =
                    "a submit_tool_outputs stream starts with `thread.run.step.completed`";
                self.violate(index, &name, message);
            }
            self.expect_status(index, event, &["completed"]);
            self.phase = Phase::Resumed;
            return;
        }
        if !matches!(self.phase, Phase::InProgress | Phase::Cancelling) {
            let message = format!("a step event while the run is {}", describe(self.phase));
            self.violate(index, &name, &message);
        }
        match what {
            "created" => {
                if let Some(open) = &self.step {
                    let message = format!("a new step while step `{}` is still open", open.id);
                    self.violate(index, &name, &message);
                }
                self.expect_status(index, event, &["in_progress"]);
                self.step = Some(OpenStep {
                    id,
                    tool_calls: field(event, "/type") == Some("tool_calls"),
                    message_id: field(event, "/step_details/message_creation/message_id")
                        .map(str::to_owned),
                    in_progress: false,
                });
            }
            "in_progress" | "delta" | "completed" | "failed" | "cancelled" | "expired" => {
                let Some(mut open) = self.step.take() else {
                    self.violate(
                        index,
                        &name,
                        "no step is open (no `thread.run.step.created`)",
                    );
                    return;
                };
                if open.id != id {
                    let message = format!("step `{id}` is not the open step `{}`", open.id);
                    self.violate(index, &name, &message);
                }
                match what {
                    "in_progress" if open.in_progress => {
                        self.violate(index, &name, "the step is already in progress")
                    }
                    "in_progress" => {
                        self.expect_status(index, event, &["in_progress"]);
                        open.in_progress = true;
                    }
                    _ if !open.in_progress => {
                        let message = "before `thread.run.step.in_progress` of its step";
                        self.violate(index, &name, message)
                    }
                    _ => {}
                }
                if matches!(what, "in_progress" | "delta") {
                    self.step = Some(open);
                    return;
                }
                self.expect_status(index, event, &[what]);
                if let Some(message) = self.message.take() {
                    let text = format!("the step ended while message `{}` is open", message.id);
                    self.violate(index, &name, &text);
                }
            }
            _ => self.violate(index, &name, "not an event of the Assistants API"),
        }
    }

    pub(super) fn message_event(&mut self, index: usize, event: &SseEvent, what: &str) {
        let name = event.event.clone();
        let id = field(event, "/id").unwrap_or_default().to_owned();
        let step = match &self.step {
            Some(step) if !step.tool_calls => step.clone(),
            Some(step) => {
                let message = format!("a message event inside tool_calls step `{}`", step.id);
                self.violate(index, &name, &message);
                return;
            }
            None => {
                self.violate(
                    index,
                    &name,
                    "a message event outside a message_creation step",
                );
                return;
            }
        };
        match what {
            "created" => {
                if let Some(open) = &self.message {
                    let message = format!("a new message while message `{}` is open", open.id);
                    self.violate(index, &name, &message);
                }
                if step.message_id.as_deref().is_some_and(|named| named != id) {
                    let message = format!("message `{id}` is not the one step `{}` names", step.id);
                    self.violate(index, &name, &message);
                }
                self.expect_status(index, event, &["in_progress"]);
                self.message = Some(OpenMessage {
                    id,
                    in_progress: false,
                });
            }
            "in_progress" | "delta" | "completed" | "incomplete" => {
                let Some(mut open) = self.message.take() else {
                    self.violate(
                        index,
                        &name,
                        "no message is open (no `thread.message.created`)",
                    );
                    return;
                };
                if open.id != id {
                    let message = format!("message `{id}` is not the open message `{}`", open.id);
                    self.violate(index, &name, &message);
                }
                match what {
                    "in_progress" if open.in_progress => {
                        self.violate(index, &name, "the message is already in progress")
                    }
                    "in_progress" => {
                        self.expect_status(index, event, &["in_progress"]);
                        open.in_progress = true;
                    }
                    _ if !open.in_progress => {
                        let message = "before `thread.message.in_progress` of its message";
                        self.violate(index, &name, message)
                    }
                    _ => {}
                }
                if matches!(what, "in_progress" | "delta") {
                    self.message = Some(open);
                } else {
                    self.expect_status(index, event, &[what]);
                }
            }
            _ => self.violate(index, &name, "not an event of the Assistants API"),
        }
    }
}
