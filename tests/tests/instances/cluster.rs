//! The real `assistants-server` binary started several times on one database (a SQLite
//! file, or a PostgreSQL schema: the kit's `TestDatabase`), sharing one data directory,
//! behind the round-robin [`proxy`](crate::proxy). The binary is the one `cargo test
//! --workspace` builds beside this test program; a stale or missing one is refused with
//! the command that builds it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, SystemTime};

use crate::client::{Api, KEY};
use crate::proxy::{self, Proxy};
use testkit::TestDatabase;

/// How the instances run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// The offline model's pause before each delta (slow, long turns).
    pub delay_ms: u64,
    /// `--run-lease-secs`.
    pub lease_secs: u64,
    /// `--run-expiry-secs`.
    pub expiry_secs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            delay_ms: 0,
            lease_secs: 2,
            expiry_secs: 600,
        }
    }
}

/// One server process; killed (SIGKILL) when dropped.
struct Instance {
    child: Child,
    origin: String,
    log: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Instances on one database and the proxy in front of them.
pub(crate) struct Cluster {
    /// The proxy (declared first: it goes before the instances).
    pub proxy: Proxy,
    instances: Vec<Option<Instance>>,
    /// The database, the data directory and the logs (dropped last).
    database: TestDatabase,
}

/// The `assistants-server` binary beside this test program (`target/<profile>/`).
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test program's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join(format!("assistants-server{}", std::env::consts::EXE_SUFFIX));
    let build = "build it with `cargo build --workspace --bins` (`cargo test --workspace` does)";
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: {build}", binary.display()));
    if let Some(library) = newest_server_library(&profile_dir.join("deps")) {
        assert!(
            built >= library,
            "{} is older than the server library this test was built with: {build}",
            binary.display()
        );
    }
    binary
}

/// When the newest build of the server library was written.
fn newest_server_library(deps: &Path) -> Option<SystemTime> {
    std::fs::read_dir(deps)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("libserver-") && name.ends_with(".rlib")
        })
        .filter_map(|entry| entry.metadata().ok()?.modified().ok())
        .max()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

impl Cluster {
    /// `count` instances on a fresh database. The first migrates it before the others
    /// start (SQLite's migrations are not meant to race).
    pub(crate) async fn start(count: usize, options: Options) -> Self {
        let database = TestDatabase::reconnectable().await;
        let mut instances = Vec::new();
        for index in 0..count {
            let instance = spawn(&database, index, options);
            wait_ready(&instance).await;
            instances.push(Some(instance));
        }
        let origins = instances
            .iter()
            .flatten()
            .map(|instance| instance.origin.clone())
            .collect();
        Self {
            proxy: proxy::start(origins).await,
            instances,
            database,
        }
    }

    /// A client of the proxy.
    pub(crate) fn api(&self) -> Api {
        Api::new(&self.proxy.base_url)
    }

    /// A client of instance `index` alone.
    pub(crate) fn direct(&self, index: usize) -> Api {
        let instance = self.instances[index].as_ref().expect("a live instance");
        Api::new(&format!("{}/v1", instance.origin))
    }

    /// Kills instance `index` with SIGKILL: no shutdown, no hand back.
    pub(crate) fn kill(&mut self, index: usize) {
        drop(self.instances[index].take());
    }

    /// The instances' logs, for a failure message.
    pub(crate) fn logs(&self) -> String {
        let mut text = String::new();
        for index in 0..self.instances.len() {
            let path = self.database.folder().join(format!("instance-{index}.log"));
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            text.push_str(&format!("--- instance {index} (last lines)\n"));
            for line in tail.into_iter().rev() {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }
}

fn spawn(database: &TestDatabase, index: usize, options: Options) -> Instance {
    let port = free_port();
    let log = database.folder().join(format!("instance-{index}.log"));
    let file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(server_binary())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database", database.url()])
        .arg("--data-dir")
        .arg(database.data_dir())
        .args(["--instance-id", &format!("instance-{index}")])
        .args(["--run-lease-secs", &options.lease_secs.to_string()])
        .args(["--run-expiry-secs", &options.expiry_secs.to_string()])
        .args(["--llm", "offline"])
        .args(["--offline-delay-ms", &options.delay_ms.to_string()])
        .env_remove("ASSISTANTS_API_KEYS")
        .env("RUST_LOG", "info,sqlx=warn")
        .stdout(file.try_clone().expect("log file"))
        .stderr(file)
        .spawn()
        .expect("the server binary starts");
    Instance {
        child,
        origin: format!("http://127.0.0.1:{port}"),
        log,
    }
}

async fn wait_ready(instance: &Instance) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        let answer = client
            .get(format!("{}/v1/assistants", instance.origin))
            .bearer_auth(KEY)
            .header("OpenAI-Beta", "assistants=v2")
            .send()
            .await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(&instance.log).unwrap_or_default();
    panic!("{} never became ready:\n{log}", instance.origin);
}
