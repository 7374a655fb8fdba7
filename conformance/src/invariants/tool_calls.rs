//! Tool-call ids: unique within every `requires_action` and every tool_calls step, never shared
//! between two steps, and the same set in a run's `required_action` as in the tool_calls step
//! that made those calls, whether the step was polled, listed or streamed as deltas. Clients
//! answer each call by its id (`submit_tool_outputs`), so a duplicate or a mismatch makes a
//! call unanswerable.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::{kind, text};

/// What the scenario's answers showed about tool calls so far.
#[derive(Debug, Default)]
pub(crate) struct ToolCalls {
    /// Per run id: its last status and every distinct `required_action` round, in order.
    runs: HashMap<String, RunCalls>,
    /// Per step id: its calls as far as seen (full objects and accumulated deltas).
    steps: HashMap<String, StepCalls>,
    /// Per tool-call id: the step that made it.
    owner: HashMap<String, String>,
}

#[derive(Debug, Default)]
struct RunCalls {
    last_status: String,
    rounds: Vec<BTreeSet<String>>,
}

#[derive(Debug, Default)]
struct StepCalls {
    run_id: String,
    status: String,
    /// Call id and type by index in the step's `tool_calls`.
    calls: BTreeMap<u64, (String, String)>,
}

impl StepCalls {
    fn function_ids(&self) -> BTreeSet<String> {
        self.calls
            .values()
            .filter(|(id, kind)| kind == "function" && !id.is_empty())
            .map(|(id, _)| id.clone())
            .collect()
    }
}

type Found = Vec<(String, String)>;

impl ToolCalls {
    /// Takes in one API object (run, step or step delta) and reports what it contradicts.
    pub(crate) fn observe(&mut self, object: &Value, at: &str, found: &mut Found) {
        match kind(object) {
            "thread.run" => self.observe_run(object, at, found),
            "thread.run.step" => self.observe_step(object, at, found),
            "thread.run.step.delta" => self.observe_delta(object),
            _ => {}
        }
    }

    fn observe_run(&mut self, run: &Value, at: &str, found: &mut Found) {
        let run_id = text(run, "id").to_owned();
        let status = text(run, "status").to_owned();
        let calls = run
            .pointer("/required_action/submit_tool_outputs/tool_calls")
            .and_then(Value::as_array);
        let entry = self.runs.entry(run_id.clone()).or_default();
        entry.last_status = status.clone();
        let Some(calls) = calls.filter(|_| status == "requires_action") else {
            return;
        };
        let at = format!("{at}/required_action/submit_tool_outputs/tool_calls");
        let ids: Vec<String> = calls.iter().map(|c| text(c, "id").to_owned()).collect();
        if let Some(duplicate) = first_duplicate(&ids) {
            found.push((
                at.clone(),
                format!("tool calls: run {run_id} requires action on tool_call id {duplicate} more than once; each call needs its own id"),
            ));
        }
        let round: BTreeSet<String> = ids.into_iter().collect();
        if entry.rounds.last() != Some(&round) {
            entry.rounds.push(round.clone());
        }
        for (step_id, step) in &self.steps {
            let ids = step.function_ids();
            if step.run_id == run_id
                && step.status == "in_progress"
                && !ids.is_empty()
                && ids != round
            {
                found.push((
                    at.clone(),
                    format!("tool calls: run {run_id} requires action on {round:?} but its open step {step_id} made the calls {ids:?}"),
                ));
            }
        }
    }

    fn observe_step(&mut self, step: &Value, at: &str, found: &mut Found) {
        let step_id = text(step, "id").to_owned();
        let calls = step
            .pointer("/step_details/tool_calls")
            .and_then(Value::as_array);
        let entry = self.steps.entry(step_id.clone()).or_default();
        entry.run_id = text(step, "run_id").to_owned();
        entry.status = text(step, "status").to_owned();
        let Some(calls) = calls.filter(|calls| !calls.is_empty()) else {
            return;
        };
        let at = format!("{at}/step_details/tool_calls");
        let ids: Vec<String> = calls.iter().map(|c| text(c, "id").to_owned()).collect();
        if let Some(duplicate) = first_duplicate(&ids) {
            found.push((
                at.clone(),
                format!("tool calls: step {step_id} has tool_call id {duplicate} more than once"),
            ));
        }
        entry.calls = calls
            .iter()
            .enumerate()
            .map(|(index, call)| {
                let id = text(call, "id").to_owned();
                (index as u64, (id, text(call, "type").to_owned()))
            })
            .collect();
        self.judge_step(&step_id, &at, found);
    }

    /// A streamed step's calls arrive in deltas: the first chunk of each carries `index`, `id`
    /// and `type`; they are judged when the run asks for the outputs or the step completes.
    fn observe_delta(&mut self, delta: &Value) {
        let Some(calls) = delta
            .pointer("/delta/step_details/tool_calls")
            .and_then(Value::as_array)
        else {
            return;
        };
        let entry = self.steps.entry(text(delta, "id").to_owned()).or_default();
        for call in calls {
            let Some(index) = call.get("index").and_then(Value::as_u64) else {
                continue;
            };
            let slot = entry.calls.entry(index).or_default();
            if let Some(id) = call.get("id").and_then(Value::as_str) {
                slot.0 = id.to_owned();
            }
            if let Some(kind) = call.get("type").and_then(Value::as_str) {
                slot.1 = kind.to_owned();
            }
        }
    }

    fn judge_step(&mut self, step_id: &str, at: &str, found: &mut Found) {
        let Some(step) = self.steps.get(step_id) else {
            return;
        };
        for (id, _) in step.calls.values().filter(|(id, _)| !id.is_empty()) {
            let owner = self
                .owner
                .entry(id.clone())
                .or_insert_with(|| step_id.to_owned());
            if owner != step_id {
                found.push((
                    at.to_owned(),
                    format!("tool calls: tool_call id {id} of step {step_id} was already made by step {owner}"),
                ));
            }
        }
        let ids = step.function_ids();
        let Some(run) = self.runs.get(&step.run_id) else {
            return;
        };
        if ids.is_empty() || run.rounds.is_empty() {
            return;
        }
        let waiting = step.status == "in_progress" && run.last_status == "requires_action";
        let agrees = if waiting {
            run.rounds.last() == Some(&ids)
        } else {
            step.status != "completed" || run.rounds.contains(&ids)
        };
        if !agrees {
            let asked: BTreeSet<&String> = if waiting {
                run.rounds.last().into_iter().flatten().collect()
            } else {
                run.rounds.iter().flatten().collect()
            };
            let run_id = &step.run_id;
            found.push((
                at.to_owned(),
                format!("tool calls: step {step_id} made the function calls {ids:?}, but run {run_id} asked for the outputs of {asked:?}"),
            ));
        }
    }
}

fn first_duplicate(ids: &[String]) -> Option<&str> {
    let mut seen = BTreeSet::new();
    ids.iter()
        .find(|id| !seen.insert(id.as_str()))
        .map(String::as_str)
}
