//! Polling steps (`poll: {pointer, until}`): runs are asynchronous, so a step repeats its request
//! until the value at `pointer` is one of `until`, the answer is not a 2xx JSON body (judged at
//! once: an error is an answer), or the step's deadline passes. Every intermediate answer is
//! validated against the schema, each distinct problem reported once; the last answer is
//! judged like any step's. A deadline that passes is a FAIL that shows the last answer.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::check::{judge, schema_findings, Target};
use crate::client::{send, PreparedRequest, Received};
use crate::exec::StepContext;
use crate::fixture::{Poll, Step};
use crate::results::{Finding, FindingKind};
use crate::vars::Vars;
use crate::verdict::Verdict;

/// The first pause between two polls; each later one doubles, up to [`MAX_INTERVAL`].
pub const FIRST_INTERVAL: Duration = Duration::from_millis(100);
/// The longest pause between two polls.
pub const MAX_INTERVAL: Duration = Duration::from_secs(1);

/// What a polling step produced.
pub struct PollOutcome {
    /// The last response, `None` when even the first request failed in transport.
    pub received: Option<Received>,
    /// Every problem found.
    pub findings: Vec<Finding>,
}

/// Whether polling may stop at this answer. `until` values may be variables (`${vs}`), for
/// eventually consistent lists polled until a new object shows up.
fn settled(poll: &Poll, received: &Received, vars: &Vars) -> Result<(), Option<Value>> {
    if !(200..300).contains(&received.status) {
        return Ok(());
    }
    let Ok(body) = serde_json::from_slice::<Value>(&received.body) else {
        return Ok(());
    };
    match body.pointer(&poll.pointer) {
        Some(value)
            if poll.until.iter().any(|wanted| {
                let wanted = vars.substitute(wanted).unwrap_or_else(|_| wanted.clone());
                same(&wanted, value)
            }) =>
        {
            Ok(())
        }
        other => Err(other.cloned()),
    }
}

/// JSON equality with numbers compared by value (`1 == 1.0`), as the body matchers do.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Repeats `request` until it settles or `deadline`, then judges the last answer.
pub async fn exchange(
    context: &StepContext<'_>,
    request: &PreparedRequest,
    (step, poll): (&Step, &Poll),
    target: &Target,
    vars: &mut Vars,
    deadline: Instant,
) -> PollOutcome {
    let (client, catalog) = (context.client, context.catalog);
    let started = Instant::now();
    let mut interval = FIRST_INTERVAL;
    let mut polls = 0usize;
    let mut along_the_way: Vec<Finding> = Vec::new();
    loop {
        polls += 1;
        let received = match send(client, request).await {
            Ok(received) => received,
            Err(reason) => {
                let message = format!("transport error on poll {polls}: {reason}");
                let mut findings = along_the_way;
                findings.push(Finding::new(
                    FindingKind::Transport,
                    Verdict::Error,
                    message,
                ));
                return PollOutcome {
                    received: None,
                    findings,
                };
            }
        };
        let value = match settled(poll, &received, vars) {
            Ok(()) => {
                let mut findings = judge(step, target, &received, vars, catalog);
                merge(&mut findings, along_the_way);
                return PollOutcome {
                    received: Some(received),
                    findings,
                };
            }
            Err(value) => value,
        };
        if let (Some(operation_id), Ok(body)) = (
            target.operation_id.as_deref(),
            serde_json::from_slice::<Value>(&received.body),
        ) {
            let found = schema_findings(catalog, operation_id, received.status, &body);
            for mut finding in found {
                finding.message = format!("poll {polls}: {}", finding.message);
                let already = along_the_way
                    .iter()
                    .any(|seen| seen.pointer == finding.pointer && same_problem(seen, &finding));
                if !already {
                    along_the_way.push(finding);
                }
            }
        }
        let now = Instant::now();
        if now + interval > deadline {
            let mut findings = judge(step, target, &received, vars, catalog);
            let shown = value.map_or("absent".to_owned(), |value| value.to_string());
            let until: Vec<String> = poll.until.iter().map(Value::to_string).collect();
            let message = format!(
                "polling timed out after {:.1} s and {polls} requests: {} is {shown}, never one of [{}]; the last answer is shown",
                (now - started).as_secs_f64(),
                poll.pointer,
                until.join(", ")
            );
            findings.insert(0, Finding::new(FindingKind::Poll, Verdict::Fail, message));
            merge(&mut findings, along_the_way);
            return PollOutcome {
                received: Some(received),
                findings,
            };
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(MAX_INTERVAL);
    }
}

/// Two findings say the same thing (ignoring which poll found it).
fn same_problem(a: &Finding, b: &Finding) -> bool {
    let strip = |text: &str| {
        text.split_once(": ")
            .map_or(text, |(_, rest)| rest)
            .to_owned()
    };
    strip(&a.message) == strip(&b.message)
}

/// Adds the intermediate polls' findings that the final judgement did not already report.
fn merge(findings: &mut Vec<Finding>, along_the_way: Vec<Finding>) {
    for finding in along_the_way {
        let duplicate = findings
            .iter()
            .any(|seen| seen.pointer == finding.pointer && same_problem(seen, &finding));
        if !duplicate {
            findings.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Received {
        Received {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: serde_json::to_vec(&body).unwrap(),
            received_at: 0,
        }
    }

    fn poll() -> Poll {
        Poll {
            pointer: "/status".into(),
            until: vec![json!("completed"), json!("failed")],
        }
    }

    #[test]
    fn polling_settles_on_a_listed_value_or_any_non_success() {
        let vars = Vars::for_scenario("m");
        assert_eq!(
            settled(&poll(), &answer(200, json!({"status": "completed"})), &vars),
            Ok(())
        );
        assert_eq!(
            settled(&poll(), &answer(404, json!({"error": {}})), &vars),
            Ok(())
        );
        assert_eq!(
            settled(&poll(), &answer(200, json!({"status": "queued"})), &vars),
            Err(Some(json!("queued")))
        );
        assert_eq!(settled(&poll(), &answer(200, json!({})), &vars), Err(None));
    }

    #[test]
    fn until_values_may_be_variables() {
        let mut vars = Vars::for_scenario("m");
        vars.set("newest", json!("vs_abc"));
        let poll = Poll {
            pointer: "/first_id".into(),
            until: vec![json!("${newest}")],
        };
        assert_eq!(
            settled(&poll, &answer(200, json!({"first_id": "vs_abc"})), &vars),
            Ok(())
        );
        assert_eq!(
            settled(&poll, &answer(200, json!({"first_id": "vs_old"})), &vars),
            Err(Some(json!("vs_old")))
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same(&json!(1), &json!(1.0)));
        assert!(!same(&json!("1"), &json!(1)));
    }
}
