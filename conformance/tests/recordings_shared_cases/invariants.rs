//! The checks on every answer (conformance/src/invariants) over OpenAI's recorded traffic: each
//! recording file replayed as one scenario's answers must pass them all, so none of them asks
//! for more than the real service does.

use conformance::fixture::Step;
use conformance::invariants::Observed;
use conformance::recordings::Body;
use conformance::recordings::{discover, read_file};
use conformance::results::{Phase, RequestRecord, ResponseRecord, StepResult};
use conformance::Verdict;

use super::shared_recordings;

fn answer(method: &str, url: &str, status: u16, body: &Body) -> Option<StepResult> {
    let (content_type, text) = match body {
        Body::Json(value) => ("application/json", value.to_string()),
        Body::Sse(text) => ("text/event-stream", text.clone()),
        _ => return None,
    };
    Some(StepResult {
        name: "recorded".into(),
        phase: Phase::Step,
        operation: None,
        verdict: Verdict::Pass,
        request: Some(RequestRecord {
            method: method.into(),
            url: url.into(),
            headers: vec![],
            body: None,
        }),
        response: Some(ResponseRecord {
            status,
            content_type: Some(content_type.into()),
            body: text,
            body_truncated: false,
        }),
        findings: vec![],
    })
}

#[test]
fn recorded_answers_meet_every_invariant() {
    let Some(dir) = shared_recordings() else {
        return;
    };
    let step: Step = serde_yaml::from_str("{name: recorded, url: /, expect: {status: 200}}")
        .expect("step parses");
    let mut reviewed = 0;
    let mut violations = Vec::new();
    for file in discover(&[dir]).expect("recordings are readable") {
        let Ok((_, exchanges)) = read_file(&file) else {
            continue;
        };
        let mut observed = Observed::default();
        for exchange in exchanges {
            let Some(mut result) = answer(
                &exchange.method,
                &exchange.url,
                exchange.status,
                &exchange.body,
            ) else {
                continue;
            };
            observed.review(&step, &mut result);
            reviewed += 1;
            violations.extend(result.findings.into_iter().map(|finding| {
                format!(
                    "{} #{}: {}",
                    file.display(),
                    exchange.index,
                    finding.message
                )
            }));
        }
    }
    eprintln!("reviewed {reviewed} recorded answers");
    assert!(
        reviewed > 100,
        "only {reviewed} recorded answers were reviewed"
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
