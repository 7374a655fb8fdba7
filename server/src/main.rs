//! `assistants-server`: parses flags, sets up logging and hands over to `server::run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use server::settings::read_api_keys;
use server::Settings;

/// Reference server for the OpenAI Assistants API v2.
#[derive(Debug, Parser)]
#[command(version, about)]
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
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let flags = Flags::parse();
    let mut settings = Settings::new(flags.database);
    if let Some(path) = &flags.api_keys {
        match read_api_keys(path) {
            Ok(keys) => settings.api_keys = Some(keys),
            Err(error) => {
                eprintln!("cannot read API keys from {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let listener = match tokio::net::TcpListener::bind(flags.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", flags.listen);
            return ExitCode::from(2);
        }
    };
    let outcome = server::run(listener, settings, shutdown_signal()).await;
    tracing::info!("stopped");
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("assistants-server: {error}");
            ExitCode::FAILURE
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
