//! When and how long to wait before calling the upstream again: exponential backoff
//! with jitter, and the upstream's own `Retry-After` / `retry-after-ms` when it sent one.

use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;

/// How persistent the upstream client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = try once).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// Longest computed wait between attempts.
    pub max_backoff: Duration,
    /// Longest wait we accept from an upstream's `Retry-After`; a longer one is cut to
    /// this so a run is never parked for an hour by one header.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first retry): the upstream's
    /// requested wait when given, else `initial_backoff * 2^retry` capped at
    /// `max_backoff`, scaled by a random factor in [0.5, 1] so that many runs hitting
    /// the same limit do not retry in lockstep.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(requested) = retry_after {
            return requested.min(self.max_retry_after);
        }
        let exponential = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(self.max_backoff);
        let jitter: f64 = rand::thread_rng().gen_range(0.5..=1.0);
        exponential.mul_f64(jitter)
    }
}

/// Reads the wait an upstream asked for: OpenAI's `retry-after-ms`, or `Retry-After`
/// in (possibly fractional) seconds. HTTP dates are ignored (backoff applies instead).
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let seconds = header("retry-after")?.trim().parse::<f64>().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(1),
        };
        for (retry, full) in [(0, 100), (1, 200), (2, 300), (9, 300)] {
            let delay = policy.delay(retry, None);
            assert!(
                delay >= Duration::from_millis(full / 2),
                "{retry}: {delay:?}"
            );
            assert!(delay <= Duration::from_millis(full), "{retry}: {delay:?}");
        }
        assert_eq!(
            policy.delay(0, Some(Duration::from_millis(20))),
            Duration::from_millis(20)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(90))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn retry_after_headers_are_read() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(
            parse_retry_after(&headers),
            Some(Duration::from_millis(150))
        );
        headers.remove("retry-after-ms");
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&headers), None);
    }
}
