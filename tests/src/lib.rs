//! Support for the end-to-end tests: the paths they share (workspace root, recordings,
//! fixtures) and the pinned SDK toolchains. The server they drive is the kit's
//! `testkit::spawn_app` (on the backend `ASSISTANTS_TEST_BACKEND` names).
//!
//! The harness side of these tests talks to the server only over HTTP, exactly as it would to
//! any other implementation.

pub mod node;
pub mod python;

use std::path::{Path, PathBuf};

/// The workspace root (the folder holding `Cargo.toml`, `fixtures/` and `coverage.md`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared/recordings` beside the checkout, when this machine has it.
pub fn shared_recordings() -> Option<PathBuf> {
    let path = workspace_root().join("../shared/recordings");
    path.is_dir().then_some(path)
}
