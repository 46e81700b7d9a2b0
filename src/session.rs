//! One session: its state machine, its link task and what it tells the
//! application.
//!
//! ```text
//!   new ──connect──▶ connecting ──server says connected──▶ connected
//!    ▲                   │ failure: on_error                  │ disconnect
//!    │                   ▼                                    ▼
//!    └─────────────  disconnected ◀── server closes ──── disconnecting
//!      (connect again)     ▲        (link lost: on_error 1022)  │
//!                          └────────────────────────────────────┘
//! ```
//!
//! (A `reconnecting` state slots in between connected and disconnected when
//! automatic reconnection is added: the outbox already keeps what a resume
//! must replay, and the link is replaceable.)
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

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use protocol::limits::{
    DEFAULT_CLIENT_OUTBOX_SIGNALS, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_SERVER_URL, MAX_TOKEN_BYTES,
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
use crate::log::{self, Level};
use crate::outbox::{Outbox, Outgoing};
use crate::transport::{self, ReadEnd, Reader, Writer};

/// Environment variable naming the server's base URL.
pub const SERVER_URL_ENV: &str = "OTC_SERVER_URL";

/// Send an `ack` after this many unacknowledged events...
const ACK_EVERY_EVENTS: u64 = 64;
/// ...or at least this often while events keep arriving.
const ACK_INTERVAL: Duration = Duration::from_millis(250);
/// How long a requested disconnect waits for the server's goodbye.
const DISCONNECT_WAIT: Duration = Duration::from_secs(3);

/// Options fixed when the session is created (`otc_session_settings`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub suppress_connection_events: bool,
    /// Base URL of the server; `None` = environment, then default.
    pub server_url: Option<String>,
}

impl Settings {
    /// Checks and stores a server URL (`http://host:port` or `ws://host:port`).
    pub fn set_server_url(&mut self, url: &str) -> Result<()> {
        transport::ws_url(url)?;
        self.server_url = Some(url.to_string());
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    New,
    Connecting,
    Connected,
    Disconnecting,
    Disconnected,
}

/// The running link of a connected (or connecting) session.
struct Link {
    /// Set once the WebSocket is open.
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
}

/// How a link ended.
enum End {
    /// The client asked to leave, or the server removed it on purpose
    /// (force disconnect): only `on_disconnected`.
    Clean,
    /// The link broke or the server ended it abnormally: `on_error`, then
    /// `on_disconnected`.
    Failed(Error),
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
                outbox: Outbox::new(DEFAULT_CLIENT_OUTBOX_SIGNALS),
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

    /// This client's own connection while connected (or disconnecting).
    pub fn own_connection(&self) -> Option<*const Connection> {
        let inner = self.lock();
        match inner.state {
            State::Connected | State::Disconnecting => inner.own.as_ref().map(Arc::as_ptr),
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
        let url = transport::ws_url(&self.server_base_url())?;
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
            format_args!("session {}: connecting to {url}", self.session_id),
        );
        let task = self
            .rt
            .spawn(run_link(me, inner.epoch, url, connect, stop.clone()))
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
            State::Connecting => {
                // Abandon the attempt; the link task sees a new epoch.
                inner.epoch += 1;
                if let Some(link) = inner.link.take() {
                    link.task.abort();
                    if let Some(w) = link.writer {
                        w.close();
                    }
                }
                inner.state = State::Disconnected;
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
    pub fn send_signal(&self, out: Outgoing) -> Result<u64> {
        protocol::validate::signal(&out.signal_type, &out.data, out.to.as_deref())?;
        let mut inner = self.lock();
        if inner.state != State::Connected {
            return Err(Error::not_connected(format!(
                "cannot send a signal: the session is {:?}",
                inner.state
            )));
        }
        let Some(writer) = inner.link.as_ref().and_then(|l| l.writer.clone()) else {
            return Err(Error::not_connected("cannot send a signal: no link"));
        };
        let (id, frame) = inner.outbox.push(out)?;
        // If the link just died, the frame stays in the outbox and the link
        // task's end fails it through the completion callback.
        writer.send(&frame);
        Ok(id)
    }

    /// Ends everything for `otc_session_delete` / `otc_destroy`: tells the
    /// server goodbye (best effort), stops the link, and returns only when no
    /// callback of this session is running or will ever run.
    pub fn close(&self) {
        {
            let mut inner = self.lock();
            inner.epoch += 1;
            if let Some(link) = inner.link.take() {
                if let Some(w) = link.writer {
                    if inner.state == State::Connected {
                        w.send(&ClientMessage::Disconnect);
                    }
                    w.close();
                }
                link.task.abort();
            }
            inner.state = State::Disconnected;
            inner.peers.clear();
            // Completions are dropped uncalled: no callback after delete.
            drop(inner.outbox.drain());
        }
        self.gate.close();
    }

    /// The server accepted `connect`. Returns false if this link is stale.
    fn link_up(
        &self,
        epoch: u64,
        writer: Writer,
        own: ConnectionInfo,
        others: Vec<ConnectionInfo>,
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

    /// The connect attempt failed before the session was connected.
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

    /// Handles one frame of a connected link; `Some` ends the link.
    fn handle(&self, epoch: u64, msg: ServerMessage, writer: &Writer) -> Option<End> {
        let mut notes = log::Deferred::default();
        let mut inner = self.lock();
        if inner.epoch != epoch {
            return Some(End::Stale);
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
                    signal_type: c_string_lossy(&signal_type),
                    data: c_string_lossy(&data),
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
                return Some(match reason {
                    DisconnectReason::ClientDisconnected | DisconnectReason::ForceDisconnected => {
                        End::Clean
                    }
                    DisconnectReason::ProtocolViolation => End::Failed(Error::new(
                        ErrorCode::ProtocolError,
                        format!("the server reports a protocol violation: {message}"),
                    )),
                    other => End::Failed(Error::new(
                        ErrorCode::ConnectionDropped,
                        format!(
                            "the server ended the connection ({}): {message}",
                            other.as_str()
                        ),
                    )),
                });
            }
            ServerMessage::Error { code, message } => {
                return Some(End::Failed(Error::new(code, message)));
            }
            ServerMessage::Connected { .. } | ServerMessage::Resumed { .. } => {
                return Some(End::Failed(Error::new(
                    ErrorCode::ProtocolError,
                    "unexpected connected/resumed frame on an established link",
                )));
            }
        }
        None
    }

    /// The link of `epoch` is over: settle everything and tell the
    /// application (pending signals fail, then `on_error` if abnormal, then
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
            End::Failed(e) => (ErrorCode::ConnectionDropped, Some(e)),
        };
        inner.state = State::Disconnected;
        if let Some(link) = inner.link.take() {
            if let Some(w) = link.writer {
                w.close();
            }
        }
        inner.peers.clear();
        for p in inner.outbox.drain() {
            if let Some(complete) = p.completion {
                self.emit(Event::SignalComplete {
                    signal_id: p.signal_id,
                    result: pending_code.as_i32(),
                    complete,
                });
            }
        }
        if let Some(e) = error {
            notes.push(
                Level::Error,
                format_args!("session {}: {e}", self.session_id),
            );
            self.emit(Event::Error {
                message: c_string_lossy(&e.reason),
                code: e.code.as_i32(),
            });
        } else {
            notes.push(
                Level::Info,
                format_args!("session {}: disconnected", self.session_id),
            );
        }
        self.emit(Event::Disconnected);
    }

    fn disconnect_requested(&self) -> bool {
        self.lock().state == State::Disconnecting
    }
}

/// The life of one link: open, `connect`, then read until it ends.
async fn run_link(
    session: Arc<Session>,
    epoch: u64,
    url: String,
    connect: ClientMessage,
    stop: Arc<Notify>,
) {
    let opened = tokio::time::timeout(DEFAULT_CONNECT_TIMEOUT, async {
        let (writer, mut reader) = transport::open(&url).await?;
        writer.send(&connect);
        let first = reader.next().await;
        Ok::<_, Error>((writer, reader, first))
    })
    .await;
    let (writer, reader, first) = match opened {
        Err(_) => {
            let e = Error::new(
                ErrorCode::TimedOut,
                format!("no answer from {url} within {DEFAULT_CONNECT_TIMEOUT:?}"),
            );
            return session.connect_failed(epoch, e);
        }
        Ok(Err(e)) => return session.connect_failed(epoch, e),
        Ok(Ok(x)) => x,
    };
    let (last_seq, ping_ms) = match first {
        Ok(ServerMessage::Connected {
            connection,
            connections,
            last_seq,
            ping_interval_ms,
            ..
        }) => {
            if !session.link_up(epoch, writer.clone(), connection, connections) {
                writer.close();
                return;
            }
            (last_seq, ping_interval_ms)
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
    let idle = DEFAULT_IDLE_TIMEOUT.max(Duration::from_millis(ping_ms.saturating_mul(3)));
    let end = read_loop(&session, epoch, &writer, reader, last_seq, idle, &stop).await;
    writer.close();
    session.link_down(epoch, end);
}

/// Reads frames until the link ends; acknowledges events as it goes and
/// notices a silent server.
async fn read_loop(
    session: &Session,
    epoch: u64,
    writer: &Writer,
    mut reader: Reader,
    mut received: u64,
    idle: Duration,
    stop: &Notify,
) -> End {
    let mut acked = received;
    let mut last_rx = Instant::now();
    let mut closing_by: Option<Instant> = None;
    let mut ack_tick = tokio::time::interval(ACK_INTERVAL);
    ack_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
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
                        return End::Failed(match end {
                            ReadEnd::Closed => Error::new(
                                ErrorCode::ConnectionDropped,
                                "the server closed the link",
                            ),
                            ReadEnd::Failed(m) => Error::new(ErrorCode::ConnectionDropped, m),
                            ReadEnd::Malformed(m) => Error::new(ErrorCode::ProtocolError, m),
                        });
                    }
                };
                last_rx = Instant::now();
                if let Some(seq) = msg.event_seq() {
                    received = received.max(seq);
                }
                if let Some(end) = session.handle(epoch, msg, writer) {
                    return end;
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
            _ = stop.notified(), if closing_by.is_none() => {
                closing_by = Some(Instant::now() + DISCONNECT_WAIT);
            }
            _ = tokio::time::sleep_until(deadline) => {
                if closing_by.is_some() {
                    return End::Clean;
                }
                return End::Failed(Error::new(
                    ErrorCode::ConnectionDropped,
                    format!("no frame from the server for {idle:?}"),
                ));
            }
        }
    }
}
