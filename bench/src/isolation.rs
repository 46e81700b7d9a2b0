//! Scenario 6: is one session's load kept away from the others?
//!
//! Session B is a pair of raw protocol clients ([`crate::wsclient`]) playing
//! ping-pong: B1 sends a 100-byte signal to B2, B2 sends it back, B1 times
//! the round trip; at most one round per millisecond. B runs on a thread and
//! runtime of its own, so the load generator's work does not delay its
//! timing on this side (the two cores are still shared).
//!
//! * **Phase 1 (alone)**: B plays for a few seconds on an idle server.
//! * **Phase 2 (A fills)**: while B keeps playing, session A fills with
//!   `participants` raw clients, 64 joining at a time. Each connects with
//!   small socket buffers, reads frames until `connected` (connection events
//!   *not* suppressed, so every join is announced to everyone already in A)
//!   and then never reads again: its socket stays open, unread. One more
//!   member of A, joined first, reads everything and broadcasts
//!   `signal_bytes`-byte signals at `sender_rate`. The non-readers' queues
//!   fill and the server evicts them as slow consumers, which the reading
//!   member sees as `connection_destroyed { reason: "slow_consumer" }` and
//!   counts. The phase ends `after_joins` after the last join, or at
//!   `load_for`, whichever comes first.
//!
//! The server runs with `--send-queue-frames send_queue_frames` (the run
//! passes a value below the default 4,096) so that, at a modest broadcast
//! rate, the queues overflow within the phase; with the default they
//! overflow later, the same way.
//!
//! Figures: B's round-trip p50 / p99 / max in each phase (and how many
//! rounds took over 100 ms), A's join rate, the evictions seen in A, the
//! server's CPU time and log output during phase 2. Nothing is asserted:
//! B's figures in phase 2 against phase 1 say how much one busy session
//! costs an unrelated one.
//!
//! Descriptors: this process holds `participants` + 3 sockets, the server as
//! many; both far below the 20,000 open-file limit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::ClientMessage;
use serde::Deserialize;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::procfs::ChildServer;
use crate::report::percentile;
use crate::wsclient::{self, payload, Receiver, Reply, System, Ws};

/// Simultaneous joins into A.
const JOIN_CONCURRENCY: usize = 64;
/// Kernel receive buffer of each non-reader (the kernel doubles it).
const NON_READER_RCVBUF: u32 = 2 * 1024;
/// MSS a non-reader announces (see [`small_buffers`]).
const NON_READER_MSS: libc::c_int = 536;
/// Most ping-pong rounds in a run (at most one per millisecond).
const MAX_ROUNDS: u64 = 200_000;
/// Pause between two rounds.
const ROUND_EVERY: Duration = Duration::from_millis(1);
/// Longest wait for one round trip before B gives up.
const ROUND_TIMEOUT: Duration = Duration::from_secs(10);
/// Rounds after B's set-up that are left out (connection warm-up).
const WARMUP: Duration = Duration::from_millis(200);
/// A round trip longer than this counts as a stall.
const STALL: Duration = Duration::from_millis(100);
/// A's reader acknowledges events this often.
const ACK_EVERY: u64 = 64;

pub struct Plan {
    /// Non-readers joining A.
    pub participants: usize,
    /// Length of phase 1.
    pub alone: Duration,
    /// Longest phase 2.
    pub load_for: Duration,
    /// Phase 2 goes on this long after the last join.
    pub after_joins: Duration,
    /// Broadcasts per second by A's reading member.
    pub sender_rate: f64,
    /// Data bytes of each broadcast.
    pub signal_bytes: usize,
    /// The server's `--send-queue-frames`.
    pub send_queue_frames: usize,
}

/// B's round trips in one phase.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    pub rounds: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// Rounds longer than [`STALL`].
    pub stalls: usize,
}

impl Phase {
    fn of(mut rtt_ns: Vec<u64>) -> Phase {
        rtt_ns.sort_unstable();
        let us = |v: Option<u64>| v.map_or(f64::NAN, |ns| ns as f64 / 1000.0);
        Phase {
            rounds: rtt_ns.len(),
            p50_us: us(percentile(&rtt_ns, 50.0)),
            p99_us: us(percentile(&rtt_ns, 99.0)),
            max_us: us(rtt_ns.last().copied()),
            stalls: rtt_ns
                .iter()
                .filter(|&&ns| ns > STALL.as_nanos() as u64)
                .count(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Isolation {
    pub alone: Phase,
    pub load: Phase,
    pub joined: usize,
    pub join_seconds: f64,
    pub join_errors: usize,
    pub first_join_error: Option<String>,
    /// `slow_consumer` departures seen by A's reading member.
    pub evictions: usize,
    /// Signals A's sender broadcast.
    pub broadcasts: u64,
    /// A's reading member was still connected at the end.
    pub sender_alive: bool,
    pub load_seconds: f64,
    /// Server CPU time during phase 2.
    pub load_cpu_seconds: f64,
    /// Why B stopped early, if it did.
    pub probe_error: Option<String>,
}

/// Shared between the run and B's thread.
struct Clock {
    base: Instant,
    stop: AtomicBool,
}

impl Clock {
    fn ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

/// What B's thread hands back: (send time, round trip) in ns since
/// [`Clock::base`], and why it stopped early.
struct ProbeOut {
    rounds: Vec<(u64, u64)>,
    error: Option<String>,
}

fn session_and_token() -> Result<(String, String), String> {
    let project = otc_server::Project::dev();
    let sid = otc_server::create_session_id(&project);
    let token = otc_server::mint_token(&project, &sid, &Default::default())
        .map_err(|e| format!("mint token: {e}"))?;
    Ok((sid, token))
}

fn targeted_signal(seq: u64, index: u64, to: &str) -> String {
    ClientMessage::Signal {
        seq,
        signal_type: "bench".into(),
        data: payload(index, 100),
        to: Some(vec![to.to_string()]),
    }
    .encode()
}

/// Starts B on its own thread; returns once both members joined.
fn start_probe(
    addr: SocketAddr,
    clock: Arc<Clock>,
) -> Result<std::thread::JoinHandle<ProbeOut>, String> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let handle = std::thread::Builder::new()
        .name("isolation-b".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return ProbeOut {
                        rounds: Vec::new(),
                        error: Some(e.to_string()),
                    };
                }
            };
            rt.block_on(probe(addr, clock, ready_tx))
        })
        .map_err(|e| format!("cannot start B's thread: {e}"))?;
    match ready_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(format!("session B: {e}")),
        Err(_) => Err("session B did not get ready".into()),
    }
}

async fn probe(
    addr: SocketAddr,
    clock: Arc<Clock>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) -> ProbeOut {
    let setup = async {
        let (sid, token) = session_and_token()?;
        let path = wsclient::path_for(System::Ours, &sid);
        let mut b1 = wsclient::open(addr, &path, System::Ours, None, false).await?;
        let id1 = wsclient::join(&mut b1, &sid, &token, true).await?;
        let mut b2 = wsclient::open(addr, &path, System::Ours, None, false).await?;
        let id2 = wsclient::join(&mut b2, &sid, &token, true).await?;
        Ok::<_, String>((b1, id1, b2, id2))
    };
    let (mut b1, id1, b2, id2) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e.clone()));
            return ProbeOut {
                rounds: Vec::new(),
                error: Some(e),
            };
        }
    };
    let ponger = tokio::spawn(pong(b2, id1));
    let _ = ready.send(Ok(()));

    let mut rounds = Vec::new();
    let mut error = None;
    let mut rx = Receiver::new(System::Ours);
    let mut tick = tokio::time::interval(ROUND_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0..MAX_ROUNDS {
        if clock.stop.load(Ordering::Acquire) {
            break;
        }
        tick.tick().await;
        let sent = clock.ns();
        if let Err(e) = b1
            .send(Message::text(targeted_signal(i + 1, i, &id2)))
            .await
        {
            error = Some(format!("B1 send: {e}"));
            break;
        }
        let back = async {
            while let Some(m) = b1.next().await {
                let text = match m {
                    Ok(Message::Text(t)) => t,
                    Ok(_) => continue,
                    Err(e) => return Err(format!("B1 receive: {e}")),
                };
                let mut returned = false;
                let reply = rx.handle(text.as_str(), |j| returned |= j == i);
                if let Reply::Frame(f) = reply {
                    b1.send(Message::text(f))
                        .await
                        .map_err(|e| format!("B1 reply: {e}"))?;
                }
                if returned {
                    return Ok(());
                }
            }
            Err("B1's link ended".to_string())
        };
        match tokio::time::timeout(ROUND_TIMEOUT, back).await {
            Ok(Ok(())) => rounds.push((sent, clock.ns() - sent)),
            Ok(Err(e)) => {
                error = Some(e);
                break;
            }
            Err(_) => {
                error = Some(format!("round {i} not back within {ROUND_TIMEOUT:?}"));
                break;
            }
        }
    }
    ponger.abort();
    ProbeOut { rounds, error }
}

/// B2: sends every signal back to B1.
async fn pong(mut ws: Ws, to: String) {
    let mut rx = Receiver::new(System::Ours);
    let mut seq = 0u64;
    while let Some(Ok(m)) = ws.next().await {
        let Message::Text(text) = m else { continue };
        let mut got = None;
        let reply = rx.handle(text.as_str(), |i| got = Some(i));
        if let Reply::Frame(f) = reply {
            if ws.send(Message::text(f)).await.is_err() {
                return;
            }
        }
        if let Some(i) = got {
            seq += 1;
            if ws
                .send(Message::text(targeted_signal(seq, i, &to)))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

/// The parts of a frame A's reading member looks at.
#[derive(Deserialize)]
struct Event {
    kind: String,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    id: u64,
    #[serde(default)]
    reason: String,
}

/// A's reading member: counts evictions, acknowledges, answers pings, and
/// broadcasts at `rate` until `stop`.
struct Sender {
    evictions: Arc<AtomicUsize>,
    /// Cleared when its link ends.
    alive: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn start_sender(
    addr: SocketAddr,
    sid: &str,
    token: &str,
    plan: &Plan,
    stop: Arc<AtomicBool>,
) -> Result<Sender, String> {
    let (rate, signal_bytes) = (plan.sender_rate, plan.signal_bytes);
    let path = wsclient::path_for(System::Ours, sid);
    let mut ws = wsclient::open(addr, &path, System::Ours, None, false).await?;
    wsclient::join(&mut ws, sid, token, false).await?;
    let (mut sink, mut stream) = ws.split();
    let (tx, mut out) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(f) = out.recv().await {
            if sink.send(Message::text(f)).await.is_err() {
                return;
            }
        }
    });
    let evictions = Arc::new(AtomicUsize::new(0));
    let ev = Arc::clone(&evictions);
    let alive = Arc::new(AtomicBool::new(true));
    let still = Arc::clone(&alive);
    let reply_tx = tx.clone();
    let reader = tokio::spawn(async move {
        let (mut last, mut acked) = (0u64, 0u64);
        while let Some(Ok(m)) = stream.next().await {
            let Message::Text(t) = m else { continue };
            let Ok(e) = serde_json::from_str::<Event>(t.as_str()) else {
                continue;
            };
            match e.kind.as_str() {
                "ping" => {
                    let _ = reply_tx.send(ClientMessage::Pong { id: e.id }.encode());
                }
                "connection_destroyed" if e.reason == "slow_consumer" => {
                    ev.fetch_add(1, Ordering::AcqRel);
                }
                _ => {}
            }
            last = last.max(e.seq);
            if last - acked >= ACK_EVERY {
                acked = last;
                let _ = reply_tx.send(ClientMessage::Ack { seq: acked }.encode());
            }
        }
        still.store(false, Ordering::Release);
    });
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![writer, reader];
    if rate > 0.0 {
        let sent = Arc::clone(&sent);
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // Bounded: stops at `stop`, or after a minute's worth.
            for i in 0..(rate * 60.0) as u64 {
                tick.tick().await;
                if stop.load(Ordering::Acquire) {
                    break;
                }
                if tx
                    .send(wsclient::signal_frame(i + 1, payload(i, signal_bytes)))
                    .is_err()
                {
                    break;
                }
                sent.store(i + 1, Ordering::Release);
            }
        }));
    }
    Ok(Sender {
        evictions,
        alive,
        sent,
        tasks,
    })
}

/// Socket options of a non-reader: a small receive buffer and a
/// network-sized MSS. The server's kernel sizes each connection's send
/// buffer from the MSS; loopback's (~64 KiB) would give every unread socket
/// well over a megabyte, so its queue would take minutes to fill and 1,900
/// of them could hold gigabytes of kernel memory. With 536 bytes, as on a
/// modest real path, `ss -tm` showed ~290 KB per server-side socket.
fn small_buffers(sock: &tokio::net::TcpSocket) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    sock.set_recv_buffer_size(NON_READER_RCVBUF)?;
    let mss: libc::c_int = NON_READER_MSS;
    // SAFETY: a valid socket descriptor and a c_int option value.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            &mss as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A non-reader: joins with connection events, then is never read again.
async fn non_reader(addr: SocketAddr, sid: &str, token: &str) -> Result<Ws, String> {
    let path = wsclient::path_for(System::Ours, sid);
    let mut ws = wsclient::open_with(addr, &path, System::Ours, None, true, small_buffers).await?;
    wsclient::join(&mut ws, sid, token, false).await?;
    Ok(ws)
}

pub async fn run(server: &ChildServer, plan: &Plan) -> Result<Isolation, String> {
    let addr = server.addr;
    let clock = Arc::new(Clock {
        base: Instant::now(),
        stop: AtomicBool::new(false),
    });

    // Phase 1: B alone.
    let b = start_probe(addr, Arc::clone(&clock))?;
    let alone_from = clock.ns() + WARMUP.as_nanos() as u64;
    tokio::time::sleep(WARMUP + plan.alone).await;

    // Phase 2: A fills while B plays on.
    let load_from = clock.ns();
    let load_t0 = Instant::now();
    let deadline = load_t0 + plan.load_for;
    let cpu0 = server.cpu_seconds();
    let (sid, token) = session_and_token()?;
    let stop_sender = Arc::new(AtomicBool::new(false));
    let sender = start_sender(addr, &sid, &token, plan, Arc::clone(&stop_sender)).await;
    let gate = Arc::new(Semaphore::new(JOIN_CONCURRENCY));
    let mut joining = JoinSet::new();
    for _ in 0..plan.participants {
        let (gate, sid, token) = (Arc::clone(&gate), sid.clone(), token.clone());
        joining.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            non_reader(addr, &sid, &token).await
        });
    }
    let mut held: Vec<Ws> = Vec::with_capacity(plan.participants);
    let mut first_error: Option<String> = None;
    let mut join_errors = 0usize;
    let mut last_join = load_t0;
    loop {
        let next = tokio::time::timeout_at(deadline.into(), joining.join_next()).await;
        let e = match next {
            Ok(Some(Ok(Ok(ws)))) => {
                held.push(ws);
                last_join = Instant::now();
                continue;
            }
            Ok(Some(Ok(Err(e)))) => e,
            Ok(Some(Err(e))) => e.to_string(),
            Ok(None) => break,
            Err(_) => {
                let pending = joining.len();
                joining.abort_all();
                join_errors += pending;
                first_error.get_or_insert(format!(
                    "{pending} joins still pending after {:?}",
                    plan.load_for
                ));
                break;
            }
        };
        join_errors += 1;
        first_error.get_or_insert(e);
    }
    let join_seconds = last_join.duration_since(load_t0).as_secs_f64();
    // Evictions come once the non-readers' queues are full: give them time.
    let end = (Instant::now() + plan.after_joins).min(deadline);
    tokio::time::sleep_until(end.into()).await;
    let load_to = clock.ns();
    let cpu1 = server.cpu_seconds();
    clock.stop.store(true, Ordering::Release);
    stop_sender.store(true, Ordering::Release);
    let out = tokio::task::spawn_blocking(move || b.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "B's thread panicked".to_string())?;
    let (evictions, broadcasts, sender_alive) = match &sender {
        Ok(s) => (
            s.evictions.load(Ordering::Acquire),
            s.sent.load(Ordering::Acquire),
            s.alive.load(Ordering::Acquire),
        ),
        Err(_) => (0, 0, false),
    };
    if let Ok(s) = &sender {
        for t in &s.tasks {
            t.abort();
        }
    }
    joining.abort_all();
    drop(held);
    let sender = sender.map_err(|e| format!("A's sender: {e}"))?;
    drop(sender);

    let pick = |from: u64, to: u64| {
        out.rounds
            .iter()
            .filter(|(sent, _)| (from..to).contains(sent))
            .map(|(_, rtt)| *rtt)
            .collect::<Vec<_>>()
    };
    let alone = Phase::of(pick(alone_from, load_from));
    let load = Phase::of(pick(load_from, load_to));
    let joined = plan.participants - join_errors;
    Ok(Isolation {
        alone,
        load,
        joined,
        join_seconds,
        join_errors,
        first_join_error: first_error,
        evictions,
        broadcasts,
        sender_alive,
        load_seconds: (load_to - load_from) as f64 / 1e9,
        load_cpu_seconds: match (cpu0, cpu1) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        },
        probe_error: out.error,
    })
}

/// What the server's log (its standard error, in a file) says about A.
#[derive(Debug, Clone, Default)]
pub struct LogCount {
    pub lines: usize,
    pub bytes: u64,
    /// Warnings that a connection is evicted as a slow consumer.
    pub eviction_warnings: usize,
    /// Distinct connections those warnings name.
    pub evicted: usize,
}

impl LogCount {
    /// Reads the log at `path`; an unreadable log counts as empty.
    pub fn read(path: &std::path::Path) -> LogCount {
        use std::io::BufRead;
        let Ok(file) = std::fs::File::open(path) else {
            return LogCount::default();
        };
        let mut count = LogCount::default();
        let mut ids = std::collections::HashSet::new();
        for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
            count.lines += 1;
            count.bytes += line.len() as u64 + 1;
            let plain = strip_ansi(&line);
            if plain.contains("reason=\"slow_consumer\"") && plain.contains("disconnecting it") {
                count.eviction_warnings += 1;
                if let Some(id) = field(&plain, "connection") {
                    ids.insert(id.to_string());
                }
            }
        }
        count.evicted = ids.len();
        count
    }
}

/// The line without terminal colour sequences (`ESC [ ... m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of `name="..."` in a log line.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_eviction_warnings_from_the_log() {
        let dir = std::env::temp_dir().join(format!("otc-bench-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("server.log");
        let warn = |id: &str| {
            format!(
                "\u{1b}[2m2026-01-01T00:00:00Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m otc_server::hub: your send queue \
                 overflowed: events were not read fast enough; disconnecting it \u{1b}[3msession\u{1b}[0m=\"1_MX\" \
                 \u{1b}[3mconnection\u{1b}[0m\u{1b}[2m=\u{1b}[0m\"{id}\" \u{1b}[3mreason\u{1b}[0m=\"slow_consumer\""
            )
        };
        let text = [warn("aa"), warn("bb"), warn("aa"), "other line".to_string()].join("\n");
        std::fs::write(&path, text + "\n").unwrap();
        let c = LogCount::read(&path);
        assert_eq!((c.lines, c.eviction_warnings, c.evicted), (4, 3, 2));
        assert_eq!(LogCount::read(&dir.join("missing")).lines, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn phases_summarize_round_trips() {
        let p = Phase::of(vec![3_000_000, 1_000_000, 200_000_000, 2_000_000]);
        assert_eq!(p.rounds, 4);
        assert_eq!(p.p50_us, 2_000.0);
        assert_eq!(p.max_us, 200_000.0);
        assert_eq!(p.stalls, 1);
    }
}
