//! One session's state on a node, and the rules of delivery: who is in it,
//! each member's link, replay buffer, client seqs and rate gate, and how an
//! event reaches them. [`super::LocalHub`] (one process) and a cluster node
//! ([`super::node`]) both deliver through this.
//!
//! # Shape
//!
//! Everything that must be consistent inside one session — membership, the
//! session's last event seq, each member's replay buffer and queue —
//! changes under the session's one lock, and nothing under it waits: frames
//! go into each recipient's bounded queue with a non-blocking push
//! ([`Link::push`]). So every recipient sees events in the order of their
//! (increasing) event seq, and a targeted signal is checked and delivered
//! all-or-nothing.
//!
//! # One serialization per event
//!
//! An event is serialized once into a [`Frame`] (shared bytes) and the same
//! frame goes to every recipient's queue and replay buffer. A signal is
//! serialized once per encoding its recipients read (JSON text, and binary
//! for links that agreed to binary signal frames; see
//! `SessionState::encodings_for`), never once per recipient.
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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use protocol::messages::DisconnectReason;
use protocol::{ConnectionInfo, ErrorCode, ServerMessage};
use rustc_hash::FxHashMap;
use tokio::sync::Notify;

use super::policy::{RateGate, RateSubject};
use super::{HubError, Membership, Recipients};
use crate::auth::Role;
use crate::client_seq::ClientSeqs;
use crate::config::ServerLimits;
use crate::link::{close_code, frame, Closing, Frame, Link, PushError};
use crate::metrics::{EvictionReason, Metrics, Source};
use crate::monitor::{Monitor, MonitorEvent};
use crate::replay::{ReplayBuffer, Sender, Share};

use super::node::{Departure, Departures, RecentEvents};

pub(super) struct Member {
    pub(super) info: ConnectionInfo,
    pub(super) joined: u64,
    pub(super) role: Role,
    pub(super) suppress_events: bool,
    pub(super) resume_secret: String,
    /// The current link; `None` while the connection waits for a resume.
    pub(super) link: Option<Link>,
    /// Generation of the link whose loss started the current grace period.
    pub(super) lost_generation: Option<u64>,
    /// Events sent but not acknowledged, oldest first, with their weight
    /// and senders (see [`crate::replay`]).
    pub(super) replay: ReplayBuffer,
    pub(super) acked: u64,
    /// Which client seqs were processed, and how (see [`crate::client_seq`]).
    pub(super) seqs: ClientSeqs,
    pub(super) rate: RateGate,
    /// Events up to this seq are not for this member (they were before it
    /// joined, or reached it by a replay from the cluster's log).
    pub(super) from_seq: u64,
    /// In a cluster: which takeover of the connection this node holds (the
    /// shared state refuses a node whose number is stale). 0 on one node.
    pub(super) owner_gen: u64,
    /// In a cluster: this member's signals appended to the log and not yet
    /// delivered on this node (see `holds_share_of`). Empty on one node.
    pub(super) in_flight: InFlight,
}

/// Signals of one sender between the shared log and this node's delivery,
/// oldest first, with their sizes (a sender's signals are appended one
/// after the other, so they are delivered in this order).
#[derive(Debug, Default)]
pub(super) struct InFlight {
    sizes: std::collections::VecDeque<usize>,
    bytes: usize,
}

impl InFlight {
    pub(super) fn share(&self) -> Share {
        Share {
            frames: self.sizes.len(),
            bytes: self.bytes,
        }
    }

    /// One more on its way.
    pub(super) fn push(&mut self, len: usize) {
        self.sizes.push_back(len);
        self.bytes += len;
    }

    /// The oldest was delivered here.
    pub(super) fn delivered(&mut self) {
        if let Some(len) = self.sizes.pop_front() {
            self.bytes -= len;
        }
    }

    /// The newest was not appended after all (refused, or already there).
    pub(super) fn withdrawn(&mut self) {
        if let Some(len) = self.sizes.pop_back() {
            self.bytes -= len;
        }
    }
}

impl Member {
    pub(super) fn receives_connection_events(&self) -> bool {
        !self.suppress_events
    }

    /// Takes a token from the rate limit, or refuses (1602).
    pub(super) fn take_token(
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
    /// `in_flight`: the sender's signals already on their way but not yet
    /// delivered here (in a cluster, between the log and this node's
    /// delivery), counted as if they were held.
    pub(super) fn holds_share_of(
        &self,
        sender: u64,
        in_flight: Share,
        len: usize,
        limits: &ServerLimits,
    ) -> bool {
        let held = self.replay.share_of(sender);
        let share = Share {
            frames: held.frames + in_flight.frames,
            bytes: held.bytes + in_flight.bytes,
        };
        self.joined != sender
            && self.link.is_some()
            && (share.frames >= limits.sender_share_frames()
                || share.bytes + len > limits.sender_share_bytes())
    }
}

/// Why a member must go.
#[derive(Debug, Clone, Copy)]
pub(super) enum Eviction {
    SlowConsumer,
    ReplayOverflow,
}

impl Eviction {
    pub(super) fn metric(self) -> EvictionReason {
        match self {
            Eviction::SlowConsumer => EvictionReason::SlowConsumer,
            Eviction::ReplayOverflow => EvictionReason::ReplayOverflow,
        }
    }
}

pub(super) struct SessionState {
    pub(super) id: String,
    pub(super) project_key: String,
    pub(super) next_seq: u64,
    pub(super) next_join: u64,
    /// By connection id, which the server makes (random), so FxHash is
    /// safe; lookups of ids a client names only probe.
    pub(super) members: FxHashMap<String, Member>,
    /// Bytes held in all the members' replay buffers together.
    pub(super) retained_bytes: usize,
    /// Woken whenever a member's acknowledgement (or departure) frees room
    /// in a replay buffer: senders held back by their share wait on it.
    pub(super) room: Arc<Notify>,
    /// Set once the session is removed from the map; joiners then retry.
    pub(super) closed: bool,
    pub(super) metrics: Arc<Metrics>,
    /// Where this node reports joins and departures it decides (on one
    /// node, all of them; see [`crate::monitor`]).
    pub(super) monitor: Monitor,
    /// In a cluster: where departures go to be written to the shared log
    /// (and come back, numbered, to every node). `None` on one node, where
    /// a departure is delivered at once.
    pub(super) departures: Option<Departures>,
    /// In a cluster: the last events delivered here, for arrivals that
    /// missed them (see [`RecentEvents`]). Empty on one node.
    pub(super) recent: RecentEvents,
}

impl SessionState {
    /// Sends one event, numbered with the session's next seq, to `to`
    /// except the members `skip` names. Returns the members that could not
    /// take it.
    pub(super) fn deliver(
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
    pub(super) fn deliver_frame(
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
    pub(super) fn largest_holders(
        &self,
        limits: &ServerLimits,
        evicted: &mut Vec<(String, Eviction)>,
    ) {
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
    pub(super) fn release(&mut self, id: &str, acked: u64) {
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
    pub(super) fn within_share(
        &self,
        limits: &ServerLimits,
        sender: u64,
        is_target: impl Fn(&str) -> bool,
        len: usize,
    ) -> Result<(), HubError> {
        let (max_frames, max_bytes) = (limits.sender_share_frames(), limits.sender_share_bytes());
        let in_flight = self.in_flight_of(sender);
        let over = self
            .members
            .iter()
            .find(|(id, m)| is_target(id) && m.holds_share_of(sender, in_flight, len, limits));
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

    /// The in-flight signals of the member that joined `joined`th.
    fn in_flight_of(&self, joined: u64) -> Share {
        self.members
            .values()
            .find(|m| m.joined == joined)
            .map(|m| m.in_flight.share())
            .unwrap_or_default()
    }

    /// Would a signal of about `len` bytes from `from` to `to` (everyone
    /// when `None`) find a recipient already holding its sender's share?
    pub(super) fn share_full(
        &self,
        limits: &ServerLimits,
        from: &str,
        to: Option<&[String]>,
        len: usize,
    ) -> bool {
        let Some((sender, in_flight)) = self
            .members
            .get(from)
            .map(|m| (m.joined, m.in_flight.share()))
        else {
            return false;
        };
        let full = |m: &Member| m.holds_share_of(sender, in_flight, len, limits);
        match to {
            None => self.members.values().any(full),
            Some(ids) => ids.iter().filter_map(|id| self.members.get(id)).any(full),
        }
    }

    /// Removes `id`, closes its link with `closing` and tells the others.
    /// Evictions caused by that notification are handled too.
    pub(super) fn remove(
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
    pub(super) fn remove_all(
        &mut self,
        limits: &ServerLimits,
        mut work: Vec<(String, DisconnectReason, Option<Closing>)>,
    ) {
        let mut queued: HashSet<String> = work.iter().map(|(id, _, _)| id.clone()).collect();
        // Every round removes one member or skips one that is gone, and
        // each member is queued at most once, so this ends.
        while let Some((id, reason, closing)) = work.pop() {
            let Some(m) = self.drop_member(&id, closing, reason) else {
                continue;
            };
            tracing::info!(session = %self.id, connection = %id, reason = reason.as_str(), "connection left");
            if let Some(out) = &self.departures {
                // The cluster reports it once the shared log has it.
                // Told to everyone through the log, this node included.
                let _ = out.send(Departure {
                    session_id: self.id.clone(),
                    connection_id: id.clone(),
                    reason,
                    owner_gen: m.owner_gen,
                });
                continue;
            }
            self.monitor.emit(MonitorEvent::destroyed(
                &self.project_key,
                &self.id,
                &m.info,
                reason,
            ));
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
    pub(super) fn signal_outcome(
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

    pub(super) fn handle_evictions(
        &mut self,
        limits: &ServerLimits,
        evicted: Vec<(String, Eviction)>,
    ) {
        let mut seen = HashSet::new();
        let work = evicted
            .into_iter()
            .filter(|(victim, _)| seen.insert(victim.clone()))
            .map(|(victim, why)| eviction(&self.metrics, &self.id, &victim, why))
            .collect();
        self.remove_all(limits, work);
    }

    pub(super) fn infos_except(&self, id: &str) -> Vec<ConnectionInfo> {
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
    /// all-or-nothing: [`SessionState::accept`], then
    /// [`SessionState::deliver_accepted`] at once.
    pub(super) fn route(
        &mut self,
        limits: &ServerLimits,
        from: Option<&str>,
        signal_type: &str,
        data: &str,
        to: Option<&[String]>,
    ) -> Result<(), HubError> {
        let accepted = self.accept(limits, from, signal_type, data, to)?;
        self.deliver_accepted(limits, accepted);
        Ok(())
    }

    /// Every check of a signal to everyone (`to == None`) or to the listed
    /// members, and its frame, numbered with the next seq; nothing is
    /// delivered yet. A signal from a member (`from`) is refused whole
    /// with [`ErrorCode::BufferFull`] if any recipient already holds its
    /// sender's share (see the module docs); a server signal has no share.
    /// The caller delivers it with [`SessionState::deliver_accepted`] under
    /// the same lock, with no other event in between.
    pub(super) fn accept(
        &self,
        limits: &ServerLimits,
        from: Option<&str>,
        signal_type: &str,
        data: &str,
        to: Option<&[String]>,
    ) -> Result<Accepted, HubError> {
        let targets: Option<HashSet<&str>> = to.map(|t| t.iter().map(String::as_str).collect());
        if let Some(t) = &targets {
            if let Some(missing) = t.iter().find(|id| !self.members.contains_key(**id)) {
                return Err(HubError::not_connected(missing));
            }
        }
        let is_target = |id: &str| targets.as_ref().is_none_or(|t| t.contains(id));
        let seq = self.next_seq + 1;
        let (text, binary) = self.encodings_for(&is_target);
        let frame = Frame::signal(seq, from, signal_type, data, text, binary);
        let sender = from.and_then(|id| self.members.get(id)).map(|m| m.joined);
        if let Some(sender) = sender {
            self.within_share(limits, sender, is_target, frame.len())?;
        }
        Ok(Accepted {
            seq,
            frame,
            sender,
            to: to.map_or(Recipients::All, |t| Recipients::List(t.to_vec())),
            source: if from.is_some() {
                Source::Client
            } else {
                Source::Rest
            },
            received: None,
        })
    }

    /// Which encodings of an event the members picked by `is_target` read:
    /// binary for those whose link agreed to binary signals, text for the
    /// others (and for a member between links: it may come back on
    /// either, and a binary link reads text too).
    fn encodings_for(&self, is_target: &impl Fn(&str) -> bool) -> (bool, bool) {
        let (mut text, mut binary) = (false, false);
        for (id, m) in &self.members {
            if !is_target(id) {
                continue;
            }
            match &m.link {
                Some(l) if l.ctl().binary_signals() => binary = true,
                _ => text = true,
            }
            if text && binary {
                break;
            }
        }
        (text, binary)
    }

    /// Delivers a signal [`SessionState::accept`] let through.
    pub(super) fn deliver_accepted(&mut self, limits: &ServerLimits, a: Accepted) {
        debug_assert_eq!(
            a.seq,
            self.next_seq + 1,
            "an event came between accept and delivery"
        );
        let (evicted, recipients) =
            self.deliver_frame(limits, a.seq, a.frame, a.sender, &a.to, |_| false);
        self.metrics.signal_routed(a.source, recipients);
        if let Some(at) = a.received {
            self.metrics.routing_latency(at.elapsed());
        }
        self.handle_evictions(limits, evicted);
    }
}

/// A signal that passed its checks, with its frame: it will be delivered
/// (and so acknowledged), but has not been yet. Splitting the two lets the
/// sender's `signal_ack` be queued first and the recipients' event last
/// (see [`super::LocalHub`]'s `reply_signal`).
pub(super) struct Accepted {
    seq: u64,
    frame: Frame,
    sender: Sender,
    to: Recipients,
    source: Source,
    /// When its frame was read, for the routing latency metric (read to
    /// queued to every recipient), taken once it is delivered.
    pub(super) received: Option<Instant>,
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

pub(super) fn eviction(
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

impl SessionState {
    /// Removes a member, gives its memory back and closes its link with
    /// `closing`, without telling anyone (a departure is announced by the
    /// caller, or was by the shared log). The member, if it was there.
    pub(super) fn drop_member(
        &mut self,
        id: &str,
        closing: Option<Closing>,
        reason: DisconnectReason,
    ) -> Option<Member> {
        let m = self.members.remove(id)?;
        self.retained_bytes -= m.replay.bytes();
        self.metrics.released(m.replay.len(), m.replay.bytes());
        self.metrics.left(reason, 1);
        self.room.notify_waiters();
        if let (Some(link), Some(c)) = (&m.link, closing) {
            link.close(c);
        }
        Some(m)
    }
}
