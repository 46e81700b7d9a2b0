//! Signals held back by their sender's share: back-pressure without
//! refusing and without stopping the sender's other frames.
//!
//! # Why here, and not by not reading
//!
//! One sender's signals may take only a share of each recipient's queue and
//! replay buffer (see [`crate::hub`]). A signal that would pass it waits
//! until the recipient acknowledges enough. Simply not reading the sender's
//! socket meanwhile would also stop its `ack`s, which travel on the same
//! link: two participants flooding each other would each wait for the
//! other's acks behind the other's waiting signal. So the link's reader
//! keeps reading, handles acks and pings at once, and parks the signals
//! here, in order, until they fit.
//!
//! # Invariants
//!
//! * Signals leave in the order they came: once one is held, every later
//!   one from the same link queues behind it.
//! * Each waits at most `sender_share_wait`; then it goes to the hub
//!   anyway, which refuses what still does not fit (1603).
//! * The queue is bounded: past [`HELD_BYTES`] of data a signal keeps only
//!   its place in the order and is refused (1603) when its turn comes; past
//!   [`MAX_UNANSWERED_SIGNALS`] signals (more than a well-behaved client
//!   ever has unanswered) the reader stops reading this link (TCP
//!   back-pressure) until the front moves.
//! * Held signals are not processed yet (their client seq is not begun),
//!   so a link lost meanwhile loses nothing: the client sends them again
//!   after its resume.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use protocol::limits::MAX_UNANSWERED_SIGNALS;
use tokio::sync::Notify;
use tokio::time::Instant;

use protocol::ErrorCode;

use crate::hub::{HubError, Membership, SessionHub};

/// Most bytes of signal data and types held for one link: what a client
/// library may have unanswered on the wire, so a client that paces itself
/// is never refused for it.
pub const HELD_BYTES: usize = protocol::limits::MAX_UNANSWERED_SIGNAL_BYTES;

/// A held signal is re-checked at least this often, so a wake-up missed
/// between a check and the wait costs no more than this.
const RECHECK: Duration = Duration::from_millis(10);

struct HeldSignal {
    seq: u64,
    /// `None`: there was no room to hold it; it is refused (1603) when its
    /// turn comes, so its answer keeps its place in the order.
    body: Option<Body>,
    until: Instant,
    /// When its frame was read (the routing latency metric counts from it).
    received: std::time::Instant,
}

struct Body {
    signal_type: String,
    data: String,
    to: Option<Vec<String>>,
    /// A `signal_to_server`: no recipient in the session, so nothing to
    /// wait for itself; held only to keep its place in the order.
    to_server: bool,
}

impl HeldSignal {
    fn weight(&self) -> usize {
        self.body
            .as_ref()
            .map_or(0, |b| b.signal_type.len() + b.data.len())
    }
}

/// One link's held signals (see the module docs).
#[derive(Default)]
pub struct Held {
    queue: VecDeque<HeldSignal>,
    bytes: usize,
    /// What to wait on for room (the session's notifier).
    room: Option<Arc<Notify>>,
}

impl Held {
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Should the reader stop reading this link until the front moves?
    /// Only past [`MAX_UNANSWERED_SIGNALS`], which a well-behaved client
    /// never sends: until then its acks keep being read, so it cannot be
    /// held up behind its own signals.
    pub fn is_full(&self) -> bool {
        self.queue.len() >= MAX_UNANSWERED_SIGNALS
    }

    /// Hands a signal to the hub now, or holds it (behind any already held).
    /// `received`: when its frame was read.
    #[allow(clippy::too_many_arguments)]
    pub async fn signal(
        &mut self,
        hub: &dyn SessionHub,
        who: &Membership,
        seq: u64,
        signal_type: String,
        data: String,
        to: Option<Vec<String>>,
        received: std::time::Instant,
    ) {
        if self.queue.is_empty() {
            match hub.share_wait(who, to.as_deref(), data.len()) {
                None => {
                    return hub
                        .signal(who, seq, &signal_type, &data, to.as_deref(), received)
                        .await
                }
                Some(room) => self.room = Some(room),
            }
        }
        self.hold(seq, signal_type, data, to, false, hub, received);
    }

    /// Hands a signal to the application server to the hub now, or, when
    /// signals are held, queues it behind them (client seqs are handled in
    /// order).
    pub async fn signal_to_server(
        &mut self,
        hub: &dyn SessionHub,
        who: &Membership,
        seq: u64,
        signal_type: String,
        data: String,
        received: std::time::Instant,
    ) {
        if self.queue.is_empty() {
            return hub
                .signal_to_server(who, seq, &signal_type, &data, received)
                .await;
        }
        self.hold(seq, signal_type, data, None, true, hub, received);
    }

    #[allow(clippy::too_many_arguments)]
    fn hold(
        &mut self,
        seq: u64,
        signal_type: String,
        data: String,
        to: Option<Vec<String>>,
        to_server: bool,
        hub: &dyn SessionHub,
        received: std::time::Instant,
    ) {
        // Past the byte bound only its place in the order is kept.
        let body = (self.bytes + signal_type.len() + data.len() <= HELD_BYTES).then_some(Body {
            signal_type,
            data,
            to,
            to_server,
        });
        let held = HeldSignal {
            seq,
            body,
            until: Instant::now() + hub.limits().sender_share_wait,
            received,
        };
        self.bytes += held.weight();
        self.queue.push_back(held);
    }

    /// Passes on, in order, the held signals that now fit or have waited
    /// long enough (all of them with `force`).
    pub async fn release(&mut self, hub: &dyn SessionHub, who: &Membership, force: bool) {
        let now = Instant::now();
        while let Some(front) = self.queue.front() {
            if let (false, true, Some(b)) = (
                force,
                now < front.until,
                front.body.as_ref().filter(|b| !b.to_server),
            ) {
                if let Some(room) = hub.share_wait(who, b.to.as_deref(), b.data.len()) {
                    self.room = Some(room);
                    return;
                }
            }
            let Some(s) = self.queue.pop_front() else {
                break;
            };
            self.bytes -= s.weight();
            match s.body {
                Some(b) if b.to_server => {
                    hub.signal_to_server(who, s.seq, &b.signal_type, &b.data, s.received)
                        .await
                }
                Some(b) => {
                    hub.signal(
                        who,
                        s.seq,
                        &b.signal_type,
                        &b.data,
                        b.to.as_deref(),
                        s.received,
                    )
                    .await
                }
                None => hub.refuse_signal(
                    who,
                    s.seq,
                    HubError::new(
                        ErrorCode::BufferFull,
                        format!(
                            "more than {HELD_BYTES} bytes of this connection's signals were \
                             already waiting for their recipients to catch up"
                        ),
                    ),
                ),
            }
        }
    }

    /// Resolves when it is worth calling [`Held::release`] again: room was
    /// made, the front's wait is over, or [`RECHECK`] passed. Never resolves
    /// while nothing is held.
    pub async fn wake(&self) {
        let Some(front) = self.queue.front() else {
            return std::future::pending().await;
        };
        if front.body.is_none() {
            return; // a refusal: nothing to wait for
        }
        let at = front.until.min(Instant::now() + RECHECK);
        match &self.room {
            Some(room) => {
                tokio::select! {
                    _ = room.notified() => {}
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
            None => tokio::time::sleep_until(at).await,
        }
    }
}
