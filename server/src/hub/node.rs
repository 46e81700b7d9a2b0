//! The node side of a cluster (used by [`crate::cluster`]): the members
//! whose links this node holds, attached after the shared state accepted
//! them, and fed with the events read back from the shared log. Policy,
//! queues, replay buffers, shares and evictions are the same code as on one
//! node ([`super::session`]); what differs is who numbers the events (the
//! log) and who announces a departure (the log, through [`Departures`]).

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::time::Instant;

use protocol::messages::DisconnectReason;
use protocol::{ConnectionInfo, ErrorCode, ServerMessage};

use super::local::{lock, LocalHub, Routed, SignalBody};
use super::policy::RateGate;
use super::session::{Member, SessionState};
use super::{HubError, Membership, Recipients};
use crate::auth::Role;
use crate::client_seq::ClientSeqs;
use crate::link::{close_code, frame, Closing, Frame, Link};
use crate::metrics::Source;
use crate::replay::ReplayBuffer;

/// Where a cluster node's local departures go (see `SessionState::departures`).
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

/// The last events a node delivered for a session, kept so that a member
/// arriving while the session is busy gets what it missed from here
/// rather than from Redis.
///
/// Why: an arrival is accepted by the shared state at some seq, and by the
/// time it attaches here the node may have delivered a few more events.
/// Reading those from the log costs a Redis round trip, during which a busy
/// session (say, hundreds of members joining at once) moves on again, so
/// the arrival could chase the log and give up. The node delivered those
/// events itself a moment ago; with the last few kept, the gap is filled
/// under the session's lock, at once. Only when the gap reaches further
/// back than the ring (a resume from long ago) is the log read.
///
/// Invariant: `events` holds every event with a seq in `(after, last]`,
/// in order, and nothing else; the frames are shared with the members'
/// replay buffers, so the ring costs little more than its bookkeeping.
#[derive(Debug, Default)]
pub(crate) struct RecentEvents {
    after: u64,
    events: VecDeque<(u64, Frame, Recipients)>,
    bytes: usize,
}

/// Most events a [`RecentEvents`] keeps.
const RECENT_EVENTS: usize = 1_024;
/// Most frame bytes a [`RecentEvents`] keeps.
const RECENT_BYTES: usize = 1 << 20;

impl RecentEvents {
    /// An empty ring for a session this node takes up at `seq`.
    pub(crate) fn starting_at(seq: u64) -> RecentEvents {
        RecentEvents {
            after: seq,
            ..RecentEvents::default()
        }
    }

    fn last(&self) -> u64 {
        self.events.back().map_or(self.after, |e| e.0)
    }

    /// Notes event `seq`, delivered now. An event that does not follow the
    /// last one (the log was trimmed past a gap) starts the ring over.
    fn record(&mut self, seq: u64, frame: &Frame, to: &Recipients) {
        if seq != self.last() + 1 {
            *self = RecentEvents::starting_at(seq - 1);
        }
        self.bytes += frame.len();
        self.events.push_back((seq, frame.clone(), to.clone()));
        while self.events.len() > RECENT_EVENTS || self.bytes > RECENT_BYTES {
            let Some((seq, f, _)) = self.events.pop_front() else {
                break;
            };
            self.bytes -= f.len();
            self.after = seq;
        }
    }

    /// The events above `after` up to `through`, if the ring holds all of
    /// them.
    fn since(
        &self,
        after: u64,
        through: u64,
    ) -> Option<impl Iterator<Item = &(u64, Frame, Recipients)>> {
        (self.after <= after && self.last() == through)
            .then(|| self.events.iter().filter(move |e| e.0 > after))
    }
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

impl LocalHub {
    /// Attaches an arriving member (see [`Arrival`]).
    pub(crate) fn attach(&self, a: Arrival, link: Link) -> Result<Membership, AttachError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(AttachError::Failed(HubError::shutting_down()));
        }
        for _ in 0..8 {
            let s = self.session_or_new(&a.session_id, &a.project_key, a.from_seq);
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
        s: &mut SessionState,
        mut a: Arrival,
        link: Link,
    ) -> Result<Membership, AttachError> {
        if s.project_key != a.project_key {
            return Err(AttachError::Failed(HubError::other_project()));
        }
        if s.next_seq > a.from_seq {
            let Some(missed) = s.recent.since(a.from_seq, s.next_seq) else {
                return Err(AttachError::Behind {
                    to: s.next_seq,
                    arrival: Box::new(a),
                    link,
                });
            };
            let wants_events = !a.suppress_events;
            for (seq, f, to) in missed {
                if to.includes(&a.info.id, wants_events) {
                    a.backlog.push((*seq, f.clone()));
                }
            }
            a.from_seq = s.next_seq;
        }
        let id = a.info.id.clone();
        // This node still holds the connection (a resume on the same node,
        // over a new link): the old link goes, and its own client seq state
        // (exact, with every refusal) and rate bucket carry over when it is
        // at least as far on as the shared state's.
        let previous = s.drop_member(
            &id,
            Some(Closing {
                drain: false,
                frame: None,
                code: close_code::POLICY,
                reason: "resumed on another link".into(),
            }),
            DisconnectReason::NetworkDisconnected,
        );
        let (seqs, rate) = match previous {
            Some(m) if m.seqs.last() >= a.seqs.last() => (m.seqs, m.rate),
            _ => (a.seqs, RateGate::new(&self.limits)),
        };
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
                seqs,
                rate,
                from_seq: a.from_seq,
                owner_gen: a.owner_gen,
                in_flight: Default::default(),
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
            s.recent.record(ev.seq, &ev.frame, &ev.to);
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
                .and_then(|f| s.members.get_mut(f))
                .map(|m| {
                    // Its share moves from in flight to the recipients' buffers.
                    m.in_flight.delivered();
                    m.joined
                });
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
            if sender.is_some() {
                s.room.notify_waiters();
            }
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
            // Its own signals not yet delivered here count against its
            // share too (see `Member::holds_share_of`).
            let targets: Option<HashSet<&str>> = to.map(|t| t.iter().map(String::as_str).collect());
            let is_target = |id: &str| targets.as_ref().is_none_or(|t| t.contains(id));
            if let Err(e) = s.within_share(limits, sender, is_target, len) {
                return Routed::Done(Err(e));
            }
            if let Some(m) = s.members.get_mut(&who.connection_id) {
                m.in_flight.push(len);
            }
            pending = Some(PendingSignal {
                client_seqs,
                owner_gen,
            });
            Routed::Pending
        });
        pending
    }

    /// The local checks of a signal to the application server (client seq,
    /// validation, role, rate): `Some` when it passed them, with what the
    /// cluster needs to count it and report it. Answered here otherwise.
    pub(crate) fn begin_server_signal(
        &self,
        who: &Membership,
        seq: u64,
        body: SignalBody<'_>,
    ) -> Option<(PendingSignal, crate::monitor::MonitorEvent)> {
        let mut pending = None;
        self.check_signal(who, seq, Ok(body), |s, signal_type, data, _| {
            let Some(m) = s.members.get(&who.connection_id) else {
                return Routed::Done(Err(HubError::new(
                    ErrorCode::NotConnected,
                    "not in the session",
                )));
            };
            let ev = crate::monitor::MonitorEvent::signal(
                &s.project_key,
                &s.id,
                &m.info,
                signal_type,
                data,
            );
            pending = Some((
                PendingSignal {
                    client_seqs: m.seqs.encode(),
                    owner_gen: m.owner_gen,
                },
                ev,
            ));
            Routed::Pending
        });
        pending
    }

    /// The cluster's answer to a signal to the application server that
    /// [`LocalHub::begin_server_signal`] let through.
    pub(crate) fn finish_server_signal(
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
        if result.is_ok() {
            self.metrics
                .signal_routed(crate::metrics::Source::Client, 1);
        }
        guard.signal_outcome(&self.metrics, who, seq, &result, Some(received));
        self.reply_signal(guard, who, seq, result, None);
    }

    /// The shared log's answer to a signal [`LocalHub::begin_signal`] let
    /// through.
    /// `appended`: it went into the log now (so its delivery here is to
    /// come); otherwise it was refused, or was there already.
    pub(crate) fn finish_signal(
        &self,
        who: &Membership,
        seq: u64,
        result: Result<(), HubError>,
        appended: bool,
        received: Instant,
    ) {
        let Some(s) = self.session(&who.session_id) else {
            return;
        };
        let mut guard = lock(&s);
        let Some(m) = guard.members.get_mut(&who.connection_id) else {
            return;
        };
        if !appended {
            m.in_flight.withdrawn();
            guard.room.notify_waiters();
        }
        guard.signal_outcome(&self.metrics, who, seq, &result, Some(received));
        self.reply_signal(guard, who, seq, result, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Frame {
        Frame::from(s.to_string())
    }

    #[test]
    fn recent_events_cover_a_gap_only_when_they_hold_all_of_it() {
        let mut r = RecentEvents::starting_at(10);
        // Nothing delivered yet: an arrival at 10 needs nothing, one at 9
        // needs seq 10, which the ring never saw.
        assert!(r.since(10, 10).is_some_and(|mut i| i.next().is_none()));
        assert!(r.since(9, 10).is_none());
        for seq in 11..=13 {
            r.record(seq, &f(&format!("e{seq}")), &Recipients::All);
        }
        let got: Vec<u64> = r
            .since(11, 13)
            .map(|i| i.map(|e| e.0).collect())
            .unwrap_or_default();
        assert_eq!(got, vec![12, 13]);
        // The node is further on than the ring knows: read the log.
        assert!(r.since(11, 14).is_none());
        // A gap in delivery (the log was trimmed) starts the ring over.
        r.record(20, &f("e20"), &Recipients::All);
        assert!(r.since(13, 20).is_none());
        assert!(r.since(19, 20).is_some_and(|i| i.count() == 1));
    }

    #[test]
    fn recent_events_are_bounded() {
        let mut r = RecentEvents::starting_at(0);
        for seq in 1..=(RECENT_EVENTS as u64 + 10) {
            r.record(seq, &f("x"), &Recipients::All);
        }
        assert_eq!(r.events.len(), RECENT_EVENTS);
        assert!(r.since(5, RECENT_EVENTS as u64 + 10).is_none());
        assert!(r.since(10, RECENT_EVENTS as u64 + 10).is_some());
        let big = "y".repeat(RECENT_BYTES / 4 + 1);
        for seq in (RECENT_EVENTS as u64 + 11)..(RECENT_EVENTS as u64 + 15) {
            r.record(seq, &f(&big), &Recipients::All);
        }
        assert!(r.bytes <= RECENT_BYTES);
    }
}
