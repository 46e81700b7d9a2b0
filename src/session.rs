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
//! server answers `resumed` or the window is over.
//!
//! With several server URLs (settings or `OTC_SERVER_URL`), the first
//! connect walks them in order until a server answers, and the resume
//! attempts move along them, starting with the URL last joined (see
//! `Routes`). With one URL every link goes to it, which is what a load
//! balancer in front of a cluster needs.
//!
//! Exactly-once delivery rests on two sequence spaces (see `protocol::messages`):
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

use futures_util::FutureExt as _;
use protocol::limits::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_SERVER_URL, MAX_SERVER_URLS, MAX_TOKEN_BYTES,
    MAX_UNANSWERED_SIGNALS,
};
use protocol::messages::DisconnectReason;
use protocol::{ClientMessage, ConnectionInfo, ErrorCode, ServerMessage, PROTOCOL_VERSION};
use tokio::runtime::Handle;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::connection::{c_string_lossy, Connection};
use crate::dispatch::{self, Event, EventSink, Gate, Queue, Target};
use crate::error::{Error, Result};
use crate::issue_report;
use crate::log::{self, Level};
use crate::outbox::{Outbox, Outgoing, Pending};
use crate::proxy::ProxyConfig;
use crate::reconnect::Policy;
use crate::tls::CaBundle;
use crate::transport::{self, ReadEnd, Reader, Route, Stage, Writer};

/// Environment variable naming the server's base URL, or several separated
/// by commas (see [`server_url_list`]).
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
    /// Base URLs of the server, tried in turn (see [`run_link`]); empty =
    /// the environment, then the default.
    pub server_urls: Vec<String>,
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

/// Checks server URLs: at most [`MAX_SERVER_URLS`], none empty, each one
/// valid. `list` names the whole and `entry(i)` names entry `i` in the
/// refusals.
fn checked_server_urls(
    urls: &[&str],
    list: &str,
    entry: impl Fn(usize) -> String,
) -> Result<Vec<String>> {
    if urls.len() > MAX_SERVER_URLS {
        return Err(Error::invalid(format!(
            "{list} holds {} server URLs, more than the limit of {MAX_SERVER_URLS}",
            urls.len()
        )));
    }
    urls.iter()
        .enumerate()
        .map(|(i, url)| {
            if url.trim().is_empty() {
                return Err(Error::invalid(format!("{} is empty", entry(i))));
            }
            transport::ws_url(url)
                .map(|_| url.to_string())
                .map_err(|e| Error::new(e.code, format!("{}: {}", entry(i), e.reason)))
        })
        .collect()
}

/// The server URLs of an `OTC_SERVER_URL` value: one URL, or several
/// separated by commas (spaces around them allowed), checked as
/// [`Settings::set_server_urls`] checks its list. An empty entry
/// (`"a,,b"`, a trailing comma) is refused like a malformed URL.
pub fn server_url_list(text: &str) -> Result<Vec<String>> {
    // Split no further than one entry past the limit.
    let entries: Vec<&str> = text
        .splitn(MAX_SERVER_URLS + 1, ',')
        .map(str::trim)
        .collect();
    let n = entries.len();
    if n > MAX_SERVER_URLS {
        return Err(Error::invalid(format!(
            "{SERVER_URL_ENV} holds more server URLs than the limit of {MAX_SERVER_URLS}"
        )));
    }
    checked_server_urls(&entries, SERVER_URL_ENV, |i| {
        if n == 1 {
            SERVER_URL_ENV.to_string()
        } else {
            format!("{SERVER_URL_ENV} entry {} of {n}", i + 1)
        }
    })
}

impl Settings {
    /// Checks and stores a server URL (`http://`, `https://`, `ws://` or
    /// `wss://` `host:port`): a list of one.
    pub fn set_server_url(&mut self, url: &str) -> Result<()> {
        transport::ws_url(url)?;
        self.server_urls = vec![url.to_string()];
        Ok(())
    }

    /// Checks and stores a list of server URLs (each as for
    /// [`Settings::set_server_url`], at most [`MAX_SERVER_URLS`]); an empty
    /// list clears it. Nothing is stored unless every entry is good.
    pub fn set_server_urls(&mut self, urls: &[&str]) -> Result<()> {
        self.server_urls = checked_server_urls(urls, "the list", |i| format!("urls[{i}]"))?;
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

    /// The server's base URLs, in the order they are tried: the settings',
    /// else `OTC_SERVER_URL`'s (one URL or a comma-separated list), else the
    /// default.
    fn server_urls(&self) -> Result<Vec<String>> {
        if !self.settings.server_urls.is_empty() {
            return Ok(self.settings.server_urls.clone());
        }
        match std::env::var(SERVER_URL_ENV) {
            Ok(u) if !u.trim().is_empty() => server_url_list(&u),
            _ => Ok(vec![DEFAULT_SERVER_URL.to_string()]),
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
        let routes = Route::list(
            &self.server_urls()?,
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
            ack_runs: true,
            binary_signals: true,
        };
        let task = self
            .rt
            .spawn(run_link(me, inner.epoch, routes, connect, stop.clone()))
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
        let to = if out.to_server {
            None
        } else {
            out.to.as_deref()
        };
        protocol::validate::signal(&out.signal_type, &out.data, to)?;
        let mut inner = self.lock();
        match inner.state {
            State::Connected => {}
            State::Reconnecting if out.retry_after_reconnect => {
                return inner.outbox.push(out);
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
        let id = inner.outbox.push(out)?;
        // Sent now unless the window is full (then as answers make room).
        // If the link just died, the signal stays in the outbox and is sent
        // again after a resume (or failed if the session ends).
        put_on_wire(&mut inner.outbox, &writer);
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
        // Sent under the lock, so a concurrent send cannot slip in between;
        // what the window holds back follows as answers come.
        inner.outbox.relink();
        let waiting = inner.outbox.len();
        let resent = put_on_wire(&mut inner.outbox, writer);
        let Some(link) = inner.link.as_mut() else {
            return false;
        };
        link.writer = Some(writer.clone());
        inner.state = State::Connected;
        notes.push(
            Level::Info,
            format_args!(
                "session {}: connection resumed; the server had processed signals up to \
                 #{last_client_seq}; {resent} of {waiting} waiting signal(s) sent again",
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

    /// An answer made room on the wire: sends the signals the outbox's
    /// window held back, unless the session is leaving (nothing may follow
    /// its `disconnect` frame; what is left fails when the link ends).
    fn send_waiting(&self, inner: &mut Inner, writer: &Writer) {
        if inner.state == State::Connected {
            put_on_wire(&mut inner.outbox, writer);
        }
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
            ServerMessage::SignalDelivered { signal_seq, .. } => {
                if let Some(p) = inner.outbox.delivered(signal_seq) {
                    if let Some(complete) = p.completion {
                        self.emit(Event::SignalComplete {
                            signal_id: p.signal_id,
                            result: 0,
                            complete,
                        });
                    }
                }
            }
            ServerMessage::SignalUndelivered {
                signal_seq,
                code,
                message,
                ..
            } => {
                notes.push(
                    Level::Warn,
                    format_args!(
                        "session {}: signal #{signal_seq} did not reach the application server: \
                         {message} ({code})",
                        self.session_id
                    ),
                );
                if let Some(p) = inner.outbox.delivered(signal_seq) {
                    if let Some(complete) = p.completion {
                        self.emit(Event::SignalComplete {
                            signal_id: p.signal_id,
                            result: code.as_i32(),
                            complete,
                        });
                    }
                }
            }
            ServerMessage::SignalAck { seq, first } => {
                // One seq, or (ack runs, asked for in `connect`) every
                // pending one of `first..=seq`.
                let done = inner.outbox.acknowledged_run(first.unwrap_or(seq), seq);
                self.send_waiting(&mut inner, writer);
                for p in done {
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
                let done = inner.outbox.settle(seq);
                self.send_waiting(&mut inner, writer);
                if let Some(p) = done {
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

/// The server URLs of one epoch, as routes, and which one the session is on.
struct Routes {
    all: Vec<Route>,
    /// The route of the last link that joined (connected or resumed).
    current: usize,
}

impl Routes {
    /// The route for resume attempt `attempt` (1, 2, ...) since the last
    /// join: the current route first, then each next one in turn, wrapping
    /// around. With one URL every attempt takes it (behind a load balancer,
    /// the same URL reaches whichever node is up).
    fn for_attempt(&self, attempt: u32) -> usize {
        let n = self.all.len().max(1);
        let step = usize::try_from(attempt.saturating_sub(1)).unwrap_or(0) % n;
        (self.current + step) % n
    }

    /// `" (server URL 2 of 3)"` when there are several, else nothing: a
    /// session with one URL logs and reports as it always did.
    fn which(&self, i: usize) -> String {
        if self.all.len() > 1 {
            format!(" (server URL {} of {})", i + 1, self.all.len())
        } else {
            String::new()
        }
    }
}

/// How one attempt to reach a server (connect or resume) went.
enum Contact {
    /// The server answered the first frame: its answer, on an open link.
    Answered(Writer, Reader, ServerMessage),
    /// No server answer: the link could not be opened, broke, or timed out
    /// before one came. The next URL may do better.
    Unreachable(Error),
}

/// Opens a link along `route`, sends `first` (a `what` frame) and reads
/// the answer, all within `limit`.
async fn contact(route: &Route, first: &ClientMessage, what: &str, limit: Duration) -> Contact {
    let mut stage = Stage::default();
    let tried = tokio::time::timeout(limit, async {
        let (writer, mut reader) = transport::open(route, &mut stage).await?;
        stage = Stage::Answer;
        writer.send(first);
        // The server pings a link from the moment it opens; a join that
        // takes longer than its ping interval (a busy cluster node) gets a
        // ping first. Answer it and wait on, within `limit`.
        let answer = loop {
            match reader.next().await {
                Ok(ServerMessage::Ping { id }) => {
                    // A closed link shows at the next read.
                    writer.send(&ClientMessage::Pong { id });
                }
                Ok(ServerMessage::Pong { .. }) => {}
                other => break other,
            }
        };
        Ok::<_, Error>((writer, reader, answer))
    })
    .await;
    let (writer, reader, answer) = match tried {
        Err(_) => {
            return Contact::Unreachable(Error::new(
                ErrorCode::TimedOut,
                format!("timed out after {limit:?} {}", route.waiting_for(stage)),
            ))
        }
        Ok(Err(e)) => return Contact::Unreachable(e),
        Ok(Ok(x)) => x,
    };
    let e = match answer {
        Ok(msg) => return Contact::Answered(writer, reader, msg),
        Err(ReadEnd::Closed) => Error::new(
            ErrorCode::ConnectionFailed,
            format!("the server closed the link before answering {what}"),
        ),
        Err(ReadEnd::Failed(m)) => Error::new(ErrorCode::ConnectionFailed, m),
        Err(ReadEnd::Malformed(m)) => Error::new(ErrorCode::ProtocolError, m),
    };
    writer.close();
    Contact::Unreachable(e)
}

/// The first connect: tries each route in order until a server answers.
/// A route that cannot be reached (TCP, proxy, TLS or WebSocket failure, a
/// link that breaks or times out before the answer) moves on to the next;
/// an answer, whatever it says, ends the walk (a live server's refusal,
/// such as a bad token, would be the same on every node). Returns the index
/// of the route that answered, or the error to report.
async fn first_contact(
    session: &Session,
    routes: &Routes,
    connect: &ClientMessage,
) -> std::result::Result<(usize, Writer, Reader, ServerMessage), Error> {
    let mut failures: Vec<(usize, Error)> = Vec::with_capacity(routes.all.len());
    for (i, route) in routes.all.iter().enumerate() {
        log::info!(
            "session {}: connecting to {route}{}",
            session.session_id,
            routes.which(i)
        );
        match contact(route, connect, "connect", DEFAULT_CONNECT_TIMEOUT).await {
            Contact::Answered(w, r, msg) => return Ok((i, w, r, msg)),
            Contact::Unreachable(e) => {
                if i + 1 < routes.all.len() {
                    log::warning!(
                        "session {}: {route}{}: {}; trying the next one",
                        session.session_id,
                        routes.which(i),
                        e.reason
                    );
                }
                failures.push((i, e));
            }
        }
    }
    // With one URL, its own error, as it always was; with several, the
    // last one's code and every URL's reason.
    let Some((_, last)) = failures.last() else {
        return Err(Error::invalid("no server URL"));
    };
    if failures.len() == 1 {
        return Err(last.clone());
    }
    let code = last.code;
    let each: Vec<String> = failures
        .iter()
        .map(|(i, e)| format!("{}: {}", routes.all[*i], e.reason))
        .collect();
    Err(Error::new(
        code,
        format!(
            "none of the {} server URLs could be reached: {}",
            failures.len(),
            each.join("; ")
        ),
    ))
}

/// The life of one epoch: open, `connect`, read; after each lost link,
/// resume on a new one; until the session ends.
async fn run_link(
    session: Arc<Session>,
    epoch: u64,
    routes: Vec<Route>,
    connect: ClientMessage,
    stop: Arc<Notify>,
) {
    let mut routes = Routes {
        all: routes,
        current: 0,
    };
    let (writer, reader, first) = match first_contact(&session, &routes, &connect).await {
        Ok((i, w, r, msg)) => {
            routes.current = i;
            (w, r, msg)
        }
        Err(e) => return session.connect_failed(epoch, e),
    };
    let (ticket, policy) = match first {
        ServerMessage::Connected {
            connection,
            connections,
            last_seq,
            ping_interval_ms,
            reconnect_grace_ms,
            resume_secret,
            binary_signals,
            ..
        } => {
            writer.set_binary_signals(binary_signals);
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
                ServerMessage::Error { code, message } => Error::new(code, message),
                m => Error::new(
                    ErrorCode::ProtocolError,
                    format!("expected a connected frame, got {m:?}"),
                ),
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
        match resume(&session, epoch, &mut routes, &ticket, &policy).await {
            Ok((w, r)) => (writer, reader) = (w, r),
            Err(end) => return session.link_down(epoch, end),
        }
    }
}

/// Tries to resume the connection on a new link, with backoff, until the
/// server answers or the window is over. Attempt after attempt moves along
/// the routes, starting with the one last joined; the one that resumes
/// becomes the current route.
async fn resume(
    session: &Session,
    epoch: u64,
    routes: &mut Routes,
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
            ack_runs: true,
            binary_signals: true,
        };
        let limit = policy.attempt_timeout().min(deadline - Instant::now());
        let i = routes.for_attempt(attempt);
        let route = &routes.all[i];
        let which = routes.which(i);
        log::info!(
            "session {}: reconnection attempt {attempt}: resuming on {route}{which}",
            session.session_id
        );
        let (writer, reader, first) = match contact(route, &msg, "resume", limit).await {
            Contact::Answered(w, r, first) => (w, r, first),
            Contact::Unreachable(e) => {
                last_problem = format!("attempt {attempt}{which}: {}", e.reason);
                continue;
            }
        };
        match first {
            ServerMessage::Resumed {
                last_client_seq,
                binary_signals,
            } => {
                writer.set_binary_signals(binary_signals);
                if session.resumed(epoch, &writer, last_client_seq) {
                    routes.current = i;
                    return Ok((writer, reader));
                }
                writer.close();
                return Err(End::Stale);
            }
            // The server could not take the link now but the connection
            // may still be held (it could not attach it, it is shutting
            // down, a cluster node cannot reach Redis, an internal hiccup):
            // try again, on the next URL if there are several.
            ServerMessage::Error {
                code:
                    ErrorCode::ConnectionFailed
                    | ErrorCode::ConnectionRefused
                    | ErrorCode::NoMessagingServer
                    | ErrorCode::InternalError,
                message,
            } => {
                writer.close();
                last_problem = format!("attempt {attempt}{which}: {message}");
            }
            ServerMessage::Error { code, message } => {
                writer.close();
                let at = if which.is_empty() {
                    String::new()
                } else {
                    format!(" ({route})")
                };
                return Err(End::Failed(Error::new(
                    ErrorCode::ConnectionDropped,
                    format!(
                        "the connection was lost and the server{at} refused to resume it: \
                         {message} (error {})",
                        code.as_i32()
                    ),
                )));
            }
            ServerMessage::Disconnected { reason, message } => {
                writer.close();
                return Err(ended_by_server(reason, &message));
            }
            other => {
                writer.close();
                return Err(End::Failed(Error::new(
                    ErrorCode::ProtocolError,
                    format!("expected a resumed frame, got {other:?}"),
                )));
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

/// Writes to `writer` the outbox's signals that fit its window (see
/// `outbox`, "Pacing"); returns how many.
fn put_on_wire(outbox: &mut Outbox, writer: &Writer) -> usize {
    outbox.send_ready(|frame| {
        writer.send_signal(frame);
    })
}

/// Most frames handled in one go (see `read_loop`) before the timers of
/// the link get a look.
const READ_BATCH: usize = 64;

/// How a link whose reading stopped ends: cleanly when the client was
/// leaving anyway.
fn read_end(end: ReadEnd, leaving: bool) -> End {
    if leaving {
        return End::Clean;
    }
    match end {
        ReadEnd::Closed => End::Lost(Error::new(
            ErrorCode::ConnectionDropped,
            "the server closed the link without a goodbye",
        )),
        ReadEnd::Failed(m) => End::Lost(Error::new(ErrorCode::ConnectionDropped, m)),
        ReadEnd::Malformed(m) => End::Failed(Error::new(ErrorCode::ProtocolError, m)),
    }
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
                // Every frame that is already here is handled in one go, and
                // the dispatch thread woken once for all of them.
                let handled = dispatch::hold_wakes(|| {
                    let mut next = Some(msg);
                    let mut count = 0;
                    while let Some(msg) = next.take() {
                        let msg = match msg {
                            Ok(m) => m,
                            Err(end) => return Err(read_end(end, closing_by.is_some() || session.disconnect_requested())),
                        };
                        received = session.handle(epoch, msg, writer)?;
                        if received >= acked + ACK_EVERY_EVENTS {
                            writer.send(&ClientMessage::Ack { seq: received });
                            acked = received;
                        }
                        count += 1;
                        if count < READ_BATCH {
                            next = reader.next().now_or_never();
                        }
                    }
                    Ok(())
                });
                last_rx = Instant::now();
                if let Err(end) = handled {
                    return end;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otc_server_url_holds_one_url_or_a_comma_separated_list() {
        assert_eq!(
            server_url_list("http://127.0.0.1:4443").unwrap(),
            ["http://127.0.0.1:4443"]
        );
        assert_eq!(
            server_url_list(" http://a:1 ,wss://b:2,  ws://[::1]:3 ").unwrap(),
            ["http://a:1", "wss://b:2", "ws://[::1]:3"]
        );
        let max = vec!["http://h:1"; MAX_SERVER_URLS].join(",");
        assert_eq!(server_url_list(&max).unwrap().len(), MAX_SERVER_URLS);
        let over = format!("{max},http://h:1");
        let e = server_url_list(&over).unwrap_err();
        assert_eq!(e.code, ErrorCode::NullOrInvalidParameter);
        assert!(e.reason.contains("limit of 16"), "{}", e.reason);
    }

    #[test]
    fn an_empty_or_bad_entry_is_refused_and_named() {
        for (text, says) in [
            (
                "http://a:1,,http://b:2",
                "OTC_SERVER_URL entry 2 of 3 is empty",
            ),
            ("http://a:1,", "OTC_SERVER_URL entry 2 of 2 is empty"),
            (" , http://a:1", "OTC_SERVER_URL entry 1 of 2 is empty"),
            (
                "http://a:1, nonsense",
                "OTC_SERVER_URL entry 2 of 2: server URL",
            ),
            ("ftp://a:1", "OTC_SERVER_URL: server URL \"ftp://a:1\""),
        ] {
            let e = server_url_list(text).unwrap_err();
            assert_eq!(e.code, ErrorCode::NullOrInvalidParameter, "{text:?}");
            assert!(e.reason.starts_with(says), "{text:?}: {}", e.reason);
        }
    }

    #[test]
    fn settings_keep_their_list_unless_every_entry_is_good() {
        let mut s = Settings::default();
        s.set_server_urls(&["http://a:1", "wss://b"]).unwrap();
        let e = s.set_server_urls(&["http://c:1", ""]).unwrap_err();
        assert_eq!(e.reason, "urls[1] is empty");
        let e = s.set_server_urls(&["gopher://c:1"]).unwrap_err();
        assert!(e.reason.starts_with("urls[0]: server URL"), "{}", e.reason);
        assert_eq!(s.server_urls, ["http://a:1", "wss://b"]);
        s.set_server_url("ws://c:3").unwrap();
        assert_eq!(s.server_urls, ["ws://c:3"]);
        s.set_server_urls(&[]).unwrap();
        assert!(s.server_urls.is_empty());
    }

    fn routes(n: usize, current: usize) -> Routes {
        let urls: Vec<String> = (0..n).map(|i| format!("http://h:{}", i + 1)).collect();
        Routes {
            all: Route::list(&urls, None, || Ok(None)).unwrap(),
            current,
        }
    }

    #[test]
    fn resume_attempts_start_with_the_current_url_and_go_round() {
        let one = routes(1, 0);
        assert!((1..=5).all(|a| one.for_attempt(a) == 0));
        assert_eq!(one.which(0), "");
        let three = routes(3, 1);
        let order: Vec<usize> = (1..=7).map(|a| three.for_attempt(a)).collect();
        assert_eq!(order, [1, 2, 0, 1, 2, 0, 1]);
        assert_eq!(three.which(2), " (server URL 3 of 3)");
    }
}
