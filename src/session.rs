//! One session: its state machine, its link task and what it tells the
//! application.
//!
//! ```text
//!   new ──connect──▶ connecting ──server says connected──▶ connected ◀──────┐
//!    ▲                   │ failure: on_error,              │  │  link lost:  │ resumed:
//!    │                   ▼   on_disconnected               │  │  on_reconn-  │ on_reconnected
//!    └─────────────  disconnected ◀── disconnect ──────────┘  │  ection_     │
//!      (connect again)   ▲  ▲                                 ▼  started     │
//!                        │  └── refused / window over ──  reconnecting ──────┘
//!                        └── server says disconnected (on_error if abnormal)
//! ```
//!
//! (`disconnecting` sits between `connected` and `disconnected` while the
//! server confirms a requested disconnect.)
//!
//! All mutable state sits behind one mutex that is held only briefly and
//! never while application code runs: the link task and the API functions
//! change state and *queue* events under it (so events are queued in the
//! order they happened), and the dispatch thread calls the callbacks later
//! without it. That is why any API function may be called from a callback.
//!
//! Each connect starts a new *epoch*; a link task that finds the epoch moved
//! on (the session was disconnected, deleted or reconnected meanwhile) stops
//! without touching the session, so a stale task can never report into a
//! newer connection.
//!
//! # Reconnection
//!
//! One task serves an epoch for its whole life, across links: when a link
//! breaks (read error, close without a `disconnected` frame, or silence for
//! the [`reconnect::Policy`]'s idle interval) the session goes
//! `reconnecting`, and the task opens new links with backoff and sends
//! `resume` (connection id, secret, highest event seq handled) until the
//! server answers `resumed` or the window is over. Exactly-once delivery
//! rests on two sequence spaces (see `protocol::messages`):
//!
//! * *incoming*: events numbered at or below the highest one handled are
//!   dropped, so the server's replay never yields a callback twice;
//! * *outgoing*: the [`Outbox`] keeps every signal until the server answers
//!   it, signals accepted while reconnecting wait there too, and on resume
//!   all of them are sent again in order under their original numbers; the
//!   server routes each number once.
//!
//! A `disconnected` frame from the server is a decision, not a drop: it ends
//! the session without reconnecting.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use protocol::limits::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_SERVER_URL, MAX_TOKEN_BYTES, MAX_UNANSWERED_SIGNALS,
};
use protocol::messages::DisconnectReason;
use protocol::{ClientMessage, ConnectionInfo, ErrorCode, ServerMessage, PROTOCOL_VERSION};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::connection::{c_string_lossy, Connection};
use crate::dispatch::{Event, EventSink, Gate, Queue, Target};
use crate::error::{Error, Result};
use crate::issue_report;
use crate::log::{self, Level};
use crate::outbox::{Outbox, Outgoing, Pending};
use crate::proxy::ProxyConfig;
use crate::reconnect::Policy;
use crate::tls::CaBundle;
use crate::transport::{self, ReadEnd, Reader, Route, Stage, Writer};

/// Environment variable naming the server's base URL.
pub const SERVER_URL_ENV: &str = "OTC_SERVER_URL";

/// Send an `ack` after this many unacknowledged events...
const ACK_EVERY_EVENTS: u64 = 64;
/// ...or at least this often while events keep arriving.
const ACK_INTERVAL: Duration = Duration::from_millis(250);
/// How long a requested disconnect waits for the server's goodbye.
const DISCONNECT_WAIT: Duration = Duration::from_secs(3);
/// How long `otc_session_delete` waits for the session's last callbacks
/// (`on_disconnected` above all) to be delivered.
const FAREWELL_WAIT: Duration = Duration::from_secs(2);

/// Options fixed when the session is created (`otc_session_settings`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub suppress_connection_events: bool,
    /// Base URL of the server; `None` = environment, then default.
    pub server_url: Option<String>,
    /// How long to try resuming after the link drops; `None` = a little
    /// longer than the server's grace period, zero = never reconnect.
    pub reconnection_window: Option<Duration>,
    /// The HTTP proxy every link goes through
    /// (`otc_session_settings_set_proxy_url`); `None` = direct.
    pub proxy: Option<ProxyConfig>,
    /// Extra trusted CA certificates for TLS
    /// (`otc_session_settings_set_ca_file`); `None` = the environment
    /// variable `OTC_CA_FILE`, else the system's store alone.
    pub ca_file: Option<CaBundle>,
    /// Settings of the SDK that only concern media: accepted and kept so
    /// code written for the SDK runs unchanged, never used here.
    pub media: MediaOptions,
}

/// See [`Settings::media`].
#[derive(Debug, Clone, Default)]
pub struct MediaOptions {
    pub ip_whitelist: bool,
    pub custom_ice: Option<IceConfig>,
    pub single_peer_connection: bool,
    pub session_migration: bool,
}

/// TURN servers given with `otc_session_settings_set_custom_ice_config`.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    pub servers: Vec<IceServer>,
    pub force_turn: bool,
    pub use_custom_turn_only: bool,
}

/// One TURN server.
#[derive(Debug, Clone, Default)]
pub struct IceServer {
    pub url: String,
    pub user: String,
    pub credential: String,
}

impl Settings {
    /// Checks and stores a server URL (`http://`, `https://`, `ws://` or
    /// `wss://` `host:port`).
    pub fn set_server_url(&mut self, url: &str) -> Result<()> {
        transport::ws_url(url)?;
        self.server_url = Some(url.to_string());
        Ok(())
    }

    /// Checks and stores a proxy URL; `None` clears it.
    pub fn set_proxy_url(&mut self, url: Option<&str>) -> Result<()> {
        self.proxy = url.map(ProxyConfig::parse).transpose()?;
        Ok(())
    }

    /// Reads, checks and keeps a CA file; `None` clears it.
    pub fn set_ca_file(&mut self, path: Option<&str>) -> Result<()> {
        self.ca_file = path.map(CaBundle::load).transpose()?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    New,
    Connecting,
    Connected,
    /// The link dropped; resuming the same connection on a new link.
    Reconnecting,
    Disconnecting,
    Disconnected,
}

/// The running link of a connected (or connecting) session.
struct Link {
    /// Set while a WebSocket is open and joined (not while connecting or
    /// reconnecting).
    writer: Option<Writer>,
    task: AbortHandle,
    /// Wakes the link task when a disconnect is requested.
    stop: Arc<Notify>,
}

struct Inner {
    state: State,
    epoch: u64,
    link: Option<Link>,
    own: Option<Arc<Connection>>,
    /// Own connections of earlier connects, kept so that pointers returned
    /// by `otc_session_get_connection` stay valid until the session is deleted.
    retired: Vec<Arc<Connection>>,
    peers: HashMap<String, Arc<Connection>>,
    outbox: Outbox,
    /// Issue reports waiting for the server's answer.
    issues: issue_report::Requests,
    /// Highest event seq handled (queued for the application) on the
    /// current connection: what a resume asks the server to continue after.
    last_event_seq: u64,
}

/// How a link ended.
enum End {
    /// The client asked to leave, or the server removed it on purpose
    /// (force disconnect): only `on_disconnected`.
    Clean,
    /// The server ended the connection abnormally, or it could not be
    /// resumed: `on_error`, then `on_disconnected`.
    Failed(Error),
    /// The link broke (error, close without a goodbye, silence): the
    /// connection may be resumed.
    Lost(Error),
    /// The session moved on (deleted, reconnected); report nothing.
    Stale,
}

/// A session, shared by its C handle, its link task and queued events.
pub struct Session {
    api_key: String,
    session_id: String,
    session_id_c: CString,
    settings: Settings,
    sink: Box<dyn EventSink>,
    gate: Gate,
    queue: Queue,
    rt: Handle,
    inner: Mutex<Inner>,
    me: Weak<Session>,
}

impl Target for Session {
    fn dispatch(&self, event: Event) {
        let addr = self as *const Session as usize;
        if let Event::Barrier(done) = event {
            let _ = done.try_send(());
            return;
        }
        // Being deleted: what was still queued is dropped, but for the one
        // `on_disconnected` that ends the session.
        if self.gate.is_closing() && !matches!(event, Event::Disconnected) {
            return;
        }
        self.gate.run(|| match event {
            Event::SignalComplete {
                signal_id,
                result,
                complete,
            } => complete(signal_id, result),
            other => self.sink.deliver(addr, &other),
        });
    }
}

impl Session {
    /// Creates a session in state `new`. Nothing touches the network yet.
    pub fn new(
        api_key: &str,
        session_id: &str,
        settings: Settings,
        sink: Box<dyn EventSink>,
        queue: Queue,
        rt: Handle,
    ) -> Result<Arc<Session>> {
        protocol::validate::id("API key", api_key)?;
        protocol::validate::id("session id", session_id)?;
        Ok(Arc::new_cyclic(|me| Session {
            api_key: api_key.to_string(),
            session_id: session_id.to_string(),
            session_id_c: c_string_lossy(session_id),
            settings,
            sink,
            gate: Gate::default(),
            queue,
            rt,
            inner: Mutex::new(Inner {
                state: State::New,
                epoch: 0,
                link: None,
                own: None,
                retired: Vec::new(),
                peers: HashMap::new(),
                outbox: Outbox::new(MAX_UNANSWERED_SIGNALS),
                issues: issue_report::Requests::default(),
                last_event_seq: 0,
            }),
            me: me.clone(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an event for this session's dispatch thread.
    fn emit(&self, event: Event) {
        if let Some(me) = self.me.upgrade() {
            self.queue.push(me, event);
        }
    }

    pub fn sink(&self) -> &dyn EventSink {
        self.sink.as_ref()
    }

    pub fn session_id_c(&self) -> &CStr {
        &self.session_id_c
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    /// This client's own connection while connected (or reconnecting, or
    /// disconnecting).
    pub fn own_connection(&self) -> Option<*const Connection> {
        let inner = self.lock();
        match inner.state {
            State::Connected | State::Reconnecting | State::Disconnecting => {
                inner.own.as_ref().map(Arc::as_ptr)
            }
            _ => None,
        }
    }

    /// The server's base URL: settings, else `OTC_SERVER_URL`, else default.
    fn server_base_url(&self) -> String {
        if let Some(u) = &self.settings.server_url {
            return u.clone();
        }
        match std::env::var(SERVER_URL_ENV) {
            Ok(u) if !u.trim().is_empty() => u,
            _ => DEFAULT_SERVER_URL.to_string(),
        }
    }

    /// Starts connecting with `token`; the outcome arrives as `on_connected`
    /// or `on_error`.
    pub fn connect(&self, token: &str) -> Result<()> {
        if token.is_empty() {
            return Err(Error::invalid("the token is empty"));
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::invalid(format!(
                "the token is {} bytes, more than the limit of {MAX_TOKEN_BYTES}",
                token.len()
            )));
        }
        let route = Route::new(
            &self.server_base_url(),
            self.settings.proxy.as_ref(),
            || match &self.settings.ca_file {
                Some(ca) => Ok(Some(ca.clone())),
                None => CaBundle::from_env(),
            },
        )?;
        let me = self
            .me
            .upgrade()
            .ok_or_else(|| Error::illegal_state("session is gone"))?;
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        match inner.state {
            State::New | State::Disconnected => {}
            s => {
                return Err(Error::illegal_state(format!(
                    "connect called while the session is {s:?}"
                )))
            }
        }
        if self.gate.is_closed() {
            return Err(Error::illegal_state("the session is being deleted"));
        }
        inner.epoch += 1;
        inner.state = State::Connecting;
        inner.outbox.restart();
        let stop = Arc::new(Notify::new());
        let connect = ClientMessage::Connect {
            version: PROTOCOL_VERSION,
            api_key: self.api_key.clone(),
            session_id: self.session_id.clone(),
            token: token.to_string(),
            suppress_connection_events: self.settings.suppress_connection_events,
        };
        notes.push(
            Level::Info,
            format_args!("session {}: connecting to {route}", self.session_id),
        );
        let task = self
            .rt
            .spawn(run_link(me, inner.epoch, route, connect, stop.clone()))
            .abort_handle();
        inner.link = Some(Link {
            writer: None,
            task,
            stop,
        });
        Ok(())
    }

    /// Leaves the session; `on_disconnected` follows.
    pub fn disconnect(&self) -> Result<()> {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        match inner.state {
            State::Connected => {
                inner.state = State::Disconnecting;
                if let Some(link) = &inner.link {
                    if let Some(w) = &link.writer {
                        w.send(&ClientMessage::Disconnect);
                    }
                    link.stop.notify_one();
                }
                Ok(())
            }
            State::Connecting | State::Reconnecting => {
                // Abandon the attempt; the link task sees a new epoch. A
                // reconnecting connection has no link to say goodbye on: the
                // server ends it when its grace period is over.
                inner.epoch += 1;
                if let Some(link) = inner.link.take() {
                    link.task.abort();
                    if let Some(w) = link.writer {
                        w.close();
                    }
                }
                inner.state = State::Disconnected;
                inner.peers.clear();
                let pending = inner.outbox.drain();
                self.fail_pending(
                    pending,
                    ErrorCode::NotConnected,
                    "the session was disconnected while reconnecting",
                    &mut notes,
                );
                self.emit(Event::Disconnected);
                Ok(())
            }
            State::Disconnecting => Ok(()),
            State::New | State::Disconnected => Err(Error::not_connected(
                "disconnect called on a session that is not connected",
            )),
        }
    }

    /// Validates and queues one signal; returns its id. `to == None` sends
    /// to the whole session (the sender included).
    ///
    /// While reconnecting, a signal whose options allow it is numbered and
    /// kept in the outbox until the connection is resumed; one that does not
    /// is refused with 1010 at once.
    pub fn send_signal(&self, out: Outgoing) -> Result<u64> {
        protocol::validate::signal(&out.signal_type, &out.data, out.to.as_deref())?;
        let mut inner = self.lock();
        match inner.state {
            State::Connected => {}
            State::Reconnecting if out.retry_after_reconnect => {
                let (id, _frame) = inner.outbox.push(out)?;
                return Ok(id);
            }
            State::Reconnecting => {
                return Err(Error::not_connected(
                    "cannot send a signal: the session is reconnecting and the signal's \
                     options say retry_after_reconnect = false",
                ))
            }
            s => {
                return Err(Error::not_connected(format!(
                    "cannot send a signal: the session is {s:?}"
                )))
            }
        }
        let Some(writer) = inner.link.as_ref().and_then(|l| l.writer.clone()) else {
            return Err(Error::not_connected("cannot send a signal: no link"));
        };
        let (id, frame) = inner.outbox.push(out)?;
        // If the link just died, the frame stays in the outbox and is sent
        // again after a resume (or failed if the session ends).
        writer.send_frame(frame);
        Ok(id)
    }

    /// Sends an issue report and waits (boundedly) for the id the server
    /// logged it under. Needs a connected session.
    pub fn report_issue(&self, description: &str) -> Result<String> {
        protocol::validate::issue_description(description)?;
        let waiter = {
            let mut inner = self.lock();
            let writer = match (inner.state, inner.link.as_ref()) {
                (State::Connected, Some(link)) => link.writer.clone(),
                _ => None,
            };
            let Some(writer) = writer else {
                return Err(Error::not_connected(format!(
                    "cannot report an issue: the session is {:?}",
                    inner.state
                )));
            };
            let (id, waiter) = inner.issues.open();
            writer.send(&ClientMessage::ReportIssue {
                id,
                description: description.to_string(),
            });
            waiter
        };
        waiter.wait()
    }

    /// Ends everything for `otc_session_delete` / `otc_destroy`: tells the
    /// server goodbye (best effort), stops the link, and returns only when no
    /// callback of this session is running or will ever run. Returns the
    /// writer that is sending the goodbye, for a caller that must wait for it
    /// (`otc_destroy`, before it stops the runtime that runs the writer).
    pub fn close(&self) -> Option<transport::Writer> {
        let mut closing = None;
        // A session that was not yet disconnected ends the way every
        // disconnect does, with `on_disconnected`: the SDK's samples call
        // `otc_session_disconnect` and at once `otc_session_delete`, and
        // still hear it. Nothing else queued is delivered any more.
        self.gate.begin_close();
        let (farewell, flush);
        {
            let mut inner = self.lock();
            farewell = !matches!(inner.state, State::New | State::Disconnected);
            // Events may be queued (an `on_disconnected` among them) for any
            // session that ever tried to connect.
            flush = inner.state != State::New;
            inner.epoch += 1;
            if let Some(link) = inner.link.take() {
                if let Some(w) = link.writer {
                    if inner.state == State::Connected {
                        w.send(&ClientMessage::Disconnect);
                    }
                    w.close();
                    closing = Some(w);
                }
                link.task.abort();
            }
            inner.state = State::Disconnected;
            inner.peers.clear();
            inner.issues.drop_all();
            // Completions are dropped uncalled: the session is going away.
            drop(inner.outbox.drain());
        }
        if flush {
            self.say_farewell(farewell);
        }
        self.gate.close();
        closing
    }

    /// Delivers a final `on_disconnected` (with `disconnected`, a new one;
    /// else one that may still be queued) before the gate closes, waiting at
    /// most [`FAREWELL_WAIT`] for the dispatch thread. Called from inside one
    /// of this session's own callbacks, it cannot wait for the dispatch
    /// thread (that is this thread): it calls `on_disconnected` at once.
    fn say_farewell(&self, disconnected: bool) {
        if self.gate.is_running_here() {
            if disconnected {
                let addr = self as *const Session as usize;
                self.sink.deliver(addr, &Event::Disconnected);
            }
            return;
        }
        if disconnected {
            self.emit(Event::Disconnected);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.emit(Event::Barrier(tx));
        if rx.recv_timeout(FAREWELL_WAIT).is_err() {
            log::error!(
                "session {}: on_disconnected was not delivered within {:?} of the delete \
                 (a callback is still running)",
                self.session_id,
                FAREWELL_WAIT
            );
        }
    }

    /// Fails signals that will never be confirmed: each completion callback
    /// gets `code`, and one `on_error` tells the application how many were
    /// lost (the plain send functions have no other way to learn it).
    fn fail_pending(
        &self,
        pending: Vec<Pending>,
        code: ErrorCode,
        why: &str,
        notes: &mut log::Deferred,
    ) {
        let Some(first) = pending.first().map(|p| p.signal_id) else {
            return;
        };
        let last = pending.last().map_or(first, |p| p.signal_id);
        let n = pending.len();
        for p in pending {
            notes.push(
                Level::Warn,
                format_args!(
                    "session {}: signal #{} (id {}, type {:?}, {} bytes) \
                     failed with {code}: {why}",
                    self.session_id, p.seq, p.signal_id, p.signal_type, p.data_len
                ),
            );
            if let Some(complete) = p.completion {
                self.emit(Event::SignalComplete {
                    signal_id: p.signal_id,
                    result: code.as_i32(),
                    complete,
                });
            }
        }
        let message = format!(
            "{n} signal(s) accepted but not confirmed by the server were not sent \
             (signal ids {first}..={last}): {why}"
        );
        notes.push(
            Level::Error,
            format_args!("session {}: {message}", self.session_id),
        );
        self.emit(Event::Error {
            message: c_string_lossy(&message),
            code: code.as_i32(),
        });
    }

    /// The server accepted `connect`. Returns false if this link is stale.
    fn link_up(
        &self,
        epoch: u64,
        writer: Writer,
        own: ConnectionInfo,
        others: Vec<ConnectionInfo>,
        last_seq: u64,
    ) -> bool {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch || inner.state != State::Connecting {
            return false;
        }
        let Some(link) = inner.link.as_mut() else {
            return false;
        };
        link.writer = Some(writer);
        inner.state = State::Connected;
        inner.last_event_seq = last_seq;
        let own = Arc::new(Connection::from_info(&own, &self.session_id));
        notes.push(
            Level::Info,
            format_args!(
                "session {}: connected as {} with {} other connection(s)",
                self.session_id,
                own.id_str(),
                others.len()
            ),
        );
        if let Some(old) = inner.own.replace(own) {
            inner.retired.push(old);
        }
        inner.peers.clear();
        self.emit(Event::Connected);
        for info in others {
            let c = Arc::new(Connection::from_info(&info, &self.session_id));
            inner.peers.insert(info.id, c.clone());
            self.emit(Event::ConnectionCreated(c));
        }
        true
    }

    /// The connect attempt failed before the session was connected:
    /// `on_error`, then `on_disconnected`.
    fn connect_failed(&self, epoch: u64, err: Error) {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        notes.push(
            Level::Error,
            format_args!("session {}: connect failed: {err}", self.session_id),
        );
        inner.state = State::Disconnected;
        inner.link = None;
        self.emit(Event::Error {
            message: c_string_lossy(&err.reason),
            code: err.code.as_i32(),
        });
        self.emit(Event::Disconnected);
    }

    /// The link of a connected session broke: go `reconnecting` and tell
    /// the application. False if the session moved on meanwhile (then the
    /// caller stops).
    fn reconnection_started(&self, epoch: u64, why: &Error) -> bool {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch || inner.state != State::Connected {
            return false;
        }
        let Some(link) = inner.link.as_mut() else {
            return false;
        };
        if let Some(w) = link.writer.take() {
            w.close();
        }
        inner.state = State::Reconnecting;
        // The server's answers to pending issue reports were on that link.
        inner.issues.drop_all();
        notes.push(
            Level::Warn,
            format_args!(
                "session {}: link lost ({}); reconnecting with {} signal(s) unconfirmed",
                self.session_id,
                why.reason,
                inner.outbox.len()
            ),
        );
        self.emit(Event::ReconnectionStarted);
        true
    }

    /// Still trying to reconnect this epoch?
    fn still_reconnecting(&self, epoch: u64) -> bool {
        let inner = self.lock();
        inner.epoch == epoch && inner.state == State::Reconnecting
    }

    fn last_event_seq(&self) -> u64 {
        self.lock().last_event_seq
    }

    /// The server resumed the connection on `writer`'s link: send every
    /// unconfirmed signal again, in order, then carry on as connected.
    /// False if the session moved on meanwhile.
    fn resumed(&self, epoch: u64, writer: &Writer, last_client_seq: u64) -> bool {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch || inner.state != State::Reconnecting {
            return false;
        }
        // Sent under the lock, so a concurrent send cannot slip in between.
        let mut resent = 0usize;
        for p in inner.outbox.all() {
            writer.send_frame(p.frame.clone());
            resent += 1;
        }
        let Some(link) = inner.link.as_mut() else {
            return false;
        };
        link.writer = Some(writer.clone());
        inner.state = State::Connected;
        notes.push(
            Level::Info,
            format_args!(
                "session {}: connection resumed; the server had processed signals up to \
                 #{last_client_seq}; {resent} signal(s) sent again",
                self.session_id
            ),
        );
        self.emit(Event::Reconnected);
        true
    }

    /// Who sent a signal: ourselves, a known peer, or a peer we were not
    /// told about (connection events suppressed).
    fn sender(&self, inner: &Inner, id: &str) -> Arc<Connection> {
        if let Some(own) = inner.own.as_ref().filter(|c| c.id_str() == id) {
            return own.clone();
        }
        inner
            .peers
            .get(id)
            .cloned()
            .unwrap_or_else(|| Arc::new(Connection::id_only(id, &self.session_id)))
    }

    /// Handles one frame of a joined link. Returns the highest event seq
    /// handled so far, or how the link ends.
    fn handle(&self, epoch: u64, msg: ServerMessage, writer: &Writer) -> Result<u64, End> {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return Err(End::Stale);
        }
        if let Some(seq) = msg.event_seq() {
            if seq <= inner.last_event_seq {
                // Already handled before a resume: never deliver twice.
                return Ok(inner.last_event_seq);
            }
            inner.last_event_seq = seq;
        }
        match msg {
            ServerMessage::Signal {
                from,
                signal_type,
                data,
                ..
            } => {
                let from = from.map(|id| self.sender(&inner, &id));
                self.emit(Event::Signal {
                    signal_type: c_string_owned(signal_type),
                    data: c_string_owned(data),
                    from,
                });
            }
            ServerMessage::ConnectionCreated { connection, .. } => {
                let is_own = inner
                    .own
                    .as_ref()
                    .is_some_and(|o| o.id_str() == connection.id);
                if !is_own {
                    let c = Arc::new(Connection::from_info(&connection, &self.session_id));
                    inner.peers.insert(connection.id, c.clone());
                    self.emit(Event::ConnectionCreated(c));
                }
            }
            ServerMessage::Connections { connections } => {
                // The rest of a participant list too long for `connected`.
                for info in connections {
                    let known = inner.peers.contains_key(&info.id)
                        || inner.own.as_ref().is_some_and(|o| o.id_str() == info.id);
                    if !known {
                        let c = Arc::new(Connection::from_info(&info, &self.session_id));
                        inner.peers.insert(info.id, c.clone());
                        self.emit(Event::ConnectionCreated(c));
                    }
                }
            }
            ServerMessage::ConnectionDestroyed { connection_id, .. } => {
                let c = inner.peers.remove(&connection_id).unwrap_or_else(|| {
                    Arc::new(Connection::id_only(&connection_id, &self.session_id))
                });
                self.emit(Event::ConnectionDropped(c));
            }
            ServerMessage::SignalAck { seq } => {
                if let Some(p) = inner.outbox.settle(seq) {
                    if let Some(complete) = p.completion {
                        self.emit(Event::SignalComplete {
                            signal_id: p.signal_id,
                            result: 0,
                            complete,
                        });
                    }
                }
            }
            ServerMessage::SignalError { seq, code, message } => {
                notes.push(
                    Level::Warn,
                    format_args!(
                        "session {}: the server refused signal #{seq}: {message} ({code})",
                        self.session_id
                    ),
                );
                if let Some(p) = inner.outbox.settle(seq) {
                    if let Some(complete) = p.completion {
                        self.emit(Event::SignalComplete {
                            signal_id: p.signal_id,
                            result: code.as_i32(),
                            complete,
                        });
                    }
                }
            }
            ServerMessage::Ping { id } => {
                writer.send(&ClientMessage::Pong { id });
            }
            ServerMessage::Pong { .. } => {}
            ServerMessage::Disconnected { reason, message } => {
                notes.push(
                    Level::Info,
                    format_args!(
                        "session {}: the server ended the connection: {} {message}",
                        self.session_id,
                        reason.as_str()
                    ),
                );
                return Err(ended_by_server(reason, &message));
            }
            ServerMessage::IssueReported { id, issue_id } => {
                inner.issues.answer(id, Ok(issue_id));
            }
            ServerMessage::IssueRefused { id, code, message } => {
                inner.issues.answer(id, Err(Error::new(code, message)));
            }
            ServerMessage::Error { code, message } => {
                return Err(End::Failed(Error::new(code, message)));
            }
            ServerMessage::Connected { .. } | ServerMessage::Resumed { .. } => {
                return Err(End::Failed(Error::new(
                    ErrorCode::ProtocolError,
                    "unexpected connected/resumed frame on an established link",
                )));
            }
        }
        Ok(inner.last_event_seq)
    }

    /// The session of `epoch` is over: settle everything and tell the
    /// application (`on_error` if abnormal, pending signals failed, then
    /// `on_disconnected`).
    fn link_down(&self, epoch: u64, end: End) {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return;
        }
        let (pending_code, error) = match end {
            End::Stale => return,
            End::Clean => (ErrorCode::NotConnected, None),
            End::Failed(e) | End::Lost(e) => (ErrorCode::ConnectionDropped, Some(e)),
        };
        inner.state = State::Disconnected;
        if let Some(link) = inner.link.take() {
            if let Some(w) = link.writer {
                w.close();
            }
        }
        inner.peers.clear();
        inner.issues.drop_all();
        let why = match &error {
            Some(e) => {
                notes.push(
                    Level::Error,
                    format_args!("session {}: {e}", self.session_id),
                );
                self.emit(Event::Error {
                    message: c_string_lossy(&e.reason),
                    code: e.code.as_i32(),
                });
                e.reason.clone()
            }
            None => {
                notes.push(
                    Level::Info,
                    format_args!("session {}: disconnected", self.session_id),
                );
                "the session was disconnected".to_string()
            }
        };
        let pending = inner.outbox.drain();
        self.fail_pending(pending, pending_code, &why, &mut notes);
        self.emit(Event::Disconnected);
    }

    fn disconnect_requested(&self) -> bool {
        self.lock().state == State::Disconnecting
    }
}

/// What a `disconnected` frame means for the application.
fn ended_by_server(reason: DisconnectReason, message: &str) -> End {
    let code = match reason {
        DisconnectReason::ClientDisconnected | DisconnectReason::ForceDisconnected => {
            return End::Clean
        }
        DisconnectReason::ProtocolViolation => ErrorCode::ProtocolError,
        // The server dropped this client because a bounded buffer was full.
        DisconnectReason::SlowConsumer | DisconnectReason::ReplayOverflow => ErrorCode::BufferFull,
        DisconnectReason::NetworkDisconnected | DisconnectReason::ServerShutdown => {
            ErrorCode::ConnectionDropped
        }
    };
    End::Failed(Error::new(
        code,
        format!(
            "the server ended the connection ({}): {message}",
            reason.as_str()
        ),
    ))
}

/// What the client needs to resume its connection.
struct ResumeTicket {
    connection_id: String,
    secret: String,
}

/// The life of one epoch: open, `connect`, read; after each lost link,
/// resume on a new one; until the session ends.
async fn run_link(
    session: Arc<Session>,
    epoch: u64,
    route: Route,
    connect: ClientMessage,
    stop: Arc<Notify>,
) {
    let mut stage = Stage::default();
    let opened = tokio::time::timeout(DEFAULT_CONNECT_TIMEOUT, async {
        let (writer, mut reader) = transport::open(&route, &mut stage).await?;
        stage = Stage::Answer;
        writer.send(&connect);
        let first = reader.next().await;
        Ok::<_, Error>((writer, reader, first))
    })
    .await;
    let (writer, reader, first) = match opened {
        Err(_) => {
            let e = Error::new(
                ErrorCode::TimedOut,
                format!(
                    "timed out after {DEFAULT_CONNECT_TIMEOUT:?} {}",
                    route.waiting_for(stage)
                ),
            );
            return session.connect_failed(epoch, e);
        }
        Ok(Err(e)) => return session.connect_failed(epoch, e),
        Ok(Ok(x)) => x,
    };
    let (ticket, policy) = match first {
        Ok(ServerMessage::Connected {
            connection,
            connections,
            last_seq,
            ping_interval_ms,
            reconnect_grace_ms,
            resume_secret,
            ..
        }) => {
            let ticket = ResumeTicket {
                connection_id: connection.id.clone(),
                secret: resume_secret,
            };
            if !session.link_up(epoch, writer.clone(), connection, connections, last_seq) {
                writer.close();
                return;
            }
            let policy = Policy::new(
                session.settings.reconnection_window,
                Duration::from_millis(ping_interval_ms),
                Duration::from_millis(reconnect_grace_ms),
            );
            (ticket, policy)
        }
        other => {
            writer.close();
            let e = match other {
                Ok(ServerMessage::Error { code, message }) => Error::new(code, message),
                Ok(m) => Error::new(
                    ErrorCode::ProtocolError,
                    format!("expected a connected frame, got {m:?}"),
                ),
                Err(ReadEnd::Closed) => Error::new(
                    ErrorCode::ConnectionFailed,
                    "the server closed the link before answering connect",
                ),
                Err(ReadEnd::Failed(m)) => Error::new(ErrorCode::ConnectionFailed, m),
                Err(ReadEnd::Malformed(m)) => Error::new(ErrorCode::ProtocolError, m),
            };
            return session.connect_failed(epoch, e);
        }
    };
    let (mut writer, mut reader) = (writer, reader);
    loop {
        let end = read_loop(&session, epoch, &writer, reader, &policy, &stop).await;
        writer.close();
        let lost = match end {
            End::Lost(e) if policy.enabled() => e,
            other => return session.link_down(epoch, other),
        };
        if !session.reconnection_started(epoch, &lost) {
            return;
        }
        match resume(&session, epoch, &route, &ticket, &policy).await {
            Ok((w, r)) => (writer, reader) = (w, r),
            Err(end) => return session.link_down(epoch, end),
        }
    }
}

/// Tries to resume the connection on a new link, with backoff, until the
/// server answers or the window is over.
async fn resume(
    session: &Session,
    epoch: u64,
    route: &Route,
    ticket: &ResumeTicket,
    policy: &Policy,
) -> std::result::Result<(Writer, Reader), End> {
    let deadline = Instant::now() + policy.window;
    let mut backoff = policy.backoff();
    let mut last_problem = String::from("no attempt finished");
    for attempt in 1u32.. {
        let wake = Instant::now() + backoff.next_delay();
        if wake >= deadline {
            break;
        }
        tokio::time::sleep_until(wake).await;
        if !session.still_reconnecting(epoch) {
            return Err(End::Stale);
        }
        let msg = ClientMessage::Resume {
            version: PROTOCOL_VERSION,
            api_key: session.api_key.clone(),
            session_id: session.session_id.clone(),
            connection_id: ticket.connection_id.clone(),
            resume_secret: ticket.secret.clone(),
            last_seq: session.last_event_seq(),
        };
        let limit = policy.attempt_timeout().min(deadline - Instant::now());
        let mut stage = Stage::default();
        let tried = tokio::time::timeout(limit, async {
            let (writer, mut reader) = transport::open(route, &mut stage).await?;
            stage = Stage::Answer;
            writer.send(&msg);
            let first = reader.next().await;
            Ok::<_, Error>((writer, reader, first))
        })
        .await;
        let (writer, reader, first) = match tried {
            Err(_) => {
                last_problem = format!(
                    "attempt {attempt} timed out after {limit:?} {}",
                    route.waiting_for(stage)
                );
                continue;
            }
            Ok(Err(e)) => {
                last_problem = format!("attempt {attempt}: {}", e.reason);
                continue;
            }
            Ok(Ok(x)) => x,
        };
        match first {
            Ok(ServerMessage::Resumed { last_client_seq }) => {
                if session.resumed(epoch, &writer, last_client_seq) {
                    return Ok((writer, reader));
                }
                writer.close();
                return Err(End::Stale);
            }
            // The server could not attach this link but still holds the
            // connection: try again.
            Ok(ServerMessage::Error {
                code: ErrorCode::ConnectionFailed,
                message,
            }) => {
                writer.close();
                last_problem = format!("attempt {attempt}: {message}");
            }
            Ok(ServerMessage::Error { code, message }) => {
                writer.close();
                return Err(End::Failed(Error::new(
                    ErrorCode::ConnectionDropped,
                    format!(
                        "the connection was lost and the server refused to resume it: \
                         {message} (error {})",
                        code.as_i32()
                    ),
                )));
            }
            Ok(ServerMessage::Disconnected { reason, message }) => {
                writer.close();
                return Err(ended_by_server(reason, &message));
            }
            Ok(other) => {
                writer.close();
                return Err(End::Failed(Error::new(
                    ErrorCode::ProtocolError,
                    format!("expected a resumed frame, got {other:?}"),
                )));
            }
            Err(e) => {
                writer.close();
                last_problem = format!("attempt {attempt}: {e:?}");
            }
        }
    }
    Err(End::Failed(Error::new(
        ErrorCode::ConnectionDropped,
        format!(
            "the connection was lost and could not be resumed within {:?} ({last_problem})",
            policy.window
        ),
    )))
}

/// A received string as a C string, reusing its buffer (the data of a
/// signal is up to 8 KB; `c_string_lossy` would copy it once more). Cut at
/// the first NUL, as `c_string_lossy` does: a C string cannot hold one.
fn c_string_owned(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let cut = e.nul_position();
        let mut bytes = e.into_vec();
        bytes.truncate(cut);
        CString::new(bytes).unwrap_or_default()
    })
}

/// Reads frames until the link ends; acknowledges events as it goes, pings
/// a quiet server and notices a silent one.
async fn read_loop(
    session: &Session,
    epoch: u64,
    writer: &Writer,
    mut reader: Reader,
    policy: &Policy,
    stop: &Notify,
) -> End {
    let idle = policy.idle;
    let mut received = session.last_event_seq();
    let mut acked = received;
    let mut last_rx = Instant::now();
    let mut closing_by: Option<Instant> = None;
    let mut ack_tick = tokio::time::interval(ACK_INTERVAL);
    ack_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ping_tick =
        tokio::time::interval_at(Instant::now() + policy.ping_every, policy.ping_every);
    ping_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ping_id = 0u64;
    loop {
        let deadline = match closing_by {
            Some(t) => t.min(last_rx + idle),
            None => last_rx + idle,
        };
        tokio::select! {
            msg = reader.next() => {
                let msg = match msg {
                    Ok(m) => m,
                    Err(end) => {
                        if closing_by.is_some() || session.disconnect_requested() {
                            return End::Clean;
                        }
                        return match end {
                            ReadEnd::Closed => End::Lost(Error::new(
                                ErrorCode::ConnectionDropped,
                                "the server closed the link without a goodbye",
                            )),
                            ReadEnd::Failed(m) => {
                                End::Lost(Error::new(ErrorCode::ConnectionDropped, m))
                            }
                            ReadEnd::Malformed(m) => {
                                End::Failed(Error::new(ErrorCode::ProtocolError, m))
                            }
                        };
                    }
                };
                last_rx = Instant::now();
                match session.handle(epoch, msg, writer) {
                    Ok(seq) => received = seq,
                    Err(end) => return end,
                }
                if received >= acked + ACK_EVERY_EVENTS {
                    writer.send(&ClientMessage::Ack { seq: received });
                    acked = received;
                }
            }
            _ = ack_tick.tick() => {
                if received > acked {
                    writer.send(&ClientMessage::Ack { seq: received });
                    acked = received;
                }
            }
            _ = ping_tick.tick() => {
                if last_rx.elapsed() >= policy.ping_every {
                    ping_id += 1;
                    writer.send(&ClientMessage::Ping { id: ping_id });
                }
            }
            _ = stop.notified(), if closing_by.is_none() => {
                closing_by = Some(Instant::now() + DISCONNECT_WAIT);
            }
            _ = tokio::time::sleep_until(deadline) => {
                if closing_by.is_some() || session.disconnect_requested() {
                    return End::Clean;
                }
                return End::Lost(Error::new(
                    ErrorCode::ConnectionDropped,
                    format!("no frame from the server for {idle:?}"),
                ));
            }
        }
    }
}
