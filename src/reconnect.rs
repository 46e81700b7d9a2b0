//! The policy of automatic reconnection: how long to keep trying, how often,
//! and when a link counts as dead.
//!
//! The numbers come from the server by default. Its `connected` frame says
//! how often it pings and how long it keeps a dropped connection (its
//! *grace*), so a client needs no configuration of its own to agree with the
//! server it talks to. Only the window can be overridden by the application
//! (`otc_session_settings_set_reconnection_window_ms`).
//!
//! * **Dead link**: no frame for three ping intervals. The server pings at
//!   that interval, so three missed pings mean the link is silent, not slow.
//! * **Window**: a little longer than the server's grace. Past the grace the
//!   server has removed the connection and would refuse the resume anyway;
//!   the extra time lets a client that reaches the server again at the very
//!   end hear that refusal instead of guessing.
//! * **Backoff**: capped exponential with jitter, so that many clients cut
//!   by the same network failure do not come back at the same instant.

use std::time::Duration;

use rand::Rng;

/// Delay before the first resume attempt (before jitter).
const FIRST_RETRY: Duration = Duration::from_millis(50);
/// Longest delay between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(2);
/// Shortest time without any frame after which a link is declared dead.
const MIN_IDLE: Duration = Duration::from_millis(100);
/// Longest a single resume attempt (open + handshake) may take.
const MAX_ATTEMPT: Duration = Duration::from_secs(10);
/// Bounds of the margin added to the server's grace for the default window.
const MIN_MARGIN: Duration = Duration::from_millis(100);
const MAX_MARGIN: Duration = Duration::from_secs(10);

/// How a session reconnects, fixed when it joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long after a drop the client keeps trying to resume. Zero means
    /// no automatic reconnection.
    pub window: Duration,
    /// Silence after which the link is dead.
    pub idle: Duration,
    /// How often the client pings a quiet server.
    pub ping_every: Duration,
}

impl Policy {
    /// The policy for a server that pings every `ping_interval` and keeps a
    /// dropped connection for `grace`; `window` overrides the default
    /// (grace plus half of it, the margin kept within 0.1 s..10 s).
    pub fn new(window: Option<Duration>, ping_interval: Duration, grace: Duration) -> Policy {
        let window = window
            .unwrap_or_else(|| grace.saturating_add((grace / 2).clamp(MIN_MARGIN, MAX_MARGIN)));
        let ping_every = ping_interval.max(MIN_IDLE / 3);
        Policy {
            window,
            idle: ping_interval.saturating_mul(3).max(MIN_IDLE),
            ping_every,
        }
    }

    /// Does a lost link start a reconnection?
    pub fn enabled(&self) -> bool {
        !self.window.is_zero()
    }

    /// The delays between attempts.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            next: FIRST_RETRY,
            cap: MAX_RETRY.min(self.window / 4).max(FIRST_RETRY),
        }
    }

    /// Longest one attempt may take: long enough for a slow but live server
    /// (a few dead-link intervals), never the whole window on one socket.
    pub fn attempt_timeout(&self) -> Duration {
        self.idle
            .saturating_mul(2)
            .clamp(Duration::from_secs(1), MAX_ATTEMPT)
    }
}

/// Capped exponential backoff with jitter: each delay is drawn from the
/// upper half of a doubling step, so retries spread out but never collapse
/// to zero.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let step = self.next.min(self.cap);
        self.next = self.next.saturating_mul(2).min(self.cap);
        let half = step / 2;
        let jitter_ns = rand::rng().random_range(0..=half.as_nanos().min(u64::MAX as u128) as u64);
        half + Duration::from_nanos(jitter_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_defaults_to_a_bit_more_than_the_grace() {
        let p = Policy::new(None, Duration::from_secs(5), Duration::from_secs(30));
        assert_eq!(p.window, Duration::from_secs(40));
        assert_eq!(p.idle, Duration::from_secs(15));
        let p = Policy::new(None, Duration::from_millis(100), Duration::from_millis(400));
        assert_eq!(p.window, Duration::from_millis(600));
        assert_eq!(p.idle, Duration::from_millis(300));
        let p = Policy::new(None, Duration::from_millis(1), Duration::ZERO);
        assert_eq!(p.window, MIN_MARGIN);
        assert_eq!(
            p.idle, MIN_IDLE,
            "a tiny ping interval does not make links flap"
        );
    }

    #[test]
    fn an_explicit_window_wins_and_zero_disables() {
        let p = Policy::new(
            Some(Duration::from_secs(3)),
            Duration::from_secs(5),
            Duration::from_secs(30),
        );
        assert_eq!(p.window, Duration::from_secs(3));
        assert!(p.enabled());
        let p = Policy::new(
            Some(Duration::ZERO),
            Duration::from_secs(5),
            Duration::from_secs(30),
        );
        assert!(!p.enabled());
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = Policy::new(None, Duration::from_secs(5), Duration::from_secs(30));
        let mut b = p.backoff();
        let delays: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= FIRST_RETRY / 2 && delays[0] <= FIRST_RETRY);
        for d in &delays {
            assert!(*d <= MAX_RETRY, "{d:?} above the cap");
        }
        assert!(
            delays[11] >= MAX_RETRY / 2,
            "the cap is reached: {delays:?}"
        );
        // A short window caps the steps at a quarter of it.
        let p = Policy::new(
            Some(Duration::from_millis(400)),
            Duration::from_secs(1),
            Duration::ZERO,
        );
        let mut b = p.backoff();
        assert!((0..10).all(|_| b.next_delay() <= Duration::from_millis(100)));
    }
}
