//! The checks a member's signal passes before it becomes an event, written
//! once for both hubs: the frame's content ([`protocol::validate`]), the
//! member's role, and its rate limit. They need nothing but the member
//! itself, so they run on the member's own node, before anything is shared
//! (a refused signal never reaches Redis).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use protocol::{validate, ErrorCode};

use crate::auth::Role;
use crate::config::ServerLimits;
use crate::hub::HubError;
use crate::rate::TokenBucket;

/// At most one warning per connection per this interval about its signals
/// refused by the rate limit (a flood would otherwise log a line per signal).
const RATE_WARN_INTERVAL: Duration = Duration::from_secs(1);

/// The content and the role: may this member send this signal at all?
pub fn signal_allowed(
    role: Role,
    signal_type: &str,
    data: &str,
    to: Option<&[String]>,
) -> Result<(), HubError> {
    validate::signal(signal_type, data, to).map_err(|e| HubError::new(e.code(), e.to_string()))?;
    if role.may_signal() {
        Ok(())
    } else {
        Err(HubError::new(
            ErrorCode::PermissionDenied,
            "a publisher_only connection may not send signals",
        ))
    }
}

/// One connection's signal rate limit, with throttled logging of refusals.
#[derive(Debug)]
pub struct RateGate {
    bucket: TokenBucket,
    /// Refusals since the last warning about them, and when that warning
    /// was logged (at most one per [`RATE_WARN_INTERVAL`]).
    refused: u64,
    warned: Option<Instant>,
}

/// Who is being limited, for the warning.
pub struct RateSubject<'a> {
    pub peer: Option<SocketAddr>,
    pub project: &'a str,
    pub session: &'a str,
    pub connection: &'a str,
}

impl RateGate {
    pub fn new(limits: &ServerLimits) -> Self {
        RateGate {
            bucket: TokenBucket::new(limits.signal_rate_per_sec, limits.signal_burst),
            refused: 0,
            warned: None,
        }
    }

    /// Takes a token, or refuses (1602). A signal and an issue report both
    /// cost one.
    pub fn take(&mut self, who: RateSubject<'_>, limits: &ServerLimits) -> Result<(), HubError> {
        if self.bucket.try_take() {
            return Ok(());
        }
        self.refused += 1;
        let now = Instant::now();
        if self
            .warned
            .is_none_or(|t| now.duration_since(t) >= RATE_WARN_INTERVAL)
        {
            tracing::warn!(
                peer = %crate::logging::peer(who.peer),
                project = who.project,
                session = who.session,
                connection = who.connection,
                refused = self.refused,
                "signal refused: rate limit of {}/s (burst {}) exceeded ({} refused since the last warning)",
                limits.signal_rate_per_sec,
                limits.signal_burst,
                self.refused,
            );
            self.refused = 0;
            self.warned = Some(now);
        }
        Err(HubError::new(
            ErrorCode::RateLimited,
            format!(
                "rate limit of {}/s (burst {}) exceeded",
                limits.signal_rate_per_sec, limits.signal_burst
            ),
        ))
    }
}
