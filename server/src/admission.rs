//! Connections that have not authenticated yet.
//!
//! A connection is *pending* from the moment its TCP socket is accepted until
//! the hub accepted its WebSocket `connect` or `resume`, or until it closes.
//! Plain HTTP (REST) connections stay pending for their whole life. Pending
//! connections are bounded three ways, so peers that open sockets and say
//! nothing (or drip a header line now and then) cannot use up the server's
//! file descriptors:
//!
//! * a count per address ([`ServerLimits::max_pending_per_ip`]: one IPv4
//!   address, or one IPv6 /64) and a total
//!   ([`ServerLimits::max_pending_connections`]): the listener closes a
//!   connection over either at once ([`Gate::admit`]);
//! * a deadline ([`ServerLimits::auth_timeout`] after the accept): the
//!   listener ends the HTTP phase at it, and the link's handshake gives up at
//!   it ([`Pending::deadline`]);
//! * the HTTP request head must arrive within
//!   [`ServerLimits::http_header_timeout`] (enforced by hyper in the
//!   listener).
//!
//! A [`Pending`] handle is the slot: cloned into every request of its
//! connection and into the upgraded link, given back when the last clone is
//! dropped or as soon as [`Pending::authenticated`] is called.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::ServerLimits;

/// What pending connections are counted by: an IPv4 address, or the /64
/// network of an IPv6 address (one host is commonly given a whole /64).
/// IPv4-mapped IPv6 addresses count as their IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    V4(u32),
    V6Net(u64),
}

impl From<IpAddr> for Source {
    fn from(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(a) => Source::V4(u32::from(a)),
            IpAddr::V6(a) => Source::V6Net((u128::from(a) >> 64) as u64),
        }
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// [`ServerLimits::max_pending_connections`] are pending already.
    Total,
    /// [`ServerLimits::max_pending_per_ip`] are pending from this address.
    PerAddress,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    /// Only addresses with at least one pending connection.
    by_source: HashMap<Source, usize>,
}

/// The counts of pending connections and their bounds.
#[derive(Debug)]
pub(crate) struct Gate {
    max_total: usize,
    max_per_source: usize,
    auth_timeout: Duration,
    counts: Mutex<Counts>,
}

impl Gate {
    pub(crate) fn new(limits: &ServerLimits) -> Arc<Self> {
        Arc::new(Gate {
            max_total: limits.max_pending_connections,
            max_per_source: limits.max_pending_per_ip,
            auth_timeout: limits.auth_timeout,
            counts: Mutex::default(),
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The counts stay consistent even if a holder panicked: every update
        // is a single step.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot for a connection just accepted from `peer`, or says
    /// why there is none.
    pub(crate) fn admit(self: &Arc<Self>, peer: SocketAddr) -> Result<Pending, Refusal> {
        let source = Source::from(peer.ip());
        {
            let mut c = self.counts();
            if c.total >= self.max_total {
                return Err(Refusal::Total);
            }
            let n = c.by_source.entry(source).or_insert(0);
            if *n >= self.max_per_source {
                return Err(Refusal::PerAddress);
            }
            *n += 1;
            c.total += 1;
        }
        Ok(Pending(Arc::new(Slot {
            gate: Arc::clone(self),
            source,
            peer,
            deadline: Instant::now() + self.auth_timeout,
            released: AtomicBool::new(false),
        })))
    }

    /// Connections pending right now.
    pub(crate) fn pending(&self) -> usize {
        self.counts().total
    }

    fn release(&self, source: Source) {
        let mut c = self.counts();
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.by_source.get_mut(&source) {
            *n -= 1;
            if *n == 0 {
                c.by_source.remove(&source);
            }
        }
    }
}

#[derive(Debug)]
struct Slot {
    gate: Arc<Gate>,
    source: Source,
    peer: SocketAddr,
    deadline: Instant,
    released: AtomicBool,
}

impl Slot {
    fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            self.gate.release(self.source);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

/// One pending connection's slot (see the module documentation). Clones
/// share the slot.
#[derive(Debug, Clone)]
pub(crate) struct Pending(Arc<Slot>);

impl Pending {
    /// When the connection must have authenticated (accept time plus
    /// [`ServerLimits::auth_timeout`]).
    pub(crate) fn deadline(&self) -> Instant {
        self.0.deadline
    }

    /// The address the connection came from.
    pub(crate) fn peer(&self) -> SocketAddr {
        self.0.peer
    }

    /// The connection authenticated: it no longer counts as pending.
    pub(crate) fn authenticated(&self) {
        self.0.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(total: usize, per_ip: usize) -> Arc<Gate> {
        Gate::new(&ServerLimits {
            max_pending_connections: total,
            max_pending_per_ip: per_ip,
            ..Default::default()
        })
    }

    fn ip(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse::<IpAddr>().expect("ip"), 40000)
    }

    #[test]
    fn counts_per_address_and_in_total() {
        let g = gate(3, 2);
        let a1 = g.admit(ip("10.0.0.1")).expect("a1");
        let a2 = g.admit(ip("10.0.0.1")).expect("a2");
        assert_eq!(g.admit(ip("10.0.0.1")).unwrap_err(), Refusal::PerAddress);
        // IPv4-mapped IPv6 is the same address.
        assert_eq!(
            g.admit(ip("::ffff:10.0.0.1")).unwrap_err(),
            Refusal::PerAddress
        );
        let b = g.admit(ip("10.0.0.2")).expect("b");
        assert_eq!(g.admit(ip("10.0.0.3")).unwrap_err(), Refusal::Total);
        assert_eq!(g.pending(), 3);

        // Authenticating frees the slot at once, and only once.
        a1.authenticated();
        a1.clone().authenticated();
        assert_eq!(g.pending(), 2);
        drop(a1);
        assert_eq!(g.pending(), 2);
        let a3 = g.admit(ip("10.0.0.1")).expect("a3");
        // Dropping the last clone frees it too.
        let b2 = b.clone();
        drop(b);
        assert_eq!(g.pending(), 3);
        drop(b2);
        assert_eq!(g.pending(), 2);
        drop((a2, a3));
        assert_eq!(g.pending(), 0);
        assert!(g.counts().by_source.is_empty(), "no entry left behind");
    }

    #[test]
    fn ipv6_counts_by_64_network() {
        let g = gate(10, 1);
        let _a = g.admit(ip("2001:db8:1:2::1")).expect("a");
        assert_eq!(
            g.admit(ip("2001:db8:1:2:ffff::9")).unwrap_err(),
            Refusal::PerAddress
        );
        let _b = g.admit(ip("2001:db8:1:3::1")).expect("other /64");
    }
}
