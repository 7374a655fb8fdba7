//! `assistants-server`: parses flags, sets up logging and hands over to `server::run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use server::embeddings::EmbeddingsArgs;
use server::files::s3::S3Options;
use server::files::BlobStore;
use server::llm::{LlmArgs, LlmMode};
use server::ops::{MetricsToken, OpsArgs};
use server::serve::ConnectionArgs;
use server::settings::read_api_keys;
use server::store::migrate::command::MigrateArgs;
use server::{Listeners, Settings};

/// Reference server for the OpenAI Assistants API v2.
///
/// Which model answers runs: `--llm offline` (built-in, deterministic, no network) or
/// `--llm upstream` (an OpenAI-compatible Chat Completions endpoint). Without `--llm`
/// (or ASSISTANTS_LLM) the server uses the upstream when one is configured
/// (`--llm-base-url`/OPENAI_BASE_URL, `--llm-api-key`/OPENAI_API_KEY or
/// `--llm-providers`) and the offline model otherwise, so a bare `assistants-server`
/// never sends anything anywhere.
#[derive(Debug, clap::Parser)]
#[command(version, about, long_about)]
struct Flags {
    /// Address to listen on.
    #[arg(long, env = "ASSISTANTS_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Database URL (sqlite://PATH; the file and its directory are created if missing).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./data/assistants.db"
    )]
    database: String,
    /// File with the accepted API keys, one per line; without it any key is accepted.
    #[arg(long, env = "ASSISTANTS_API_KEYS", value_name = "FILE")]
    api_keys: Option<PathBuf>,
    /// Folder for uploaded file bytes [default: the database file's folder, ./data].
    #[arg(long, env = "ASSISTANTS_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep file bytes in S3-compatible object storage instead of the data directory,
    /// so several instances share them: s3://BUCKET or s3://BUCKET/PREFIX. Region and
    /// credentials come from the AWS environment variables (AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION, ...).
    #[arg(long, env = "ASSISTANTS_BLOB_STORE", value_name = "URL")]
    blob_store: Option<String>,
    /// URL of an S3-compatible service (MinIO, an emulator) for --blob-store; plain
    /// http:// is accepted only here.
    #[arg(
        long,
        env = "ASSISTANTS_BLOB_ENDPOINT",
        value_name = "URL",
        requires = "blob_store"
    )]
    blob_endpoint: Option<String>,
    /// Largest JSON request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "ASSISTANTS_MAX_BODY_BYTES", default_value_t = server::settings::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Largest file POST /v1/files accepts, in bytes.
    #[arg(long, env = "ASSISTANTS_MAX_FILE_BYTES", default_value_t = server::settings::DEFAULT_MAX_FILE_BYTES)]
    max_file_bytes: u64,
    /// Most bytes one API key may store (files plus parts of pending uploads); 0 for
    /// no quota. Past it, uploads get 400 `storage_quota_exceeded`.
    #[arg(long, env = "ASSISTANTS_STORAGE_QUOTA_BYTES", default_value_t = 0)]
    storage_quota_bytes: u64,
    /// Seconds between background sweeps of expired files and uploads, unfinished byte
    /// removals and orphaned bytes; 0 turns them off.
    #[arg(
        long,
        env = "ASSISTANTS_HOUSEKEEPING_INTERVAL_SECS",
        default_value_t = 60
    )]
    housekeeping_interval_secs: u64,
    /// Seconds a run may stay active before it expires (OpenAI: 600).
    #[arg(long, env = "ASSISTANTS_RUN_EXPIRY_SECS", default_value_t = 600)]
    run_expiry_secs: u64,
    /// Runs worked on at once; more wait in `queued`.
    #[arg(long, env = "ASSISTANTS_MAX_CONCURRENT_RUNS", default_value_t = 64)]
    max_concurrent_runs: usize,
    /// This instance's id among the instances sharing the database: unique among the
    /// running ones, and kept across restarts (a restarted instance takes its earlier
    /// runs over at once) [default: host name:listening port].
    #[arg(long, env = "ASSISTANTS_INSTANCE_ID")]
    instance_id: Option<String>,
    /// Seconds a run's lease lasts unless its instance renews it (every third of it):
    /// how long the runs of an instance that died wait before another takes them over.
    #[arg(long, env = "ASSISTANTS_RUN_LEASE_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    run_lease_secs: u64,
    /// Vector store files ingested at once; 0 pauses ingestion.
    #[arg(long, env = "ASSISTANTS_INGEST_WORKERS", default_value_t = server::settings::DEFAULT_INGEST_WORKERS)]
    ingest_workers: usize,
    /// `migrate`: copy a SQLite deployment into PostgreSQL instead of serving.
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    llm: LlmArgs,
    #[command(flatten)]
    embeddings: EmbeddingsArgs,
    #[command(flatten)]
    connections: ConnectionArgs,
    #[command(flatten)]
    ops: OpsArgs,
}

/// The model mode: as given, else upstream only when an upstream is configured.
fn chosen_mode(matches: &ArgMatches, llm: &LlmArgs) -> LlmMode {
    let given = |id: &str| {
        !matches!(
            matches.value_source(id),
            None | Some(ValueSource::DefaultValue)
        )
    };
    if given("mode") {
        llm.mode
    } else if given("llm_base_url")
        || given("llm_providers")
        || llm.llm_api_key.as_deref().is_some_and(|k| !k.is_empty())
    {
        LlmMode::Upstream
    } else {
        LlmMode::Offline
    }
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Copy a SQLite deployment (objects, chunks, vectors, file bytes) into an empty
    /// PostgreSQL database and verify the counts on both sides.
    Migrate(MigrateArgs),
}

/// `assistants-server migrate`: prints the table-by-table counts; fails on a mismatch.
async fn migrate(args: &MigrateArgs) -> ExitCode {
    match server::store::migrate::command::run(args).await {
        Ok((report, files)) => {
            print!("{}", report.render());
            println!("file bytes checked in the target data directory: {files}");
            if report.verified() {
                ExitCode::SUCCESS
            } else {
                eprintln!("assistants-server migrate: the counts differ (see above)");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("assistants-server migrate: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The mode's own default (upstream) is replaced by `chosen_mode`; don't advertise it.
    let matches = Flags::command()
        .mut_arg("mode", |arg| arg.hide_default_value(true))
        .get_matches();
    let mut flags = match Flags::from_arg_matches(&matches) {
        Ok(flags) => flags,
        Err(error) => error.exit(),
    };
    server::ops::logging::init(flags.ops.log_format);
    if let Some(Command::Migrate(args)) = &flags.command {
        return migrate(args).await;
    }
    flags.llm.mode = chosen_mode(&matches, &flags.llm);
    tracing::info!(llm = ?flags.llm.mode, "model");
    let mut settings = Settings::new(flags.database);
    settings.llm = flags.llm;
    settings.run_expiry = std::time::Duration::from_secs(flags.run_expiry_secs);
    settings.max_concurrent_runs = flags.max_concurrent_runs;
    settings.instance_id = flags.instance_id.filter(|id| !id.trim().is_empty());
    settings.run_lease = std::time::Duration::from_secs(flags.run_lease_secs);
    settings.ingest_workers = flags.ingest_workers;
    settings.embeddings = flags.embeddings.config();
    settings.connections = flags.connections.limits();
    settings.metrics_token = flags
        .ops
        .metrics_token
        .as_deref()
        .and_then(MetricsToken::new);
    match &settings.embeddings {
        Some(config) => tracing::info!(
            model = %config.default_model,
            "vector store search: hybrid (keyword + embeddings)"
        ),
        None => tracing::info!("vector store search: keyword only (no embeddings upstream)"),
    }
    if let Some(dir) = flags.data_dir {
        settings.data_dir = dir;
    }
    if let Some(url) = &flags.blob_store {
        let connected =
            S3Options::new(url, flags.blob_endpoint.clone()).and_then(|options| options.connect());
        match connected {
            Ok(blobs) => {
                tracing::info!(store = %blobs.describe(), "file bytes: object storage");
                settings.blob_store = Some(Arc::new(blobs));
            }
            Err(error) => {
                eprintln!("cannot use --blob-store: {error}");
                return ExitCode::from(2);
            }
        }
    }
    settings.max_file_bytes = flags.max_file_bytes;
    settings.storage_quota = (flags.storage_quota_bytes > 0).then_some(flags.storage_quota_bytes);
    settings.housekeeping_interval =
        std::time::Duration::from_secs(flags.housekeeping_interval_secs);
    settings.max_body_bytes = flags.max_body_bytes;
    if let Some(path) = &flags.api_keys {
        match read_api_keys(path) {
            Ok(keys) => settings.api_keys = Some(keys),
            Err(error) => {
                eprintln!("cannot read API keys from {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let Some(api) = bind(flags.listen).await else {
        return ExitCode::from(2);
    };
    let operator = match flags.ops.operator_listen {
        Some(address) => match bind(address).await {
            Some(listener) => Some(listener),
            None => return ExitCode::from(2),
        },
        None => None,
    };
    let listeners = Listeners { api, operator };
    let outcome = server::run_listeners(listeners, settings, shutdown_signal()).await;
    tracing::info!("stopped");
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("assistants-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A listener on `address`, or `None` after saying why not.
async fn bind(address: SocketAddr) -> Option<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => Some(listener),
        Err(error) => {
            eprintln!("cannot listen on {address}: {error}");
            None
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
