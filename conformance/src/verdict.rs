//! Verdicts of steps and scenarios, ordered from best to worst so that a scenario's verdict is
//! the worst of its steps and an operation's the worst of its scenarios.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The outcome of a step, a scenario or an operation. The declaration order is the severity
/// order used by [`Verdict::worst`]: later variants are worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Verdict {
    /// Status, content type, schema and recorded body all match.
    #[serde(rename = "PASS")]
    Pass,
    /// Only deviations (without `--strict`) or cosmetic findings: clients keep working.
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    /// Failed, but listed in the expected-failures file with a reason.
    #[serde(rename = "XFAIL")]
    Xfail,
    /// Not run: filtered out, or a variable it needs was never captured.
    #[serde(rename = "SKIPPED")]
    Skipped,
    /// Listed as an expected failure but passed: the list is stale.
    #[serde(rename = "XPASS")]
    Xpass,
    /// The route is missing, by evidence: 405 or 501, or a 404 on a path naming no object or
    /// whose body is not about a missing object.
    #[serde(rename = "UNIMPLEMENTED")]
    Unimplemented,
    /// A breaking finding (or, under `--strict`, a deviation).
    #[serde(rename = "FAIL")]
    Fail,
    /// The harness could not run the step (transport error, unknown variable, ...).
    #[serde(rename = "ERROR")]
    Error,
}

impl Verdict {
    /// Every verdict, best first; used to print totals in a fixed order.
    pub const ALL: [Verdict; 8] = [
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Xfail,
        Verdict::Skipped,
        Verdict::Xpass,
        Verdict::Unimplemented,
        Verdict::Fail,
        Verdict::Error,
    ];

    /// The worst of several verdicts; `Pass` for none.
    pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().max().unwrap_or(Verdict::Pass)
    }

    /// Whether this verdict lets the run exit 0.
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            Verdict::Pass | Verdict::NonStrict | Verdict::Xfail | Verdict::Skipped
        )
    }

    /// Whether the implementation got this wrong (what an expected-failures entry excuses).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::Unimplemented | Verdict::Fail | Verdict::Error
        )
    }

    /// Whether the implementation answered conformantly.
    pub fn is_passing(self) -> bool {
        matches!(self, Verdict::Pass | Verdict::NonStrict)
    }

    /// The label used in every report, e.g. `NON-STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Xfail => "XFAIL",
            Verdict::Skipped => "SKIPPED",
            Verdict::Xpass => "XPASS",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How much a finding matters to a client of the implementation. Verdicts follow from it: by
/// default only breaking findings FAIL; `--strict` fails deviations too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// An expectation only a cooperative model meets (it searched sensibly, it cited): never the
    /// implementation's failure, reported apart.
    Model,
    /// Formatting, key order, extra keys, headers: no client notices.
    Cosmetic,
    /// Works, but differs where a user could notice: error wording, an optional field absent, an
    /// extra enum value.
    Deviation,
    /// An SDK raises or a client gets wrong or lost data: status, types, required fields, ids,
    /// lost or duplicated list items, stream grammar, isolation.
    Breaking,
}

impl Severity {
    /// Every severity, worst first, as reports rank them.
    pub const RANKED: [Severity; 4] = [
        Severity::Breaking,
        Severity::Deviation,
        Severity::Cosmetic,
        Severity::Model,
    ];

    /// The verdict a finding of this severity implies; `strict` makes deviations FAIL.
    pub fn verdict(self, strict: bool) -> Verdict {
        match self {
            Severity::Breaking => Verdict::Fail,
            Severity::Deviation if strict => Verdict::Fail,
            Severity::Deviation | Severity::Cosmetic => Verdict::NonStrict,
            Severity::Model => Verdict::Pass,
        }
    }

    /// The label used in reports, e.g. `breaking`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Model => "model",
            Severity::Cosmetic => "cosmetic",
            Severity::Deviation => "deviation",
            Severity::Breaking => "breaking",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Applies the expected-failures list to a scenario's raw verdict: a listed failure becomes
/// XFAIL, a listed scenario that did not fail becomes XPASS (unless it was skipped).
pub fn apply_expectation(raw: Verdict, expected_to_fail: bool) -> Verdict {
    match (expected_to_fail, raw) {
        (false, verdict) => verdict,
        (true, verdict) if verdict.is_failure() => Verdict::Xfail,
        (true, Verdict::Skipped) => Verdict::Skipped,
        (true, _) => Verdict::Xpass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(&[], Verdict::Pass)]
    #[case(&[Verdict::Pass, Verdict::NonStrict], Verdict::NonStrict)]
    #[case(&[Verdict::Pass, Verdict::Fail, Verdict::Skipped], Verdict::Fail)]
    #[case(&[Verdict::Unimplemented, Verdict::Skipped], Verdict::Unimplemented)]
    #[case(&[Verdict::Fail, Verdict::Error, Verdict::Pass], Verdict::Error)]
    #[case(&[Verdict::Pass, Verdict::Skipped], Verdict::Skipped)]
    fn worst_picks_the_most_severe(#[case] verdicts: &[Verdict], #[case] expected: Verdict) {
        assert_eq!(Verdict::worst(verdicts.iter().copied()), expected);
    }

    #[rstest]
    #[case(Verdict::Fail, true, Verdict::Xfail)]
    #[case(Verdict::Unimplemented, true, Verdict::Xfail)]
    #[case(Verdict::Error, true, Verdict::Xfail)]
    #[case(Verdict::Pass, true, Verdict::Xpass)]
    #[case(Verdict::NonStrict, true, Verdict::Xpass)]
    #[case(Verdict::Skipped, true, Verdict::Skipped)]
    #[case(Verdict::Fail, false, Verdict::Fail)]
    #[case(Verdict::Pass, false, Verdict::Pass)]
    fn expected_failures_become_xfail_or_xpass(
        #[case] raw: Verdict,
        #[case] listed: bool,
        #[case] expected: Verdict,
    ) {
        assert_eq!(apply_expectation(raw, listed), expected);
    }

    #[rstest]
    #[case(Verdict::Pass, true)]
    #[case(Verdict::NonStrict, true)]
    #[case(Verdict::Xfail, true)]
    #[case(Verdict::Skipped, true)]
    #[case(Verdict::Xpass, false)]
    #[case(Verdict::Unimplemented, false)]
    #[case(Verdict::Fail, false)]
    #[case(Verdict::Error, false)]
    fn only_conformant_or_excused_verdicts_are_ok(#[case] verdict: Verdict, #[case] ok: bool) {
        assert_eq!(verdict.is_ok(), ok);
    }

    #[rstest]
    #[case(Severity::Breaking, false, Verdict::Fail)]
    #[case(Severity::Deviation, false, Verdict::NonStrict)]
    #[case(Severity::Deviation, true, Verdict::Fail)]
    #[case(Severity::Cosmetic, true, Verdict::NonStrict)]
    #[case(Severity::Model, true, Verdict::Pass)]
    fn only_breaking_findings_fail_unless_strict(
        #[case] severity: Severity,
        #[case] strict: bool,
        #[case] expected: Verdict,
    ) {
        assert_eq!(severity.verdict(strict), expected);
    }

    #[test]
    fn labels_round_trip_through_serde() {
        for verdict in Verdict::ALL {
            let json = serde_json::to_string(&verdict).unwrap();
            assert_eq!(json, format!("\"{}\"", verdict.label()));
            assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), verdict);
        }
    }
}
