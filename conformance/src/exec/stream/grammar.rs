//! The event grammar of an Assistants stream: what may follow what, as the recorded streams
//! (`StreamingRunWorks`, `StreamingToolCall()`) and openai-behaviour.md §3.5 show it.
//!
//! A run stream is `thread.run.created → thread.run.queued → thread.run.in_progress`, then steps,
//! one at a time: `step.created → step.in_progress → step.delta* → step.completed` (or failed,
//! cancelled, expired); inside a `message_creation` step its message: `message.created →
//! message.in_progress → message.delta* → message.completed|incomplete`. The run ends with one
//! final event (`requires_action`, `completed`, `incomplete`, `failed`, `cancelled`, `expired`), or
//! an `error` event, and then `done`, which must be the last event. `createThreadAndRun` starts
//! with `thread.created`; a streamed `submit_tool_outputs` starts with `thread.run.step.completed`
//! for the tool step and has no `thread.run.created`. Ids must agree: one run per stream, a
//! step's and a message's events carry their own id, a message belongs to the step that names it.

use crate::sse::SseEvent;

mod nested;

/// Which request opened the stream; it decides how the stream may begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOrigin {
    /// `POST /threads/{thread_id}/runs`: starts with `thread.run.created`.
    CreateRun,
    /// `POST /threads/runs`: starts with `thread.created`.
    CreateThreadAndRun,
    /// `POST .../submit_tool_outputs`: starts with `thread.run.step.completed`.
    SubmitToolOutputs,
}

impl StreamOrigin {
    /// The origin of a stream answering `operation_id` (a stream of anything else is judged as a
    /// run stream).
    pub fn of_operation(operation_id: Option<&str>) -> StreamOrigin {
        match operation_id {
            Some("createThreadAndRun") => StreamOrigin::CreateThreadAndRun,
            Some("submitToolOuputsToRun") => StreamOrigin::SubmitToolOutputs,
            _ => StreamOrigin::CreateRun,
        }
    }
}

/// One place where the stream breaks the grammar.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Position of the event in the stream (0-based); the event count for the stream's end.
    pub index: usize,
    /// The event's name (`end of stream` for problems at the end).
    pub event: String,
    /// What is wrong, in words.
    pub message: String,
}

/// Where the run is, as far as the stream has told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing about the run yet.
    Start,
    /// A submit stream's tool step completed; `thread.run.queued` comes next.
    Resumed,
    Created,
    Queued,
    InProgress,
    Cancelling,
    /// The run's final event (or `error`) was sent; only `done` may follow.
    Ended,
    /// `done` was sent; nothing may follow.
    Done,
}

#[derive(Debug, Clone)]
struct OpenStep {
    id: String,
    tool_calls: bool,
    message_id: Option<String>,
    in_progress: bool,
}

#[derive(Debug, Clone)]
struct OpenMessage {
    id: String,
    in_progress: bool,
}

/// Checks the order of `events`; every violation found (cascades after the first are likely).
pub fn check_grammar(events: &[SseEvent], origin: StreamOrigin) -> Vec<Violation> {
    let mut checker = Checker {
        origin,
        phase: Phase::Start,
        run_id: None,
        thread_id: None,
        step: None,
        message: None,
        violations: Vec::new(),
    };
    for (index, event) in events.iter().enumerate() {
        if checker.phase == Phase::Done {
            checker.violate(
                index,
                &event.event,
                "an event after `done`, which must be the last",
            );
            break;
        }
        checker.event(index, event);
    }
    if checker.phase != Phase::Done {
        let message = "the stream does not end with `event: done` / `data: [DONE]`";
        checker.violate(events.len(), "end of stream", message);
    }
    checker.violations
}

struct Checker {
    origin: StreamOrigin,
    phase: Phase,
    run_id: Option<String>,
    thread_id: Option<String>,
    step: Option<OpenStep>,
    message: Option<OpenMessage>,
    violations: Vec<Violation>,
}

/// A string field of an event's data.
fn field<'a>(event: &'a SseEvent, pointer: &str) -> Option<&'a str> {
    event.json.as_ref()?.pointer(pointer)?.as_str()
}

impl Checker {
    fn violate(&mut self, index: usize, event: &str, message: &str) {
        self.violations.push(Violation {
            index,
            event: event.to_owned(),
            message: message.to_owned(),
        });
    }

    fn event(&mut self, index: usize, event: &SseEvent) {
        let name = event.event.as_str();
        match name {
            "done" => {
                if event.data != "[DONE]" {
                    self.violate(index, name, "the data of `done` must be `[DONE]`");
                }
                if self.phase != Phase::Ended {
                    self.violate(index, name, "`done` before the run's final event (`thread.run.requires_action`, `.completed`, `.incomplete`, `.failed`, `.cancelled`, `.expired`) or an `error` event");
                }
                self.phase = Phase::Done;
                return;
            }
            _ if self.phase == Phase::Ended => {
                let message = "only `done` may follow the run's final event or an `error` event";
                self.violate(index, name, message);
                return;
            }
            "error" => {
                self.phase = Phase::Ended;
                return;
            }
            _ => {}
        }
        if let Some(rest) = name.strip_prefix("thread.run.step.") {
            self.step_event(index, event, rest);
        } else if let Some(rest) = name.strip_prefix("thread.message.") {
            self.message_event(index, event, rest);
        } else if let Some(rest) = name.strip_prefix("thread.run.") {
            self.run_event(index, event, rest);
        } else if name == "thread.created" {
            if index != 0 || self.origin != StreamOrigin::CreateThreadAndRun {
                let message = "`thread.created` only opens a createThreadAndRun stream";
                self.violate(index, name, message);
            }
            self.thread_id = field(event, "/id").map(str::to_owned);
        } else {
            self.violate(index, name, "not an event of the Assistants API");
        }
    }

    fn expect_status(&mut self, index: usize, event: &SseEvent, allowed: &[&str]) {
        let status = field(event, "/status");
        if !status.is_some_and(|status| allowed.contains(&status)) {
            let message = format!(
                "data.status is {}, expected {}",
                status.map_or("absent".to_owned(), |s| format!("`{s}`")),
                allowed
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
            self.violate(index, &event.event, &message);
        }
    }

    fn same_run(&mut self, index: usize, event: &SseEvent, pointer: &str) {
        let Some(id) = field(event, pointer) else {
            return;
        };
        match &self.run_id {
            None => self.run_id = Some(id.to_owned()),
            Some(run) if run != id => {
                let message = format!("belongs to run `{id}`, but this stream is run `{run}`'s");
                self.violate(index, &event.event, &message);
            }
            Some(_) => {}
        }
    }

    fn run_event(&mut self, index: usize, event: &SseEvent, what: &str) {
        let name = event.event.clone();
        self.same_run(index, event, "/id");
        if let (Some(thread), Some(given)) = (&self.thread_id, field(event, "/thread_id")) {
            if thread != given {
                let message = format!("run of thread `{given}` in thread `{thread}`'s stream");
                self.violate(index, &name, &message);
            }
        }
        let first_event = match self.origin {
            StreamOrigin::CreateRun => 0,
            StreamOrigin::CreateThreadAndRun => 1,
            StreamOrigin::SubmitToolOutputs => usize::MAX,
        };
        use Phase::*;
        let (allowed_from, statuses, next): (&[Phase], &[&str], Phase) = match what {
            "created" => (&[Start], &["queued"], Created),
            "queued" => (&[Created, Resumed], &["queued"], Queued),
            "in_progress" => (&[Queued], &["in_progress"], InProgress),
            "requires_action" => (&[InProgress], &["requires_action"], Ended),
            // OpenAI sent a run that ended `incomplete` as `thread.run.completed` (§3.4 item 23)
            "completed" => (&[InProgress], &["completed", "incomplete"], Ended),
            "incomplete" => (&[InProgress], &["incomplete"], Ended),
            "failed" => (&[Queued, InProgress, Cancelling], &["failed"], Ended),
            "cancelling" => (&[Queued, InProgress], &["cancelling"], Cancelling),
            "cancelled" => (&[Queued, InProgress, Cancelling], &["cancelled"], Ended),
            "expired" => (&[Queued, InProgress, Cancelling], &["expired"], Ended),
            _ => {
                self.violate(index, &name, "not an event of the Assistants API");
                return;
            }
        };
        if what == "created" && index != first_event {
            let message = match self.origin {
                StreamOrigin::SubmitToolOutputs => {
                    "a submit_tool_outputs stream continues a run; it has no `thread.run.created`"
                        .to_owned()
                }
                _ => format!("`thread.run.created` must be event #{first_event} of this stream"),
            };
            self.violate(index, &name, &message);
        }
        if !allowed_from.contains(&self.phase) {
            let message = format!("not allowed here (the run is {})", describe(self.phase));
            self.violate(index, &name, &message);
        }
        self.expect_status(index, event, statuses);
        if matches!(what, "requires_action" | "completed" | "incomplete") {
            if let Some(message) = &self.message {
                let text = format!("the run ended while message `{}` is still open", message.id);
                self.violate(index, &name, &text);
            }
            match (&self.step, what) {
                (Some(step), "requires_action") if !step.tool_calls => {
                    let text = format!("requires_action while message step `{}` is open", step.id);
                    self.violate(index, &name, &text);
                }
                (Some(step), "completed" | "incomplete") => {
                    let text = format!("the run ended while step `{}` is still open", step.id);
                    self.violate(index, &name, &text);
                }
                _ => {}
            }
        }
        self.phase = next;
    }
}

fn describe(phase: Phase) -> &'static str {
    match phase {
        Phase::Start => "not created yet",
        Phase::Resumed => "resuming after tool outputs (expecting `thread.run.queued`)",
        Phase::Created => "created (expecting `thread.run.queued`)",
        Phase::Queued => "queued (expecting `thread.run.in_progress`)",
        Phase::InProgress => "in progress",
        Phase::Cancelling => "cancelling",
        Phase::Ended => "over",
        Phase::Done => "done",
    }
}
