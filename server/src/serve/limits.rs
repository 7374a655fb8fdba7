//! How long a client may take to send a request, and how many connections may be open at
//! once: the connection layer's bounds, as settings ([`ConnectionLimits`]) and as the
//! server's flags ([`ConnectionArgs`]). Only the request side and idle time are bounded;
//! an answer (a long run's event stream) may take as long as it takes.

use std::time::Duration;

/// Longest a client may take to send a whole request head once its first byte arrived.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a connection may sit without a request (a new one, or kept alive after an answer).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest pause in a request body, and the grace before its minimum rate applies.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Slowest average rate a request body may arrive at (bytes per second) after the grace.
pub const DEFAULT_BODY_MIN_RATE: u64 = 1024;
/// Largest request head (request line and headers) accepted; larger ones get 431. Node.js
/// allows 16 KiB; this leaves room for long query strings.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest `--max-header-bytes`: hyper's read buffer (~408 KiB) ends any head beyond it.
pub const MOST_HEADER_BYTES: usize = 8192 + 4096 * 100;
/// Connections served at once; further ones wait in the listen backlog. Leaves room
/// under a common 1,024 open-file limit for the database, blobs and upstream sockets.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The connection layer's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// From the end of an answer (or the accept) to the first byte of the next request.
    pub idle_timeout: Duration,
    /// Longest the application waits for the next piece of a request body; also the grace
    /// before [`Self::body_min_rate`] is enforced, so a slow start is not punished.
    pub body_timeout: Duration,
    /// Bytes per second of waiting a body must average after the grace; 0 turns it off.
    /// Slow but steady uploads pass; a trickle that only resets the pause timer does not.
    /// Only time the application spends waiting for the body counts.
    pub body_min_rate: u64,
    /// Connections served at once: past it, accepting pauses until one closes.
    pub max_connections: usize,
    /// Largest request head in bytes (request line and headers): past it, 431.
    pub max_header_bytes: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            body_min_rate: DEFAULT_BODY_MIN_RATE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

/// The connection flags; flatten them into the binary's own `Parser`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Seconds a client may take to send a request's headers, from their first byte.
    #[arg(long, env = "ASSISTANTS_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,
    /// Seconds a connection may stay open without a request (new or kept alive).
    #[arg(long, env = "ASSISTANTS_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,
    /// Seconds a request body may pause; also the grace before --body-min-rate applies.
    #[arg(long, env = "ASSISTANTS_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Slowest average rate of a request body in bytes per second (0: no minimum).
    #[arg(long, env = "ASSISTANTS_BODY_MIN_RATE", default_value_t = DEFAULT_BODY_MIN_RATE)]
    pub body_min_rate: u64,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "ASSISTANTS_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = max_connections)]
    pub max_connections: usize,
    /// Largest request line plus headers in bytes; larger requests get 431.
    #[arg(long, env = "ASSISTANTS_MAX_HEADER_BYTES", default_value_t = DEFAULT_MAX_HEADER_BYTES, value_parser = max_header_bytes)]
    pub max_header_bytes: usize,
}

impl ConnectionArgs {
    /// The limits these flags ask for.
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            body_min_rate: self.body_min_rate,
            max_connections: self.max_connections,
            max_header_bytes: self.max_header_bytes,
        }
    }
}

/// Largest accepted `--max-connections`: shutdown waits for every connection by taking
/// all permits at once, which a `u32` must count.
const MOST_CONNECTIONS: usize = 1 << 20;

fn max_connections(text: &str) -> Result<usize, String> {
    within(text, 1, MOST_CONNECTIONS)
}

fn max_header_bytes(text: &str) -> Result<usize, String> {
    within(text, 1024, MOST_HEADER_BYTES)
}

fn within(text: &str, least: usize, most: usize) -> Result<usize, String> {
    let value: usize = text.parse().map_err(|error| format!("{error}"))?;
    if (least..=most).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between {least} and {most}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        connections: ConnectionArgs,
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let flags = Flags::try_parse_from(["server"]).unwrap();
        assert_eq!(flags.connections.limits(), ConnectionLimits::default());
    }

    #[test]
    fn flags_set_every_limit_and_reject_zero_where_it_makes_no_sense() {
        let flags = Flags::try_parse_from([
            "server",
            "--header-timeout-secs=5",
            "--idle-timeout-secs=6",
            "--body-timeout-secs=7",
            "--body-min-rate=0",
            "--max-connections=8",
            "--max-header-bytes=2048",
        ])
        .unwrap();
        let limits = flags.connections.limits();
        assert_eq!(limits.header_timeout, Duration::from_secs(5));
        assert_eq!(limits.idle_timeout, Duration::from_secs(6));
        assert_eq!(limits.body_timeout, Duration::from_secs(7));
        assert_eq!(limits.body_min_rate, 0);
        assert_eq!(limits.max_connections, 8);
        assert_eq!(limits.max_header_bytes, 2048);
        for bad in [
            "--idle-timeout-secs=0",
            "--header-timeout-secs=0",
            "--body-timeout-secs=0",
            "--max-connections=0",
            "--max-header-bytes=100",
            "--max-header-bytes=999999",
        ] {
            assert!(Flags::try_parse_from(["server", bad]).is_err(), "{bad}");
        }
    }
}
