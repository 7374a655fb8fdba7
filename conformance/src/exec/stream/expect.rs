//! Matching a stream against the scenario's `expect.events`: items are taken in order, each
//! quantified item greedily takes every consecutive event of its name (so the number of deltas
//! never matters), each matched event's data is compared with the item's `data` using the body
//! matchers, and captures are taken as soon as their event matches, so later items can use them.

use serde_json::Value;

use crate::check::{capture, compare_recorded};
use crate::fixture::{ExpectedEvent, Repeat};
use crate::results::{Finding, FindingKind};
use crate::sse::SseEvent;
use crate::vars::Vars;
use crate::verdict::Verdict;

/// Compares `events` with `expected`, capturing into `vars`; findings in stream order.
pub fn match_events(
    expected: &[ExpectedEvent],
    events: &[SseEvent],
    vars: &mut Vars,
    now: i64,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut next = 0;
    for item in expected {
        let mut taken = 0;
        while next < events.len() && events[next].event == item.name {
            check_data(item, next, &events[next], vars, now, &mut findings);
            next += 1;
            taken += 1;
            if !item.repeat.may_repeat() {
                break;
            }
        }
        if taken == 0 && !item.repeat.may_be_absent() {
            let got = events
                .get(next)
                .map_or("the end of the stream".to_owned(), |e| {
                    format!("`{}`", e.event)
                });
            let message = format!(
                "expected event #{next} to be `{}`, got {got}; received: {}",
                item.label(),
                summary(events)
            );
            findings.push(Finding::new(FindingKind::Stream, Verdict::Fail, message));
            return findings;
        }
        if item.repeat == Repeat::One && taken == 1 && !item.capture.is_empty() {
            let data = events[next - 1].json.clone().unwrap_or(Value::Null);
            let mut capture_findings = Vec::new();
            capture(&item.capture, &data, vars, &mut capture_findings);
            for mut finding in capture_findings {
                finding.message =
                    format!("event #{} `{}`: {}", next - 1, item.name, finding.message);
                findings.push(finding);
            }
        }
    }
    if let Some(extra) = events.get(next) {
        let message = format!(
            "unexpected event #{next} `{}` after every expected one; received: {}",
            extra.event,
            summary(events)
        );
        findings.push(Finding::new(FindingKind::Stream, Verdict::Fail, message));
    }
    findings
}

fn check_data(
    item: &ExpectedEvent,
    index: usize,
    event: &SseEvent,
    vars: &Vars,
    now: i64,
    findings: &mut Vec<Finding>,
) {
    let Some(expected) = &item.data else {
        return;
    };
    let actual = match event.payload() {
        Ok(value) => value,
        Err(message) => {
            findings.push(Finding::new(FindingKind::Stream, Verdict::Fail, message));
            return;
        }
    };
    let mut found = Vec::new();
    compare_recorded(
        expected,
        &actual,
        &format!("/events/{index}/data"),
        vars,
        now,
        &mut found,
    );
    for mut finding in found {
        finding.message = format!("event #{index} `{}`: {}", event.event, finding.message);
        findings.push(finding);
    }
}

/// The event names of a stream with runs collapsed: `thread.run.created, thread.message.delta ×12, done`.
pub fn summary(events: &[SseEvent]) -> String {
    let mut parts: Vec<(String, usize)> = Vec::new();
    for event in events {
        match parts.last_mut() {
            Some((name, count)) if *name == event.event => *count += 1,
            _ => parts.push((event.event.clone(), 1)),
        }
    }
    if parts.is_empty() {
        return "no events".to_owned();
    }
    parts
        .into_iter()
        .map(|(name, count)| {
            if count == 1 {
                name
            } else {
                format!("{name} ×{count}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
