//! The session hub: who is in which session, and how events reach them.
//!
//! # One interface, two shapes
//!
//! The WebSocket code ([`crate::connection`]) and the REST routes
//! ([`crate::rest`]) see only [`SessionHub`], as an `Arc<dyn SessionHub>`.
//! Two implementations stand behind it:
//!
//! * [`LocalHub`] (`local.rs`) — the default: every session lives in this
//!   process, each behind its own lock, with its event order from an
//!   in-process counter. Nothing else is involved; this is the embedded
//!   server and it stays as simple and fast as that.
//! * [`crate::cluster::ClusterHub`] — `otc-server --redis URL`: membership,
//!   the per-session event log and its order live in Redis (see
//!   `docs/cluster.md`), and each node delivers the log's events to the
//!   members whose links it holds, through the same local delivery code.
//!
//! # The path of one signal
//!
//! `connection.rs` reads the frame → [`crate::held`] (back-pressure) →
//! [`SessionHub::signal`] → checks ([`policy`]: client seq, validation,
//! role, rate) → an event with its [`Recipients`] gets the session's next
//! seq → each recipient's replay buffer and link queue ([`crate::link`]) →
//! the link's task writes it ([`crate::wire`]) → the client.
//!
//! # Errors
//!
//! Every refusal is a [`HubError`]: an SDK error code and a message. The
//! WebSocket side sends it as `error` / `signal_error`; the REST side maps
//! the code to an HTTP status ([`crate::rest::error`]).

pub(crate) mod local;
pub(crate) mod node;
pub mod policy;
pub(crate) mod session;

pub use local::LocalHub;

use std::sync::Arc;
use std::time::Instant;

use protocol::messages::DisconnectReason;
use protocol::{ConnectionInfo, ErrorCode, ServerMessage};
use tokio::sync::Notify;

use crate::auth::Role;
use crate::config::ServerLimits;
use crate::link::{Closing, Link};
use crate::metrics::Metrics;

/// Milliseconds since the Unix epoch (0 before it): the time stamps of
/// connections and of monitoring events.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A request to join a session (after the token was verified).
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub project_key: String,
    pub session_id: String,
    pub role: Role,
    pub connection_data: String,
    pub suppress_connection_events: bool,
}

/// Where a joined member lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub session_id: String,
    pub connection_id: String,
}

/// A refusal by the hub, with the SDK code sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HubError {
    pub code: ErrorCode,
    pub message: String,
}

impl HubError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        HubError {
            code,
            message: message.into(),
        }
    }

    // The refusals both hubs give, written once.

    /// A join or resume while the server stops.
    pub fn shutting_down() -> Self {
        Self::new(ErrorCode::ConnectionRefused, "the server is shutting down")
    }

    /// A resume that names no connection of the session, or the wrong
    /// secret (which of the two is not said).
    pub fn resume_refused() -> Self {
        Self::new(
            ErrorCode::AuthorizationFailure,
            "no such connection in this session, or wrong resume secret (it may have expired)",
        )
    }

    /// A session id of another project than the caller's.
    pub fn other_project() -> Self {
        Self::new(
            ErrorCode::InvalidSession,
            "session belongs to another project",
        )
    }

    /// A REST call about a session nobody is connected to.
    pub fn nobody_connected() -> Self {
        Self::new(
            ErrorCode::InvalidSession,
            "no client is connected to this session",
        )
    }

    /// A join past `max_connections_per_session`.
    pub fn session_full(max: usize) -> Self {
        Self::new(
            ErrorCode::ConnectionLimitExceeded,
            format!("the session already holds its maximum of {max} connections"),
        )
    }

    /// A target (of a signal, or of a force disconnect) not in the session.
    pub fn not_connected(connection_id: &str) -> Self {
        Self::new(
            ErrorCode::SignalTargetNotConnected,
            format!("connection {connection_id} is not connected to this session"),
        )
    }
}

/// Who an event is for: data, not a closure, so that an event means the
/// same thing wherever it is delivered (on this node, or read back from
/// the cluster's log by another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// Every member (a broadcast signal).
    All,
    /// These members only (a targeted or list signal).
    List(Vec<String>),
    /// Every member that receives connection events, except this one (a
    /// connection created or destroyed: not the member it is about).
    Watchers { except: String },
}

impl Recipients {
    /// Is the member `id` (which gets connection events or not) among them?
    pub fn includes(&self, id: &str, gets_connection_events: bool) -> bool {
        match self {
            Recipients::All => true,
            Recipients::List(ids) => ids.iter().any(|i| i == id),
            Recipients::Watchers { except } => gets_connection_events && except != id,
        }
    }
}

/// The session hub as the WebSocket and REST code use it (see the module
/// docs). Methods that may need the cluster's shared state are `async`;
/// the others act on this node only.
#[async_trait::async_trait]
pub trait SessionHub: Send + Sync {
    /// What the hub counts (served at `/metrics`).
    fn metrics(&self) -> &Arc<Metrics>;

    /// The limits the hub enforces.
    fn limits(&self) -> &ServerLimits;

    /// Where joins and departures are reported for the application server
    /// (callbacks and event streams).
    fn monitor(&self) -> &crate::monitor::Monitor;

    /// A fresh link generation number (unique in this process).
    fn next_generation(&self) -> u64;

    /// Adds a new connection to a session (creating the session on first
    /// use). The `connected` frame is queued on `link` before any event.
    async fn join(&self, req: JoinRequest, link: Link) -> Result<Membership, HubError>;

    /// Attaches `link` to a connection that lost its link: queues
    /// `resumed`, then every event above `last_seq` addressed to it.
    async fn resume(
        &self,
        session_id: &str,
        connection_id: &str,
        secret: &str,
        last_seq: u64,
        link: Link,
    ) -> Result<Membership, HubError>;

    /// Back-pressure for one sender: `Some` (a notifier to wait on) while a
    /// signal of `data_len` bytes from `who` to `to` would find a recipient
    /// holding its sender's share, so the caller holds the signal.
    fn share_wait(
        &self,
        who: &Membership,
        to: Option<&[String]>,
        data_len: usize,
    ) -> Option<Arc<Notify>>;

    /// Handles signal `seq` from a member and queues its answer
    /// (`signal_ack` or `signal_error`) on the member's link.
    async fn signal(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        to: Option<&[String]>,
        received: Instant,
    );

    /// Handles `signal_to_server` `seq` from a member: the checks of a
    /// signal (client seq, validation, role, rate), then to the project's
    /// application server ([`crate::monitor`]). Answers `signal_ack` (or
    /// `signal_error`) at once, like a signal, and reports the delivery
    /// later with a `signal_delivered` / `signal_undelivered` event for the
    /// sender alone (replayed after a resume like any event).
    async fn signal_to_server(
        &self,
        who: &Membership,
        seq: u64,
        signal_type: &str,
        data: &str,
        received: Instant,
    );

    /// Answers signal `seq` with `why`, without routing it (unless it was
    /// processed before: then as the first time).
    fn refuse_signal(&self, who: &Membership, seq: u64, why: HubError);

    /// The client has handled every event up to `seq`.
    fn ack(&self, who: &Membership, seq: u64);

    /// An issue report from a member: the answer to send back.
    fn report_issue(&self, who: &Membership, id: u64, description: &str) -> ServerMessage;

    /// Queues a control frame (e.g. a pong) on the member's current link.
    fn send_control(&self, who: &Membership, msg: &ServerMessage);

    /// Removes a member for good, if `generation` is still its link.
    fn leave(
        &self,
        who: &Membership,
        generation: u64,
        reason: DisconnectReason,
        closing: Option<Closing>,
    );

    /// The link `generation` of a member dropped without a `disconnect`:
    /// the member waits `reconnect_grace` for a resume.
    fn link_lost(&self, who: &Membership, generation: u64);

    /// A signal from the application server (REST API), to everyone or to
    /// the listed connections, all-or-nothing.
    async fn signal_from_server(
        &self,
        project_key: &str,
        session_id: &str,
        to: Option<Vec<String>>,
        signal_type: &str,
        data: &str,
    ) -> Result<(), HubError>;

    /// Disconnects a connection on the application server's request.
    async fn force_disconnect(
        &self,
        project_key: &str,
        session_id: &str,
        connection_id: &str,
    ) -> Result<(), HubError>;

    /// The connections of a session, in joining order (empty if none).
    async fn list_connections(
        &self,
        project_key: &str,
        session_id: &str,
    ) -> Result<Vec<ConnectionInfo>, HubError>;

    /// Bytes of un-acknowledged events this node holds for a session's
    /// members (`None`: no such session here). For metrics and tests.
    fn session_buffer_bytes(&self, session_id: &str) -> Option<usize>;

    /// Number of sessions with members on this node.
    fn session_count(&self) -> usize;

    /// Can this hub take new connections (for `/readyz`)? Always for the
    /// local hub; the cluster hub only while it reaches Redis.
    fn is_ready(&self) -> bool {
        !self.is_shutting_down()
    }

    /// Graceful shutdown: refuse new joins, tell every client, close links.
    async fn shutdown(&self);

    /// Is the hub shutting down?
    fn is_shutting_down(&self) -> bool;
}

/// The hub the server runs.
pub type SharedHub = Arc<dyn SessionHub>;
