//! Log lines: every line a request causes (its handler's, and the run task it starts)
//! carries its `x-request-id`; `--log-format json` writes one JSON object a line; a log
//! file or pipe gets no colour codes; the metrics token is never logged.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use server::llm::{ChatModel, ChatRequest, ChatStream, LlmError, OfflineModel};
use server::ops::logging::{logger, LogFormat};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::support::runs::{assistant, poll_until, thread_with, SETTLED};
use testkit::{TestApp, TestResponse};

/// The offline model, logging a line as each turn starts (inside the run's task).
struct LoudModel;

#[async_trait]
impl ChatModel for LoudModel {
    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, LlmError> {
        tracing::warn!("model turn starting");
        OfflineModel::new().stream(request).await
    }
}

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn request_id(response: &TestResponse) -> String {
    response.headers["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A subscriber that wants to be asked about every event and records none.
///
/// `tracing` caches one interest per callsite for the whole process. While at most one
/// dispatcher exists it computes that interest from the dispatcher of the thread that
/// reaches the callsite first: another test's thread, with no subscriber, would cache
/// "never" for the request span or the model's line, and this file's captured log would
/// lack them. Two of these, alive for the rest of the process, make every callsite ask
/// each event's own thread instead.
struct Anchor;

impl tracing::Subscriber for Anchor {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::TRACE)
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &tracing::span::Id) {}

    fn exit(&self, _: &tracing::span::Id) {}
}

/// Makes the callsite interest of every thread's events follow that thread's own
/// dispatcher from now on (see [`Anchor`]).
fn anchor_callsite_interest() {
    static ANCHORS: OnceLock<[tracing::Dispatch; 2]> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        [
            tracing::Dispatch::new(Anchor),
            tracing::Dispatch::new(Anchor),
        ]
    });
}

/// Runs one run to its end with logs captured in `format` through `filter`; returns
/// the log and the request id of the request that created the run.
async fn one_run_logged(format: LogFormat, filter: &str) -> (String, String) {
    anchor_callsite_interest();
    let captured = Captured::default();
    let dispatch = logger(format, false, EnvFilter::new(filter), captured.clone());
    // The test runtime has one thread: the run's task logs there too.
    let _guard = tracing::dispatcher::set_default(&dispatch);
    // A callsite cached before the anchors existed is asked again.
    tracing::callsite::rebuild_interest_cache();
    let app = TestApp::with_model(Arc::new(LoudModel), |_| {}).await;
    let assistant_id = assistant(&app, json!([])).await;
    let thread_id = thread_with(&app, "hello").await;
    let created = app
        .post(
            &format!("/v1/threads/{thread_id}/runs"),
            json!({"assistant_id": assistant_id}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let run_id = created.json()["id"].as_str().unwrap().to_owned();
    let run = poll_until(&app, &thread_id, &run_id, SETTLED).await;
    assert_eq!(run["status"], "completed");
    (captured.text(), request_id(&created))
}

#[tokio::test]
async fn json_lines_parse_and_carry_the_request_id_of_their_request() {
    let (log, create_id) = one_run_logged(LogFormat::Json, "info").await;
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let model_lines: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "model turn starting")
        .collect();
    assert_eq!(model_lines.len(), 1, "{log}");
    assert_eq!(model_lines[0]["request_id"], create_id.as_str(), "{log}");
    assert_eq!(model_lines[0]["level"], "WARN");
    let access = lines
        .iter()
        .find(|line| line["target"] == "access" && line["request_id"] == create_id.as_str())
        .unwrap_or_else(|| panic!("no access line of the createRun request: {log}"));
    assert_eq!(access["status"], 200);
    assert_eq!(access["method"], "POST");
    assert!(access["path"].as_str().unwrap().ends_with("/runs"));
    assert!(access["timestamp"].as_str().unwrap().ends_with('Z'));
    // Every line during a request names one.
    for line in lines.iter().filter(|line| line["target"] == "access") {
        let id = line["request_id"].as_str().unwrap_or_default();
        assert!(id.starts_with("req_") && id.len() == 36, "{line}");
    }
}

#[tokio::test]
async fn text_lines_carry_the_request_id_and_no_colour_codes() {
    // A quieter filter keeps the request id on the lines it lets through.
    let (log, create_id) = one_run_logged(LogFormat::Text, "warn").await;
    assert!(!log.contains("\x1b["), "{log}");
    let model_line = log
        .lines()
        .find(|line| line.contains("model turn starting"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        model_line.contains(&format!("request_id={create_id}")),
        "{model_line}"
    );
}

/// The server binary, logging to a file in `dir`.
struct Binary {
    child: Child,
    log: std::path::PathBuf,
}

impl Binary {
    fn start(dir: &tempfile::TempDir, extra: &[&str]) -> Self {
        let log = dir.path().join("server.log");
        let file = std::fs::File::create(&log).unwrap();
        let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let child = Command::new(env!("CARGO_BIN_EXE_assistants-server"))
            .args(["--listen", "127.0.0.1:0", "--llm", "offline", "--database"])
            .arg(&database)
            .args(extra)
            .env("RUST_LOG", "info")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        Self { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The API's address, once the server says it listens.
    async fn address(&self, parse: impl Fn(&str) -> Option<String>) -> String {
        for _ in 0..600 {
            if let Some(address) = self.log().lines().find_map(&parse) {
                return address;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server never said where it listens: {}", self.log());
    }

    /// Stops the server with SIGTERM (it logs its shutdown) and returns its log.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.log()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request through the real socket; returns its `x-request-id`.
async fn request(url: &str, bearer: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(bearer)
        .header("OpenAI-Beta", "assistants=v2")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (response.status().as_u16(), id)
}

const TOKEN: &str = "metrics-token-never-logged-42";

/// `line` without ANSI SGR sequences (`ESC [ ... m`).
fn without_colour_codes(line: &str) -> String {
    let mut plain = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("\x1b[") {
        plain.push_str(&rest[..start]);
        rest = rest[start..].split_once('m').map_or("", |(_, after)| after);
    }
    plain.push_str(rest);
    plain
}

#[tokio::test]
async fn a_log_file_gets_plain_text_with_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Binary::start(&dir, &["--metrics-token", TOKEN]);
    let address = binary
        .address(|line| {
            // Colour codes (a fault this test is for) must not hide the address.
            let line = without_colour_codes(line);
            let rest = line.split("listening address=").nth(1)?;
            Some(rest.split_whitespace().next()?.to_owned())
        })
        .await;
    let (status, id) = request(&format!("http://{address}/v1/assistants"), "sk-a").await;
    assert_eq!(status, 200);
    let (status, _) = request(&format!("http://{address}/metrics"), TOKEN).await;
    assert_eq!(status, 200);
    let log = binary.stop();
    assert!(!log.contains("\x1b["), "colour codes in a file:\n{log}");
    assert!(!log.contains(TOKEN), "the token was logged:\n{log}");
    assert!(
        log.lines()
            .any(|line| line.contains(&format!("request_id={id}")) && line.contains("answered")),
        "{log}"
    );
    assert!(log.contains("stopped"), "{log}");
}

#[tokio::test]
async fn json_log_lines_from_the_binary_parse() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Binary::start(&dir, &["--log-format", "json", "--metrics-token", TOKEN]);
    let address = binary
        .address(|line| {
            let line: Value = serde_json::from_str(line).ok()?;
            (line["message"] == "listening").then(|| line["address"].as_str().unwrap().to_owned())
        })
        .await;
    let (status, id) = request(&format!("http://{address}/v1/nothing"), "sk-a").await;
    assert_eq!(status, 404);
    let log = binary.stop();
    assert!(!log.contains(TOKEN), "the token was logged:\n{log}");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let access = lines
        .iter()
        .find(|line| line["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no line with {id}:\n{log}"));
    assert_eq!(access["status"], 404);
    assert_eq!(access["path"], "/v1/nothing");
    assert!(lines
        .iter()
        .all(|line| line["level"].is_string() && line["timestamp"].is_string()));
}

#[test]
fn help_lists_the_operator_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_assistants-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in ["--log-format", "--operator-listen", "--metrics-token"] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}
