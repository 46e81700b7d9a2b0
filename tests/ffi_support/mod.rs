//! Shared by the `ffi_*` integration tests: an in-process `otc-server` on an
//! ephemeral loopback port, and C-style callbacks that record every event a
//! session reports, so tests drive the library only through its C ABI.
#![allow(dead_code)]

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use opentok::ffi::*;
use otc_server::{Project, Role, TokenOptions};

/// Longest any test waits for one expected event.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running server with the runtime that drives it.
pub struct Server {
    pub rt: tokio::runtime::Runtime,
    pub handle: Mutex<Option<otc_server::ServerHandle>>,
    pub base_url: String,
}

impl Server {
    pub fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt
            .block_on(otc_server::start(otc_server::Config::dev()))
            .expect("start otc-server");
        let base_url = handle.base_url();
        Server {
            rt,
            handle: Mutex::new(Some(handle)),
            base_url,
        }
    }

    pub fn new_session_id(&self) -> String {
        otc_server::create_session_id(&Project::dev())
    }

    pub fn token(&self, session_id: &str, data: Option<&str>) -> String {
        self.token_with(session_id, data, Role::Publisher)
    }

    pub fn token_with(&self, session_id: &str, data: Option<&str>, role: Role) -> String {
        token_with(session_id, data, role)
    }

    /// A signal sent by the application server (REST path), `from` absent.
    pub fn signal_from_server(&self, session_id: &str, to: Option<Vec<String>>, t: &str, d: &str) {
        let guard = self.handle.lock().unwrap();
        let h = guard.as_ref().expect("server running");
        self.rt
            .block_on(
                h.hub()
                    .signal_from_server(otc_server::DEV_API_KEY, session_id, to, t, d),
            )
            .expect("server signal");
    }

    pub fn shutdown(&self) {
        if let Some(h) = self.handle.lock().unwrap().take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

/// A token of the development project (any server started with
/// `Config::dev()` limits accepts it).
pub fn token_with(session_id: &str, data: Option<&str>, role: Role) -> String {
    let opts = TokenOptions {
        role,
        data: data.map(str::to_string),
        ..Default::default()
    };
    otc_server::mint_token(&Project::dev(), session_id, &opts).expect("mint token")
}

/// One server per test process, started on first use.
pub fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(Server::start)
}

/// `otc_init` once per test process (tests run on parallel threads).
pub fn init() {
    static I: OnceLock<()> = OnceLock::new();
    I.get_or_init(|| assert_eq!(otc_init(std::ptr::null_mut()), OTC_SUCCESS));
}

pub fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// What a callback saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Connected,
    Disconnected,
    ReconnectionStarted,
    Reconnected,
    Created {
        id: String,
        data: String,
    },
    Dropped {
        id: String,
    },
    Signal {
        t: String,
        d: String,
        from: Option<String>,
    },
    Error {
        code: i32,
        msg: String,
    },
    Complete {
        id: u64,
        result: i32,
    },
}

/// What a callback should do besides recording (runs inside the callback).
pub type Action = Box<dyn Fn(*mut otc_session, &Ev) + Send + Sync>;

/// The events of one session, recorded from its callbacks.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<Ev>>,
    cond: Condvar,
    pub action: Mutex<Option<Arc<Action>>>,
    /// Held for this long inside each signal callback (slow consumer tests).
    pub signal_delay: Mutex<Duration>,
    /// Session pointers received by callbacks (all must be the handle).
    pub sessions_seen: Mutex<Vec<usize>>,
}

impl Recorder {
    fn push(&self, s: *mut otc_session, ev: Ev) {
        self.sessions_seen.lock().unwrap().push(s as usize);
        let action = self.action.lock().unwrap().clone();
        if let Some(a) = action {
            a(s, &ev);
        }
        self.events.lock().unwrap().push(ev);
        self.cond.notify_all();
    }

    pub fn snapshot(&self) -> Vec<Ev> {
        self.events.lock().unwrap().clone()
    }

    /// Waits (at most [`WAIT`]) until `pred` holds for the events so far.
    pub fn wait_until(&self, what: &str, pred: impl Fn(&[Ev]) -> bool) -> Vec<Ev> {
        self.wait_until_within(what, WAIT, pred)
    }

    /// Waits at most `limit` until `pred` holds for the events so far.
    pub fn wait_until_within(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&[Ev]) -> bool,
    ) -> Vec<Ev> {
        let deadline = Instant::now() + limit;
        let mut evs = self.events.lock().unwrap();
        loop {
            if pred(&evs) {
                return evs.clone();
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "timed out waiting for {what}; {} events, the last ones: {:?}",
                evs.len(),
                evs[evs.len().saturating_sub(8)..]
                    .iter()
                    .map(|e| clip(&format!("{e:?}")))
                    .collect::<Vec<_>>()
            );
            evs = self.cond.wait_timeout(evs, deadline - now).unwrap().0;
        }
    }

    pub fn wait_for(&self, what: &str, ev: &Ev) -> Vec<Ev> {
        self.wait_until(what, |e| e.contains(ev))
    }

    /// Each completion recorded so far, by signal id, in call order.
    pub fn completions(&self) -> Vec<(u64, i32)> {
        completions(&self.snapshot())
    }

    pub fn signals(&self) -> Vec<(String, String, Option<String>)> {
        self.snapshot()
            .into_iter()
            .filter_map(|e| match e {
                Ev::Signal { t, d, from } => Some((t, d, from)),
                _ => None,
            })
            .collect()
    }
}

/// The completions among `evs`, by signal id, in the order they were called.
pub fn completions(evs: &[Ev]) -> Vec<(u64, i32)> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Complete { id, result } => Some((*id, *result)),
            _ => None,
        })
        .collect()
}

unsafe fn text(p: *const c_char) -> String {
    assert!(!p.is_null(), "a callback received a NULL string");
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

pub unsafe fn conn_id(c: *const otc_connection) -> String {
    unsafe { text(otc_connection_get_id(c)) }
}

fn rec<'a>(ud: *mut c_void) -> &'a Recorder {
    unsafe { &*(ud as *const Recorder) }
}

extern "C" fn on_connected(s: *mut otc_session, ud: *mut c_void) {
    rec(ud).push(s, Ev::Connected);
}
extern "C" fn on_disconnected(s: *mut otc_session, ud: *mut c_void) {
    rec(ud).push(s, Ev::Disconnected);
}
extern "C" fn on_reconnection_started(s: *mut otc_session, ud: *mut c_void) {
    rec(ud).push(s, Ev::ReconnectionStarted);
}
extern "C" fn on_reconnected(s: *mut otc_session, ud: *mut c_void) {
    rec(ud).push(s, Ev::Reconnected);
}
extern "C" fn on_created(s: *mut otc_session, ud: *mut c_void, c: *const otc_connection) {
    let ev = unsafe {
        Ev::Created {
            id: conn_id(c),
            data: text(otc_connection_get_data(c)),
        }
    };
    rec(ud).push(s, ev);
}
extern "C" fn on_dropped(s: *mut otc_session, ud: *mut c_void, c: *const otc_connection) {
    let ev = unsafe { Ev::Dropped { id: conn_id(c) } };
    rec(ud).push(s, ev);
}
extern "C" fn on_signal(
    s: *mut otc_session,
    ud: *mut c_void,
    t: *const c_char,
    d: *const c_char,
    c: *const otc_connection,
) {
    let r = rec(ud);
    let delay = *r.signal_delay.lock().unwrap();
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
    let ev = unsafe {
        Ev::Signal {
            t: text(t),
            d: text(d),
            from: (!c.is_null()).then(|| conn_id(c)),
        }
    };
    r.push(s, ev);
}
extern "C" fn on_error(s: *mut otc_session, ud: *mut c_void, msg: *const c_char, code: i32) {
    let ev = Ev::Error {
        code,
        msg: unsafe { text(msg) },
    };
    rec(ud).push(s, ev);
}

/// Completion callback of the list extension; `data` is a `Recorder`.
pub extern "C" fn on_complete(
    s: *mut otc_session,
    _ud: *mut c_void,
    id: u64,
    result: otc_status,
    data: *mut c_void,
) {
    rec(data).push(s, Ev::Complete { id, result });
}

pub fn callbacks(r: &Recorder) -> otc_session_callbacks {
    let mut cb: otc_session_callbacks = unsafe { std::mem::zeroed() };
    cb.on_connected = Some(on_connected);
    cb.on_disconnected = Some(on_disconnected);
    cb.on_connection_created = Some(on_created);
    cb.on_connection_dropped = Some(on_dropped);
    cb.on_signal_received = Some(on_signal);
    cb.on_reconnection_started = Some(on_reconnection_started);
    cb.on_reconnected = Some(on_reconnected);
    cb.on_error = Some(on_error);
    cb.user_data = r as *const Recorder as *mut c_void;
    cb
}

/// A session driven through the C ABI, with its recorder.
pub struct Client {
    pub session: *mut otc_session,
    pub rec: Arc<Recorder>,
    pub id: String,
    deleted: bool,
}

unsafe impl Send for Client {}
unsafe impl Sync for Client {}

pub struct Opts<'a> {
    pub data: Option<&'a str>,
    pub suppress: bool,
    pub role: Role,
    pub action: Option<Action>,
}

impl Default for Opts<'_> {
    fn default() -> Self {
        Opts {
            data: None,
            suppress: false,
            role: Role::Publisher,
            action: None,
        }
    }
}

impl Client {
    /// Creates a session pointed at the test server (not connected).
    pub fn new(session_id: &str, suppress: bool) -> Client {
        Client::new_at(&server().base_url, session_id, suppress, None)
    }

    /// Creates a session pointed at `base_url` (not connected), with an
    /// explicit reconnection window if given.
    pub fn new_at(
        base_url: &str,
        session_id: &str,
        suppress: bool,
        reconnection_window_ms: Option<i64>,
    ) -> Client {
        Client::new_with(session_id, |settings| {
            let url = cs(base_url);
            if let Some(ms) = reconnection_window_ms {
                assert_eq!(
                    unsafe { otc_session_settings_set_reconnection_window_ms(settings, ms) },
                    OTC_SUCCESS
                );
            }
            unsafe {
                assert_eq!(
                    otc_session_settings_set_server_url(settings, url.as_ptr()),
                    OTC_SUCCESS
                );
                assert_eq!(
                    otc_session_settings_set_connection_events_suppressed(
                        settings,
                        suppress as i32
                    ),
                    OTC_SUCCESS
                );
            }
        })
    }

    /// Creates a session (not connected) with settings filled by
    /// `configure`.
    pub fn new_with(session_id: &str, configure: impl FnOnce(*mut otc_session_settings)) -> Client {
        init();
        let rec = Arc::new(Recorder::default());
        let cb = callbacks(&rec);
        let settings = otc_session_settings_new();
        assert!(!settings.is_null());
        configure(settings);
        let key = cs(otc_server::DEV_API_KEY);
        let sid = cs(session_id);
        let session =
            unsafe { otc_session_new_with_settings(key.as_ptr(), sid.as_ptr(), &cb, settings) };
        unsafe { assert_eq!(otc_session_settings_delete(settings), OTC_SUCCESS) };
        assert!(
            !session.is_null(),
            "otc_session_new_with_settings returned NULL"
        );
        Client {
            session,
            rec,
            id: String::new(),
            deleted: false,
        }
    }

    /// Creates, connects and waits for `on_connected`.
    pub fn join(session_id: &str, opts: Opts<'_>) -> Client {
        let c = Client::new(session_id, opts.suppress);
        c.connect_and_wait(session_id, opts)
    }

    /// Connects a new session with `opts` and waits for `on_connected`.
    pub fn connect_and_wait(mut self, session_id: &str, opts: Opts<'_>) -> Client {
        let c = &mut self;
        if let Some(a) = opts.action {
            *c.rec.action.lock().unwrap() = Some(Arc::new(a));
        }
        let token = cs(&token_with(session_id, opts.data, opts.role));
        let connects = |e: &[Ev]| e.iter().filter(|x| **x == Ev::Connected).count();
        let before = connects(&c.rec.snapshot());
        assert_eq!(
            unsafe { otc_session_connect(c.session, token.as_ptr()) },
            OTC_SUCCESS
        );
        c.rec.wait_until("on_connected", |e| connects(e) > before);
        let own = otc_session_get_connection(c.session);
        assert!(!own.is_null(), "no own connection while connected");
        c.id = unsafe { conn_id(own) };
        self
    }

    pub fn broadcast(&self, t: &str, d: &str) -> otc_status {
        let (t, d) = (cs(t), cs(d));
        unsafe { otc_session_send_signal(self.session, t.as_ptr(), d.as_ptr()) }
    }

    /// Sends to a list of ids with the extension; returns (status, id).
    pub fn send_to_ids(
        &self,
        t: &str,
        d: &str,
        ids: &[&str],
        done: &Recorder,
    ) -> (otc_status, u64) {
        let (t, d) = (cs(t), cs(d));
        let owned: Vec<CString> = ids.iter().map(|i| cs(i)).collect();
        let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let mut id = 0u64;
        let st = unsafe {
            otc_session_send_signal_to_connections(
                self.session,
                t.as_ptr(),
                d.as_ptr(),
                if ptrs.is_empty() {
                    std::ptr::null()
                } else {
                    ptrs.as_ptr()
                },
                ptrs.len(),
                otc_signal_options {
                    retry_after_reconnect: OTC_TRUE,
                },
                Some(on_complete),
                done as *const Recorder as *mut c_void,
                &mut id,
            )
        };
        (st, id)
    }

    /// `otc_session_send_signal_to_server`; (status, signal id).
    pub fn send_to_server(&self, t: &str, d: &str, done: &Recorder) -> (otc_status, u64) {
        let (t, d) = (cs(t), cs(d));
        let mut id = 0u64;
        let st = unsafe {
            otc_session_send_signal_to_server(
                self.session,
                t.as_ptr(),
                d.as_ptr(),
                otc_signal_options {
                    retry_after_reconnect: OTC_TRUE,
                },
                Some(on_complete),
                done as *const Recorder as *mut c_void,
                &mut id,
            )
        };
        (st, id)
    }

    pub fn delete(&mut self) -> otc_status {
        self.deleted = true;
        otc_session_delete(self.session)
    }

    /// Marks the session as deleted elsewhere (e.g. inside a callback).
    pub fn forget(&mut self) {
        self.deleted = true;
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.deleted {
            otc_session_delete(self.session);
        }
    }
}

/// The `otc_status` value of an SDK error code.
pub fn code(c: otc_session_error_code) -> otc_status {
    c as otc_status
}

/// The `otc_status` value of one of our signal error codes.
pub fn sig_code(c: otc_signal_error_code) -> otc_status {
    c as otc_status
}

/// At most 200 characters of `s` (a flood's events would fill a log).
fn clip(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
