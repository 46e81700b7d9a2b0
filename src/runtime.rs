//! The process-wide machinery: one tokio runtime, the dispatch pool and the
//! registry of live sessions, created by `otc_init` and torn down by
//! `otc_destroy`.
//!
//! The registry is also what makes session handles safe to receive from C:
//! a handle is the address of a live `Arc<Session>` held here, and every call
//! looks the address up instead of dereferencing it. A deleted session's
//! handle (or any other stray pointer) is therefore refused with 1011, not
//! followed into freed memory, and after `otc_destroy` every call is refused
//! with 1015.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

use crate::dispatch::{EventSink, Pool, DISPATCH_THREADS};
use crate::error::{Error, Result};
use crate::log::{self, Level};
use crate::session::{Session, Settings};

/// Worker threads of the I/O runtime. One: a second worker costs a
/// cross-thread wake-up on the path of every signal (tokio wakes an idle
/// sibling to steal work), about a quarter of the 1->1 latency in
/// `otc-bench` (docs/performance.md, "Round 2"), while one thread connects
/// and serves a process's 1,000 sessions as fast as two (the callbacks run
/// on the dispatch threads). An earlier stall seen with one
/// worker was the server refusing an unpaced flood, since fixed by the
/// outbox's window (see `outbox`).
const IO_THREADS: usize = 1;
/// How long `otc_destroy` lets I/O tasks wind down.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long `otc_destroy` waits for open links to say goodbye to the server.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

struct Globals {
    runtime: Mutex<Option<Runtime>>,
    handle: Handle,
    pool: Mutex<Option<Pool>>,
    sessions: Mutex<HashMap<usize, Arc<Session>>>,
    /// Links of deleted sessions still sending their goodbye: `otc_destroy`
    /// waits for them too, so a program that deletes its sessions and at
    /// once destroys the library still leaves cleanly.
    goodbyes: Mutex<Vec<crate::transport::Writer>>,
    next_session: AtomicU64,
}

static GLOBALS: Mutex<Option<Arc<Globals>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn globals() -> Result<Arc<Globals>> {
    lock(&GLOBALS).clone().ok_or_else(Error::not_initialized)
}

/// Starts the runtime and the dispatch pool. Calling it again while
/// initialized does nothing and succeeds.
pub fn init() -> Result<()> {
    let mut notes = log::Deferred::default();
    let mut g = lock(&GLOBALS);
    if g.is_some() {
        notes.push(Level::Info, format_args!("otc_init: already initialized"));
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(IO_THREADS)
        .thread_name("otc-io")
        .enable_all()
        .build()
        .map_err(|e| Error::illegal_state(format!("cannot start the I/O runtime: {e}")))?;
    let pool = Pool::start(DISPATCH_THREADS)
        .map_err(|e| Error::illegal_state(format!("cannot start dispatch threads: {e}")))?;
    *g = Some(Arc::new(Globals {
        handle: runtime.handle().clone(),
        runtime: Mutex::new(Some(runtime)),
        pool: Mutex::new(Some(pool)),
        sessions: Mutex::new(HashMap::new()),
        goodbyes: Mutex::new(Vec::new()),
        next_session: AtomicU64::new(0),
    }));
    notes.push(Level::Info, format_args!("otc_init: library initialized"));
    Ok(())
}

/// Deletes every remaining session, then stops the pool and the runtime.
pub fn destroy() -> Result<()> {
    if Handle::try_current().is_ok() {
        return Err(Error::illegal_state(
            "otc_destroy cannot run on one of the library's I/O threads",
        ));
    }
    let g = lock(&GLOBALS).take().ok_or_else(Error::not_initialized)?;
    let sessions: Vec<Arc<Session>> = lock(&g.sessions).drain().map(|(_, s)| s).collect();
    if !sessions.is_empty() {
        log::info!(
            "otc_destroy: deleting {} remaining session(s)",
            sessions.len()
        );
    }
    let mut closing: Vec<_> = sessions.iter().filter_map(|s| s.close()).collect();
    drop(sessions);
    closing.append(&mut lock(&g.goodbyes));
    if let Some(pool) = lock(&g.pool).take() {
        pool.shutdown();
    }
    if let Some(rt) = lock(&g.runtime).take() {
        // Let each link send its goodbye before the runtime stops: otherwise
        // the server sees a drop and keeps the connection for its reconnect
        // grace period, and the other participants learn of it only then.
        if !closing.is_empty() {
            rt.block_on(async {
                let all = futures_util::future::join_all(closing.into_iter().map(|w| w.finished()));
                let _ = tokio::time::timeout(GOODBYE_TIMEOUT, all).await;
            });
        }
        rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
    }
    log::info!("otc_destroy: library stopped");
    Ok(())
}

pub fn is_initialized() -> bool {
    lock(&GLOBALS).is_some()
}

/// Creates a session and registers it; returns its handle address.
pub fn create_session(
    api_key: &str,
    session_id: &str,
    settings: Settings,
    sink: Box<dyn EventSink>,
) -> Result<usize> {
    let g = globals()?;
    let n = g.next_session.fetch_add(1, Ordering::Relaxed);
    let queue = lock(&g.pool)
        .as_ref()
        .map(|p| p.queue_for(n))
        .ok_or_else(Error::not_initialized)?;
    let s = Session::new(api_key, session_id, settings, sink, queue, g.handle.clone())?;
    let addr = Arc::as_ptr(&s) as usize;
    lock(&g.sessions).insert(addr, s);
    Ok(addr)
}

/// The live session behind a handle address.
pub fn session(addr: usize) -> Result<Arc<Session>> {
    let g = globals()?;
    let s = lock(&g.sessions).get(&addr).cloned();
    s.ok_or_else(|| Error::invalid("not a live session (already deleted, or never created)"))
}

/// Deletes a session: after this returns none of its callbacks runs.
pub fn delete_session(addr: usize) -> Result<()> {
    let g = globals()?;
    let s = lock(&g.sessions).remove(&addr);
    let s = s.ok_or_else(|| Error::invalid("not a live session (already deleted?)"))?;
    if let Some(w) = s.close() {
        let mut goodbyes = lock(&g.goodbyes);
        goodbyes.retain(|w| !w.is_finished());
        goodbyes.push(w);
    }
    Ok(())
}
