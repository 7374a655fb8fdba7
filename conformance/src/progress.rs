//! Progress display while scenarios run: an indicatif bar on a terminal, plain lines otherwise
//! (CI logs), nothing for library callers.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::report::text::failure_details;
use crate::results::ScenarioResult;

/// Receives scenario events from the runner (called from one task, possibly interleaved).
pub trait Progress: Sync {
    /// The run is about to execute `total` scenarios.
    fn started(&self, total: usize);
    /// One scenario finished (scenarios skipped by `--filter` are not reported).
    fn finished(&self, scenario: &ScenarioResult);
    /// Every scenario finished.
    fn done(&self);
}

/// Reports nothing: the library default.
pub struct Silent;

impl Progress for Silent {
    fn started(&self, _total: usize) {}
    fn finished(&self, _scenario: &ScenarioResult) {}
    fn done(&self) {}
}

/// The console reporter: a bar on a TTY, a line per scenario elsewhere; failure details of a
/// scenario that did not pass are printed as soon as it finishes.
pub struct Console {
    bar: Option<ProgressBar>,
    out: Mutex<std::io::Stdout>,
}

impl Console {
    /// Chooses the bar when stdout is a terminal.
    pub fn new() -> Console {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios {msg}")
                    .expect("valid template"),
            );
            bar
        });
        Console {
            bar,
            out: Mutex::new(std::io::stdout()),
        }
    }

    fn print(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{text}")),
            None => {
                let mut out = self
                    .out
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let _ = writeln!(out, "{text}");
            }
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl Progress for Console {
    fn started(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
        }
    }

    fn finished(&self, scenario: &ScenarioResult) {
        let steps = scenario
            .steps
            .iter()
            .filter(|step| step.response.is_some())
            .count();
        let plural = if steps == 1 { "" } else { "s" };
        let mut line = format!(
            "{} {} ({steps} step{plural})",
            scenario.verdict, scenario.id
        );
        if let Some(reason) = &scenario.reason {
            line.push_str(&format!(": {reason}"));
        }
        if !scenario.verdict.is_ok() {
            line.push('\n');
            line.push_str(&failure_details(scenario));
        }
        self.print(&line);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(scenario.id.clone());
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
