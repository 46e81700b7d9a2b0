//! The 1→1 set-up of the latency and throughput scenarios: a sender and a
//! receiver, either two library sessions driven through the C ABI (ours) or
//! two raw WebSocket clients of the relay (baseline), behind one [`Pair`]
//! interface so that the very same driver loop runs both.
//!
//! Receive times are recorded in a [`Probe`] from inside the receive path:
//! for ours that is the C `on_signal_received` callback on the library's
//! dispatch thread, so a figure covers the whole way up to application code.

use std::ffi::{c_char, c_void, CStr, CString};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use opentok::ffi::*;
use protocol::ErrorCode;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::wsclient::{self, index_of, System};

/// Signals the baseline sender may have queued before a send is refused,
/// matching the library's outbox bound so both back off alike.
const BASELINE_QUEUE: usize = protocol::limits::MAX_UNANSWERED_SIGNALS;

/// Receive-side record of one run: when each payload index first arrived.
pub struct Probe {
    base: Instant,
    recv_ns: Vec<AtomicU64>,
    received: AtomicUsize,
    last_ns: AtomicU64,
    connected: Mutex<usize>,
    cond: Condvar,
    errors: Mutex<Vec<String>>,
}

impl Probe {
    /// A probe for payload indexes `0..capacity`.
    pub fn new(capacity: usize) -> Arc<Probe> {
        Arc::new(Probe {
            base: Instant::now(),
            recv_ns: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            received: AtomicUsize::new(0),
            last_ns: AtomicU64::new(0),
            connected: Mutex::new(0),
            cond: Condvar::new(),
            errors: Mutex::new(Vec::new()),
        })
    }

    pub fn capacity(&self) -> usize {
        self.recv_ns.len()
    }

    /// Nanoseconds since the probe was made (never 0, which means "not yet").
    pub fn now_ns(&self) -> u64 {
        (self.base.elapsed().as_nanos() as u64).max(1)
    }

    pub fn record(&self, index: u64) {
        let t = self.now_ns();
        if let Some(slot) = self.recv_ns.get(index as usize) {
            if slot
                .compare_exchange(0, t, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.received.fetch_add(1, Ordering::AcqRel);
            }
        }
        self.last_ns.fetch_max(t, Ordering::AcqRel);
    }

    pub fn received(&self) -> usize {
        self.received.load(Ordering::Acquire)
    }

    pub fn recv_ns(&self, index: usize) -> Option<u64> {
        self.recv_ns
            .get(index)
            .map(|a| a.load(Ordering::Acquire))
            .filter(|t| *t != 0)
    }

    pub fn last_ns(&self) -> u64 {
        self.last_ns.load(Ordering::Acquire)
    }

    /// Forgets the previous run (call with nothing in flight).
    pub fn reset(&self) {
        for a in &self.recv_ns {
            a.store(0, Ordering::Relaxed);
        }
        self.received.store(0, Ordering::Release);
        self.last_ns.store(0, Ordering::Release);
    }

    /// Waits until `n` payloads arrived or `timeout` passed; true if they did.
    pub fn wait_received(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.received() < n {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    fn connected_one(&self) {
        let mut c = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        *c += 1;
        self.cond.notify_all();
    }

    /// Waits until `n` sessions reported `on_connected` (or an error).
    pub fn wait_connected(&self, n: usize, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut c = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        while *c < n {
            if let Some(e) = self.first_error() {
                return Err(e);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("only {} of {n} sessions connected in time", *c));
            }
            c = self
                .cond
                .wait_timeout(c, (deadline - now).min(Duration::from_millis(100)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        Ok(())
    }

    fn error(&self, e: String) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e);
        self.cond.notify_all();
    }

    pub fn first_error(&self) -> Option<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first()
            .cloned()
    }
}

// ---- library sessions through the C ABI -------------------------------------

fn probe_of<'a>(user_data: *mut c_void) -> &'a Probe {
    // SAFETY: user_data is the `Arc<Probe>` a LibSession keeps alive until
    // its session is deleted, after which no callback runs.
    unsafe { &*(user_data as *const Probe) }
}

unsafe extern "C" fn on_connected(_s: *mut otc_session, user_data: *mut c_void) {
    probe_of(user_data).connected_one();
}

unsafe extern "C" fn on_signal(
    _s: *mut otc_session,
    user_data: *mut c_void,
    _type: *const c_char,
    data: *const c_char,
    _from: *const otc_connection,
) {
    if data.is_null() {
        return;
    }
    // SAFETY: the library passes a NUL-terminated string valid during the call.
    let bytes = unsafe { CStr::from_ptr(data) }.to_bytes();
    if let Some(i) = index_of(bytes) {
        probe_of(user_data).record(i);
    }
}

unsafe extern "C" fn on_error(
    _s: *mut otc_session,
    user_data: *mut c_void,
    message: *const c_char,
    code: otc_session_error_code_arg,
) {
    let text = if message.is_null() {
        String::new()
    } else {
        // SAFETY: as above.
        unsafe { CStr::from_ptr(message) }
            .to_string_lossy()
            .into_owned()
    };
    probe_of(user_data).error(format!("on_error {code}: {text}"));
}

fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{s:?} holds a NUL byte"))
}

/// Calls `otc_init` once per process.
pub fn init_library() -> Result<(), String> {
    static INIT: std::sync::OnceLock<otc_status> = std::sync::OnceLock::new();
    match *INIT.get_or_init(|| otc_init(std::ptr::null_mut())) {
        OTC_SUCCESS => Ok(()),
        code => Err(format!("otc_init failed with {code}")),
    }
}

/// One `otc_session`, deleted on drop.
pub struct LibSession {
    pub ptr: *mut otc_session,
    _probe: Arc<Probe>,
}

// The C API is thread-safe; the handle is only an address.
unsafe impl Send for LibSession {}
unsafe impl Sync for LibSession {}

impl LibSession {
    /// `otc_session_new_with_settings` pointed at `base_url`, reporting into
    /// `probe`.
    pub fn new(
        base_url: &str,
        session_id: &str,
        suppress_connection_events: bool,
        probe: Arc<Probe>,
    ) -> Result<LibSession, String> {
        init_library()?;
        // SAFETY: an all-NULL callback struct is the documented empty value.
        let mut cb: otc_session_callbacks = unsafe { std::mem::zeroed() };
        cb.on_connected = Some(on_connected);
        cb.on_signal_received = Some(on_signal);
        cb.on_error = Some(on_error);
        cb.user_data = Arc::as_ptr(&probe) as *mut c_void;
        let url = cstring(base_url)?;
        let key = cstring(otc_server::DEV_API_KEY)?;
        let sid = cstring(session_id)?;
        let settings = otc_session_settings_new();
        if settings.is_null() {
            return Err("otc_session_settings_new returned NULL".into());
        }
        // SAFETY: valid settings handle and NUL-terminated strings.
        let ptr = unsafe {
            let st = otc_session_settings_set_server_url(settings, url.as_ptr());
            let st2 = otc_session_settings_set_connection_events_suppressed(
                settings,
                if suppress_connection_events {
                    OTC_TRUE
                } else {
                    OTC_FALSE
                },
            );
            let p = otc_session_new_with_settings(key.as_ptr(), sid.as_ptr(), &cb, settings);
            otc_session_settings_delete(settings);
            if st != OTC_SUCCESS || st2 != OTC_SUCCESS {
                if !p.is_null() {
                    otc_session_delete(p);
                }
                return Err(format!("session settings refused ({st}, {st2})"));
            }
            p
        };
        if ptr.is_null() {
            return Err("otc_session_new_with_settings returned NULL".into());
        }
        Ok(LibSession { ptr, _probe: probe })
    }

    /// `otc_session_connect` (the outcome arrives through the probe).
    pub fn connect(&self, token: &str) -> Result<(), String> {
        let t = cstring(token)?;
        // SAFETY: live session handle, NUL-terminated token.
        match unsafe { otc_session_connect(self.ptr, t.as_ptr()) } {
            OTC_SUCCESS => Ok(()),
            code => Err(format!("otc_session_connect failed with {code}")),
        }
    }
}

impl Drop for LibSession {
    fn drop(&mut self) {
        otc_session_delete(self.ptr);
    }
}

// ---- the pair -----------------------------------------------------------------

/// What became of one send call.
pub enum Sent {
    Ok,
    /// The sender's bounded queue is full: back off and retry.
    Full,
    Failed(String),
}

pub trait Pair {
    fn send(&self, data: &str) -> Sent;
    fn probe(&self) -> &Probe;
    /// Errors the two ends reported, to explain a failed run.
    fn diagnose(&self) -> String {
        String::new()
    }
}

/// Two library sessions in one OpenTok session; the sender targets the
/// receiver's connection, so exactly one delivery per signal.
pub struct LibPair {
    sender: LibSession,
    sender_probe: Arc<Probe>,
    _receiver: LibSession,
    target: *const otc_connection,
    probe: Arc<Probe>,
    signal_type: CString,
}

impl LibPair {
    /// The receiver joins through `receiver_url`, the sender through
    /// `sender_url` (the same server, or two nodes of one cluster).
    pub fn connect(
        receiver_url: &str,
        sender_url: &str,
        capacity: usize,
    ) -> Result<LibPair, String> {
        let project = otc_server::Project::dev();
        let sid = otc_server::create_session_id(&project);
        let token = otc_server::mint_token(&project, &sid, &Default::default())
            .map_err(|e| format!("mint token: {e}"))?;
        let probe = Probe::new(capacity);
        // The sender's callbacks report into a probe of its own, so its
        // events never count as receptions.
        let sender_probe = Probe::new(0);
        let receiver = LibSession::new(receiver_url, &sid, true, Arc::clone(&probe))?;
        let sender = LibSession::new(sender_url, &sid, true, Arc::clone(&sender_probe))?;
        receiver.connect(&token)?;
        sender.connect(&token)?;
        probe.wait_connected(1, Duration::from_secs(15))?;
        sender_probe.wait_connected(1, Duration::from_secs(15))?;
        let target = otc_session_get_connection(receiver.ptr);
        if target.is_null() {
            return Err("receiver has no connection".into());
        }
        Ok(LibPair {
            sender,
            sender_probe,
            _receiver: receiver,
            target,
            probe,
            signal_type: cstring("bench")?,
        })
    }
}

impl Pair for LibPair {
    fn send(&self, data: &str) -> Sent {
        let Ok(d) = CString::new(data) else {
            return Sent::Failed("payload holds a NUL byte".into());
        };
        // SAFETY: live handles; `target` is the receiver's own connection,
        // valid while the receiver session lives (as long as `self`).
        let st = unsafe {
            otc_session_send_signal_to_connection(
                self.sender.ptr,
                self.signal_type.as_ptr(),
                d.as_ptr(),
                self.target,
            )
        };
        match st {
            OTC_SUCCESS => Sent::Ok,
            c if c == ErrorCode::BufferFull.as_i32() => Sent::Full,
            c => Sent::Failed(format!(
                "otc_session_send_signal_to_connection returned {c}"
            )),
        }
    }

    fn probe(&self) -> &Probe {
        &self.probe
    }

    fn diagnose(&self) -> String {
        format!(
            "sender: {}; receiver: {}",
            self.sender_probe.first_error().unwrap_or_default(),
            self.probe.first_error().unwrap_or_default()
        )
    }
}

/// Two raw clients of the relay: the sender's frames go through a bounded
/// queue to a writer task (as the library's do), the receiver's reader task
/// parses each frame and records it.
pub struct BasePair {
    tx: mpsc::Sender<Message>,
    next: AtomicU64,
    probe: Arc<Probe>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl BasePair {
    pub fn connect(rt: &Handle, relay: SocketAddr, capacity: usize) -> Result<BasePair, String> {
        let room = format!("pair-{}", std::process::id());
        let path = wsclient::path_for(System::Baseline, &room);
        let (sender, mut receiver) = rt.block_on(async {
            let r = wsclient::open(relay, &path, System::Baseline, None, false).await?;
            let s = wsclient::open(relay, &path, System::Baseline, None, false).await?;
            Ok::<_, String>((s, r))
        })?;
        let probe = Probe::new(capacity);
        let p = Arc::clone(&probe);
        let reader = rt.spawn(async move {
            let _ = wsclient::receive(&mut receiver, System::Baseline, None, |i| p.record(i)).await;
        });
        let (tx, mut rx) = mpsc::channel::<Message>(BASELINE_QUEUE);
        let writer = rt.spawn(async move {
            let (mut sink, _stream) = sender.split();
            while let Some(m) = rx.recv().await {
                if sink.send(m).await.is_err() {
                    return;
                }
            }
        });
        Ok(BasePair {
            tx,
            next: AtomicU64::new(1),
            probe,
            tasks: vec![reader, writer],
        })
    }
}

impl Pair for BasePair {
    fn send(&self, data: &str) -> Sent {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let frame = wsclient::signal_frame(seq, data.to_string());
        match self.tx.try_send(Message::text(frame)) {
            Ok(()) => Sent::Ok,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.next.fetch_sub(1, Ordering::Relaxed);
                Sent::Full
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Sent::Failed("relay link closed".into()),
        }
    }

    fn probe(&self) -> &Probe {
        &self.probe
    }
}

impl Drop for BasePair {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
