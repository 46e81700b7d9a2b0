//! Cluster mode (`otc-server --redis URL`): several nodes serve the same
//! sessions, with Redis as their only shared state and only channel. The
//! design, its message flows and its failure modes are in
//! `docs/cluster.md`; this module is its code:
//!
//! * [`ClusterHub`] — the [`SessionHub`] of a cluster node: membership,
//!   event order and client seq state in Redis, delivery on this node;
//! * `store` — the Redis calls (scripts in `scripts`, key names in `keys`);
//! * `entry` — one log event in its Redis form;
//! * `feed` — the node's reader of the session logs (pub/sub plus the log);
//! * `liveness` — heartbeat, reaper of dead nodes, acks and departures
//!   written back.
//!
//! # What stays on the node
//!
//! Sockets, send queues, replay buffers, sender shares, rate buckets and
//! eviction are [`LocalHub`]'s, unchanged: a slow consumer is evicted by
//! its own node and slows nobody else. What is global is what users expect
//! to be: who is in a session (and the connection limit), the order of its
//! events, each connection's client seq state, and ownership of a
//! connection (which node holds its link).

mod entry;
mod feed;
mod keys;
mod liveness;
mod monitor_relay;
mod scripts;
mod store;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::messages::DisconnectReason;
use protocol::{ConnectionInfo, ErrorCode, ServerMessage, PROTOCOL_VERSION};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::auth::Role;
use crate::client_seq::ClientSeqs;
use crate::config::ServerLimits;
use crate::hub::node::{Arrival, AttachError};
use crate::hub::session::pages;
use crate::hub::{now_ms, HubError, JoinRequest, LocalHub, Membership, Recipients, SessionHub};
use crate::link::{frame, Closing, Link};
use crate::metrics::{Metrics, Source};
use crate::monitor::{Monitor, MonitorEvent};
use protocol::limits::EVENT_STREAM_BUFFER;

use entry::Template;
use feed::{Feed, Pins};
use store::{Joined, Left, Resumed, SignalCall, Signalled, Store, StoreError};

/// How many times a join or resume is attached again after finding this
/// node ahead of it (each time it first reads what it missed).
const ATTACH_TRIES: usize = 8;

/// How long a cluster node's shutdown waits to write its members'
/// departures.
const SHUTDOWN_WRITES: Duration = Duration::from_secs(3);

/// How a member's signal is retried when the answer from Redis was lost
/// (the signal script is idempotent for a given client seq).
const SIGNAL_TRIES: usize = 3;

/// Cluster settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// `redis://host:port[/db]` (or `rediss://` for TLS, `redis+unix://`).
    pub redis_url: String,
    /// This node's name in the cluster (unique among live nodes); random
    /// when not given.
    pub node_id: Option<String>,
}

impl ClusterConfig {
    /// Refuses a URL redis-rs cannot use and a node id that could not name
    /// a node in key names and owner records.
    pub fn validate(&self) -> Result<(), String> {
        redis::Client::open(self.redis_url.as_str()).map_err(|e| {
            format!(
                "--redis {}: not a usable Redis URL ({e}); expected redis://host:port[/db]",
                redacted(&self.redis_url)
            )
        })?;
        if let Some(n) = &self.node_id {
            let ok = !n.is_empty()
                && n.len() <= 64
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return Err(format!(
                    "--node-id {n:?} must be 1..64 characters of A-Z a-z 0-9 - _ ."
                ));
            }
        }
        Ok(())
    }
}

/// A Redis URL with its password (if any) replaced, for logs and errors.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable URL)".into(),
    }
}

/// Why a cluster node could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot use Redis at {url}: {reason}")]
pub struct ClusterError {
    url: String,
    reason: String,
}

/// The session hub of a cluster node (see the module docs).
pub struct ClusterHub {
    local: Arc<LocalHub>,
    store: Store,
    feed: Feed,
    node: String,
    pins: Arc<Pins>,
    reachable: AtomicBool,
    limits: ServerLimits,
    stop: CancellationToken,
    shutting_down: AtomicBool,
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn unavailable(e: StoreError) -> HubError {
    match e {
        StoreError::Unavailable(why) => {
            tracing::warn!("cluster: Redis unreachable: {why}");
            HubError::new(
                ErrorCode::NoMessagingServer,
                "the server cannot reach its messaging backend (Redis); try again later",
            )
        }
        StoreError::Unexpected(why) => {
            tracing::error!("cluster: {why}");
            HubError::new(ErrorCode::InternalError, "unexpected state in the cluster")
        }
    }
}

/// What the sender of a client signal is answered, from the cluster's
/// answer to counting or appending it.
fn signal_answer(outcome: Result<Signalled, StoreError>) -> Result<(), HubError> {
    match outcome {
        Ok(Signalled::Appended(_)) | Ok(Signalled::Repeat) => Ok(()),
        Ok(Signalled::Missing(id)) => Err(HubError::not_connected(&id)),
        Ok(Signalled::NotOwner) => Err(HubError::new(
            ErrorCode::NotConnected,
            "this connection was resumed on another link",
        )),
        Ok(other) => Err(HubError::new(
            ErrorCode::InternalError,
            format!("unexpected answer from the cluster: {other:?}"),
        )),
        Err(e) => Err(unavailable(e)),
    }
}

impl ClusterHub {
    /// Starts a node: its Redis connections (made lazily: a node started
    /// while Redis is down is simply not ready until it is back), the feed
    /// reader and the background duties.
    pub async fn start(
        limits: ServerLimits,
        config: &ClusterConfig,
        metrics: Arc<Metrics>,
        monitor: Monitor,
    ) -> Result<Arc<ClusterHub>, ClusterError> {
        let err = |reason: String| ClusterError {
            url: redacted(&config.redis_url),
            reason,
        };
        let client =
            redis::Client::open(config.redis_url.as_str()).map_err(|e| err(e.to_string()))?;
        let stop = CancellationToken::new();
        // Event streams hear every node's events: through Redis.
        let (relay_tx, relay_rx) = tokio::sync::mpsc::channel(EVENT_STREAM_BUFFER);
        monitor.set_relay(relay_tx);
        tokio::spawn(monitor_relay::run(
            client.clone(),
            relay_rx,
            monitor.clone(),
            stop.clone(),
        ));
        let store =
            Store::connect(client.clone(), monitor.clone()).map_err(|e| err(e.to_string()))?;
        let node = config
            .node_id
            .clone()
            .unwrap_or_else(|| format!("node-{}", random_hex(6)));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let local = LocalHub::for_cluster(limits.clone(), metrics, monitor, tx);
        let pins = Arc::new(Pins::default());
        let feed = Feed::spawn(
            client,
            Arc::clone(&local),
            store.clone(),
            Arc::clone(&pins),
            stop.clone(),
        );
        let hub = Arc::new(ClusterHub {
            local,
            store,
            feed,
            node,
            pins,
            reachable: AtomicBool::new(false),
            limits,
            stop: stop.clone(),
            shutting_down: AtomicBool::new(false),
        });
        tokio::spawn(liveness::heartbeat(Arc::clone(&hub), stop.clone()));
        tokio::spawn(liveness::run(Arc::clone(&hub), stop.clone()));
        tokio::spawn(liveness::departures(Arc::clone(&hub), rx, stop));
        tracing::info!(node = %hub.node, redis = %redacted(&config.redis_url), "cluster node started");
        Ok(hub)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node
    }

    fn set_reachable(&self, ok: bool) {
        let was = self.reachable.swap(ok, Ordering::AcqRel);
        if was != ok {
            if ok {
                tracing::info!(node = %self.node, "Redis reachable: ready");
            } else {
                tracing::warn!(node = %self.node, "Redis unreachable: not ready; new connections get 1503");
            }
        }
    }

    /// Is a join or resume attaching to this session right now?
    fn is_pinned(&self, session_id: &str) -> bool {
        self.pins.is_pinned(session_id)
    }

    /// Refuses new connections while shutting down or cut off from Redis.
    fn check_open(&self) -> Result<(), HubError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(HubError::shutting_down());
        }
        if !self.is_ready() {
            return Err(unavailable(StoreError::Unavailable("not connected".into())));
        }
        Ok(())
    }

    /// Makes sure this node hears the session's events, and that reapers
    /// know it has members there.
    async fn listen_to(&self, session_id: &str) -> Result<(), HubError> {
        self.feed.subscribe(session_id).await.map_err(unavailable)?;
        self.store
            .note_session(&self.node, session_id)
            .await
            .map_err(unavailable)
    }

    /// Attaches an arrival, first reading from the log whatever this node
    /// delivered meanwhile that the arrival needs (see [`AttachError`]).
    async fn attach(&self, mut a: Arrival, mut link: Link) -> Result<Membership, HubError> {
        for _ in 0..ATTACH_TRIES {
            match self.local.attach(a, link) {
                Ok(m) => return Ok(m),
                Err(AttachError::Failed(e)) => return Err(e),
                Err(AttachError::Behind {
                    to,
                    arrival,
                    link: back,
                }) => {
                    a = *arrival;
                    link = back;
                    let missed = self
                        .store
                        .range(&a.session_id, a.from_seq, to)
                        .await
                        .map_err(unavailable)?;
                    let id = a.info.id.clone();
                    for ev in missed {
                        if ev.to.includes(&id, !a.suppress_events) {
                            a.backlog.push((ev.seq, ev.frame));
                        }
                    }
                    a.from_seq = to;
                }
            }
        }
        Err(HubError::new(
            ErrorCode::InternalError,
            "the session moved too fast to join it; try again",
        ))
    }

    /// Undoes a join whose local attach failed: the member leaves the
    /// shared state at once (unless another node owns it by now).
    fn abandon(&self, session_id: &str, connection_id: &str, owner_gen: u64) {
        self.abandon_after(session_id, connection_id, owner_gen, Duration::ZERO);
    }

    /// A resume took the connection over but could not attach it here:
    /// like a lost link, it has the reconnect grace to be resumed again
    /// (anywhere: that changes its owner, and this removal is then a no-op).
    fn abandon_later(&self, session_id: &str, connection_id: &str, owner_gen: u64) {
        let grace = self.limits.reconnect_grace;
        self.abandon_after(session_id, connection_id, owner_gen, grace);
    }

    fn abandon_after(&self, session_id: &str, connection_id: &str, owner_gen: u64, wait: Duration) {
        let store = self.store.clone();
        let owner = Store::owner(&self.node, owner_gen);
        let (s, c) = (session_id.to_string(), connection_id.to_string());
        let stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            let reason = DisconnectReason::NetworkDisconnected;
            let _ = store.leave(&s, &c, Some(&owner), reason, None).await;
        });
    }

    fn infos_in_join_order(others: Vec<store::Listed>) -> Vec<ConnectionInfo> {
        let mut v: Vec<(u64, ConnectionInfo)> = others
            .into_iter()
            .filter_map(|l| {
                serde_json::from_str(&l.info_json)
                    .ok()
                    .map(|i| (l.join_order, i))
            })
            .collect();
        v.sort_by_key(|(j, _)| *j);
        v.into_iter().map(|(_, i)| i).collect()
    }

    async fn append_signal(&self, call: &SignalCall<'_>) -> Result<Signalled, StoreError> {
        let mut last = None;
        for attempt in 0..SIGNAL_TRIES {
            match self.store.signal(call).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
            if attempt + 1 < SIGNAL_TRIES {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Err(last.unwrap_or(StoreError::Unavailable("no attempt".into())))
    }
}

#[async_trait::async_trait]
impl SessionHub for ClusterHub {
    fn metrics(&self) -> &Arc<Metrics> {
        self.local.metrics()
    }

    fn monitor(&self) -> &Monitor {
        SessionHub::monitor(&*self.local)
    }

    fn limits(&self) -> &ServerLimits {
        &self.limits
    }

    fn next_generation(&self) -> u64 {
        self.local.next_generation()
    }

    async fn join(&self, req: JoinRequest, link: Link) -> Result<Membership, HubError> {
        self.check_open()?;
        let _pin = self.pins.pin(&req.session_id);
        self.listen_to(&req.session_id).await?;
        let id = random_hex(16);
        let secret = random_hex(32);
        let info = ConnectionInfo {
            id: id.clone(),
            created_at_ms: now_ms(),
            data: req.connection_data.clone(),
        };
        let info_json = serde_json::to_string(&info)
            .map_err(|e| HubError::new(ErrorCode::InternalError, e.to_string()))?;
        let meta = format!(
            "{} {} {}",
            secret_hash(&secret),
            req.role.as_str(),
            u8::from(req.suppress_connection_events)
        );
        let created = Template::of(|seq| ServerMessage::ConnectionCreated {
            seq,
            connection: info.clone(),
        });
        let joined = self
            .store
            .join(
                &req.session_id,
                &id,
                &info_json,
                &meta,
                &self.node,
                self.limits.max_connections_per_session,
                &req.project_key,
                &created,
                !req.suppress_connection_events,
            )
            .await
            .map_err(unavailable)?;
        let (join_order, seq, others) = match joined {
            Joined::Done {
                join_order,
                seq,
                others,
            } => (join_order, seq, others),
            Joined::OtherProject => return Err(HubError::other_project()),
            Joined::Full => {
                return Err(HubError::session_full(
                    self.limits.max_connections_per_session,
                ))
            }
        };
        // The join script ran once, here: this node reports it.
        self.local.monitor().emit(MonitorEvent::created(
            &req.project_key,
            &req.session_id,
            &info,
        ));
        let mut pages = pages(Self::infos_in_join_order(others)).into_iter();
        let connected = ServerMessage::Connected {
            version: PROTOCOL_VERSION,
            session_id: req.session_id.clone(),
            connection: info.clone(),
            connections: pages.next().unwrap_or_default(),
            resume_secret: secret,
            last_seq: seq - 1,
            ping_interval_ms: u64::try_from(self.limits.ping_interval.as_millis())
                .unwrap_or(u64::MAX),
            reconnect_grace_ms: u64::try_from(self.limits.reconnect_grace.as_millis())
                .unwrap_or(u64::MAX),
            binary_signals: link.ctl().binary_signals(),
        };
        let mut first = vec![frame(&connected)];
        first.extend(pages.map(|connections| frame(&ServerMessage::Connections { connections })));
        let arrival = Arrival {
            session_id: req.session_id.clone(),
            project_key: req.project_key.clone(),
            info,
            joined: join_order,
            role: req.role,
            suppress_events: req.suppress_connection_events,
            owner_gen: 1,
            from_seq: seq,
            acked: seq,
            seqs: ClientSeqs::default(),
            first,
            backlog: Vec::new(),
        };
        match self.attach(arrival, link).await {
            Ok(m) => {
                self.metrics().joined();
                Ok(m)
            }
            Err(e) => {
                self.abandon(&req.session_id, &id, 1);
                Err(e)
            }
        }
    }

    async fn resume(
        &self,
        session_id: &str,
        connection_id: &str,
        secret: &str,
        last_seq: u64,
        link: Link,
    ) -> Result<Membership, HubError> {
        self.check_open()?;
        let _pin = self.pins.pin(session_id);
        self.listen_to(session_id).await?;
        let resumed = self
            .store
            .resume(
                session_id,
                connection_id,
                &secret_hash(secret),
                &self.node,
                last_seq,
            )
            .await
            .map_err(unavailable)?;
        let Resumed::Done {
            owner_gen,
            role,
            suppress,
            join_order,
            info_json,
            client_seqs,
            top,
            project,
            settled,
        } = resumed
        else {
            return Err(HubError::resume_refused());
        };
        let info: ConnectionInfo =
            serde_json::from_str(&info_json).map_err(|_| HubError::resume_refused())?;
        let role = Role::parse(&role).ok_or_else(HubError::resume_refused)?;
        // Written with each signal that entered the log: it may miss this
        // node's or another's later refusals (see `ClientSeqs::may_lag`).
        let seqs = ClientSeqs::decode(&client_seqs)
            .unwrap_or_default()
            .may_lag();
        let last = last_seq.min(top);
        // Below its settled position nothing is for it any more (it was
        // acknowledged, or never addressed to it), and may be trimmed.
        let from = last.max(settled).min(top);
        let events = match self.store.range(session_id, from, top).await {
            Ok(ev) => ev,
            Err(e) => {
                self.abandon_later(session_id, connection_id, owner_gen);
                return Err(unavailable(e));
            }
        };
        if events.len() as u64 != top - from {
            // Trimmed below what the client acknowledged: exactly-once can
            // no longer be promised; the connection ends for everyone.
            tracing::warn!(session = %session_id, connection = %connection_id, "resume refused: events it had not acknowledged are no longer in the log");
            self.abandon(session_id, connection_id, owner_gen);
            return Err(HubError::resume_refused());
        }
        let backlog: Vec<_> = events
            .into_iter()
            .filter(|ev| ev.to.includes(connection_id, !suppress))
            .map(|ev| (ev.seq, ev.frame))
            .collect();
        let replayed = backlog.len();
        let arrival = Arrival {
            session_id: session_id.to_string(),
            project_key: project,
            info,
            joined: join_order,
            role,
            suppress_events: suppress,
            owner_gen,
            from_seq: top,
            acked: last,
            first: vec![frame(&ServerMessage::Resumed {
                last_client_seq: seqs.last(),
                binary_signals: link.ctl().binary_signals(),
            })],
            seqs,
            backlog,
        };
        let m = match self.attach(arrival, link).await {
            Ok(m) => m,
            Err(e) => {
                self.abandon_later(session_id, connection_id, owner_gen);
                return Err(e);
            }
        };
        tracing::info!(session = %session_id, connection = %connection_id, replayed, node = %self.node, "connection resumed");
        Ok(m)
    }

    fn share_wait(
        &self,
        who: &Membership,
        to: Option<&[String]>,
        data_len: usize,
    ) -> Option<Arc<Notify>> {
        self.local.share_wait(who, to, data_len)
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
        let Some(pending) = self
            .local
            .begin_signal(who, seq, (signal_type, data, to, received))
        else {
            return;
        };
        let template = Template::of(|s| ServerMessage::Signal {
            seq: s,
            from: Some(who.connection_id.clone()),
            signal_type: signal_type.to_string(),
            data: data.to_string(),
        });
        let recipients = to.map_or(Recipients::All, |t| Recipients::List(t.to_vec()));
        let call = SignalCall {
            session_id: &who.session_id,
            from: Some((
                &who.connection_id,
                Store::owner(&self.node, pending.owner_gen),
            )),
            client_seq: seq,
            client_seqs: &pending.client_seqs,
            to: &recipients,
            template: &template,
            project: None,
        };
        let outcome = self.append_signal(&call).await;
        let appended = matches!(outcome, Ok(Signalled::Appended(_)));
        let result = signal_answer(outcome);
        self.local
            .finish_signal(who, seq, result, appended, received);
    }

    async fn signal_to_server(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        received: Instant,
    ) {
        let Some((pending, event)) =
            self.local
                .begin_server_signal(who, seq, (signal_type, data, None, received))
        else {
            return;
        };
        // Its client seq goes to the shared state (a resume on another node
        // must know it was processed); it has no event in the log.
        let owner = Store::owner(&self.node, pending.owner_gen);
        let counted = self
            .store
            .count_client_seq(
                &who.session_id,
                &who.connection_id,
                &owner,
                seq,
                &pending.client_seqs,
            )
            .await;
        let result = match counted {
            Ok(Signalled::Appended(_)) => {
                // Counted here, once: this node hands it to the application
                // server and appends the outcome for the sender.
                let delivery = self.local.monitor().emit_signal(event);
                let store = self.store.clone();
                let (sid, cid) = (who.session_id.clone(), who.connection_id.clone());
                tokio::spawn(async move {
                    let result = delivery.await.unwrap_or_else(|_| {
                        Err((
                            ErrorCode::InternalError,
                            "the delivery was abandoned".into(),
                        ))
                    });
                    let template =
                        Template::of(|s| crate::monitor::delivery_message(s, seq, result));
                    let call = SignalCall {
                        session_id: &sid,
                        from: None,
                        client_seq: 0,
                        client_seqs: "",
                        to: &Recipients::List(vec![cid.clone()]),
                        template: &template,
                        project: None,
                    };
                    if let Err(e) = store.signal(&call).await {
                        tracing::warn!(session = %sid, connection = %cid, "cluster: the delivery report of a signal to the application server was lost: {e}");
                    }
                });
                Ok(())
            }
            other => signal_answer(other),
        };
        self.local.finish_server_signal(who, seq, result, received);
    }

    fn refuse_signal(&self, who: &Membership, seq: u64, why: HubError) {
        self.local.refuse_signal(who, seq, why)
    }

    fn ack(&self, who: &Membership, seq: u64) {
        // Written back to Redis by `liveness` (the settled positions).
        self.local.ack(who, seq)
    }

    fn report_issue(&self, who: &Membership, id: u64, description: &str) -> ServerMessage {
        self.local.report_issue(who, id, description)
    }

    fn send_control(&self, who: &Membership, msg: &ServerMessage) {
        self.local.send_control(who, msg)
    }

    fn leave(
        &self,
        who: &Membership,
        generation: u64,
        reason: DisconnectReason,
        closing: Option<Closing>,
    ) {
        self.local.leave(who, generation, reason, closing)
    }

    fn link_lost(&self, who: &Membership, generation: u64) {
        self.local.link_lost(who, generation)
    }

    async fn signal_from_server(
        &self,
        project_key: &str,
        session_id: &str,
        to: Option<Vec<String>>,
        signal_type: &str,
        data: &str,
    ) -> Result<(), HubError> {
        self.metrics().signal_received(Source::Rest);
        let result = async {
            protocol::validate::signal(signal_type, data, to.as_deref())
                .map_err(|e| HubError::new(e.code(), e.to_string()))?;
            let template = Template::of(|seq| ServerMessage::Signal {
                seq,
                from: None,
                signal_type: signal_type.to_string(),
                data: data.to_string(),
            });
            let recipients = to.map_or(Recipients::All, Recipients::List);
            let call = SignalCall {
                session_id,
                from: None,
                client_seq: 0,
                client_seqs: "",
                to: &recipients,
                template: &template,
                project: Some(project_key),
            };
            match self.store.signal(&call).await.map_err(unavailable)? {
                Signalled::Appended(_) => Ok(()),
                Signalled::Missing(id) => Err(HubError::not_connected(&id)),
                Signalled::Nobody => Err(HubError::nobody_connected()),
                Signalled::OtherProject => Err(HubError::other_project()),
                other => Err(HubError::new(
                    ErrorCode::InternalError,
                    format!("unexpected answer from the cluster: {other:?}"),
                )),
            }
        }
        .await;
        if let Err(e) = &result {
            self.metrics().signal_refused(Source::Rest, e.code);
        }
        result
    }

    async fn force_disconnect(
        &self,
        project_key: &str,
        session_id: &str,
        connection_id: &str,
    ) -> Result<(), HubError> {
        match self
            .store
            .leave(
                session_id,
                connection_id,
                None,
                DisconnectReason::ForceDisconnected,
                Some(project_key),
            )
            .await
            .map_err(unavailable)?
        {
            Left::Appended(_) => Ok(()),
            Left::NotMember | Left::NotOwner => Err(HubError::not_connected(connection_id)),
            Left::OtherProject => Err(HubError::nobody_connected()),
        }
    }

    async fn list_connections(
        &self,
        project_key: &str,
        session_id: &str,
    ) -> Result<Vec<ConnectionInfo>, HubError> {
        let (project, members) = self.store.list(session_id).await.map_err(unavailable)?;
        if project.as_deref() != Some(project_key) {
            return Ok(Vec::new());
        }
        Ok(Self::infos_in_join_order(members))
    }

    fn session_buffer_bytes(&self, session_id: &str) -> Option<usize> {
        self.local.session_buffer_bytes(session_id)
    }

    fn session_count(&self) -> usize {
        self.local.session_count()
    }

    fn is_ready(&self) -> bool {
        !self.shutting_down.load(Ordering::Acquire)
            && self.reachable.load(Ordering::Acquire)
            && self.feed.is_connected()
    }

    async fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
        // What was acknowledged before the stop is delivered before the
        // stop notice, as on one node: wait (bounded) until this node has
        // delivered every session's log up to where it is now.
        let drain = async {
            for s in self.local.session_ids() {
                let Ok(last) = self.store.last_seq(&s).await else {
                    continue;
                };
                while self.local.cursor(&s).is_some_and(|c| c < last) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        };
        if tokio::time::timeout(SHUTDOWN_WRITES, drain).await.is_err() {
            tracing::warn!("cluster: stopping before every event was delivered here");
        }
        // This node's members are told and closed first (as on one node:
        // nobody here hears the others go), then the rest of the cluster
        // sees them leave.
        let leaving: Vec<(String, Vec<(String, u64)>)> = self
            .local
            .session_ids()
            .into_iter()
            .map(|s| {
                let m = self.local.local_members(&s);
                (s, m)
            })
            .collect();
        self.local.shutdown();
        let writes = async {
            for (s, members) in &leaving {
                for (c, g) in members {
                    let owner = Store::owner(&self.node, *g);
                    let _ = self
                        .store
                        .leave(s, c, Some(&owner), DisconnectReason::ServerShutdown, None)
                        .await;
                }
            }
            let _ = self.store.retire(&self.node).await;
        };
        if tokio::time::timeout(SHUTDOWN_WRITES, writes).await.is_err() {
            tracing::warn!("cluster: some departures were not written before stopping");
        }
        self.stop.cancel();
    }

    fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}
