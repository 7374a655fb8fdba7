//! `assistants-conformance`: the harness's command line (see `conformance::cli`).

fn main() -> std::process::ExitCode {
    conformance::cli::main()
}
