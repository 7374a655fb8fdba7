//! The PostgreSQL half of a test binary: from the README's one test command, a test named
//! [`HALF_TEST_NAME`] runs the same binary again with `ASSISTANTS_TEST_BACKEND=postgres` in a
//! database made for this run, so every test of the binary runs on both backends.
//!
//! Where PostgreSQL is not reachable the half is skipped with a loud banner on stderr, or
//! fails when `ASSISTANTS_REQUIRE_POSTGRES=1` (CI sets it). There is no testcontainers
//! fallback: no container engine runs on these machines, so it could only ever skip.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, ExitStatus, Stdio};

use crate::backend::{postgres_url, Backend, BACKEND_VAR, POSTGRES_URL_VAR, REQUIRE_POSTGRES_VAR};
use crate::postgres::{self, run_detached, AdminError};

/// The name the half's test must have in every binary that has one: the child skips it.
pub const HALF_TEST_NAME: &str = "postgres_half";

/// libtest options followed by a value, which must not be taken for test filters.
const OPTIONS_WITH_VALUE: [&str; 7] = [
    "--skip",
    "--test-threads",
    "--format",
    "--color",
    "--logfile",
    "--shuffle-seed",
    "-Z",
];

/// Runs the current test binary's tests on PostgreSQL (see the module docs); call it from a
/// plain `#[test] fn postgres_half()`.
///
/// # Panics
/// When the child run fails, when the run database cannot be created on a reachable
/// server, or when PostgreSQL is unreachable and [`REQUIRE_POSTGRES_VAR`] is set.
pub fn run_postgres_half() {
    if Backend::chosen_explicitly() {
        println!(
            "{BACKEND_VAR} chooses the backend of this run ({}): no second half",
            Backend::from_env()
        );
        return;
    }
    let admin = postgres_url();
    let database = postgres::unique_name("assistants_test");
    let created = {
        let (admin, database) = (admin.clone(), database.clone());
        run_detached(async move { postgres::create_database(&admin, &database).await })
    };
    match created {
        Ok(()) => {}
        Err(AdminError::Unreachable(why)) => return skipped(&admin, &why),
        Err(error) => panic!(
            "creating the database {database} on {}: {error}",
            redacted(&admin)
        ),
    }
    let status = run_child(&postgres::with_database(&admin, &database));
    let dropped = {
        let (admin, database) = (admin.clone(), database.clone());
        run_detached(async move { postgres::drop_database(&admin, &database).await })
    };
    if let Err(error) = dropped {
        let _ = writeln!(
            std::io::stderr(),
            "postgres half: could not drop the database {database}: {error}"
        );
    }
    let status = status.unwrap_or_else(|error| panic!("starting the postgres half: {error}"));
    assert!(
        status.success(),
        "the PostgreSQL half failed ({status}); its output above is prefixed `[postgres]`"
    );
}

/// The arguments of the child run: the parent's, less the filters that select the half
/// itself (so `cargo test -- postgres_half` runs the whole suite on PostgreSQL), plus a
/// `--skip` of the half.
pub fn child_arguments(parent: &[String]) -> Vec<String> {
    let exact = parent.iter().any(|argument| argument == "--exact");
    let mut arguments = Vec::with_capacity(parent.len() + 2);
    let mut iter = parent.iter();
    while let Some(argument) = iter.next() {
        if OPTIONS_WITH_VALUE.contains(&argument.as_str()) {
            arguments.push(argument.clone());
            arguments.extend(iter.next().cloned());
        } else if argument.starts_with('-') {
            arguments.push(argument.clone());
        } else {
            let selects_the_half = if exact {
                argument == HALF_TEST_NAME
            } else {
                HALF_TEST_NAME.contains(argument.as_str())
            };
            if !selects_the_half {
                arguments.push(argument.clone());
            }
        }
    }
    arguments.push("--skip".to_owned());
    arguments.push(HALF_TEST_NAME.to_owned());
    arguments
}

/// `url` with any password replaced, for messages (secrets are never echoed).
pub use server::store::redact_password as redacted;

/// Runs this binary again on PostgreSQL, streaming its output line by line.
fn run_child(database_url: &str) -> std::io::Result<ExitStatus> {
    let executable = std::env::current_exe()?;
    let parent: Vec<String> = std::env::args().skip(1).collect();
    let mut child = Command::new(executable)
        .args(child_arguments(&parent))
        .env(BACKEND_VAR, "postgres")
        .env(POSTGRES_URL_VAR, database_url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().map(|out| forward(out, false));
    let stderr = child.stderr.take().map(|err| forward(err, true));
    let status = child.wait();
    for forwarder in [stdout, stderr].into_iter().flatten() {
        let _ = forwarder.join();
    }
    status
}

/// Copies the child's `stream` to this process's stdout or stderr as it comes. It writes to
/// the streams themselves, not through `print!`, which libtest would capture until the
/// half ends.
fn forward(stream: impl Read + Send + 'static, to_stderr: bool) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).split(b'\n').map_while(Result::ok) {
            let mut text = b"[postgres] ".to_vec();
            text.extend_from_slice(&line);
            text.push(b'\n');
            let _ = if to_stderr {
                std::io::stderr().lock().write_all(&text)
            } else {
                std::io::stdout().lock().write_all(&text)
            };
        }
    })
}

/// Says loudly that the half did not run; fails instead when PostgreSQL is required.
fn skipped(admin: &str, why: &str) {
    let required = std::env::var(REQUIRE_POSTGRES_VAR)
        .is_ok_and(|value| matches!(value.trim(), "1" | "true" | "yes"));
    let rule = "=".repeat(78);
    let banner = format!(
        "\n{rule}\n\
         POSTGRESQL HALF SKIPPED\n\
         \n\
         Only the SQLite half of {binary} ran: PostgreSQL at {url} is not reachable:\n  {why}\n\
         \n\
         Start PostgreSQL or point {POSTGRES_URL_VAR} at one to run both halves;\n\
         {REQUIRE_POSTGRES_VAR}=1 (as CI sets it) turns this skip into a failure.\n\
         {rule}\n",
        binary = binary_name(),
        url = redacted(admin),
    );
    let _ = std::io::stderr().lock().write_all(banner.as_bytes());
    assert!(
        !required,
        "{REQUIRE_POSTGRES_VAR} is set and PostgreSQL is not reachable: {why}"
    );
}

/// The test binary's target name (`api`, `harness_vs_server`), without cargo's hash suffix.
fn binary_name() -> String {
    let Some(name) = std::env::current_exe().ok().and_then(|path| {
        path.file_stem()
            .map(|name| name.to_string_lossy().into_owned())
    }) else {
        return "this test binary".to_owned();
    };
    match name.rsplit_once('-') {
        Some((target, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            target.to_owned()
        }
        _ => name,
    }
}
