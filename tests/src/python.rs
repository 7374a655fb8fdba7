//! A Python virtual environment with the official `openai` SDK at the version pinned in
//! `tests/sdk/python/requirements.txt`, created under the build directory on first use.
//!
//! The environment is rebuilt whenever the requirements change, so a stale SDK never passes a
//! test it should fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;

/// Returns the venv's python, creating or updating the venv under `build_dir` first if needed.
/// Tests pass `env!("CARGO_TARGET_TMPDIR")`.
pub fn sdk_python(build_dir: &Path) -> PathBuf {
    let requirements = workspace_root().join("tests/sdk/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    let venv = build_dir.join("python-sdk-venv");
    let stamp = venv.join("requirements.installed");
    let python = venv.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    std::fs::write(&stamp, wanted).expect("write stamp");
    python
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(status.success(), "{command:?} failed with {status}");
}

/// Runs `python -m pytest -q` on `suite` with `env` set (no cache directory, no
/// deprecation noise), echoing its output; `Err` with the output when pytest fails.
pub fn run_pytest(python: &Path, suite: &Path, env: &[(&str, &str)]) -> Result<(), String> {
    let output = Command::new(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(["-W", "ignore::DeprecationWarning"])
        .arg(suite)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|err| panic!("cannot run pytest: {err}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{text}");
    if output.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}
