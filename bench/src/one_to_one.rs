//! Scenarios 1 and 2: one sender, one receiver.
//!
//! * **Latency** — signals of 100 bytes at a low steady rate; for each, the
//!   time from just before the send call to its arrival in the receiver's
//!   callback. The first signals warm caches and connections and are left out.
//! * **Throughput** — signals sent back to back for a fixed time (a refused
//!   send because the sender's queue is full is retried after a short
//!   pause, and at most [`WINDOW`] signals are in flight); the rate is what
//!   the receiver got per second, measured from the first send to the last
//!   arrival.

use std::time::{Duration, Instant};

use crate::pair::{Pair, Sent};
use crate::report::percentile;
use crate::wsclient::payload;

/// Longest wait for stragglers after the last send.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Most signals sent and not yet received during a throughput run. Neither
/// system has end-to-end flow control (our server acknowledges a signal once
/// it is queued for the receiver), so an unpaced sender only measures how
/// fast queues grow — and gets our receiver evicted once its un-acknowledged
/// events pass the server's replay bound (8,192). Like an application
/// would, the driver keeps a window below that bound, for both systems.
const WINDOW: usize = 2048;

pub struct LatencyPlan {
    pub count: usize,
    pub warmup: usize,
    pub per_second: f64,
}

/// One-way latencies in microseconds: p50, p99, p99.9, and samples.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub samples: usize,
}

pub fn latency(pair: &dyn Pair, plan: &LatencyPlan) -> Result<Latency, String> {
    let probe = pair.probe();
    let total = plan.warmup + plan.count;
    if total > probe.capacity() {
        return Err("latency plan larger than the probe".into());
    }
    probe.reset();
    let interval = Duration::from_secs_f64(1.0 / plan.per_second);
    let mut sent_ns = vec![0u64; total];
    let start = Instant::now();
    for (i, slot) in sent_ns.iter_mut().enumerate() {
        let data = payload(i as u64, 100);
        let due = start + interval * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        *slot = probe.now_ns();
        match pair.send(&data) {
            Sent::Ok => {}
            Sent::Full => return Err(format!("send {i} refused: queue full at a low rate")),
            Sent::Failed(e) => return Err(format!("send {i}: {e} ({})", pair.diagnose())),
        }
    }
    if !probe.wait_received(total, DRAIN_TIMEOUT) {
        return Err(format!(
            "only {} of {total} signals arrived ({})",
            probe.received(),
            pair.diagnose()
        ));
    }
    let mut lat: Vec<u64> = (plan.warmup..total)
        .filter_map(|i| probe.recv_ns(i).map(|r| r.saturating_sub(sent_ns[i])))
        .collect();
    lat.sort_unstable();
    let us = |p: f64| percentile(&lat, p).map_or(f64::NAN, |ns| ns as f64 / 1000.0);
    Ok(Latency {
        p50_us: us(50.0),
        p99_us: us(99.0),
        p999_us: us(99.9),
        samples: lat.len(),
    })
}

/// Signals per second received, and how many were sent.
pub fn throughput(pair: &dyn Pair, size: usize, run_for: Duration) -> Result<(f64, usize), String> {
    let probe = pair.probe();
    probe.reset();
    let start_ns = probe.now_ns();
    let deadline = Instant::now() + run_for;
    let give_up = deadline + DRAIN_TIMEOUT;
    let mut sent = 0usize;
    while Instant::now() < deadline && sent < probe.capacity() {
        let data = payload(sent as u64, size);
        while sent - probe.received() >= WINDOW {
            if Instant::now() > give_up {
                return Err(format!(
                    "{WINDOW} signals stayed in flight ({} of {sent} received; {})",
                    probe.received(),
                    pair.diagnose()
                ));
            }
            std::thread::sleep(Duration::from_micros(20));
        }
        loop {
            match pair.send(&data) {
                Sent::Ok => break,
                Sent::Full => {
                    if Instant::now() > give_up {
                        return Err("the sender's queue stayed full".into());
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
                Sent::Failed(e) => return Err(format!("send {sent}: {e} ({})", pair.diagnose())),
            }
        }
        sent += 1;
    }
    if !probe.wait_received(sent, DRAIN_TIMEOUT) {
        return Err(format!(
            "only {} of {sent} signals arrived ({})",
            probe.received(),
            pair.diagnose()
        ));
    }
    let secs = (probe.last_ns().saturating_sub(start_ns)) as f64 / 1e9;
    if secs <= 0.0 {
        return Err("no time elapsed".into());
    }
    Ok((probe.received() as f64 / secs, sent))
}
