//! The in-process session hub: one node holds every session (the default).
//!
//! # Shape
//!
//! A map from session id to a [`Session`] behind its own mutex. Everything
//! that must be consistent inside one session — membership, the per-session
//! event counter, each member's replay buffer and queue — changes under that
//! one lock, and nothing under it waits: frames go into each recipient's
//! bounded queue with a non-blocking push ([`Link::push`]). So every recipient
//! sees events in the order of their (increasing) event seq, and a targeted
//! signal is checked and delivered all-or-nothing.
//!
//! The hub is used only through a narrow API — [`Hub::join`],
//! [`Hub::resume`], [`Hub::signal`], [`Hub::ack`], [`Hub::leave`],
//! [`Hub::link_lost`], plus [`Hub::signal_from_server`],
//! [`Hub::force_disconnect`] and [`Hub::list_connections`] for the REST API —
//! so a hub spread over several nodes (Redis pub/sub for events, Redis keys
//! for membership) can replace this in-memory one without touching the
//! WebSocket or REST code.
//!
//! # One serialization per event
//!
//! An event is serialized once into a [`Frame`] (shared bytes) and the same
//! frame goes to every recipient's queue and replay buffer.
//!
//! # Flow control: a flood costs the flooder
//!
//! One sender's signals may take at most a share of each recipient: a
//! quarter ([`protocol::limits::SENDER_SHARE_DIVISOR`]) of the smaller of
//! its send queue and replay buffer, in frames and in bytes
//! ([`ServerLimits::sender_share_frames`], [`ServerLimits::sender_share_bytes`]),
//! counted over the recipient's un-acknowledged events ([`crate::replay`]),
//! which include everything its link still has queued. A signal that would
//! pass a recipient's share is held back, in order, by the sender's link
//! ([`crate::held`]) until that recipient acknowledges enough, for at most
//! `sender_share_wait`; whatever still does not fit is refused to its
//! sender with 1603, whole, and the recipient is untouched. So a sender
//! goes at the pace of its slowest recipient, a participant flooding
//! another (targeted or by broadcast) is slowed down and then refused, and
//! a recipient that keeps reading is never pushed out by someone else: it
//! takes `SENDER_SHARE_DIVISOR` flooders at once to fill its queue. A
//! sender's copies of its own broadcasts are not counted against it (it
//! acknowledges them on the same link), and the application server's
//! signals have no share.
//!
//! # Bounds in bytes
//!
//! Besides frames, each queue is bounded in bytes (`send_queue_bytes`),
//! each replay buffer too (`replay_buffer_bytes`), and one session's replay
//! buffers together (`session_buffer_bytes`): past that, the members
//! holding the most are ended first (`replay_overflow`). Memory goes back
//! as acknowledgements arrive and when a member leaves.
//!
//! # Slow consumers
//!
//! Each link has a bounded queue of `send_queue_frames` frames (and
//! `send_queue_bytes`). If a recipient's queue is full when an event is
//! pushed, that recipient — and only it — is disconnected: it is sent `disconnected { reason:
//! "slow_consumer" }` (best effort; its queue is full, so the frame goes
//! through the link's separate close path), its link is closed, a warning is
//! logged, and the others see it leave with `connection_destroyed { reason:
//! "slow_consumer" }`. Nobody else waits for it and nothing is dropped
//! without that report.
//!
//! # Reconnection
//!
//! A member outlives its link. When a link drops without a `disconnect`, the
//! member stays in the session for `reconnect_grace` (peers see nothing),
//! its events keep going to its replay buffer, and a `resume` with the
//! member's secret attaches a new link, which first gets the events the
//! client had not acknowledged. Every event a member receives stays in its
//! replay buffer until the client acknowledges it; a buffer that would exceed
//! `replay_buffer_frames` or `replay_buffer_bytes` ends the member with `disconnected { reason:
//! "replay_overflow" }` (logged), because exactly-once delivery could no
//! longer be promised. Client signals are de-duplicated by client seq, and a
//! seq out of order is refused, never acknowledged (see
//! [`crate::client_seq`]).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use protocol::messages::DisconnectReason;
use protocol::{ConnectionInfo, ErrorCode, ServerMessage, PROTOCOL_VERSION};
use rand::RngCore;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;

use super::policy::{self, RateGate, RateSubject};
use super::{HubError, JoinRequest, Membership, Recipients, SessionHub};
use crate::auth::Role;
use crate::client_seq::{ClientSeqs, Verdict};
use crate::config::ServerLimits;
use crate::link::{close_code, frame, Closing, Frame, Link, PushError};
use crate::metrics::{EvictionReason, Metrics, Source};
use crate::replay::{ReplayBuffer, Sender};

struct Member {
    info: ConnectionInfo,
    joined: u64,
    role: Role,
    suppress_events: bool,
    resume_secret: String,
    /// The current link; `None` while the connection waits for a resume.
    link: Option<Link>,
    /// Generation of the link whose loss started the current grace period.
    lost_generation: Option<u64>,
    /// Events sent but not acknowledged, oldest first, with their weight
    /// and senders (see [`crate::replay`]).
    replay: ReplayBuffer,
    acked: u64,
    /// Which client seqs were processed, and how (see [`crate::client_seq`]).
    seqs: ClientSeqs,
    rate: RateGate,
    /// Events up to this seq are not for this member (they were before it
    /// joined, or reached it by a replay from the cluster's log).
    from_seq: u64,
    /// In a cluster: which takeover of the connection this node holds (the
    /// shared state refuses a node whose number is stale). 0 on one node.
    owner_gen: u64,
}

impl Member {
    fn receives_connection_events(&self) -> bool {
        !self.suppress_events
    }

    /// Takes a token from the rate limit, or refuses (1602).
    fn take_token(
        &mut self,
        session: &str,
        project: &str,
        limits: &ServerLimits,
    ) -> Result<(), HubError> {
        let who = RateSubject {
            peer: self.link.as_ref().and_then(Link::peer),
            project,
            session,
            connection: &self.info.id,
        };
        self.rate.take(who, limits)
    }

    /// Would a frame of `len` bytes from `sender` pass the sender's share
    /// of this member (see the module docs)? The one place the rule is
    /// written, for the back-pressure check and the refusal alike. A
    /// sender's copies of its own broadcasts are not counted (it
    /// acknowledges them on the link whose signals would wait), nor is a
    /// member waiting for a resume (its replay bounds apply; otherwise every
    /// sender would wait on it for the whole grace period).
    fn holds_share_of(&self, sender: u64, len: usize, limits: &ServerLimits) -> bool {
        let share = self.replay.share_of(sender);
        self.joined != sender
            && self.link.is_some()
            && (share.frames >= limits.sender_share_frames()
                || share.bytes + len > limits.sender_share_bytes())
    }
}

/// Why a member must go.
#[derive(Debug, Clone, Copy)]
enum Eviction {
    SlowConsumer,
    ReplayOverflow,
}

impl Eviction {
    fn metric(self) -> EvictionReason {
        match self {
            Eviction::SlowConsumer => EvictionReason::SlowConsumer,
            Eviction::ReplayOverflow => EvictionReason::ReplayOverflow,
        }
    }
}

struct Session {
    id: String,
    project_key: String,
    next_seq: u64,
    next_join: u64,
    members: HashMap<String, Member>,
    /// Bytes held in all the members' replay buffers together.
    retained_bytes: usize,
    /// Woken whenever a member's acknowledgement (or departure) frees room
    /// in a replay buffer: senders held back by their share wait on it.
    room: Arc<Notify>,
    /// Set once the session is removed from the map; joiners then retry.
    closed: bool,
    metrics: Arc<Metrics>,
    /// In a cluster: where departures go to be written to the shared log
    /// (and come back, numbered, to every node). `None` on one node, where
    /// a departure is delivered at once.
    departures: Option<Departures>,
}

impl Session {
    /// Sends one event, numbered with the session's next seq, to `to`
    /// except the members `skip` names. Returns the members that could not
    /// take it.
    fn deliver(
        &mut self,
        limits: &ServerLimits,
        make: impl FnOnce(u64) -> ServerMessage,
        to: &Recipients,
        skip: impl Fn(&str) -> bool,
    ) -> Vec<(String, Eviction)> {
        let seq = self.next_seq + 1;
        let f = frame(&make(seq));
        self.deliver_frame(limits, seq, f, None, to, skip).0
    }

    /// Sends event `seq`, already serialized, from `from`, to the members
    /// `to` selects (but not those `skip` names, nor a member for which
    /// events up to `seq` are not meant: see `Member::from_seq`). On one
    /// node `seq` is the next one; in a cluster it is the next the log holds
    /// (it may skip seqs this node does not need to see). A member whose replay buffer cannot take
    /// it, in frames or bytes, or whose queue is full, is returned to be
    /// evicted; so are the largest holders when the session as a whole
    /// holds more than `session_buffer_bytes`. Also returns how many
    /// recipients it was queued to (kept for them, and not found full).
    fn deliver_frame(
        &mut self,
        limits: &ServerLimits,
        seq: u64,
        f: Frame,
        from: Sender,
        to: &Recipients,
        skip: impl Fn(&str) -> bool,
    ) -> (Vec<(String, Eviction)>, usize) {
        debug_assert!(seq > self.next_seq);
        self.next_seq = seq;
        let listed: Option<HashSet<&str>> = match to {
            Recipients::List(ids) => Some(ids.iter().map(String::as_str).collect()),
            _ => None,
        };
        let wanted = |id: &str, m: &Member| {
            seq > m.from_seq
                && !skip(id)
                && match to {
                    Recipients::All => true,
                    Recipients::List(_) => listed.as_ref().is_some_and(|l| l.contains(id)),
                    Recipients::Watchers { except } => {
                        m.receives_connection_events() && id != except
                    }
                }
        };
        let len = f.len();
        let mut evicted = Vec::new();
        // Counted here and published once (see crate::metrics).
        let mut kept = 0usize;
        let mut full = 0usize;
        for (id, m) in self.members.iter_mut() {
            if !wanted(id, m) {
                continue;
            }
            if m.replay.len() >= limits.replay_buffer_frames
                || m.replay.bytes() + len > limits.replay_buffer_bytes
            {
                evicted.push((id.clone(), Eviction::ReplayOverflow));
                continue;
            }
            m.replay.push(seq, f.clone(), from);
            self.retained_bytes += len;
            kept += 1;
            if let Some(link) = &m.link {
                match link.push(f.clone()) {
                    Ok(()) => {}
                    Err(PushError::Full) => {
                        full += 1;
                        evicted.push((id.clone(), Eviction::SlowConsumer));
                    }
                    // The link is dying; its loss is reported separately and
                    // the replay buffer keeps the event for a resume.
                    Err(PushError::Closed) => {}
                }
            }
        }
        self.metrics.buffered(kept, kept * len);
        if self.retained_bytes > limits.session_buffer_bytes {
            self.largest_holders(limits, &mut evicted);
        }
        (evicted, kept - full)
    }

    /// Adds to `evicted` the members holding the most, largest first, until
    /// what the others hold fits in `session_buffer_bytes`.
    fn largest_holders(&self, limits: &ServerLimits, evicted: &mut Vec<(String, Eviction)>) {
        let mut excess = self.retained_bytes - limits.session_buffer_bytes;
        let mut holders: Vec<(&String, usize)> = self
            .members
            .iter()
            .filter(|(id, _)| !evicted.iter().any(|(e, _)| e == *id))
            .map(|(id, m)| (id, m.replay.bytes()))
            .collect();
        holders.sort_unstable_by_key(|h| std::cmp::Reverse(h.1));
        for (id, bytes) in holders {
            if excess == 0 || bytes == 0 {
                break;
            }
            tracing::warn!(session = %self.id, connection = %id, bytes, "the session holds more than session_buffer_bytes of un-acknowledged events");
            evicted.push((id.clone(), Eviction::ReplayOverflow));
            excess = excess.saturating_sub(bytes);
        }
    }

    /// Drops `id`'s events up to `acked` from its replay buffer.
    fn release(&mut self, id: &str, acked: u64) {
        if let Some(m) = self.members.get_mut(id) {
            m.acked = m.acked.max(acked);
            let frames = m.replay.len();
            let freed = m.replay.release_through(m.acked);
            self.retained_bytes -= freed;
            self.metrics.released(frames - m.replay.len(), freed);
            if freed > 0 {
                self.room.notify_waiters();
            }
        }
    }

    /// Refuses (1603) a signal of `len` bytes from `sender` (a member's
    /// `joined`) when a recipient `is_target` selects already holds its
    /// sender's share (see the module docs).
    fn within_share(
        &self,
        limits: &ServerLimits,
        sender: u64,
        is_target: impl Fn(&str) -> bool,
        len: usize,
    ) -> Result<(), HubError> {
        let (max_frames, max_bytes) = (limits.sender_share_frames(), limits.sender_share_bytes());
        let over = self
            .members
            .iter()
            .find(|(id, m)| is_target(id) && m.holds_share_of(sender, len, limits));
        match over {
            None => Ok(()),
            Some((id, m)) => {
                let share = m.replay.share_of(sender);
                Err(HubError::new(
                    ErrorCode::BufferFull,
                    format!(
                        "connection {id} has not yet acknowledged {} of your signals ({} bytes); \
                         one sender may have at most {max_frames} signals or {max_bytes} bytes \
                         waiting at a recipient: send again once it has caught up",
                        share.frames, share.bytes
                    ),
                ))
            }
        }
    }

    /// Would a signal of about `len` bytes from `from` to `to` (everyone
    /// when `None`) find a recipient already holding its sender's share?
    fn share_full(
        &self,
        limits: &ServerLimits,
        from: &str,
        to: Option<&[String]>,
        len: usize,
    ) -> bool {
        let Some(sender) = self.members.get(from).map(|m| m.joined) else {
            return false;
        };
        let full = |m: &Member| m.holds_share_of(sender, len, limits);
        match to {
            None => self.members.values().any(full),
            Some(ids) => ids.iter().filter_map(|id| self.members.get(id)).any(full),
        }
    }

    /// Removes `id`, closes its link with `closing` and tells the others.
    /// Evictions caused by that notification are handled too.
    fn remove(
        &mut self,
        limits: &ServerLimits,
        id: &str,
        reason: DisconnectReason,
        closing: Option<Closing>,
    ) {
        self.remove_all(limits, vec![(id.to_string(), reason, closing)]);
    }

    /// Removes every member of `work` and those its departures evict, each
    /// once: a member found unable to take a notification is queued (and
    /// logged) the first time only. (In a session full of members that do
    /// not read, one departure finds all of them full; queueing them again
    /// for each departure made a cascade quadratic in log lines and work.)
    fn remove_all(
        &mut self,
        limits: &ServerLimits,
        mut work: Vec<(String, DisconnectReason, Option<Closing>)>,
    ) {
        let mut queued: HashSet<String> = work.iter().map(|(id, _, _)| id.clone()).collect();
        // Every round removes one member or skips one that is gone, and
        // each member is queued at most once, so this ends.
        while let Some((id, reason, closing)) = work.pop() {
            let Some(m) = self.members.remove(&id) else {
                continue;
            };
            self.retained_bytes -= m.replay.bytes();
            self.metrics.released(m.replay.len(), m.replay.bytes());
            self.metrics.left(reason, 1);
            self.room.notify_waiters();
            if let (Some(link), Some(c)) = (&m.link, closing) {
                link.close(c);
            }
            tracing::info!(session = %self.id, connection = %id, reason = reason.as_str(), "connection left");
            if let Some(out) = &self.departures {
                // Told to everyone through the log, this node included.
                let _ = out.send(Departure {
                    session_id: self.id.clone(),
                    connection_id: id.clone(),
                    reason,
                    owner_gen: m.owner_gen,
                });
                continue;
            }
            let evicted = self.deliver(
                limits,
                |seq| ServerMessage::ConnectionDestroyed {
                    seq,
                    connection_id: id.clone(),
                    reason,
                },
                &Recipients::Watchers { except: id.clone() },
                |victim| queued.contains(victim),
            );
            for (victim, why) in evicted {
                if queued.insert(victim.clone()) {
                    work.push(eviction(&self.metrics, &self.id, &victim, why));
                }
            }
        }
    }

    /// Counts the outcome of a member's signal `seq` and, for a refusal,
    /// remembers it for a repeat of the same seq.
    fn signal_outcome(
        &mut self,
        metrics: &Metrics,
        who: &Membership,
        seq: u64,
        result: &Result<(), HubError>,
        received: Option<Instant>,
    ) {
        match result {
            Ok(()) => {
                if let Some(at) = received {
                    metrics.routing_latency(at.elapsed());
                }
            }
            Err(e) => {
                tracing::debug!(connection = %who.connection_id, seq, code = e.code.as_i32(), "signal refused: {}", e.message);
                metrics.signal_refused(Source::Client, e.code);
                if let Some(m) = self.members.get_mut(&who.connection_id) {
                    m.seqs.refused(seq, e.code);
                }
            }
        }
    }

    fn handle_evictions(&mut self, limits: &ServerLimits, evicted: Vec<(String, Eviction)>) {
        let mut seen = HashSet::new();
        let work = evicted
            .into_iter()
            .filter(|(victim, _)| seen.insert(victim.clone()))
            .map(|(victim, why)| eviction(&self.metrics, &self.id, &victim, why))
            .collect();
        self.remove_all(limits, work);
    }

    fn infos_except(&self, id: &str) -> Vec<ConnectionInfo> {
        let mut v: Vec<(&u64, &ConnectionInfo)> = self
            .members
            .iter()
            .filter(|(k, _)| k.as_str() != id)
            .map(|(_, m)| (&m.joined, &m.info))
            .collect();
        v.sort_by_key(|(j, _)| **j);
        v.into_iter().map(|(_, i)| i.clone()).collect()
    }

    /// Routes a signal to everyone (`to == None`) or to the listed members,
    /// all-or-nothing. A signal from a member (`from`) is refused whole
    /// with [`ErrorCode::BufferFull`] if any recipient already holds its
    /// sender's share (see the module docs); a server signal has no share.
    fn route(
        &mut self,
        limits: &ServerLimits,
        from: Option<&str>,
        signal_type: &str,
        data: &str,
        to: Option<&[String]>,
    ) -> Result<(), HubError> {
        let targets: Option<HashSet<&str>> = to.map(|t| t.iter().map(String::as_str).collect());
        if let Some(t) = &targets {
            if let Some(missing) = t.iter().find(|id| !self.members.contains_key(**id)) {
                return Err(HubError::new(
                    ErrorCode::SignalTargetNotConnected,
                    format!("connection {missing} is not connected to this session"),
                ));
            }
        }
        let is_target = |id: &str| targets.as_ref().is_none_or(|t| t.contains(id));
        let seq = self.next_seq + 1;
        let f = frame(&ServerMessage::Signal {
            seq,
            from: from.map(str::to_string),
            signal_type: signal_type.to_string(),
            data: data.to_string(),
        });
        let sender = from.and_then(|id| self.members.get(id)).map(|m| m.joined);
        if let Some(sender) = sender {
            self.within_share(limits, sender, is_target, f.len())?;
        }
        let to = to.map_or(Recipients::All, |t| Recipients::List(t.to_vec()));
        let (evicted, recipients) = self.deliver_frame(limits, seq, f, sender, &to, |_| false);
        let source = if from.is_some() {
            Source::Client
        } else {
            Source::Rest
        };
        self.metrics.signal_routed(source, recipients);
        self.handle_evictions(limits, evicted);
        Ok(())
    }
}

/// Splits a participant list into pages of at most
/// [`protocol::limits::CONNECTION_LIST_PAGE_BYTES`] of JSON each (a page
/// holds at least one entry, and one entry always fits in a frame).
pub(crate) fn pages(infos: Vec<ConnectionInfo>) -> Vec<Vec<ConnectionInfo>> {
    let limit = protocol::limits::CONNECTION_LIST_PAGE_BYTES;
    let mut out: Vec<Vec<ConnectionInfo>> = Vec::new();
    let mut page = Vec::new();
    let mut bytes = 0;
    for info in infos {
        // Its exact size in the frame, plus the separating comma.
        let size = serde_json::to_vec(&info).map_or(limit, |v| v.len()) + 1;
        if !page.is_empty() && bytes + size > limit {
            out.push(std::mem::take(&mut page));
            bytes = 0;
        }
        bytes += size;
        page.push(info);
    }
    if !page.is_empty() {
        out.push(page);
    }
    out
}

fn eviction(
    metrics: &Metrics,
    session: &str,
    id: &str,
    why: Eviction,
) -> (String, DisconnectReason, Option<Closing>) {
    metrics.evicted(why.metric());
    let (reason, message) = match why {
        Eviction::SlowConsumer => (
            DisconnectReason::SlowConsumer,
            "your send queue overflowed: events were not read fast enough",
        ),
        Eviction::ReplayOverflow => (
            DisconnectReason::ReplayOverflow,
            "too many unacknowledged events for the replay buffer",
        ),
    };
    tracing::warn!(
        session,
        connection = id,
        reason = reason.as_str(),
        "{message}; disconnecting it"
    );
    let msg = ServerMessage::Disconnected {
        reason,
        message: message.to_string(),
    };
    (
        id.to_string(),
        reason,
        Some(Closing {
            drain: false,
            frame: Some(frame(&msg)),
            code: close_code::POLICY,
            reason: reason.as_str().to_string(),
        }),
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What the routing step of [`LocalHub::check_signal`] did.
enum Routed {
    /// Routed or refused: answer now.
    Done(Result<(), HubError>),
    /// Handed on (to the cluster's log); answered later.
    Pending,
}

/// A client signal as the hub gets it: type, data, targets (`None`: everyone)
/// and when its frame was read.
type SignalBody<'a> = (&'a str, &'a str, Option<&'a [String]>, Instant);

/// The in-process session hub (see the module docs).
pub struct LocalHub {
    /// Itself, for the grace timers it spawns.
    me: Weak<LocalHub>,
    limits: ServerLimits,
    sessions: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
    next_generation: AtomicU64,
    shutting_down: AtomicBool,
    metrics: Arc<Metrics>,
    /// In a cluster, given to every session (see `Session::departures`).
    departures: Option<Departures>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a hub lock leaves data that is still
    // structurally valid; keep serving rather than poison every session.
    match m.try_lock() {
        Ok(g) => return g,
        Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => {}
    }
    // Held by someone else, maybe for long (a join or an eviction cascade
    // in a big session). Waiting here would park this runtime worker and
    // every task queued on it, whatever session they belong to: on two
    // workers one busy session stalled all the others (otc-bench
    // isolation). So hand the worker's other tasks to another thread first
    // (multi-threaded runtime only; elsewhere there is nobody to hand them
    // to).
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| m.lock().unwrap_or_else(|e| e.into_inner()))
    } else {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LocalHub {
    pub fn new(limits: ServerLimits) -> Arc<Self> {
        Self::with_departures(limits, None)
    }

    /// The local delivery of a cluster node: members leaving are sent to
    /// `departures` (to be written to the shared log) instead of being
    /// announced here.
    pub(crate) fn for_cluster(limits: ServerLimits, departures: Departures) -> Arc<Self> {
        Self::with_departures(limits, Some(departures))
    }

    fn with_departures(limits: ServerLimits, departures: Option<Departures>) -> Arc<Self> {
        Arc::new_cyclic(|me| LocalHub {
            me: me.clone(),
            limits,
            sessions: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            metrics: Arc::new(Metrics::new()),
            departures,
        })
    }

    /// What the hub counts (served at `/metrics`).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The limits the hub enforces.
    pub fn limits(&self) -> &ServerLimits {
        &self.limits
    }

    /// A fresh link generation number.
    pub fn next_generation(&self) -> u64 {
        self.next_generation.fetch_add(1, Ordering::Relaxed)
    }

    fn session(&self, session_id: &str) -> Option<Arc<Mutex<Session>>> {
        lock(&self.sessions).get(session_id).cloned()
    }

    /// Drops the session from the map if it has no members left.
    ///
    /// Never waits for a session's lock while holding the map's: every
    /// session's lookups share the map lock, so waiting there for a busy
    /// session (a join in a large session, an eviction cascade) would stall
    /// all the others. The map lock is taken only with a `try_lock` of the
    /// session inside; if the session is busy, the check is tried again a
    /// few times and otherwise left to the next caller (an empty session
    /// left in the map costs a little memory and is reused by the next
    /// join).
    fn gc(&self, session_id: &str) {
        for _ in 0..4 {
            let Some(s) = self.session(session_id) else {
                return;
            };
            if !lock(&s).members.is_empty() {
                return;
            }
            let mut map = lock(&self.sessions);
            if !map.get(session_id).is_some_and(|c| Arc::ptr_eq(c, &s)) {
                return; // removed or replaced meanwhile
            }
            let locked = match s.try_lock() {
                Ok(g) => Some(g),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            if let Some(mut g) = locked {
                if g.members.is_empty() {
                    g.closed = true;
                    drop(g);
                    map.remove(session_id);
                }
                return;
            }
            drop(map);
            std::thread::yield_now();
        }
    }

    /// Adds a new connection to a session (creating the session on first
    /// use). The `connected` frame is queued on `link` before any event, so
    /// the client sees it first.
    pub fn join(&self, req: JoinRequest, link: Link) -> Result<Membership, HubError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(HubError::new(
                ErrorCode::ConnectionRefused,
                "the server is shutting down",
            ));
        }
        // A session emptied and removed between lookup and lock is marked
        // closed; look it up again (a bounded number of times).
        for _ in 0..8 {
            let s = {
                let mut map = lock(&self.sessions);
                map.entry(req.session_id.clone())
                    .or_insert_with(|| {
                        Arc::new(Mutex::new(Session {
                            id: req.session_id.clone(),
                            project_key: req.project_key.clone(),
                            next_seq: 0,
                            next_join: 0,
                            members: HashMap::new(),
                            retained_bytes: 0,
                            room: Arc::new(Notify::new()),
                            closed: false,
                            metrics: Arc::clone(&self.metrics),
                            departures: self.departures.clone(),
                        }))
                    })
                    .clone()
            };
            let mut s = lock(&s);
            if s.closed {
                continue;
            }
            let joined = self.join_locked(&mut s, &req, link);
            if joined.is_err() && s.members.is_empty() {
                // A session created for this join only: do not keep it.
                drop(s);
                self.gc(&req.session_id);
            }
            return joined;
        }
        Err(HubError::new(
            ErrorCode::InternalError,
            "could not join the session",
        ))
    }

    fn join_locked(
        &self,
        s: &mut Session,
        req: &JoinRequest,
        link: Link,
    ) -> Result<Membership, HubError> {
        let limits = &self.limits;
        if s.project_key != req.project_key {
            return Err(HubError::new(
                ErrorCode::InvalidSession,
                "session belongs to another project",
            ));
        }
        if s.members.len() >= limits.max_connections_per_session {
            return Err(HubError::new(
                ErrorCode::ConnectionLimitExceeded,
                format!(
                    "the session already holds its maximum of {} connections",
                    limits.max_connections_per_session
                ),
            ));
        }
        let id = random_hex(16);
        let info = ConnectionInfo {
            id: id.clone(),
            created_at_ms: now_ms(),
            data: req.connection_data.clone(),
        };
        let resume_secret = random_hex(32);
        let mut pages = if req.suppress_connection_events {
            Vec::new()
        } else {
            pages(s.infos_except(&id))
        }
        .into_iter();
        let connected = ServerMessage::Connected {
            version: PROTOCOL_VERSION,
            session_id: s.id.clone(),
            connection: info.clone(),
            connections: pages.next().unwrap_or_default(),
            resume_secret: resume_secret.clone(),
            last_seq: s.next_seq,
            ping_interval_ms: u64::try_from(limits.ping_interval.as_millis()).unwrap_or(u64::MAX),
            reconnect_grace_ms: u64::try_from(limits.reconnect_grace.as_millis())
                .unwrap_or(u64::MAX),
        };
        let gone = |_| HubError::new(ErrorCode::ConnectionFailed, "link closed while joining");
        link.push(frame(&connected)).map_err(gone)?;
        // The rest of the list, before any event (the link's queue has room
        // for a whole replay buffer beyond the live limit).
        for connections in pages {
            link.push_replay(frame(&ServerMessage::Connections { connections }))
                .map_err(gone)?;
        }
        let created = info.clone();
        let evicted = s.deliver(
            limits,
            |seq| ServerMessage::ConnectionCreated {
                seq,
                connection: created,
            },
            &Recipients::Watchers { except: id.clone() },
            |_| false,
        );
        s.next_join += 1;
        s.members.insert(
            id.clone(),
            Member {
                info,
                joined: s.next_join,
                role: req.role,
                suppress_events: req.suppress_connection_events,
                resume_secret,
                link: Some(link),
                lost_generation: None,
                replay: ReplayBuffer::default(),
                acked: s.next_seq,
                seqs: ClientSeqs::default(),
                rate: RateGate::new(limits),
                from_seq: s.next_seq,
                owner_gen: 0,
            },
        );
        self.metrics.joined();
        tracing::info!(session = %s.id, connection = %id, members = s.members.len(), "connection joined");
        s.handle_evictions(limits, evicted);
        Ok(Membership {
            session_id: s.id.clone(),
            connection_id: id,
        })
    }

    /// Attaches `link` to a connection that lost its link (or whose old link
    /// is half-open: that one is closed). Queues `resumed`, then every event
    /// above `last_seq` still in the replay buffer, in order.
    pub fn resume(
        &self,
        session_id: &str,
        connection_id: &str,
        secret: &str,
        last_seq: u64,
        link: Link,
    ) -> Result<Membership, HubError> {
        let refused = || {
            HubError::new(
                ErrorCode::AuthorizationFailure,
                "no such connection in this session, or wrong resume secret (it may have expired)",
            )
        };
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(HubError::new(
                ErrorCode::ConnectionRefused,
                "the server is shutting down",
            ));
        }
        let s = self.session(session_id).ok_or_else(refused)?;
        let mut s = lock(&s);
        let m = s.members.get_mut(connection_id).ok_or_else(refused)?;
        if !bool::from(m.resume_secret.as_bytes().ct_eq(secret.as_bytes())) {
            return Err(refused());
        }
        if let Some(old) = m.link.take() {
            old.close(Closing {
                drain: false,
                frame: None,
                code: close_code::POLICY,
                reason: "resumed on another link".into(),
            });
        }
        m.lost_generation = None;
        let top = s.next_seq;
        s.release(connection_id, last_seq.min(top));
        let Some(m) = s.members.get_mut(connection_id) else {
            return Err(refused());
        };
        let resumed = ServerMessage::Resumed {
            last_client_seq: m.seqs.last(),
        };
        let mut ok = link.push_replay(frame(&resumed)).is_ok();
        for f in m.replay.frames() {
            ok = ok && link.push_replay(f.clone()).is_ok();
        }
        if !ok {
            // The new link's queue is sized to hold a full replay; failing
            // here means it is already gone. Keep waiting for another resume.
            return Err(HubError::new(
                ErrorCode::ConnectionFailed,
                "link closed while resuming",
            ));
        }
        let replayed = m.replay.len();
        m.link = Some(link);
        tracing::info!(session = %session_id, connection = %connection_id, replayed, "connection resumed");
        Ok(Membership {
            session_id: session_id.to_string(),
            connection_id: connection_id.to_string(),
        })
    }

    /// Back-pressure for one sender: `Some` (a notifier to wait on) while a
    /// signal of `data_len` bytes from `who` to `to` would find a recipient
    /// holding its sender's share (see the module docs), so the caller holds
    /// the signal, and stops reading the sender, until there is room or
    /// `sender_share_wait` has passed; [`Hub::signal`] then refuses what
    /// still does not fit.
    pub fn share_wait(
        &self,
        who: &Membership,
        to: Option<&[String]>,
        data_len: usize,
    ) -> Option<Arc<Notify>> {
        let s = self.session(&who.session_id)?;
        let s = lock(&s);
        // The data plus what a frame adds around it (an estimate: escaping
        // can make the frame larger, which the check in `route` catches).
        let len = data_len + 256;
        s.share_full(&self.limits, &who.connection_id, to, len)
            .then(|| Arc::clone(&s.room))
    }

    /// Handles signal `seq` from a member and queues its answer
    /// (`signal_ack` or `signal_error`) on the member's link. `received`:
    /// when its frame was read (for the routing latency metric).
    pub fn signal(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        to: Option<&[String]>,
        received: Instant,
    ) {
        self.answer_signal(who, seq, Ok((signal_type, data, to, received)));
    }

    /// Answers signal `seq` from a member with `why`, without routing it
    /// (unless it was processed before: then as the first time). For a
    /// signal the link could not even hold (see [`crate::held`]).
    pub fn refuse_signal(&self, who: &Membership, seq: u64, why: HubError) {
        self.answer_signal(who, seq, Err(why));
    }

    fn answer_signal(&self, who: &Membership, seq: u64, body: Result<SignalBody<'_>, HubError>) {
        let limits = &self.limits;
        self.check_signal(who, seq, body, |s, signal_type, data, to| {
            Routed::Done(s.route(limits, Some(&who.connection_id), signal_type, data, to))
        });
    }

    /// The one handling of a member's signal `seq`: the client seq verdict,
    /// then the policy checks, then `route` (which either routes it now, on
    /// one node, or leaves it pending: the cluster's shared log answers
    /// later through [`LocalHub::finish_signal`]). Answers on the member's
    /// link unless pending. Returns whether it is pending.
    fn check_signal(
        &self,
        who: &Membership,
        seq: u64,
        body: Result<SignalBody<'_>, HubError>,
        route: impl FnOnce(&mut Session, &str, &str, Option<&[String]>) -> Routed,
    ) -> bool {
        let Some(s) = self.session(&who.session_id) else {
            return false;
        };
        let mut guard = lock(&s);
        // Borrowed field by field below (a member and the session's ids).
        let s: &mut Session = &mut guard;
        let limits = &self.limits;
        let metrics = &self.metrics;
        let Some(m) = s.members.get_mut(&who.connection_id) else {
            return false;
        };
        metrics.signal_received(Source::Client);
        let answer = match m.seqs.begin(seq) {
            // Already processed (the client sent it again after a resume):
            // answer the same way, do not route again.
            Verdict::Repeat(Ok(())) => {
                metrics.signal_repeated();
                Ok(())
            }
            Verdict::Repeat(Err(code)) => {
                metrics.signal_repeated();
                Err(HubError::new(
                    code,
                    format!("signal {seq} was refused when first sent (error {code}); not routed"),
                ))
            }
            Verdict::OutOfOrder(message) => {
                tracing::debug!(connection = %who.connection_id, seq, "signal refused: {message}");
                metrics.signal_refused(Source::Client, ErrorCode::ProtocolError);
                Err(HubError::new(ErrorCode::ProtocolError, message))
            }
            Verdict::Next => {
                let mut received = None;
                let checked = body
                    .and_then(|(signal_type, data, to, at)| {
                        received = Some(at);
                        policy::signal_allowed(m.role, signal_type, data, to)
                            .map(|()| (signal_type, data, to))
                    })
                    .and_then(|b| m.take_token(&s.id, &s.project_key, limits).map(|()| b));
                let result = match checked {
                    Ok((signal_type, data, to)) => route(s, signal_type, data, to),
                    Err(e) => Routed::Done(Err(e)),
                };
                let Routed::Done(result) = result else {
                    return true;
                };
                s.signal_outcome(metrics, who, seq, &result, received);
                result
            }
        };
        self.reply_signal(guard, who, seq, answer);
        false
    }

    /// Sends the answer to signal `seq` on the member's link (a full queue
    /// evicts it), and drops the session if it emptied meanwhile.
    fn reply_signal(
        &self,
        mut guard: MutexGuard<'_, Session>,
        who: &Membership,
        seq: u64,
        answer: Result<(), HubError>,
    ) {
        let s: &mut Session = &mut guard;
        let limits = &self.limits;
        let reply = match answer {
            Ok(()) => ServerMessage::SignalAck { seq },
            Err(e) => ServerMessage::SignalError {
                seq,
                code: e.code,
                message: e.message,
            },
        };
        // The sender may have been evicted by its own broadcast.
        let Some(m) = s.members.get(&who.connection_id) else {
            let empty = s.members.is_empty();
            drop(guard);
            if empty {
                self.gc(&who.session_id);
            }
            return;
        };
        if let Some(link) = &m.link {
            if link.push(frame(&reply)) == Err(PushError::Full) {
                let evicted = vec![(who.connection_id.clone(), Eviction::SlowConsumer)];
                s.handle_evictions(limits, evicted);
            }
        }
    }

    /// The client has handled every event up to `seq`: drop them from its
    /// replay buffer.
    pub fn ack(&self, who: &Membership, seq: u64) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        let mut s = lock(&s);
        let top = s.next_seq;
        s.release(&who.connection_id, seq.min(top));
    }

    /// An issue report from a member (see [`crate::issues`]): the answer to
    /// send back, after the report was logged under a new id, or refused.
    pub fn report_issue(&self, who: &Membership, id: u64, description: &str) -> ServerMessage {
        let refused = |e: HubError| ServerMessage::IssueRefused {
            id,
            code: e.code,
            message: e.message,
        };
        if let Err(e) = crate::issues::check(description) {
            return refused(e);
        }
        let Some(s) = self.session(&who.session_id) else {
            return refused(HubError::new(ErrorCode::NotConnected, "not in a session"));
        };
        let project = {
            let mut s = lock(&s);
            let project = s.project_key.clone();
            let Some(m) = s.members.get_mut(&who.connection_id) else {
                return refused(HubError::new(ErrorCode::NotConnected, "not in the session"));
            };
            // A report costs a token of the same bucket as a signal.
            if let Err(e) = m.take_token(&who.session_id, &project, &self.limits) {
                return refused(e);
            }
            project
        };
        let issue_id = crate::issues::new_issue_id();
        crate::issues::log(
            &project,
            &who.session_id,
            &who.connection_id,
            &issue_id,
            description,
        );
        ServerMessage::IssueReported { id, issue_id }
    }

    /// Queues a control frame (e.g. a pong) on the member's current link.
    /// A full queue evicts the member as a slow consumer.
    pub fn send_control(&self, who: &Membership, msg: &ServerMessage) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        let mut s = lock(&s);
        let full = s
            .members
            .get(&who.connection_id)
            .and_then(|m| m.link.as_ref())
            .is_some_and(|l| l.push(frame(msg)) == Err(PushError::Full));
        if full {
            let limits = &self.limits;
            s.handle_evictions(
                limits,
                vec![(who.connection_id.clone(), Eviction::SlowConsumer)],
            );
            let empty = s.members.is_empty();
            drop(s);
            if empty {
                self.gc(&who.session_id);
            }
        }
    }

    /// Removes a member for good, if `generation` is still its link (so a
    /// stale link cannot remove a resumed connection). `closing` is sent on
    /// its link.
    pub fn leave(
        &self,
        who: &Membership,
        generation: u64,
        reason: DisconnectReason,
        closing: Option<Closing>,
    ) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        {
            let mut s = lock(&s);
            let current = s
                .members
                .get(&who.connection_id)
                .is_some_and(|m| m.link.as_ref().is_some_and(|l| l.generation == generation));
            if current {
                let limits = &self.limits;
                s.remove(limits, &who.connection_id, reason, closing);
            }
        }
        self.gc(&who.session_id);
    }

    /// The link `generation` of a member dropped without a `disconnect`.
    /// The member waits `reconnect_grace` for a resume; then it is removed
    /// and the others see `connection_destroyed { network_disconnected }`.
    pub fn link_lost(&self, who: &Membership, generation: u64) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        let shutting_down = self.shutting_down.load(Ordering::Acquire);
        let grace = self.limits.reconnect_grace;
        {
            let mut s = lock(&s);
            let Some(m) = s.members.get_mut(&who.connection_id) else {
                return;
            };
            if m.link.as_ref().is_none_or(|l| l.generation != generation) {
                return;
            }
            m.link = None;
            if shutting_down || grace.is_zero() {
                let limits = &self.limits;
                s.remove(
                    limits,
                    &who.connection_id,
                    DisconnectReason::NetworkDisconnected,
                    None,
                );
            } else {
                m.lost_generation = Some(generation);
                tracing::info!(session = %who.session_id, connection = %who.connection_id, ?grace, "link lost; waiting for a resume");
                let hub = self.me.clone();
                let who = who.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(grace).await;
                    if let Some(hub) = hub.upgrade() {
                        hub.grace_over(&who, generation);
                    }
                });
                return;
            }
        }
        self.gc(&who.session_id);
    }

    fn grace_over(&self, who: &Membership, generation: u64) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        {
            let mut s = lock(&s);
            let expired = s
                .members
                .get(&who.connection_id)
                .is_some_and(|m| m.link.is_none() && m.lost_generation == Some(generation));
            if !expired {
                return;
            }
            tracing::info!(session = %who.session_id, connection = %who.connection_id, "not resumed in time");
            let limits = &self.limits;
            s.remove(
                limits,
                &who.connection_id,
                DisconnectReason::NetworkDisconnected,
                None,
            );
        }
        self.gc(&who.session_id);
    }

    fn project_session(
        &self,
        project_key: &str,
        session_id: &str,
    ) -> Result<Arc<Mutex<Session>>, HubError> {
        let s = self.session(session_id).ok_or_else(|| {
            HubError::new(
                ErrorCode::InvalidSession,
                "no client is connected to this session",
            )
        })?;
        if lock(&s).project_key != project_key {
            return Err(HubError::new(
                ErrorCode::InvalidSession,
                "session belongs to another project",
            ));
        }
        Ok(s)
    }

    /// Sends a signal from the application server (REST API): delivered
    /// with no sender (`from` absent), to everyone or to the listed
    /// connections (all-or-nothing). Fails with `InvalidSession` when nobody
    /// is connected to the session, `SignalTargetNotConnected` when a target
    /// is not in it, or the validation code of a bad type or data.
    pub fn signal_from_server(
        &self,
        project_key: &str,
        session_id: &str,
        to: Option<Vec<String>>,
        signal_type: &str,
        data: &str,
    ) -> Result<(), HubError> {
        self.metrics.signal_received(Source::Rest);
        let result = self.route_from_server(project_key, session_id, to, signal_type, data);
        if let Err(e) = &result {
            self.metrics.signal_refused(Source::Rest, e.code);
        }
        result
    }

    fn route_from_server(
        &self,
        project_key: &str,
        session_id: &str,
        to: Option<Vec<String>>,
        signal_type: &str,
        data: &str,
    ) -> Result<(), HubError> {
        protocol::validate::signal(signal_type, data, to.as_deref())
            .map_err(|e| HubError::new(e.code(), e.to_string()))?;
        let s = self.project_session(project_key, session_id)?;
        let mut s = lock(&s);
        let limits = &self.limits;
        let result = s.route(limits, None, signal_type, data, to.as_deref());
        // Evictions may have emptied the session.
        let empty = s.members.is_empty();
        drop(s);
        if empty {
            self.gc(session_id);
        }
        result
    }

    /// Disconnects a connection on the application server's request: it is
    /// sent `disconnected { force_disconnected }`, the others see
    /// `connection_destroyed { force_disconnected }`.
    pub fn force_disconnect(
        &self,
        project_key: &str,
        session_id: &str,
        connection_id: &str,
    ) -> Result<(), HubError> {
        let s = self.project_session(project_key, session_id)?;
        {
            let mut s = lock(&s);
            if !s.members.contains_key(connection_id) {
                return Err(HubError::new(
                    ErrorCode::SignalTargetNotConnected,
                    format!("connection {connection_id} is not connected to this session"),
                ));
            }
            let msg = ServerMessage::Disconnected {
                reason: DisconnectReason::ForceDisconnected,
                message: "disconnected by the application server".into(),
            };
            let closing = Closing {
                drain: true,
                frame: Some(frame(&msg)),
                code: close_code::NORMAL,
                reason: DisconnectReason::ForceDisconnected.as_str().into(),
            };
            let limits = &self.limits;
            s.remove(
                limits,
                connection_id,
                DisconnectReason::ForceDisconnected,
                Some(closing),
            );
        }
        self.gc(session_id);
        Ok(())
    }

    /// The connections of a session, in joining order (empty if none).
    pub fn list_connections(&self, project_key: &str, session_id: &str) -> Vec<ConnectionInfo> {
        match self.project_session(project_key, session_id) {
            Ok(s) => lock(&s).infos_except(""),
            Err(_) => Vec::new(),
        }
    }

    /// Bytes of un-acknowledged events the session holds for all its
    /// members together (`None` for no such session): what
    /// `session_buffer_bytes` bounds. For metrics and tests.
    pub fn session_buffer_bytes(&self, session_id: &str) -> Option<usize> {
        self.session(session_id).map(|s| lock(&s).retained_bytes)
    }

    /// Number of live sessions (for logs and tests).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Graceful shutdown: refuse new joins, tell every client, drain its
    /// queue and close its link. Members are dropped without events (everyone
    /// is leaving).
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        let sessions: Vec<_> = lock(&self.sessions).drain().map(|(_, s)| s).collect();
        let msg = ServerMessage::Disconnected {
            reason: DisconnectReason::ServerShutdown,
            message: "the server is shutting down".into(),
        };
        let f = frame(&msg);
        for s in sessions {
            let mut s = lock(&s);
            s.closed = true;
            for (_, m) in s.members.drain() {
                self.metrics.released(m.replay.len(), m.replay.bytes());
                self.metrics.left(DisconnectReason::ServerShutdown, 1);
                if let Some(link) = m.link {
                    link.close(Closing {
                        drain: true,
                        frame: Some(f.clone()),
                        code: close_code::GOING_AWAY,
                        reason: DisconnectReason::ServerShutdown.as_str().into(),
                    });
                }
            }
        }
    }

    /// Is the hub shutting down?
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

#[async_trait::async_trait]
impl SessionHub for LocalHub {
    fn metrics(&self) -> &Arc<Metrics> {
        LocalHub::metrics(self)
    }

    fn limits(&self) -> &ServerLimits {
        LocalHub::limits(self)
    }

    fn next_generation(&self) -> u64 {
        LocalHub::next_generation(self)
    }

    async fn join(&self, req: JoinRequest, link: Link) -> Result<Membership, HubError> {
        LocalHub::join(self, req, link)
    }

    async fn resume(
        &self,
        session_id: &str,
        connection_id: &str,
        secret: &str,
        last_seq: u64,
        link: Link,
    ) -> Result<Membership, HubError> {
        LocalHub::resume(self, session_id, connection_id, secret, last_seq, link)
    }

    fn share_wait(
        &self,
        who: &Membership,
        to: Option<&[String]>,
        data_len: usize,
    ) -> Option<Arc<Notify>> {
        LocalHub::share_wait(self, who, to, data_len)
    }

    async fn signal(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        to: Option<&[String]>,
        received: Instant,
    ) {
        LocalHub::signal(self, who, seq, signal_type, data, to, received)
    }

    fn refuse_signal(&self, who: &Membership, seq: u64, why: HubError) {
        LocalHub::refuse_signal(self, who, seq, why)
    }

    fn ack(&self, who: &Membership, seq: u64) {
        LocalHub::ack(self, who, seq)
    }

    fn report_issue(&self, who: &Membership, id: u64, description: &str) -> ServerMessage {
        LocalHub::report_issue(self, who, id, description)
    }

    fn send_control(&self, who: &Membership, msg: &ServerMessage) {
        LocalHub::send_control(self, who, msg)
    }

    fn leave(
        &self,
        who: &Membership,
        generation: u64,
        reason: DisconnectReason,
        closing: Option<Closing>,
    ) {
        LocalHub::leave(self, who, generation, reason, closing)
    }

    fn link_lost(&self, who: &Membership, generation: u64) {
        LocalHub::link_lost(self, who, generation)
    }

    async fn signal_from_server(
        &self,
        project_key: &str,
        session_id: &str,
        to: Option<Vec<String>>,
        signal_type: &str,
        data: &str,
    ) -> Result<(), HubError> {
        LocalHub::signal_from_server(self, project_key, session_id, to, signal_type, data)
    }

    async fn force_disconnect(
        &self,
        project_key: &str,
        session_id: &str,
        connection_id: &str,
    ) -> Result<(), HubError> {
        LocalHub::force_disconnect(self, project_key, session_id, connection_id)
    }

    async fn list_connections(
        &self,
        project_key: &str,
        session_id: &str,
    ) -> Result<Vec<ConnectionInfo>, HubError> {
        Ok(LocalHub::list_connections(self, project_key, session_id))
    }

    fn session_buffer_bytes(&self, session_id: &str) -> Option<usize> {
        LocalHub::session_buffer_bytes(self, session_id)
    }

    fn session_count(&self) -> usize {
        LocalHub::session_count(self)
    }

    async fn shutdown(&self) {
        LocalHub::shutdown(self)
    }

    fn is_shutting_down(&self) -> bool {
        LocalHub::is_shutting_down(self)
    }
}

// ---------------------------------------------------------------------------
// The node side of a cluster (used by `crate::cluster`): members whose links
// this node holds, fed with events read back from the shared log. Policy,
// queues, replay buffers, shares and evictions are the same code as above.
// ---------------------------------------------------------------------------

/// Where a cluster node's local departures go (see `Session::departures`).
pub(crate) type Departures = tokio::sync::mpsc::UnboundedSender<Departure>;

/// A member that left on this node, for the cluster to announce.
#[derive(Debug, Clone)]
pub(crate) struct Departure {
    pub session_id: String,
    pub connection_id: String,
    pub reason: DisconnectReason,
    pub owner_gen: u64,
}

/// One event of a session's shared log, as a node delivers it.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub seq: u64,
    pub frame: Frame,
    /// The member that sent it (a signal), if any.
    pub from: Option<String>,
    pub to: Recipients,
    /// For a departure: the member that left, and why.
    pub gone: Option<(String, DisconnectReason)>,
    pub is_signal: bool,
}

/// A member arriving on this node (a join, or a resume), with what it gets
/// before any live event.
#[derive(Debug)]
pub(crate) struct Arrival {
    pub session_id: String,
    pub project_key: String,
    pub info: ConnectionInfo,
    /// Its join order in the session (unique there; names it as a sender).
    pub joined: u64,
    pub role: Role,
    pub suppress_events: bool,
    pub owner_gen: u64,
    /// The last seq it already has (or must not get).
    pub from_seq: u64,
    /// The last seq the client acknowledged.
    pub acked: u64,
    pub seqs: ClientSeqs,
    /// `connected` (and its further pages) or `resumed`.
    pub first: Vec<Frame>,
    /// Events above the client's last acknowledged one, up to `from_seq`.
    pub backlog: Vec<(u64, Frame)>,
}

/// Why an arrival could not be attached.
#[derive(Debug)]
pub(crate) enum AttachError {
    /// This node already delivered the session's events up to `to`, past
    /// the arrival's `from_seq`: it needs those from the log first, then
    /// to try again (it and its link are handed back).
    Behind {
        to: u64,
        arrival: Box<Arrival>,
        link: Link,
    },
    Failed(HubError),
}

/// A member's signal that passed this node's checks and waits for the
/// shared log.
#[derive(Debug)]
pub(crate) struct PendingSignal {
    /// The member's client seq state once this signal is counted.
    pub client_seqs: String,
    pub owner_gen: u64,
}

impl Session {
    /// Removes a member without telling anyone (the shared log already
    /// did, or another node took it over).
    fn drop_member(&mut self, id: &str, closing: Option<Closing>, reason: DisconnectReason) {
        let Some(m) = self.members.remove(id) else {
            return;
        };
        self.retained_bytes -= m.replay.bytes();
        self.metrics.released(m.replay.len(), m.replay.bytes());
        self.metrics.left(reason, 1);
        self.room.notify_waiters();
        if let (Some(link), Some(c)) = (&m.link, closing) {
            link.close(c);
        }
    }
}

impl LocalHub {
    /// Attaches an arriving member (see [`Arrival`]).
    pub(crate) fn attach(&self, a: Arrival, link: Link) -> Result<Membership, AttachError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(AttachError::Failed(HubError::new(
                ErrorCode::ConnectionRefused,
                "the server is shutting down",
            )));
        }
        for _ in 0..8 {
            let s = {
                let mut map = lock(&self.sessions);
                map.entry(a.session_id.clone())
                    .or_insert_with(|| {
                        Arc::new(Mutex::new(Session {
                            id: a.session_id.clone(),
                            project_key: a.project_key.clone(),
                            next_seq: a.from_seq,
                            next_join: 0,
                            members: HashMap::new(),
                            retained_bytes: 0,
                            room: Arc::new(Notify::new()),
                            closed: false,
                            metrics: Arc::clone(&self.metrics),
                            departures: self.departures.clone(),
                        }))
                    })
                    .clone()
            };
            let mut s = lock(&s);
            if s.closed {
                continue;
            }
            let session_id = a.session_id.clone();
            let result = self.attach_locked(&mut s, a, link);
            if result.is_err() && s.members.is_empty() {
                drop(s);
                self.gc(&session_id);
            }
            return result;
        }
        Err(AttachError::Failed(HubError::new(
            ErrorCode::InternalError,
            "could not join the session",
        )))
    }

    fn attach_locked(
        &self,
        s: &mut Session,
        a: Arrival,
        link: Link,
    ) -> Result<Membership, AttachError> {
        if s.project_key != a.project_key {
            return Err(AttachError::Failed(HubError::new(
                ErrorCode::InvalidSession,
                "session belongs to another project",
            )));
        }
        if s.next_seq > a.from_seq {
            return Err(AttachError::Behind {
                to: s.next_seq,
                arrival: Box::new(a),
                link,
            });
        }
        let id = a.info.id.clone();
        // This node still holds the connection (a resume on the same node,
        // over a new link): the old link goes.
        s.drop_member(
            &id,
            Some(Closing {
                drain: false,
                frame: None,
                code: close_code::POLICY,
                reason: "resumed on another link".into(),
            }),
            DisconnectReason::NetworkDisconnected,
        );
        let gone = |_| {
            AttachError::Failed(HubError::new(
                ErrorCode::ConnectionFailed,
                "link closed while connecting",
            ))
        };
        for f in a.first {
            link.push_replay(f).map_err(gone)?;
        }
        let mut replay = ReplayBuffer::default();
        let mut bytes = 0;
        for (seq, f) in a.backlog {
            bytes += f.len();
            link.push_replay(f.clone()).map_err(gone)?;
            replay.push(seq, f, None);
        }
        self.metrics.buffered(replay.len(), bytes);
        s.retained_bytes += bytes;
        let replayed = replay.len();
        s.members.insert(
            id.clone(),
            Member {
                info: a.info,
                joined: a.joined,
                role: a.role,
                suppress_events: a.suppress_events,
                resume_secret: String::new(),
                link: Some(link),
                lost_generation: None,
                replay,
                acked: a.acked,
                seqs: a.seqs,
                rate: RateGate::new(&self.limits),
                from_seq: a.from_seq,
                owner_gen: a.owner_gen,
            },
        );
        tracing::info!(session = %s.id, connection = %id, replayed, members_here = s.members.len(), "connection attached");
        Ok(Membership {
            session_id: s.id.clone(),
            connection_id: id,
        })
    }

    /// Delivers one event of the shared log to this node's members of the
    /// session (an event it already delivered is skipped).
    pub(crate) fn deliver_event(&self, session_id: &str, ev: &Event) {
        let Some(s) = self.session(session_id) else {
            return;
        };
        let limits = &self.limits;
        {
            let mut s = lock(&s);
            if ev.seq <= s.next_seq {
                return;
            }
            if let Some((gone, reason)) = &ev.gone {
                let msg = ServerMessage::Disconnected {
                    reason: *reason,
                    message: match reason {
                        DisconnectReason::ForceDisconnected => {
                            "disconnected by the application server".into()
                        }
                        other => format!("disconnected: {}", other.as_str()),
                    },
                };
                let closing = Closing {
                    drain: true,
                    frame: Some(frame(&msg)),
                    code: close_code::NORMAL,
                    reason: reason.as_str().into(),
                };
                s.drop_member(gone, Some(closing), *reason);
            }
            let sender = ev
                .from
                .as_ref()
                .and_then(|f| s.members.get(f))
                .map(|m| m.joined);
            let (evicted, recipients) =
                s.deliver_frame(limits, ev.seq, ev.frame.clone(), sender, &ev.to, |_| false);
            if ev.is_signal {
                let source = if ev.from.is_some() {
                    Source::Client
                } else {
                    Source::Rest
                };
                self.metrics.signal_routed(source, recipients);
            }
            s.handle_evictions(limits, evicted);
            if !s.members.is_empty() {
                return;
            }
        }
        self.gc(session_id);
    }

    /// The last seq this node delivered for a session (`None`: no members
    /// here).
    pub(crate) fn cursor(&self, session_id: &str) -> Option<u64> {
        self.session(session_id).map(|s| lock(&s).next_seq)
    }

    /// The sessions with members on this node.
    pub(crate) fn session_ids(&self) -> Vec<String> {
        lock(&self.sessions).keys().cloned().collect()
    }

    /// For each member of the session on this node, the seq up to which it
    /// needs nothing more from the log: everything addressed to it up to
    /// there was acknowledged (or was never for it). What trimming may cut
    /// below, and what a resume elsewhere may start from.
    pub(crate) fn settled(&self, session_id: &str) -> Vec<(String, u64)> {
        let Some(s) = self.session(session_id) else {
            return Vec::new();
        };
        let s = lock(&s);
        s.members
            .iter()
            .map(|(id, m)| {
                let through = m
                    .replay
                    .first_seq()
                    .map_or(s.next_seq.max(m.from_seq), |first| first - 1);
                (id.clone(), through)
            })
            .collect()
    }

    /// The members of a session on this node, with their takeover numbers.
    pub(crate) fn local_members(&self, session_id: &str) -> Vec<(String, u64)> {
        self.session(session_id)
            .map(|s| {
                lock(&s)
                    .members
                    .iter()
                    .map(|(id, m)| (id.clone(), m.owner_gen))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Another node took the connection over (takeover `owner_gen`): this
    /// node lets it go without a word to anyone.
    pub(crate) fn taken_over(&self, session_id: &str, connection_id: &str, owner_gen: u64) {
        let Some(s) = self.session(session_id) else {
            return;
        };
        {
            let mut s = lock(&s);
            let stale = s
                .members
                .get(connection_id)
                .is_some_and(|m| m.owner_gen < owner_gen);
            if !stale {
                return;
            }
            tracing::info!(session = %session_id, connection = %connection_id, "resumed on another node");
            s.drop_member(
                connection_id,
                Some(Closing {
                    drain: false,
                    frame: None,
                    code: close_code::POLICY,
                    reason: "resumed on another node".into(),
                }),
                DisconnectReason::NetworkDisconnected,
            );
            if !s.members.is_empty() {
                return;
            }
        }
        self.gc(session_id);
    }

    /// The shared state no longer knows this member (Redis lost it): it
    /// is closed, told to connect again, without a word to anyone else.
    pub(crate) fn forgotten(&self, session_id: &str, connection_id: &str) {
        let Some(s) = self.session(session_id) else {
            return;
        };
        {
            let mut s = lock(&s);
            let msg = ServerMessage::Disconnected {
                reason: DisconnectReason::NetworkDisconnected,
                message: "the cluster lost this connection's state (Redis restarted \
                          without its data); connect again"
                    .into(),
            };
            tracing::warn!(session = %session_id, connection = %connection_id, "the shared state no longer holds this connection; closing it");
            s.drop_member(
                connection_id,
                Some(Closing {
                    drain: true,
                    frame: Some(frame(&msg)),
                    code: close_code::GOING_AWAY,
                    reason: "state lost".into(),
                }),
                DisconnectReason::NetworkDisconnected,
            );
            if !s.members.is_empty() {
                return;
            }
        }
        self.gc(session_id);
    }

    /// The node's checks of a member's signal (client seq, policy, the
    /// sender's share of recipients on this node). `Some` when it passed
    /// and must now go to the shared log; otherwise it was answered.
    pub(crate) fn begin_signal(
        &self,
        who: &Membership,
        seq: u64,
        body: SignalBody<'_>,
    ) -> Option<PendingSignal> {
        let limits = &self.limits;
        let mut pending = None;
        let len = body.0.len() + body.1.len() + 256;
        self.check_signal(who, seq, Ok(body), |s, _, _, to| {
            let Some(m) = s.members.get(&who.connection_id) else {
                return Routed::Done(Err(HubError::new(
                    ErrorCode::NotConnected,
                    "not in the session",
                )));
            };
            let (sender, owner_gen, client_seqs) = (m.joined, m.owner_gen, m.seqs.encode());
            let targets: Option<HashSet<&str>> = to.map(|t| t.iter().map(String::as_str).collect());
            let is_target = |id: &str| targets.as_ref().is_none_or(|t| t.contains(id));
            if let Err(e) = s.within_share(limits, sender, is_target, len) {
                return Routed::Done(Err(e));
            }
            pending = Some(PendingSignal {
                client_seqs,
                owner_gen,
            });
            Routed::Pending
        });
        pending
    }

    /// The shared log's answer to a signal [`LocalHub::begin_signal`] let
    /// through.
    pub(crate) fn finish_signal(
        &self,
        who: &Membership,
        seq: u64,
        result: Result<(), HubError>,
        received: Instant,
    ) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        let mut guard = lock(&s);
        if !guard.members.contains_key(&who.connection_id) {
            return;
        }
        guard.signal_outcome(&self.metrics, who, seq, &result, Some(received));
        self.reply_signal(guard, who, seq, result);
    }
}
