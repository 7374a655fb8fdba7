//! Where one connection stands between requests, and the watchdog that closes it when the
//! client takes too long: to start a request, to finish its head, or to send its body.
//! A body is timed only while the application waits for it (time it spends elsewhere, or
//! not reading at all, is not the client's fault); while the application works on a
//! request or streams its answer nothing is timed.

use std::sync::{Mutex, PoisonError};

use tokio::sync::Notify;
use tokio::time::{sleep_until, Duration, Instant};

use super::limits::ConnectionLimits;

/// What the connection waits for, with the instants its deadline is counted from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No byte of the next request yet (a fresh connection, or one kept alive).
    Idle { since: Instant },
    /// The first bytes of a request head arrived; hyper has not finished parsing it.
    Head { since: Instant },
    /// The application reads the request body.
    Body {
        /// Time the application spent waiting for body bytes, up to `waiting_since`.
        waited: Duration,
        /// When the application started waiting for the bytes it waits for now.
        waiting_since: Option<Instant>,
        /// Body bytes received so far.
        received: u64,
    },
    /// The body is read (or unread but answered): the application works or answers.
    Working,
}

/// Why the watchdog closed a connection; logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// No request started within the idle timeout.
    Idle,
    /// A request head was not complete within the header timeout.
    Header,
    /// A request body paused for longer than the body timeout.
    BodyStalled,
    /// A request body arrived slower than the minimum rate.
    BodyTooSlow,
}

/// One connection's phase, shared by its IO wrapper, its service and its watchdog.
#[derive(Debug)]
pub(super) struct ConnectionWatch {
    phase: Mutex<Phase>,
    /// Wakes the watchdog when a deadline may have moved earlier or appeared.
    changed: Notify,
}

impl ConnectionWatch {
    /// A connection just accepted: idle.
    pub(super) fn new() -> Self {
        Self {
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
            }),
            changed: Notify::new(),
        }
    }

    fn update(&self, change: impl FnOnce(&mut Phase) -> bool) {
        let notify = {
            let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut phase)
        };
        if notify {
            self.changed.notify_one();
        }
    }

    /// Bytes came in from the client: while idle, a request head has begun.
    pub(super) fn bytes_arrived(&self) {
        self.update(|phase| match phase {
            Phase::Idle { .. } => {
                *phase = Phase::Head {
                    since: Instant::now(),
                };
                true
            }
            _ => false,
        });
    }

    /// hyper parsed a request head; `body_ahead` when a body is still to come.
    pub(super) fn request_started(&self, body_ahead: bool) {
        self.update(|phase| {
            *phase = if body_ahead {
                Phase::Body {
                    waited: Duration::ZERO,
                    waiting_since: None,
                    received: 0,
                }
            } else {
                Phase::Working
            };
            true
        });
    }

    /// The application asked for body bytes that have not arrived yet.
    pub(super) fn body_awaited(&self) {
        self.update(|phase| match phase {
            Phase::Body {
                waiting_since: waiting_since @ None,
                ..
            } => {
                *waiting_since = Some(Instant::now());
                true
            }
            _ => false,
        });
    }

    /// `bytes` more of the request body were read.
    pub(super) fn body_progress(&self, bytes: u64) {
        // The wait ends: the deadline goes away, no wake-up is needed.
        self.update(|phase| {
            if let Phase::Body {
                waited,
                waiting_since,
                received,
            } = phase
            {
                if let Some(since) = waiting_since.take() {
                    *waited += since.elapsed();
                }
                *received += bytes;
            }
            false
        });
    }

    /// The body is complete, or no longer read because the answer is ready.
    pub(super) fn body_done(&self) {
        self.update(|phase| {
            if let Phase::Body { .. } = phase {
                *phase = Phase::Working;
            }
            false
        });
    }

    /// The answer was handed to hyper in full: the connection waits for the next request.
    pub(super) fn response_finished(&self) {
        self.update(|phase| {
            *phase = Phase::Idle {
                since: Instant::now(),
            };
            true
        });
    }

    /// True while no request is being worked on, i.e. whatever hyper writes now is
    /// its own answer to a request it could not parse or a previous answer's tail.
    pub(super) fn between_requests(&self) -> bool {
        matches!(
            *self.phase.lock().unwrap_or_else(PoisonError::into_inner),
            Phase::Idle { .. } | Phase::Head { .. }
        )
    }

    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expired)> {
        deadline(
            *self.phase.lock().unwrap_or_else(PoisonError::into_inner),
            limits,
        )
    }

    /// Resolves when the connection has outstayed its current phase's limit.
    pub(super) async fn expired(&self, limits: &ConnectionLimits) -> Expired {
        loop {
            match self.deadline(limits) {
                Some((deadline, why)) if deadline <= Instant::now() => return why,
                Some((deadline, _)) => {
                    tokio::select! {
                        () = sleep_until(deadline) => {}
                        () = self.changed.notified() => {}
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}

/// When `phase` runs out under `limits`, and why; `None` while nothing is timed.
fn deadline(phase: Phase, limits: &ConnectionLimits) -> Option<(Instant, Expired)> {
    match phase {
        Phase::Idle { since } => Some((since + limits.idle_timeout, Expired::Idle)),
        Phase::Head { since } => Some((since + limits.header_timeout, Expired::Header)),
        Phase::Body {
            waited,
            waiting_since: Some(since),
            received,
        } => {
            let stalled = (since + limits.body_timeout, Expired::BodyStalled);
            if limits.body_min_rate == 0 {
                return Some(stalled);
            }
            // The body may take `grace + received / rate` of waiting in all.
            let earned = Duration::from_secs_f64(received as f64 / limits.body_min_rate as f64);
            let left = (limits.body_timeout + earned).saturating_sub(waited);
            let too_slow = (since + left, Expired::BodyTooSlow);
            Some(if too_slow.0 < stalled.0 {
                too_slow
            } else {
                stalled
            })
        }
        // The application is not waiting for the body: nothing the client does is late.
        Phase::Body {
            waiting_since: None,
            ..
        } => None,
        Phase::Working => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            body_min_rate: 1000,
            max_connections: 1,
            max_header_bytes: 8192,
        }
    }

    fn waiting(waited_secs: u64, since: Instant, received: u64) -> Phase {
        Phase::Body {
            waited: Duration::from_secs(waited_secs),
            waiting_since: Some(since),
            received,
        }
    }

    #[test]
    fn idle_and_head_phases_have_their_own_limits() {
        let t = Instant::now();
        let limits = limits();
        assert_eq!(
            deadline(Phase::Idle { since: t }, &limits),
            Some((t + Duration::from_secs(60), Expired::Idle))
        );
        assert_eq!(
            deadline(Phase::Head { since: t }, &limits),
            Some((t + Duration::from_secs(10), Expired::Header))
        );
        assert_eq!(deadline(Phase::Working, &limits), None);
    }

    #[test]
    fn a_steady_body_above_the_rate_is_never_cut_but_a_trickle_is() {
        let t = Instant::now();
        let limits = limits();
        // 2,000 bytes for every second waited, for 100 seconds: twice the minimum rate.
        for second in 1..=100u64 {
            let now = t + Duration::from_secs(second);
            let (due, _) = deadline(waiting(second, now, 2000 * second), &limits).unwrap();
            assert!(due > now, "cut at {second} s");
        }
        // 10 bytes after each 20 s wait never pauses for 30 s but averages 0.5 B/s: with
        // 40 s waited and 20 received, 30.02 s of waiting were earned, so it is overdue.
        let now = t + Duration::from_secs(40);
        assert_eq!(
            deadline(waiting(40, now, 20), &limits),
            Some((now, Expired::BodyTooSlow))
        );
    }

    #[test]
    fn a_paused_body_is_due_after_the_body_timeout_even_when_fast_before() {
        let t = Instant::now();
        assert_eq!(
            deadline(waiting(1, t, 100_000_000), &limits()),
            Some((t + Duration::from_secs(30), Expired::BodyStalled))
        );
        let no_rate = ConnectionLimits {
            body_min_rate: 0,
            ..limits()
        };
        assert_eq!(
            deadline(waiting(1000, t, 1), &no_rate),
            Some((t + Duration::from_secs(30), Expired::BodyStalled))
        );
    }

    #[test]
    fn a_body_the_application_does_not_wait_for_is_not_timed() {
        let phase = Phase::Body {
            waited: Duration::from_secs(1000),
            waiting_since: None,
            received: 0,
        };
        assert_eq!(deadline(phase, &limits()), None);
    }

    #[test]
    fn phases_follow_the_request() {
        let watch = ConnectionWatch::new();
        assert!(watch.between_requests());
        watch.bytes_arrived();
        assert!(matches!(*watch.phase.lock().unwrap(), Phase::Head { .. }));
        watch.request_started(true);
        assert_eq!(watch.deadline(&limits()), None);
        watch.body_awaited();
        assert!(watch.deadline(&limits()).is_some());
        watch.body_progress(5);
        assert!(matches!(
            *watch.phase.lock().unwrap(),
            Phase::Body {
                received: 5,
                waiting_since: None,
                ..
            }
        ));
        assert!(!watch.between_requests());
        // More bytes while the request is worked on start nothing new.
        watch.bytes_arrived();
        watch.body_done();
        assert_eq!(*watch.phase.lock().unwrap(), Phase::Working);
        watch.response_finished();
        assert!(matches!(*watch.phase.lock().unwrap(), Phase::Idle { .. }));
    }
}
