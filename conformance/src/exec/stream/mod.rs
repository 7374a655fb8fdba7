//! Streaming steps (`stream: true`, or a body with `stream: true`): the answer is read as
//! server-sent events and judged as a stream: Content-Type `text/event-stream`, framing and
//! compact JSON (NON-STRICT when they differ), each event's data against the schema branch its
//! name selects, the event grammar and the final `done` (FAIL), and the scenario's
//! `expect.events`, and that each message's deltas add up to its final event (FAIL). Stream
//! problems are findings of kind [`FindingKind::Stream`].

mod accumulate;
pub mod expect;
pub mod framing;
pub mod grammar;
pub mod read;

pub use accumulate::delta_disagreements;
use tokio::time::Instant;

use crate::catalog::Catalog;
use crate::check::{
    check_always_sent_headers, citation_findings, cooperative, judge, judge_status, media_type,
    StatusJudgement, Target,
};
use crate::client::{build_request, describe_transport_error, now_unix, PreparedRequest, Received};
use crate::exec::StepContext;
use crate::fixture::Step;
use crate::results::{Finding, FindingKind};
use crate::vars::Vars;
use crate::verdict::Verdict;
use grammar::{check_grammar, StreamOrigin};
use read::{read_events, ReadStream};

pub use crate::spec::KNOWN_EVENTS;

/// Findings of one kind kept per step; the rest are counted, so a stream of a thousand bad
/// deltas stays readable.
const MAX_FINDINGS_PER_KIND: usize = 12;

/// What a streaming step produced: the response as received (the SSE text as its body) and the
/// findings.
pub struct StreamOutcome {
    /// The response, `None` on a transport error before any answer.
    pub received: Option<Received>,
    /// Every problem found.
    pub findings: Vec<Finding>,
}

/// Sends `request` and judges the answer as a stream (or, when the server answered JSON, e.g.
/// with an error, as JSON).
pub async fn exchange(
    context: &StepContext<'_>,
    request: &PreparedRequest,
    step: &Step,
    target: &Target,
    vars: &mut Vars,
    deadline: Instant,
) -> StreamOutcome {
    let (client, catalog) = (context.client, context.catalog);
    let transport = |message: String| StreamOutcome {
        received: None,
        findings: vec![Finding::new(
            FindingKind::Transport,
            Verdict::Error,
            format!("transport error: {message}"),
        )],
    };
    let builder = match build_request(client, request) {
        Ok(builder) => builder,
        Err(message) => return transport(message),
    };
    let response = match tokio::time::timeout_at(deadline, builder.send()).await {
        Err(_) => return transport("no answer before the step's deadline".into()),
        Ok(Err(err)) => return transport(describe_transport_error(&err)),
        Ok(Ok(response)) => response,
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let is_stream = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("text/event-stream")
        });
    if !is_stream {
        let body = match tokio::time::timeout_at(deadline, response.bytes()).await {
            Err(_) => {
                return transport("the body did not arrive before the step's deadline".into())
            }
            Ok(Err(err)) => return transport(describe_transport_error(&err)),
            Ok(Ok(body)) => body.to_vec(),
        };
        let received = Received {
            status,
            headers,
            body,
            received_at: now_unix(),
        };
        let mut findings = judge(step, target, &received, vars, catalog);
        if (200..300).contains(&status) && step.expected_status().accepts(status) {
            let message = format!(
                "a streamed request must be answered with Content-Type text/event-stream, got {:?}",
                media_type(&received)
            );
            findings.push(Finding::new(
                FindingKind::ContentType,
                Verdict::Fail,
                message,
            ));
        }
        return StreamOutcome {
            received: Some(received),
            findings,
        };
    }
    let read = read_events(response, deadline).await;
    let received = Received {
        status,
        headers,
        body: read.raw.clone().into_bytes(),
        received_at: now_unix(),
    };
    let findings = judge_stream(step, target, &received, &read, vars, catalog);
    StreamOutcome {
        received: Some(received),
        findings,
    }
}

/// Judges a stream that was read: status, reading problems, framing, event schemas, grammar,
/// expected events, headers.
pub fn judge_stream(
    step: &Step,
    target: &Target,
    received: &Received,
    read: &ReadStream,
    vars: &mut Vars,
    catalog: &dyn Catalog,
) -> Vec<Finding> {
    match judge_status(&step.expected_status(), &target.route, received, None) {
        StatusJudgement::Expected => {}
        StatusJudgement::Wrong(finding) | StatusJudgement::Unimplemented(finding) => {
            return vec![finding]
        }
    }
    let mut findings = Vec::new();
    if let Some(problem) = &read.problem {
        findings.push(Finding::new(
            FindingKind::Stream,
            Verdict::Fail,
            problem.clone(),
        ));
    }
    for difference in framing::framing_differences(&read.raw, &read.events) {
        findings.push(Finding::new(
            FindingKind::Stream,
            Verdict::NonStrict,
            difference,
        ));
    }
    let mut schema = Vec::new();
    let mut citations = Vec::new();
    for (index, event) in read.events.iter().enumerate() {
        match event.payload() {
            Err(message) => schema.push(
                Finding::new(
                    FindingKind::Stream,
                    Verdict::Fail,
                    format!("event #{index}: {message}"),
                )
                .at(format!("/events/{index}/data")),
            ),
            Ok(data) => {
                citations.extend(citation_findings(&data, &format!("/events/{index}/data")));
                for error in catalog.validate_stream_event(&event.event, &data) {
                    let pointer = format!("/events/{index}/data{}", error.instance_path);
                    let message = format!(
                        "event #{index} `{}`: schema error at {}: {} (schema path {})",
                        event.event,
                        if error.instance_path.is_empty() {
                            "/"
                        } else {
                            &error.instance_path
                        },
                        error.message,
                        error.schema_path
                    );
                    schema.push(
                        Finding::new(FindingKind::Schema, Verdict::Fail, message).at(pointer),
                    );
                }
            }
        }
    }
    push_capped(&mut findings, schema);
    push_capped(&mut findings, citations);
    let origin = StreamOrigin::of_operation(target.operation_id.as_deref());
    let grammar = check_grammar(&read.events, origin)
        .into_iter()
        .map(|violation| {
            let message = format!(
                "event grammar: event #{} `{}`: {}",
                violation.index, violation.event, violation.message
            );
            Finding::new(FindingKind::Stream, Verdict::Fail, message)
        })
        .collect();
    push_capped(&mut findings, grammar);
    let disagreements = accumulate::delta_disagreements(&read.events)
        .into_iter()
        .map(|violation| {
            let message = format!(
                "deltas: event #{} `{}`: {}",
                violation.index, violation.event, violation.message
            );
            Finding::new(FindingKind::Stream, Verdict::Fail, message)
        })
        .collect();
    push_capped(&mut findings, disagreements);
    if let Some(expected) = &step.expect.events {
        let matched = expect::match_events(expected, &read.events, vars, received.received_at);
        push_capped(&mut findings, cooperative(step, matched));
    }
    check_always_sent_headers(received, &mut findings);
    findings
}

/// Appends at most [`MAX_FINDINGS_PER_KIND`] findings and one that counts the rest (with the
/// worst verdict of those left out, so capping never hides a failure).
fn push_capped(findings: &mut Vec<Finding>, mut more: Vec<Finding>) {
    if more.len() <= MAX_FINDINGS_PER_KIND {
        findings.extend(more);
        return;
    }
    let rest = more.split_off(MAX_FINDINGS_PER_KIND);
    let verdict = Verdict::worst(rest.iter().map(|finding| finding.verdict));
    let severity = rest.iter().filter_map(|finding| finding.severity).max();
    let kind = rest[0].kind;
    findings.extend(more);
    let message = format!("… and {} more like the above", rest.len());
    findings.push(Finding {
        severity,
        ..Finding::new(kind, verdict, message)
    });
}
