//! The faults: each one realistic way an implementation can get the API wrong, applied by the
//! proxy to what it forwards or returns, with the scenarios (`--filter` substrings) whose run
//! must FAIL because of it. Benign changes are listed apart: no scenario may FAIL under them.

mod api;
mod benign;
mod runs;
mod storage;

use super::proxy::{Answer, Forwarded};

/// One fault (or benign change) the proxy applies.
pub(super) struct Fault {
    /// Names the fault in the test's output.
    pub name: &'static str,
    /// The scenarios run under it (`--filter` substrings); empty runs all.
    pub scenarios: &'static [&'static str],
    /// Edits each request before it is forwarded.
    pub request: fn(&mut Forwarded),
    /// Edits each answer before it is returned.
    pub response: fn(&Forwarded, &mut Answer),
}

/// Leaves a request as it is.
pub(super) fn keep_request(_: &mut Forwarded) {}

/// Leaves an answer as it is.
pub(super) fn keep_answer(_: &Forwarded, _: &mut Answer) {}

/// A fault that changes answers.
pub(super) const fn answers(
    name: &'static str,
    scenarios: &'static [&'static str],
    response: fn(&Forwarded, &mut Answer),
) -> Fault {
    Fault {
        name,
        scenarios,
        request: keep_request,
        response,
    }
}

/// A fault that changes requests (what a server that ignores a parameter does).
pub(super) const fn requests(
    name: &'static str,
    scenarios: &'static [&'static str],
    request: fn(&mut Forwarded),
) -> Fault {
    Fault {
        name,
        scenarios,
        request,
        response: keep_answer,
    }
}

/// The proxy passing everything through unchanged (the baseline: every scenario passes).
pub(super) static TRANSPARENT: Fault = answers("transparent", &[], keep_answer);

/// Every fault the harness must catch.
pub(super) fn all() -> Vec<&'static Fault> {
    api::FAULTS
        .iter()
        .chain(storage::FAULTS)
        .chain(runs::FAULTS)
        .collect()
}

/// Changes no client may care about.
pub(super) fn benign() -> Vec<&'static Fault> {
    benign::CHANGES.iter().collect()
}
