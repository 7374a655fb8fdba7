//! The connection layer: accepts TCP connections, at most `max_connections` at once (past
//! that, accepting pauses and the kernel's backlog holds newcomers), serves HTTP/1.1 on
//! each with hyper, and closes connections whose client is too slow to send a request
//! (see [`watch`]). An accept error such as running out of file descriptors is logged and
//! retried, never fatal. On shutdown, idle connections close at once and the others after
//! their current answer.

mod io;
pub mod limits;
mod service;
mod watch;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch as signal, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

pub use limits::{ConnectionArgs, ConnectionLimits};
pub use service::MAX_DRAIN_BYTES;
pub use watch::Expired;

use io::WatchedIo;
use service::ConnectionService;
use watch::ConnectionWatch;

/// Pause after an accept error, so a full descriptor table is not retried in a busy loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// Least time between two log lines about the same overload, so an attack cannot flood the log.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Arc::new(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = signal::channel(());
    let mut full_log = RateLimitedLog::default();
    let mut error_log = RateLimitedLog::default();
    tokio::pin!(shutdown);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                full_log.warn(|skipped| {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        skipped,
                        "connection limit reached: accepting paused until a connection closes"
                    );
                });
                tokio::select! {
                    permit = permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((tcp, peer)) => {
                tokio::spawn(serve_connection(
                    tcp,
                    peer,
                    app.clone(),
                    limits.clone(),
                    permit,
                    stopping.clone(),
                ));
            }
            Err(error) => {
                error_log.warn(|skipped| {
                    tracing::warn!(%error, skipped, "accept error; retrying");
                });
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    drop(listener);
    drop(stop);
    // Every connection holds a permit until it ends: taking them all waits for the last.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

/// Serves one connection until it ends, the watchdog closes it or shutdown finishes it.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Arc<ConnectionLimits>,
    _permit: OwnedSemaphorePermit,
    mut stopping: signal::Receiver<()>,
) {
    // Stream events are small writes: with Nagle's algorithm each one waits for the client's
    // delayed ACK (~40 ms on Linux), which the runs benchmark measured on every streamed run.
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::warn!(%error, "could not set TCP_NODELAY");
    }
    let watch = Arc::new(ConnectionWatch::new());
    let io = TokioIo::new(WatchedIo::new(tcp, watch.clone()));
    let service = ConnectionService::new(app, watch.clone());
    let connection = http1::Builder::new()
        // The watchdog times heads (and idle time, which hyper's timer would lump in).
        .header_read_timeout(None)
        .max_header_size(limits.max_header_bytes)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let expired = watch.expired(&limits);
    tokio::pin!(expired);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            why = &mut expired => {
                tracing::debug!(%peer, ?why, "closing a connection whose client is too slow");
                return;
            }
            _ = stopping.changed(), if !shutting_down => {
                connection.as_mut().graceful_shutdown();
                shutting_down = true;
            }
        }
    }
}

/// A warning logged at most once per [`LOG_EVERY`], counting the occurrences it skipped.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    skipped: u64,
}

impl RateLimitedLog {
    fn warn(&mut self, log: impl FnOnce(u64)) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now - last < LOG_EVERY) {
            self.skipped += 1;
            return;
        }
        log(self.skipped);
        self.last = Some(now);
        self.skipped = 0;
    }
}
