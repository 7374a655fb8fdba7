//! The command line: `assistants-conformance [run flags]` (running is the default),
//! `assistants-conformance check-recordings PATH...` and `assistants-conformance compare
//! RESULTS...`. Exit codes: 0 all ok, 1 something failed, 2 unusable input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::fixture::find_fixtures_dir;
use crate::progress::Console;
use crate::report::compare::load_targets;
use crate::report::{render_compare, render_coverage, render_junit, render_report};
use crate::results::{FailOn, Results};
use crate::runner::{run_with, HarnessError, RunConfig};
use crate::spec::{Spec, SpecSource};

/// Exit code for unusable input (bad spec, fixture, filter, flags; unreachable base URL).
pub const EXIT_UNUSABLE: u8 = 2;

/// Replays recorded OpenAI Assistants API v2 scenarios against any implementation.
#[derive(Debug, Parser)]
#[command(
    name = "assistants-conformance",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// A subcommand; without one, the suite runs.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of the default `run`.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands besides the default run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate every response in recorded traffic (SessionRecords JSON, VCR YAML) against the spec.
    CheckRecordings {
        /// Recording files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Use this OpenAPI document instead of the pinned one.
        #[arg(long, env = "ASSISTANTS_CONFORMANCE_SPEC")]
        spec: Option<PathBuf>,
    },
    /// Compare several targets' results JSON in one Markdown matrix (operations and scenarios
    /// × targets), printed or written to --output.
    Compare {
        /// Results JSON files (`--results` of earlier runs), one per target, in column order.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// Write the Markdown here instead of printing it.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Flags of a run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Base URL of the implementation, including `/v1`, e.g. http://127.0.0.1:8080/v1.
    #[arg(long, env = "ASSISTANTS_BASE_URL", required = true)]
    pub base_url: Option<String>,
    /// API key sent as `Authorization: Bearer KEY`.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// A second key (another tenant) for the isolation scenarios; without it they are SKIPPED.
    #[arg(long, env = "ASSISTANTS_SECOND_API_KEY", hide_env_values = true)]
    pub second_api_key: Option<String>,
    /// Extra header `K:V` on every request (repeatable); overrides the defaults.
    #[arg(long = "header", value_name = "K:V", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// The model scenarios use as `${model}`.
    #[arg(long, default_value = "gpt-4o")]
    pub model: String,
    /// Run only scenarios whose id contains this (repeatable; any match selects).
    #[arg(long = "filter", value_name = "SUBSTR")]
    pub filters: Vec<String>,
    /// Scenarios run in parallel (serial scenarios always run alone).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Use this OpenAPI document instead of the pinned one.
    #[arg(long, env = "ASSISTANTS_CONFORMANCE_SPEC")]
    pub spec: Option<PathBuf>,
    /// Fixtures directory [default: `fixtures/` found walking up from the current directory].
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Results JSON, written first [default: `target/conformance/results.json` beside the fixtures directory].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Also write the Markdown report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Also write coverage.md here (the committed one is the reference server's).
    #[arg(long)]
    pub coverage: Option<PathBuf>,
    /// Also write JUnit XML here: one testcase per scenario, its steps in the output.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// YAML map of scenario id to reason: those scenarios are XFAIL (or XPASS when they pass).
    #[arg(long)]
    pub expected_failures: Option<PathBuf>,
    /// Caps the time (seconds) any polling or streaming step may take, whatever its `timeout_s`.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub poll_timeout: Option<std::time::Duration>,
    /// Deviations (error wording, an optional field absent, an extra enum value) FAIL too.
    #[arg(long)]
    pub strict: bool,
    /// What makes the exit code 1: breaking (failing verdicts), deviation, cosmetic, or never.
    #[arg(long, value_name = "SEVERITY", default_value = "breaking")]
    pub fail_on: FailOn,
}

fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!("{seconds} is not between 0 and 3600 seconds"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not K:V"))?;
    let name = name.trim();
    if name.is_empty() || reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Parses the command line and runs; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::CheckRecordings { paths, spec }) => check_recordings(&paths, spec),
        Some(Command::Compare { results, output }) => match compare(&results, output.as_deref()) {
            Ok(()) => 0,
            Err(err) => {
                eprintln!("error: {err}");
                EXIT_UNUSABLE
            }
        },
        None => match run_command(cli.run) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("error: {err}");
                EXIT_UNUSABLE
            }
        },
    };
    ExitCode::from(code)
}

fn check_recordings(paths: &[PathBuf], spec: Option<PathBuf>) -> u8 {
    let spec = match Spec::load(&SpecSource::from_cli(spec)) {
        Ok(spec) => spec,
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_UNUSABLE;
        }
    };
    let code = crate::recordings::check_recordings_cli(paths, &spec, &mut std::io::stdout());
    u8::try_from(code).unwrap_or(EXIT_UNUSABLE)
}

/// Renders the comparison of the results files, printed or written to `output`.
pub fn compare(files: &[PathBuf], output: Option<&Path>) -> Result<(), HarnessError> {
    let targets = load_targets(files).map_err(HarnessError::Usage)?;
    let markdown = render_compare(&targets);
    match output {
        Some(path) => write_file(path, &markdown),
        None => {
            print!("{markdown}");
            Ok(())
        }
    }
}

/// The files a run writes.
#[derive(Debug, Clone)]
pub struct OutputPaths {
    /// Results JSON (always written).
    pub results: PathBuf,
    /// Markdown report, when asked for.
    pub report: Option<PathBuf>,
    /// coverage.md, when asked for.
    pub coverage: Option<PathBuf>,
    /// JUnit XML, when asked for.
    pub junit: Option<PathBuf>,
}

fn run_command(args: RunArgs) -> Result<u8, HarnessError> {
    let fixtures_dir = match args.fixtures {
        Some(dir) => dir,
        None => {
            let cwd = std::env::current_dir()
                .map_err(|err| HarnessError::Usage(format!("no current directory: {err}")))?;
            find_fixtures_dir(&cwd).ok_or_else(|| {
                HarnessError::Usage(
                    "no `fixtures/` directory here or above; pass --fixtures DIR".into(),
                )
            })?
        }
    };
    if !fixtures_dir.is_dir() {
        let shown = fixtures_dir.display();
        return Err(HarnessError::Usage(format!(
            "fixtures directory {shown} does not exist"
        )));
    }
    let project_root = fixtures_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let outputs = OutputPaths {
        results: args
            .results
            .unwrap_or_else(|| project_root.join("target/conformance/results.json")),
        report: args.report,
        coverage: args.coverage,
        junit: args.junit,
    };
    let config = RunConfig {
        base_url: args.base_url.unwrap_or_default(),
        api_key: args.api_key.filter(|key| !key.is_empty()),
        headers: args.headers,
        model: args.model,
        filters: args.filters,
        jobs: usize::from(args.jobs),
        fixtures_dir,
        expected_failures: args.expected_failures,
        poll_timeout: args.poll_timeout,
        strict: args.strict,
        second_api_key: args.second_api_key.filter(|key| !key.is_empty()),
    };
    if config.api_key.is_none() {
        eprintln!(
            "warning: no --api-key or OPENAI_API_KEY; requests carry no Authorization header"
        );
    }
    let spec = Spec::load(&SpecSource::from_cli(args.spec))?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| HarnessError::Usage(format!("tokio: {err}")))?;
    let console = Console::new();
    let results = runtime.block_on(run_with(&config, &spec, &console))?;
    let results = write_outputs(&results, &outputs)?;
    print_summary(&results, &outputs);
    Ok(results.exit_code(args.fail_on))
}

/// Writes the results JSON first, reads it back, and renders every report from what was read.
pub fn write_outputs(results: &Results, outputs: &OutputPaths) -> Result<Results, HarnessError> {
    write_file(&outputs.results, &results.to_json())?;
    let text = std::fs::read_to_string(&outputs.results).map_err(|err| {
        HarnessError::Usage(format!(
            "cannot read back {}: {err}",
            outputs.results.display()
        ))
    })?;
    let written = Results::from_json(&text).map_err(HarnessError::Usage)?;
    if let Some(path) = &outputs.report {
        write_file(path, &render_report(&written))?;
    }
    if let Some(path) = &outputs.coverage {
        write_file(path, &render_coverage(&written))?;
    }
    if let Some(path) = &outputs.junit {
        write_file(path, &render_junit(&written))?;
    }
    Ok(written)
}

fn write_file(path: &Path, contents: &str) -> Result<(), HarnessError> {
    let fail = |err: std::io::Error| {
        HarnessError::Usage(format!("cannot write {}: {err}", path.display()))
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, contents).map_err(fail)
}

/// The closing lines on stdout: totals by verdict, counts, wall time, where the files went.
pub fn print_summary(results: &Results, outputs: &OutputPaths) {
    println!("{}", summary_line(results));
    println!("results: {}", outputs.results.display());
    let written = [
        ("report", &outputs.report),
        ("coverage", &outputs.coverage),
        ("junit", &outputs.junit),
    ];
    for (label, path) in written {
        if let Some(path) = path {
            println!("{label}: {}", path.display());
        }
    }
}

/// `OK: 12 scenarios, 48 steps run in 1.2s: PASS 11, NON-STRICT 1` (non-zero verdicts only).
pub fn summary_line(results: &Results) -> String {
    let totals: Vec<String> = results
        .totals()
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(verdict, count)| format!("{verdict} {count}"))
        .collect();
    format!(
        "{}: {} scenarios, {} steps run in {:.1}s: {}",
        if results.all_ok() { "OK" } else { "FAILED" },
        results.scenarios.len(),
        results.steps_run(),
        results.run.wall_time_ms as f64 / 1000.0,
        totals.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{RunInfo, ScenarioResult, RESULTS_SCHEMA_VERSION};
    use crate::verdict::Verdict;
    use rstest::rstest;

    #[rstest]
    #[case("X-Gateway: blue", Ok(("X-Gateway".into(), "blue".into())))]
    #[case("OpenAI-Organization:org-1:x", Ok(("OpenAI-Organization".into(), "org-1:x".into())))]
    #[case("no colon", Err(()))]
    #[case(": empty name", Err(()))]
    #[case("bad name: x", Err(()))]
    fn headers_parse_as_name_colon_value(
        #[case] text: &str,
        #[case] expected: Result<(String, String), ()>,
    ) {
        assert_eq!(parse_header(text).map_err(|_| ()), expected);
    }

    fn results(verdicts: &[Verdict]) -> Results {
        Results {
            schema_version: RESULTS_SCHEMA_VERSION,
            run: RunInfo {
                base_url: "http://x/v1".into(),
                model: "m".into(),
                filters: vec![],
                strict: false,
                wall_time_ms: 2500,
            },
            operations: vec![],
            scenarios: verdicts
                .iter()
                .enumerate()
                .map(|(index, verdict)| ScenarioResult {
                    id: format!("s/{index}"),
                    description: String::new(),
                    verdict: *verdict,
                    raw_verdict: *verdict,
                    reason: None,
                    steps: vec![],
                })
                .collect(),
        }
    }

    #[rstest]
    #[case(&[], 0)]
    #[case(&[Verdict::Pass, Verdict::NonStrict, Verdict::Xfail, Verdict::Skipped], 0)]
    #[case(&[Verdict::Pass, Verdict::Fail], 1)]
    #[case(&[Verdict::Unimplemented], 1)]
    #[case(&[Verdict::Error], 1)]
    #[case(&[Verdict::Xpass, Verdict::Pass], 1)]
    fn exit_codes_follow_the_scenario_verdicts(#[case] verdicts: &[Verdict], #[case] code: u8) {
        assert_eq!(results(verdicts).exit_code(FailOn::Breaking), code);
    }

    #[test]
    fn the_summary_names_totals_counts_and_wall_time() {
        let line = summary_line(&results(&[Verdict::Pass, Verdict::Pass, Verdict::Fail]));
        assert_eq!(
            line,
            "FAILED: 3 scenarios, 0 steps run in 2.5s: PASS 2, FAIL 1"
        );
    }
}
