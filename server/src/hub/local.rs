//! The in-process session hub: one node holds every session (the default).
//!
//! A map from session id to a [`SessionState`] (`session.rs`: the delivery
//! rules, flow control, bounds, slow consumers and reconnection are
//! described there) behind its own mutex. [`LocalHub`] finds the session,
//! takes its lock, numbers events with the session's counter and hands
//! them to the session's delivery. The WebSocket and REST code use it
//! through [`super::SessionHub`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Instant;

use protocol::messages::DisconnectReason;
use protocol::{ConnectionInfo, ErrorCode, ServerMessage, PROTOCOL_VERSION};
use rand::RngCore;
use rustc_hash::FxHashMap;
use subtle::ConstantTimeEq;
use tokio::sync::Notify;

use super::node::{Departures, RecentEvents};
use super::policy::{self, RateGate};
use super::session::{pages, Accepted, Eviction, Member, SessionState};
use super::{now_ms, HubError, JoinRequest, Membership, Recipients, SessionHub};
use crate::client_seq::{ClientSeqs, Verdict};
use crate::config::ServerLimits;
use crate::link::{close_code, frame, Closing, Link, PushError};
use crate::metrics::{Metrics, Source};
use crate::monitor::{Monitor, MonitorEvent};
use crate::replay::ReplayBuffer;

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What the routing step of [`LocalHub::check_signal`] did.
pub(super) enum Routed {
    /// Routed or refused: answer now.
    Done(Result<(), HubError>),
    /// Accepted: answer now, and deliver it right after the answer.
    Deliver(Accepted),
    /// Handed on (to the cluster's log); answered later.
    Pending,
}

/// A client signal as the hub gets it: type, data, targets (`None`: everyone)
/// and when its frame was read.
pub(super) type SignalBody<'a> = (&'a str, &'a str, Option<&'a [String]>, Instant);

/// The in-process session hub (see the module docs).
pub struct LocalHub {
    /// Itself, for the grace timers it spawns.
    pub(super) me: Weak<LocalHub>,
    pub(super) limits: ServerLimits,
    /// By session id: the application server's (signed into every token).
    pub(super) sessions: Mutex<FxHashMap<String, Arc<Mutex<SessionState>>>>,
    pub(super) next_generation: AtomicU64,
    pub(super) shutting_down: AtomicBool,
    pub(super) metrics: Arc<Metrics>,
    /// Given to every session (see `SessionState::monitor`).
    pub(super) monitor: Monitor,
    /// In a cluster, given to every session (see `SessionState::departures`).
    pub(super) departures: Option<Departures>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
    pub fn new(limits: ServerLimits, metrics: Arc<Metrics>, monitor: Monitor) -> Arc<Self> {
        Self::with_departures(limits, metrics, monitor, None)
    }

    /// The local delivery of a cluster node: members leaving are sent to
    /// `departures` (to be written to the shared log) instead of being
    /// announced here.
    pub(crate) fn for_cluster(
        limits: ServerLimits,
        metrics: Arc<Metrics>,
        monitor: Monitor,
        departures: Departures,
    ) -> Arc<Self> {
        Self::with_departures(limits, metrics, monitor, Some(departures))
    }

    fn with_departures(
        limits: ServerLimits,
        metrics: Arc<Metrics>,
        monitor: Monitor,
        departures: Option<Departures>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| LocalHub {
            me: me.clone(),
            limits,
            sessions: Mutex::new(FxHashMap::default()),
            next_generation: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            metrics,
            monitor,
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

    /// The session, created (empty, its events numbered after
    /// `next_seq`) if this node has none.
    pub(super) fn session_or_new(
        &self,
        session_id: &str,
        project_key: &str,
        next_seq: u64,
    ) -> Arc<Mutex<SessionState>> {
        let mut map = lock(&self.sessions);
        map.entry(session_id.to_string())
            .or_insert_with(|| {
                Arc::new(Mutex::new(SessionState {
                    id: session_id.to_string(),
                    project_key: project_key.to_string(),
                    next_seq,
                    next_join: 0,
                    members: FxHashMap::default(),
                    retained_bytes: 0,
                    room: Arc::new(Notify::new()),
                    closed: false,
                    metrics: Arc::clone(&self.metrics),
                    monitor: self.monitor.clone(),
                    departures: self.departures.clone(),
                    recent: RecentEvents::starting_at(next_seq),
                }))
            })
            .clone()
    }

    pub(super) fn session(&self, session_id: &str) -> Option<Arc<Mutex<SessionState>>> {
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
    pub(super) fn gc(&self, session_id: &str) {
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
            return Err(HubError::shutting_down());
        }
        // A session emptied and removed between lookup and lock is marked
        // closed; look it up again (a bounded number of times).
        for _ in 0..8 {
            let s = self.session_or_new(&req.session_id, &req.project_key, 0);
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
        s: &mut SessionState,
        req: &JoinRequest,
        link: Link,
    ) -> Result<Membership, HubError> {
        let limits = &self.limits;
        if s.project_key != req.project_key {
            return Err(HubError::other_project());
        }
        if s.members.len() >= limits.max_connections_per_session {
            return Err(HubError::session_full(limits.max_connections_per_session));
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
            binary_signals: link.ctl().binary_signals(),
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
        let created_info = info.clone();
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
                in_flight: Default::default(),
            },
        );
        self.metrics.joined();
        self.monitor
            .emit(MonitorEvent::created(&s.project_key, &s.id, &created_info));
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
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(HubError::shutting_down());
        }
        let s = self
            .session(session_id)
            .ok_or_else(HubError::resume_refused)?;
        let mut s = lock(&s);
        let m = s
            .members
            .get_mut(connection_id)
            .ok_or_else(HubError::resume_refused)?;
        if !bool::from(m.resume_secret.as_bytes().ct_eq(secret.as_bytes())) {
            return Err(HubError::resume_refused());
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
            return Err(HubError::resume_refused());
        };
        let resumed = ServerMessage::Resumed {
            last_client_seq: m.seqs.last(),
            binary_signals: link.ctl().binary_signals(),
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
    /// `sender_share_wait` has passed; [`LocalHub::signal`] then refuses what
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

    /// A member's signal to the application server (see
    /// [`SessionHub::signal_to_server`]): checked like a signal, handed to
    /// the monitor, answered at once; its delivery is reported later as an
    /// event for the sender.
    pub fn signal_to_server(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        received: Instant,
    ) {
        let me = self.me.clone();
        let body = Ok((signal_type, data, None, received));
        self.check_signal(who, seq, body, |s, signal_type, data, _| {
            let Some(m) = s.members.get(&who.connection_id) else {
                return Routed::Done(Err(HubError::not_connected(&who.connection_id)));
            };
            let ev = MonitorEvent::signal(&s.project_key, &s.id, &m.info, signal_type, data);
            let delivery = s.monitor.emit_signal(ev);
            s.metrics.signal_routed(Source::Client, 1);
            let (sid, cid) = (who.session_id.clone(), who.connection_id.clone());
            tokio::spawn(async move {
                let result = delivery.await.unwrap_or_else(|_| {
                    Err((
                        ErrorCode::InternalError,
                        "the delivery was abandoned".into(),
                    ))
                });
                if let Some(hub) = me.upgrade() {
                    hub.report_delivery(&sid, &cid, seq, result);
                }
            });
            Routed::Done(Ok(()))
        });
    }

    /// Tells a member how its signal to the application server number
    /// `signal_seq` ended: an event for it alone (if it is still there).
    fn report_delivery(
        &self,
        session_id: &str,
        connection_id: &str,
        signal_seq: u64,
        result: crate::monitor::Delivery,
    ) {
        let Some(s) = self.session(session_id) else {
            return;
        };
        let mut s = lock(&s);
        if !s.members.contains_key(connection_id) {
            return;
        }
        let limits = &self.limits;
        let evicted = s.deliver(
            limits,
            |seq| crate::monitor::delivery_message(seq, signal_seq, result),
            &Recipients::List(vec![connection_id.to_string()]),
            |_| false,
        );
        s.handle_evictions(limits, evicted);
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
            match s.accept(limits, Some(&who.connection_id), signal_type, data, to) {
                Ok(accepted) => Routed::Deliver(accepted),
                Err(e) => Routed::Done(Err(e)),
            }
        });
    }

    /// The one handling of a member's signal `seq`: the client seq verdict,
    /// then the policy checks, then `route` (which either routes it now, on
    /// one node, or leaves it pending: the cluster's shared log answers
    /// later through [`LocalHub::finish_signal`]). Answers on the member's
    /// link unless pending. Returns whether it is pending.
    pub(super) fn check_signal(
        &self,
        who: &Membership,
        seq: u64,
        body: Result<SignalBody<'_>, HubError>,
        route: impl FnOnce(&mut SessionState, &str, &str, Option<&[String]>) -> Routed,
    ) -> bool {
        let Some(s) = self.session(&who.session_id) else {
            return false;
        };
        let mut guard = lock(&s);
        // Borrowed field by field below (a member and the session's ids).
        let s: &mut SessionState = &mut guard;
        let limits = &self.limits;
        let metrics = &self.metrics;
        let Some(m) = s.members.get_mut(&who.connection_id) else {
            return false;
        };
        metrics.signal_received(Source::Client);
        let mut then = None;
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
                let result = match result {
                    Routed::Done(result) => result,
                    Routed::Deliver(mut accepted) => {
                        // Its routing latency is taken once delivered.
                        accepted.received = received.take();
                        then = Some(accepted);
                        Ok(())
                    }
                    Routed::Pending => return true,
                };
                s.signal_outcome(metrics, who, seq, &result, received);
                result
            }
        };
        self.reply_signal(guard, who, seq, answer, then);
        false
    }

    /// Sends the answer to signal `seq` on the member's link (a full queue
    /// evicts it), then delivers the signal if `then` holds one, and drops
    /// the session if it emptied meanwhile.
    ///
    /// The answer goes to the sender's own link, whose task is the one
    /// running this and writes it before it waits (no wake-up,
    /// [`crate::wire`]); each recipient's push wakes that link's task,
    /// which runs next on this worker. The answer is queued before the
    /// event, the order clients have always seen: a sender's `signal_ack`
    /// comes before its own copy of a broadcast (docs/performance.md,
    /// "Round 2").
    pub(super) fn reply_signal(
        &self,
        mut guard: MutexGuard<'_, SessionState>,
        who: &Membership,
        seq: u64,
        answer: Result<(), HubError>,
        then: Option<Accepted>,
    ) {
        let s: &mut SessionState = &mut guard;
        let limits = &self.limits;
        // The sender may have been evicted by its own broadcast (in a
        // cluster, delivered before the answer).
        let answer_full = s
            .members
            .get(&who.connection_id)
            .and_then(|m| m.link.as_ref())
            .is_some_and(|link| {
                let pushed = match answer {
                    Ok(()) => link.push_ack(seq),
                    Err(e) => link.push(frame(&ServerMessage::SignalError {
                        seq,
                        code: e.code,
                        message: e.message,
                    })),
                };
                pushed == Err(PushError::Full)
            });
        // Delivered before the sender's eviction, if any, which may send
        // events of its own (the accepted seq is the next one).
        if let Some(accepted) = then {
            s.deliver_accepted(limits, accepted);
        }
        if answer_full && s.members.contains_key(&who.connection_id) {
            let evicted = vec![(who.connection_id.clone(), Eviction::SlowConsumer)];
            s.handle_evictions(limits, evicted);
        }
        if s.members.is_empty() {
            drop(guard);
            self.gc(&who.session_id);
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
    ) -> Result<Arc<Mutex<SessionState>>, HubError> {
        let s = self
            .session(session_id)
            .ok_or_else(HubError::nobody_connected)?;
        if lock(&s).project_key != project_key {
            return Err(HubError::other_project());
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
                return Err(HubError::not_connected(connection_id));
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

    fn monitor(&self) -> &Monitor {
        &self.monitor
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

    async fn signal_to_server(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        received: Instant,
    ) {
        LocalHub::signal_to_server(self, who, seq, signal_type, data, received)
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
