//! `check-recordings` over the real recorded traffic in `../shared/recordings` (relative to the
//! workspace root), when that folder exists: every covered response and stream event must be
//! valid against the pinned document plus our errata.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

#[path = "recordings_shared_cases/invariants.rs"]
mod invariants;

use conformance::recordings::{check_recordings, check_recordings_cli};
use conformance::spec::errata::{self, Erratum};
use conformance::spec::{
    default_cache_dir, load_raw_document, Family, Spec, SpecError, SpecSource,
};

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

/// Builds a spec without the errata in `removed`; errata that build on a removed one (a copy it
/// created) are removed with it.
fn spec_without(removed: &str) -> (Spec, Vec<String>) {
    let (document, sha256) = load_raw_document(&SpecSource::Pinned {
        cache_dir: default_cache_dir(),
    })
    .unwrap();
    let mut dropped = vec![removed.to_string()];
    loop {
        let kept: Vec<Erratum> = errata::embedded()
            .unwrap()
            .into_iter()
            .filter(|e| !dropped.contains(&e.id))
            .collect();
        match Spec::from_document(document.clone(), sha256.clone(), kept) {
            Ok(spec) => return (spec, dropped),
            Err(SpecError::Errata { id, .. }) if !dropped.contains(&id) => dropped.push(id),
            Err(other) => panic!("without {removed}: {other}"),
        }
    }
}

/// Errata for real traffic older than the shared recordings (met by users' `check-recordings`);
/// `recordings_synthetic.rs` has a test for each that fails without it.
const NEEDED_BY_OLDER_TRAFFIC: [&str; 1] = ["files-list-without-ids"];

#[test]
fn every_erratum_that_loosens_the_document_is_needed_by_a_recording() {
    let Some(dir) = shared_recordings() else {
        return;
    };
    for erratum in errata::embedded().unwrap() {
        // Errata that only declare properties the document tolerates anyway make validation
        // stricter, not looser; no recording can fail without them.
        if erratum
            .patches
            .iter()
            .all(|p| !p.change.add_properties.is_empty())
        {
            continue;
        }
        if NEEDED_BY_OLDER_TRAFFIC.contains(&erratum.id.as_str()) {
            continue;
        }
        let (spec, dropped) = spec_without(&erratum.id);
        let report = check_recordings(std::slice::from_ref(&dir), &spec).unwrap();
        assert!(
            report.totals.failures > 0,
            "without {dropped:?} every recording still passes: erratum {} is not needed",
            erratum.id
        );
    }
}
