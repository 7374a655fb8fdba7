//! moto in server mode, the S3-compatible service of the object-storage tests: installed
//! at the version pinned in `requirements.txt` beside this file into a virtual environment
//! under the build directory (as `tests/src/python.rs` installs the Python SDK) and started
//! once per test process on a free port. It exits when the process does (it waits for its
//! standard input to close). Without python3 the tests say loudly that they were skipped;
//! under CI (`CI` set) that is a failure instead.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use md5::{Digest, Md5};

/// Python that starts moto on a free port, prints the port and serves until its
/// standard input closes (the test process exited, however it ended).
const MOTO_SCRIPT: &str = "
import sys
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address='127.0.0.1', port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
";

/// The running emulator.
pub(crate) struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Kept so its standard input stays open as long as this process lives.
    _child: Mutex<Child>,
}

static MOTO: OnceLock<Option<Moto>> = OnceLock::new();

/// The emulator, started on first use; `None` (after saying so) without python3. Blocks:
/// call it from `spawn_blocking`.
pub(crate) fn moto() -> Option<&'static Moto> {
    MOTO.get_or_init(start_moto).as_ref()
}

fn start_moto() -> Option<Moto> {
    if Command::new("python3").arg("--version").output().is_err() {
        let message = "python3 is missing: the object storage (S3) tests need it for moto";
        assert!(std::env::var_os("CI").is_none(), "{message}");
        // Straight to the process's stderr: the test harness hides what `eprintln!`
        // prints for tests that pass.
        let _ = writeln!(
            std::io::stderr(),
            "\n==== SKIPPED: {message}; the S3 half of the blob store tests did not run ====\n"
        );
        return None;
    }
    let python = moto_python(Path::new(env!("CARGO_TARGET_TMPDIR")));
    let mut child = Command::new(python)
        .args(["-c", MOTO_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("moto's stdout"))
        .read_line(&mut line)
        .expect("moto prints its port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("moto did not start: {line:?}"));
    Some(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        _child: Mutex::new(child),
    })
}

/// The python of a venv with the pinned moto installed. The venv's folder is named after
/// the pins, so new pins get a new venv and one in use is never replaced; it is built
/// beside its final place and renamed into it, because two processes may want it at once
/// (the SQLite run and its PostgreSQL half): the second rename fails and that process
/// takes the first one's venv. A venv moved as a whole still works for `python -c`.
fn moto_python(build_dir: &Path) -> PathBuf {
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/support/s3/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    let pins: String = Md5::digest(wanted.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    let venv = build_dir.join(format!("moto-venv-{pins}"));
    let python = venv.join("bin/python");
    if python.exists() {
        return python;
    }
    let building = build_dir.join(format!("moto-venv-{pins}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    run(Command::new("python3").args(["-m", "venv"]).arg(&building));
    run(Command::new(building.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements));
    if std::fs::rename(&building, &venv).is_err() {
        // Another process finished first; its venv is as good as this one.
        assert!(python.exists(), "cannot move the moto venv into {venv:?}");
        let _ = std::fs::remove_dir_all(&building);
    }
    python
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(status.success(), "{command:?} failed with {status}");
}
