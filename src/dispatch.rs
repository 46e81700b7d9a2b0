//! Event dispatch: the only place C callbacks are called from.
//!
//! Network tasks never call application code. They push [`Event`]s onto the
//! queue of the dispatch thread their session is pinned to, which costs one
//! lock and a push, so a slow callback can never stall network I/O. A parked
//! dispatch thread is woken by the first event pushed after it parked, and
//! the network thread holds even that wake-up back until it has handled
//! every frame one read brought ([`hold_wakes`]): a burst is one wake-up. A small
//! fixed pool of threads serves every session (1,000 sessions do not mean
//! 1,000 threads); because one session always uses the same thread and each
//! thread's queue is FIFO, a session's callbacks are serialized and in the
//! order the events happened.
//!
//! Each session has a [`Gate`]: a callback runs only while holding it, and
//! closing the gate waits for a running callback to finish. That is what lets
//! `otc_session_delete` promise "no callback after I return". A callback may
//! itself delete or disconnect its own session: the gate notices it is being
//! closed from inside its own callback (a thread-local says which gate this
//! thread is running) and does not wait for itself.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle, ThreadId};

use crate::connection::Connection;
use crate::log;

/// How many dispatch threads serve all sessions of the process.
pub(crate) const DISPATCH_THREADS: usize = 2;

/// Something that happened to a session, to be told to the application.
pub enum Event {
    Connected,
    Disconnected,
    /// The link dropped; the library is trying to resume the connection.
    ReconnectionStarted,
    /// The connection was resumed (same connection id).
    Reconnected,
    ConnectionCreated(Arc<Connection>),
    ConnectionDropped(Arc<Connection>),
    Signal {
        signal_type: CString,
        data: CString,
        /// `None` for signals sent by the server (REST API).
        from: Option<Arc<Connection>>,
    },
    Error {
        message: CString,
        code: i32,
    },
    /// Not for the application: tells whoever holds the receiver that every
    /// event queued before it has been dispatched (see `Session::close`).
    Barrier(mpsc::SyncSender<()>),
    /// The outcome of a signal sent with a completion callback.
    SignalComplete {
        signal_id: u64,
        result: i32,
        complete: Completion,
    },
}

/// A completion callback, already bound to its C function and data.
pub type Completion = Box<dyn FnOnce(u64, i32) + Send>;

/// Turns events into calls of the application's callbacks (implemented by the
/// C layer, which knows the callback struct and the handle pointer).
pub trait EventSink: Send + Sync {
    /// Calls the callback for `event`. `session` is the address of the
    /// session's handle.
    fn deliver(&self, session: usize, event: &Event);

    /// For the C layer to find its own data again (`otc_session_get_user_data`).
    fn as_any(&self) -> &dyn std::any::Any;
}

thread_local! {
    /// Address of the gate whose callback this thread is running, or 0.
    static RUNNING_GATE: Cell<usize> = const { Cell::new(0) };
}

/// Serializes a session's callbacks against its deletion.
#[derive(Default)]
pub struct Gate {
    lock: Mutex<()>,
    closing: AtomicBool,
    closed: AtomicBool,
}

impl Gate {
    /// Runs `f` unless the gate is closed.
    pub fn run(&self, f: impl FnOnce()) {
        let _held = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let me = self as *const Gate as usize;
        let outer = RUNNING_GATE.with(|g| g.replace(me));
        if catch_unwind(AssertUnwindSafe(f)).is_err() {
            log::error!("a panic inside event dispatch was caught");
        }
        RUNNING_GATE.with(|g| g.set(outer));
    }

    /// Closes the gate: no callback starts after this returns, and a callback
    /// running on another thread has finished. From inside this gate's own
    /// callback it returns at once (the running callback is the caller).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let me = self as *const Gate as usize;
        if RUNNING_GATE.with(|g| g.get()) == me {
            return;
        }
        drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Starts closing: from now on only a final `on_disconnected` is still
    /// delivered (see `Session::close`).
    pub fn begin_close(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Whether the calling thread is running one of this gate's callbacks
    /// (so waiting for the dispatch thread would wait for itself).
    pub fn is_running_here(&self) -> bool {
        RUNNING_GATE.with(|g| g.get()) == self as *const Gate as usize
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// Something a dispatch thread should run: an event bound to its session.
pub trait Target: Send + Sync {
    fn dispatch(&self, event: Event);
}

enum Job {
    Event(Arc<dyn Target>, Event),
    Stop,
}

/// One dispatch thread's queue, shared by its producers and the thread.
#[derive(Default)]
struct Shared {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    /// The thread is parked (or about to be) and nobody has woken it yet:
    /// the next push must. Cleared by the push that wakes it, so a burst
    /// costs one wake-up, not one per event.
    parked: bool,
    /// The thread has ended; pushes drop their job.
    stopped: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

thread_local! {
    /// While [`hold_wakes`] runs on this thread: the queues whose thread
    /// is still to be woken when it returns.
    static HELD_WAKES: RefCell<Option<Vec<Arc<Shared>>>> = const { RefCell::new(None) };
}

/// Runs `f`, holding back the wake-ups of the dispatch threads that the
/// events `f` queues would cause until it returns: each woken thread is woken
/// once, with all of them queued. The network thread handles every frame a
/// read brought inside one such call; without it a burst of N signals woke
/// the dispatch thread N times, and on a busy machine each wake-up preempted
/// the network thread (two context switches per signal: the largest cost of
/// receiving 8 KB signals). `f` must not wait for a dispatch thread.
pub fn hold_wakes<R>(f: impl FnOnce() -> R) -> R {
    /// Wakes what was held, also when `f` panics.
    struct Release(bool);
    impl Drop for Release {
        fn drop(&mut self) {
            if !self.0 {
                return; // nested: the outer call wakes
            }
            let held = HELD_WAKES.with(|h| h.borrow_mut().take());
            for shared in held.into_iter().flatten() {
                shared.ready.notify_one();
            }
        }
    }
    let outer = HELD_WAKES.with(|h| {
        let mut h = h.borrow_mut();
        if h.is_some() {
            false
        } else {
            *h = Some(Vec::new());
            true
        }
    });
    let _release = Release(outer);
    f()
}

/// The sending side of one dispatch thread's queue.
#[derive(Clone)]
pub struct Queue {
    shared: Arc<Shared>,
}

impl Queue {
    /// Queues `event` for `target`; never blocks. After the pool has stopped
    /// the event is dropped (its session is gone by then).
    pub fn push(&self, target: Arc<dyn Target>, event: Event) {
        self.put(Job::Event(target, event));
    }

    fn put(&self, job: Job) {
        let wake = {
            let mut st = self.shared.lock();
            if st.stopped {
                drop(st);
                drop(job); // outside the lock: it may hold anything
                return;
            }
            st.jobs.push_back(job);
            std::mem::replace(&mut st.parked, false)
        };
        if !wake {
            return;
        }
        let held = HELD_WAKES.with(|h| match h.borrow_mut().as_mut() {
            Some(list) => {
                if !list.iter().any(|s| Arc::ptr_eq(s, &self.shared)) {
                    list.push(Arc::clone(&self.shared));
                }
                true
            }
            None => false,
        });
        if !held {
            self.shared.ready.notify_one();
        }
    }
}

/// The loop of one dispatch thread: takes every queued job at once and runs
/// them in order, parking only when the queue is empty.
fn serve(shared: &Shared) {
    let mut batch = VecDeque::new();
    let mut st = shared.lock();
    loop {
        if st.jobs.is_empty() {
            st.parked = true;
            st = shared.ready.wait(st).unwrap_or_else(|e| e.into_inner());
            // Woken (or spuriously): whoever pushes next need not wake us
            // while we look.
            st.parked = false;
            continue;
        }
        std::mem::swap(&mut st.jobs, &mut batch);
        drop(st);
        while let Some(job) = batch.pop_front() {
            match job {
                Job::Event(target, event) => target.dispatch(event),
                Job::Stop => {
                    let mut st = shared.lock();
                    st.stopped = true;
                    let left = std::mem::take(&mut st.jobs);
                    drop(st);
                    drop(left);
                    return;
                }
            }
        }
        st = shared.lock();
    }
}

/// The fixed pool of dispatch threads.
pub struct Pool {
    queues: Vec<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    pub fn start(n: usize) -> std::io::Result<Pool> {
        let mut queues = Vec::with_capacity(n);
        let mut threads = Vec::with_capacity(n);
        for i in 0..n.max(1) {
            let shared = Arc::new(Shared::default());
            let mine = Arc::clone(&shared);
            let t = thread::Builder::new()
                .name(format!("otc-dispatch-{i}"))
                .spawn(move || serve(&mine))?;
            queues.push(Queue { shared });
            threads.push(t);
        }
        Ok(Pool { queues, threads })
    }

    /// The queue a session with this number is pinned to.
    pub fn queue_for(&self, n: u64) -> Queue {
        let i = (n % self.queues.len() as u64) as usize;
        self.queues[i].clone()
    }

    /// Stops every thread and waits for them, except the calling thread if it
    /// is one of them (then it finishes its current job and exits by itself).
    pub fn shutdown(self) {
        for q in &self.queues {
            q.put(Job::Stop);
        }
        let me: ThreadId = thread::current().id();
        for t in self.threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct Recorder {
        gate: Gate,
        seen: Mutex<Vec<i32>>,
    }

    impl Target for Recorder {
        fn dispatch(&self, event: Event) {
            self.gate.run(|| {
                if let Event::Error { code, .. } = event {
                    std::thread::sleep(Duration::from_millis(2));
                    self.seen.lock().unwrap().push(code);
                }
            });
        }
    }

    fn err(code: i32) -> Event {
        Event::Error {
            message: CString::default(),
            code,
        }
    }

    #[test]
    fn events_of_one_target_arrive_in_order_and_stop_after_close() {
        let pool = Pool::start(2).unwrap();
        let r = Arc::new(Recorder {
            gate: Gate::default(),
            seen: Mutex::new(vec![]),
        });
        let q = pool.queue_for(7);
        for i in 0..50 {
            q.push(r.clone(), err(i));
        }
        // Wait (bounded) until some have run, then close mid-stream.
        for _ in 0..500 {
            if !r.seen.lock().unwrap().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        r.gate.close();
        let after_close = r.seen.lock().unwrap().len();
        pool.shutdown();
        let seen = r.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), after_close, "a callback ran after close");
        assert_eq!(seen, (0..seen.len() as i32).collect::<Vec<_>>());
    }

    /// Waits (bounded) until `r` has seen `n` events.
    fn wait_seen(r: &Recorder, n: usize) -> bool {
        for _ in 0..1000 {
            if r.seen.lock().unwrap().len() >= n {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    #[test]
    fn held_wakes_wake_the_thread_once_when_the_hold_ends_even_after_a_panic() {
        let pool = Pool::start(1).unwrap();
        let r = Arc::new(Recorder {
            gate: Gate::default(),
            seen: Mutex::new(vec![]),
        });
        let q = pool.queue_for(0);
        // Let the thread park on its empty queue.
        q.push(r.clone(), err(-1));
        assert!(wait_seen(&r, 1));
        hold_wakes(|| {
            for i in 0..20 {
                q.push(r.clone(), err(i));
            }
            // Nested holds leave the waking to the outermost.
            hold_wakes(|| q.push(r.clone(), err(20)));
            std::thread::sleep(Duration::from_millis(30));
            assert_eq!(r.seen.lock().unwrap().len(), 1, "woken inside the hold");
        });
        assert!(wait_seen(&r, 22), "not woken when the hold ended");
        let held = std::panic::catch_unwind(AssertUnwindSafe(|| {
            hold_wakes(|| {
                q.push(r.clone(), err(21));
                panic!("in the hold");
            })
        }));
        assert!(held.is_err());
        assert!(wait_seen(&r, 23), "a panic in the hold kept the wake-up");
        pool.shutdown();
        let seen = r.seen.lock().unwrap().clone();
        assert_eq!(seen, (-1..22).collect::<Vec<_>>());
        // After the pool stopped, a push drops its event.
        q.push(r.clone(), err(99));
        assert_eq!(Arc::strong_count(&r), 1, "an event was kept after shutdown");
    }
}
