//! Scenario 3: one sender, many receivers in one session.
//!
//! Raw protocol clients (see [`crate::wsclient`]) play every part. The sender
//! broadcasts 100-byte signals with at most `window` signals in flight: a
//! signal leaves the window once *every* receiver has it. That keeps the
//! system busy without letting queues grow without bound, so the delivery
//! rate is a capacity and the latency still means something.
//!
//! Figures: deliveries per second (receivers × signals over the time from
//! the first send to the last arrival), the server's CPU time per delivery
//! (from `/proc` of the server process), and p99 delivery latency.
//! Connection events are suppressed for every client (otherwise joining
//! 1,000 members would itself send ~500,000 events before the measurement).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::procfs::ChildServer;
use crate::report::percentile;
use crate::wsclient::{self, payload, Receiver, Reply, System};

/// Simultaneous connection attempts while setting up.
const JOIN_CONCURRENCY: usize = 64;
/// Longest wait for one signal to reach everyone.
const SIGNAL_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Plan {
    pub receivers: usize,
    pub signals: usize,
    pub window: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct FanOut {
    pub deliveries_per_sec: f64,
    pub cpu_us_per_delivery: f64,
    pub p99_us: f64,
    pub p50_us: f64,
}

struct Shared {
    base: Instant,
    receivers: u32,
    sent_ns: Vec<AtomicU64>,
    counts: Vec<AtomicU32>,
    done_ns: AtomicU64,
    window: Semaphore,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// A receiver got signal `i`: returns its latency in ns.
    fn arrived(&self, i: u64) -> Option<u64> {
        let i = usize::try_from(i).ok()?;
        let now = self.now_ns();
        let sent = self.sent_ns.get(i)?.load(Ordering::Acquire);
        if self.counts[i].fetch_add(1, Ordering::AcqRel) + 1 == self.receivers {
            self.done_ns.fetch_max(now, Ordering::AcqRel);
            self.window.add_permits(1);
        }
        Some(now.saturating_sub(sent))
    }
}

/// Connects a client to `system` for room/session `sid` and joins it.
async fn member(
    system: System,
    addr: SocketAddr,
    sid: &str,
    token: &str,
) -> Result<wsclient::Ws, String> {
    let path = wsclient::path_for(system, sid);
    let mut ws = wsclient::open(addr, &path, system, None, false).await?;
    if system == System::Ours {
        wsclient::join(&mut ws, sid, token, true).await?;
    }
    Ok(ws)
}

pub async fn run(system: System, server: &ChildServer, plan: &Plan) -> Result<FanOut, String> {
    let addr = server.addr;
    let project = otc_server::Project::dev();
    let sid = otc_server::create_session_id(&project);
    let token = otc_server::mint_token(&project, &sid, &Default::default())
        .map_err(|e| format!("mint token: {e}"))?;

    // Receivers, joined before anything is measured.
    let gate = Arc::new(Semaphore::new(JOIN_CONCURRENCY));
    let mut joining = JoinSet::new();
    for _ in 0..plan.receivers {
        let (gate, sid, token) = (Arc::clone(&gate), sid.clone(), token.clone());
        joining.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            member(system, addr, &sid, &token).await
        });
    }
    let mut sockets = Vec::with_capacity(plan.receivers);
    while let Some(r) = joining.join_next().await {
        sockets.push(r.map_err(|e| e.to_string())??);
    }

    let shared = Arc::new(Shared {
        base: Instant::now(),
        receivers: plan.receivers as u32,
        sent_ns: (0..plan.signals).map(|_| AtomicU64::new(0)).collect(),
        counts: (0..plan.signals).map(|_| AtomicU32::new(0)).collect(),
        done_ns: AtomicU64::new(0),
        window: Semaphore::new(plan.window),
    });
    let mut receiving = JoinSet::new();
    for mut ws in sockets {
        let shared = Arc::clone(&shared);
        let expect = plan.signals;
        receiving.spawn(async move {
            let mut lat = Vec::with_capacity(expect);
            wsclient::receive(&mut ws, system, Some(expect), |i| {
                if let Some(ns) = shared.arrived(i) {
                    lat.push(ns / 1000);
                }
            })
            .await?;
            Ok::<_, String>(lat)
        });
    }

    // The sender: a writer task fed by the send loop and by the reader
    // (acks and pongs for our server; the sender receives its own broadcast).
    let sender = member(system, addr, &sid, &token).await?;
    let (mut sink, mut stream) = sender.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        while let Some(f) = rx.recv().await {
            if sink.send(Message::text(f)).await.is_err() {
                return;
            }
        }
    });
    let reply_tx = tx.clone();
    let drain = tokio::spawn(async move {
        let mut r = Receiver::new(system);
        while let Some(Ok(m)) = stream.next().await {
            if let Message::Text(t) = m {
                if let Reply::Frame(f) = r.handle(t.as_str(), |_| {}) {
                    let _ = reply_tx.send(f);
                }
            }
        }
    });

    let cpu0 = server.cpu_seconds();
    let first_ns = shared.now_ns();
    let mut outcome = Ok(());
    for i in 0..plan.signals {
        match tokio::time::timeout(SIGNAL_TIMEOUT, shared.window.acquire()).await {
            Ok(Ok(p)) => p.forget(),
            _ => {
                outcome = Err(format!(
                    "signal {} did not reach every receiver",
                    i.saturating_sub(plan.window)
                ));
                break;
            }
        }
        shared.sent_ns[i].store(shared.now_ns(), Ordering::Release);
        if tx
            .send(wsclient::signal_frame(i as u64 + 1, payload(i as u64, 100)))
            .is_err()
        {
            outcome = Err("sender link closed".into());
            break;
        }
    }
    let mut lat = Vec::with_capacity(plan.receivers * plan.signals);
    if outcome.is_ok() {
        let gather = async {
            while let Some(r) = receiving.join_next().await {
                lat.extend(r.map_err(|e| e.to_string())??);
            }
            Ok::<_, String>(())
        };
        outcome = tokio::time::timeout(SIGNAL_TIMEOUT, gather)
            .await
            .unwrap_or_else(|_| Err("receivers did not finish".into()));
    }
    let cpu1 = server.cpu_seconds();
    receiving.abort_all();
    writer.abort();
    drain.abort();
    outcome?;

    let deliveries = (plan.receivers * plan.signals) as f64;
    let secs = shared
        .done_ns
        .load(Ordering::Acquire)
        .saturating_sub(first_ns) as f64
        / 1e9;
    lat.sort_unstable();
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => (b - a) * 1e6 / deliveries,
        _ => f64::NAN,
    };
    Ok(FanOut {
        deliveries_per_sec: deliveries / secs,
        cpu_us_per_delivery: cpu,
        p99_us: percentile(&lat, 99.0).map_or(f64::NAN, |v| v as f64),
        p50_us: percentile(&lat, 50.0).map_or(f64::NAN, |v| v as f64),
    })
}
