//! Bounded, seeded fuzzing of the reference server over the OpenAPI document's covered
//! operations (the pinned copy the harness caches): for each operation, requests built
//! from its parameters and request-body schema, valid and broken, sent over HTTP. The
//! server must never answer 5xx and never hang; the run prints what it sent.
//!
//! `FUZZ_SEED` and `FUZZ_CASES` (cases per operation) replay or widen a run.

mod generate;
mod requests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use serde_json::Value;

use generate::Generator;
use requests::{fixtures, Case};

/// Longest a single answer may take before it counts as a hang.
const HANG_AFTER: Duration = Duration::from_secs(20);

/// What one fuzzing run did.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// The seed, to replay the run.
    pub seed: u64,
    /// Requests sent (fixtures excluded).
    pub sent: usize,
    /// Operations fuzzed.
    pub operations: usize,
    /// Answers by status.
    pub statuses: BTreeMap<u16, usize>,
    /// Requests that got a 5xx, described for reproduction.
    pub server_errors: Vec<String>,
    /// Requests with no complete answer: none within [`HANG_AFTER`], or the connection
    /// failed.
    pub hangs: Vec<String>,
    /// Operations that never got a 2xx (the generator never produced a valid request).
    pub never_succeeded: Vec<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fuzz: seed {:#x}: {} requests over {} operations in {:.1} s: {} 5xx, {} hangs",
            self.seed,
            self.sent,
            self.operations,
            self.elapsed.as_secs_f64(),
            self.server_errors.len(),
            self.hangs.len()
        )?;
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        writeln!(f, "fuzz: statuses {}", statuses.join(", "))?;
        writeln!(
            f,
            "fuzz: operations never answered 2xx: {}",
            if self.never_succeeded.is_empty() {
                "none".to_owned()
            } else {
                self.never_succeeded.join(", ")
            }
        )?;
        for line in self.server_errors.iter().chain(&self.hangs) {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// The resources the server implements, as path prefixes of the document.
const SERVED_PREFIXES: &[&str] = &[
    "/assistants",
    "/threads",
    "/files",
    "/uploads",
    "/vector_stores",
];

/// One operation of the document.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    /// OpenAI's operationId.
    pub id: String,
    /// Upper-case method.
    pub method: String,
    /// Path template, e.g. `/threads/{thread_id}/messages`.
    pub path: String,
}

/// The document's operations on the resources the server implements, in document order.
pub(crate) fn operations(document: &Value) -> Vec<Operation> {
    let mut found = Vec::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return found;
    };
    for (path, item) in paths {
        let served = SERVED_PREFIXES
            .iter()
            .any(|prefix| path == prefix || path.starts_with(&format!("{prefix}/")));
        if !served {
            continue;
        }
        for method in ["get", "post", "delete"] {
            if let Some(operation) = item.get(method) {
                found.push(Operation {
                    id: operation["operationId"].as_str().unwrap_or(path).to_owned(),
                    method: method.to_uppercase(),
                    path: path.clone(),
                });
            }
        }
    }
    found
}

/// Fuzzes `operations` of `document` on the server at `base_url`: `cases` requests each.
pub(crate) async fn run(
    base_url: &str,
    document: &Value,
    operations: &[Operation],
    seed: u64,
    cases: usize,
) -> Report {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(HANG_AFTER)
        .build()
        .expect("client");
    let ids: HashMap<String, Vec<String>> = fixtures(&client, base_url).await;
    let no_ids = HashMap::new();
    let mut report = Report {
        seed,
        operations: operations.len(),
        ..Report::default()
    };
    let mut succeeded: HashMap<&str, usize> = HashMap::new();
    for round in 0..cases {
        for (index, operation) in operations.iter().enumerate() {
            // Deleting the shared objects early would turn later rounds into 404s: real
            // ids go to deletions only in the last round.
            let known = if operation.method == "DELETE" && round + 1 < cases {
                &no_ids
            } else {
                &ids
            };
            let case_seed = seed ^ ((round as u64) << 32 | index as u64);
            let mut generator = Generator::new(document, case_seed, known);
            let case = Case::generate(&mut generator, document, operation, base_url);
            report.sent += 1;
            match case.send(&client).await {
                Ok(status) => {
                    *report.statuses.entry(status).or_default() += 1;
                    if status >= 500 {
                        report
                            .server_errors
                            .push(format!("{status} {}", case.describe()));
                    }
                    if (200..300).contains(&status) {
                        *succeeded.entry(operation.id.as_str()).or_default() += 1;
                    }
                }
                Err(error) => {
                    report
                        .hangs
                        .push(format!("{}: {}", error.without_url(), case.describe()))
                }
            }
        }
    }
    report.never_succeeded = operations
        .iter()
        .filter(|operation| !succeeded.contains_key(operation.id.as_str()))
        .map(|operation| operation.id.clone())
        .collect();
    report.elapsed = started.elapsed();
    report
}
