//! The official Node SDK (`openai` from npm, pinned with its lock file in `tests/sdk/node/`),
//! installed with `npm ci` under the build directory on first use and whenever the lock changes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// Returns the `node_modules` folder holding the pinned SDK, installing it first if needed.
/// Tests pass `env!("CARGO_TARGET_TMPDIR")`.
pub fn sdk_node_modules(build_dir: &Path) -> PathBuf {
    let source = workspace_root().join("tests/sdk/node");
    let lock =
        std::fs::read_to_string(source.join("package-lock.json")).expect("package-lock.json");
    let install = build_dir.join("node-sdk");
    let stamp = install.join("lock.installed");
    let modules = install.join("node_modules");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) && modules.is_dir() {
        return modules;
    }
    let _ = std::fs::remove_dir_all(&install);
    std::fs::create_dir_all(&install).expect("create the install folder");
    for file in ["package.json", "package-lock.json", ".npmrc"] {
        std::fs::copy(source.join(file), install.join(file)).expect("copy the npm manifest");
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&install)
        .status()
        .unwrap_or_else(|err| panic!("cannot run npm (Node.js and npm are required): {err}"));
    assert!(status.success(), "npm ci failed with {status}");
    std::fs::write(&stamp, lock).expect("write stamp");
    modules
}
