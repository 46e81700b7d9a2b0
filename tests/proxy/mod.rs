//! A fault-injecting TCP proxy for the tests: it sits between library
//! clients and `otc-server` and, on command, cuts links, stalls them or
//! delays them, so reconnection can be tested against the faults real
//! networks produce.
//!
//! * **cut** closes both sockets of a link at once (the peers see the TCP
//!   connection end, as when a NAT or a middlebox drops it);
//! * **stall** (blackhole) stops moving bytes in one or both directions
//!   while both sockets stay open: nothing is lost, nothing arrives, and
//!   only a missing-heartbeat check can notice;
//! * **delay** adds a fixed latency to every chunk, keeping order;
//! * **refuse** makes new links close as soon as they are accepted (the
//!   server is "unreachable" until allowed again).
//!
//! Each link is two one-way pumps. A pump reads chunks from its source and
//! hands them, stamped with the time they may leave, to a writer that
//! sleeps until then; both halves obey the direction's current mode, which
//! they watch, so a mode change takes effect immediately. A cut aborts the
//! pumps, which drops (closes) the sockets.
//!
//! Give each client its own proxy: then "the sender's link" is simply every
//! link of the sender's proxy, including the ones it opens to reconnect.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What a direction of a link does with its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward at once.
    Pass,
    /// Forward after this latency.
    Delay(Duration),
    /// Forward nothing; keep the sockets open.
    Stall,
}

/// Which way bytes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    Up,
    /// Server to client.
    Down,
    Both,
}

struct LinkCtl {
    up: watch::Sender<Mode>,
    down: watch::Sender<Mode>,
    tasks: Vec<JoinHandle<()>>,
}

impl LinkCtl {
    fn set(&self, dir: Dir, mode: Mode) {
        if matches!(dir, Dir::Up | Dir::Both) {
            self.up.send_replace(mode);
        }
        if matches!(dir, Dir::Down | Dir::Both) {
            self.down.send_replace(mode);
        }
    }

    fn cut(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[derive(Default)]
struct Shared {
    links: Mutex<HashMap<u64, LinkCtl>>,
    refuse: Mutex<bool>,
    accepted: AtomicU64,
    refused: AtomicU64,
}

/// A running proxy. Dropping it stops accepting and cuts every link.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`.
    /// Runs on `rt`.
    pub fn start(rt: &Handle, upstream: SocketAddr) -> Proxy {
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("proxy binds a loopback port");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let accept = rt.spawn(async move {
            // Bounded by the test: the task is aborted when the proxy drops.
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if *s.refuse.lock().unwrap() {
                    s.refused.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                // Registered before any byte moves, so a command issued once
                // a client is connected always finds its link.
                let mut links = s.links.lock().unwrap();
                let id = s.accepted.fetch_add(1, Ordering::SeqCst);
                links.insert(id, spawn_link(client, server));
            }
        });
        Proxy {
            addr,
            shared,
            accept,
        }
    }

    /// The base URL clients use to reach the server through this proxy.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many links were accepted so far (the first is number 0).
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many links were closed at once because of [`Proxy::refuse_new`]
    /// (not counted by [`Proxy::accepted`]).
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Numbers of the links not cut yet, oldest first.
    pub fn live(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.shared.links.lock().unwrap().keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Cuts link `id` (both sockets close).
    pub fn cut(&self, id: u64) {
        if let Some(l) = self.shared.links.lock().unwrap().remove(&id) {
            l.cut();
        }
    }

    /// Cuts every current link.
    pub fn cut_all(&self) {
        let links: Vec<LinkCtl> = self
            .shared
            .links
            .lock()
            .unwrap()
            .drain()
            .map(|(_, l)| l)
            .collect();
        for l in links {
            l.cut();
        }
    }

    /// Sets the mode of one direction (or both) of link `id`.
    pub fn set(&self, id: u64, dir: Dir, mode: Mode) {
        if let Some(l) = self.shared.links.lock().unwrap().get(&id) {
            l.set(dir, mode);
        }
    }

    /// Sets the mode of every current link (new links start in `Pass`).
    pub fn set_all(&self, dir: Dir, mode: Mode) {
        for l in self.shared.links.lock().unwrap().values() {
            l.set(dir, mode);
        }
    }

    /// Stalls every current link both ways (blackhole).
    pub fn stall_all(&self) {
        self.set_all(Dir::Both, Mode::Stall);
    }

    /// While `on`, new links are closed as soon as they are accepted.
    pub fn refuse_new(&self, on: bool) {
        *self.shared.refuse.lock().unwrap() = on;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}

fn spawn_link(client: TcpStream, server: TcpStream) -> LinkCtl {
    let (c_read, c_write) = client.into_split();
    let (s_read, s_write) = server.into_split();
    let (up, up_rx) = watch::channel(Mode::Pass);
    let (down, down_rx) = watch::channel(Mode::Pass);
    let mut tasks = Vec::with_capacity(4);
    let (a, b) = pump(c_read, s_write, up_rx);
    tasks.extend([a, b]);
    let (a, b) = pump(s_read, c_write, down_rx);
    tasks.extend([a, b]);
    LinkCtl { up, down, tasks }
}

/// Waits until the mode lets bytes through; returns the latency to apply.
/// `None` when the controller is gone.
async fn open_gate(mode: &mut watch::Receiver<Mode>) -> Option<Duration> {
    loop {
        let m = *mode.borrow_and_update();
        match m {
            Mode::Pass => return Some(Duration::ZERO),
            Mode::Delay(d) => return Some(d),
            Mode::Stall => mode.changed().await.ok()?,
        }
    }
}

/// One direction: a reader task and a writer task joined by a queue of
/// chunks stamped with the time they may be written. `None` marks the end
/// of the stream.
fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mode: watch::Receiver<Mode>,
) -> (JoinHandle<()>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Option<Vec<u8>>)>();
    let mut read_mode = mode.clone();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let Some(delay) = open_gate(&mut read_mode).await else {
                return;
            };
            let n = tokio::select! {
                r = from.read(&mut buf) => r.unwrap_or(0),
                // A stall that starts while waiting for bytes applies at once.
                _ = read_mode.changed() => continue,
            };
            let chunk = (n > 0).then(|| buf[..n].to_vec());
            let end = chunk.is_none();
            if tx.send((Instant::now() + delay, chunk)).is_err() || end {
                return;
            }
        }
    });
    let mut write_mode = mode;
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if open_gate(&mut write_mode).await.is_none() {
                return;
            }
            match chunk {
                Some(bytes) => {
                    if to.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = to.shutdown().await;
                    return;
                }
            }
        }
    });
    (reader, writer)
}
