//! `check-recordings` over the real recorded traffic in `../shared/recordings` (relative to the
//! workspace root), when that folder exists: every covered response and stream event must be
//! valid against the pinned document plus our errata.

use std::path::PathBuf;

use conformance::recordings::{check_recordings, check_recordings_cli};
use conformance::spec::{default_cache_dir, Family, Spec, SpecSource};

fn shared_recordings() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/recordings");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} does not exist, so the real recordings are not checked",
            dir.display()
        );
        None
    }
}

fn spec() -> Spec {
    Spec::load(&SpecSource::Pinned {
        cache_dir: default_cache_dir(),
    })
    .expect("the pinned spec loads")
}

#[test]
fn every_covered_recorded_response_is_valid() {
    let Some(dir) = shared_recordings() else {
        return;
    };
    let spec = spec();
    let mut out = Vec::new();
    let code = check_recordings_cli(std::slice::from_ref(&dir), &spec, &mut out);
    let text = String::from_utf8(out).unwrap();
    eprintln!("{text}");
    assert_eq!(
        code,
        0,
        "check-recordings failed:\n{}",
        text.lines()
            .filter(|l| !l.starts_with("PASS"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    let report = check_recordings(&[dir], &spec).unwrap();
    // The recordings exercise every family; if one validated nothing, matching broke silently.
    for family in [
        Family::Assistants,
        Family::Threads,
        Family::Messages,
        Family::Runs,
        Family::RunSteps,
        Family::Files,
        Family::Uploads,
        Family::VectorStores,
    ] {
        assert!(
            report.totals.families.get(&family).copied().unwrap_or(0) > 0,
            "no {family:?} response validated"
        );
    }
    assert!(
        report
            .totals
            .events
            .get("thread.message.delta")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert!(
        report.totals.not_covered > 0,
        "chat and embeddings traffic must be reported as not covered"
    );
}
