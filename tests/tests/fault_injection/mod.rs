//! Fault injection: the harness against the reference server through a proxy that applies one
//! realistic fault at a time (wrong values, ignored parameters, broken streams, leaking tenants,
//! ...). Every fault must make at least one of its scenarios FAIL, and benign changes (key
//! order, compact JSON, extra fields, CRLF in streams, missing informational headers) must make
//! none FAIL. The test prints the caught fraction and names every fault that slipped through.

mod faults;
mod mutate;
mod proxy;

use std::time::Duration;

use conformance::results::Results;
use conformance::spec::Spec;
use conformance::{run, RunConfig, Verdict};
use e2e::workspace_root;

use faults::Fault;

/// Faults a client would notice but survive (deviations): caught only under `--strict`, which
/// the run through the proxy then uses. Every other fault must FAIL without it.
const DEVIATIONS: [&str; 2] = ["function tools lose strict", "error message reworded"];

/// Runs the scenarios of `fault` through a proxy applying it; `tenant` makes the keys unique,
/// so objects a faulty run leaves behind never reach another run's tenant-wide lists.
async fn run_through(upstream: &str, fault: &'static Fault, tenant: usize, spec: &Spec) -> Results {
    let proxy = proxy::start(upstream, fault).await;
    let mut config = RunConfig::new(&proxy.base_url, workspace_root().join("fixtures"));
    config.api_key = Some(format!("sk-fault-{tenant}"));
    config.second_api_key = Some(format!("sk-fault-{tenant}-b"));
    config.filters = fault.scenarios.iter().map(|s| s.to_string()).collect();
    config.poll_timeout = Some(Duration::from_secs(10));
    config.strict = DEVIATIONS.contains(&fault.name);
    run(&config, spec).await.expect("the harness runs")
}

fn with_verdict(results: &Results, verdicts: &[Verdict]) -> Vec<String> {
    results
        .scenarios
        .iter()
        .filter(|scenario| verdicts.contains(&scenario.verdict))
        .map(|scenario| format!("{} {}", scenario.verdict, scenario.id))
        .collect()
}

/// Runs every fault and benign change; returns (caught faults, faults, problems).
pub(crate) async fn check_faults(upstream: &str, spec: &Spec) -> (usize, usize, Vec<String>) {
    let mut problems = Vec::new();
    let baseline = run_through(upstream, &faults::TRANSPARENT, 0, spec).await;
    let not_passing = with_verdict(
        &baseline,
        &[
            Verdict::Fail,
            Verdict::Error,
            Verdict::NonStrict,
            Verdict::Unimplemented,
            Verdict::Skipped,
        ],
    );
    if !not_passing.is_empty() {
        problems.push(format!("through the transparent proxy: {not_passing:?}"));
    }
    for (index, change) in faults::benign().into_iter().enumerate() {
        let results = run_through(upstream, change, 100 + index, spec).await;
        let failed = with_verdict(&results, &[Verdict::Fail, Verdict::Error]);
        if !failed.is_empty() {
            problems.push(format!(
                "benign change `{}` FAILed: {failed:?}",
                change.name
            ));
        }
    }
    let all = faults::all();
    let mut caught = 0;
    for (index, fault) in all.iter().enumerate() {
        let results = run_through(upstream, fault, 200 + index, spec).await;
        let failed = with_verdict(&results, &[Verdict::Fail]);
        println!(
            "fault `{}`: {}",
            fault.name,
            if failed.is_empty() {
                "NOT CAUGHT".to_owned()
            } else {
                format!("caught by {failed:?}")
            }
        );
        if failed.is_empty() {
            let verdicts = with_verdict(
                &results,
                &[
                    Verdict::Pass,
                    Verdict::NonStrict,
                    Verdict::Error,
                    Verdict::Skipped,
                    Verdict::Unimplemented,
                ],
            );
            problems.push(format!(
                "fault `{}` slipped through: {verdicts:?}",
                fault.name
            ));
        } else {
            caught += 1;
        }
    }
    (caught, all.len(), problems)
}
