//! Scenario 4: many idle connections to one server.
//!
//! Connections are opened with bounded concurrency, each joined (for our
//! server: `connect` with a token, connection events suppressed, 1,000
//! connections per session) and then held by a task that answers the
//! server's pings, as an idle client must. The server's resident memory is
//! read from `/proc` before the first connection and after each level is
//! reached; memory per connection is the difference divided by the count.
//!
//! One loopback source address offers ~28,000 ephemeral ports, so
//! connections are spread over 127.0.0.2, 127.0.0.3, … (5,000 each).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::procfs::ChildServer;
use crate::wsclient::{self, System};

/// Simultaneous connection attempts.
const CONCURRENCY: usize = 256;
/// Connections per source address.
const PER_SOURCE: usize = 5_000;
/// Connections per OpenTok session / relay room.
const PER_SESSION: usize = 1_000;
/// Longest time to reach one level.
const LEVEL_TIMEOUT: Duration = Duration::from_secs(120);
/// Time given to the server to settle before reading its memory.
const SETTLE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct Level {
    pub reached: usize,
    pub connects_per_sec: f64,
    pub kib_per_connection: f64,
    pub error: Option<String>,
}

/// The loopback source address of connection `i`.
pub fn source(i: usize) -> IpAddr {
    let n = (i / PER_SOURCE) as u32 + 2;
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 0)) + n))
}

/// Opens connections up to each of `levels` (increasing) and measures.
/// Stops at the first level that cannot be reached.
pub async fn run(system: System, server: &ChildServer, levels: &[usize]) -> Vec<Level> {
    let addr = server.addr;
    let project = otc_server::Project::dev();
    let rss0 = server.rss_kib();
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let mut held = JoinSet::new();
    let mut sessions: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    let mut opened = 0usize;
    for &wanted in levels {
        let t0 = Instant::now();
        let before = ok.load(Ordering::Acquire);
        while opened < wanted {
            let i = opened;
            opened += 1;
            if i / PER_SESSION >= sessions.len() {
                let sid = otc_server::create_session_id(&project);
                let token =
                    otc_server::mint_token(&project, &sid, &Default::default()).unwrap_or_default();
                sessions.push((sid, token));
            }
            let (sid, token) = sessions[i / PER_SESSION].clone();
            let Ok(permit) = Arc::clone(&gate).acquire_owned().await else {
                break;
            };
            let (ok, failed_c, first_error) = (
                Arc::clone(&ok),
                Arc::clone(&failed),
                Arc::clone(&first_error),
            );
            held.spawn(async move {
                let path = wsclient::path_for(system, &sid);
                let joined = async {
                    let mut ws = wsclient::open(addr, &path, system, Some(source(i)), true).await?;
                    if system == System::Ours {
                        wsclient::join(&mut ws, &sid, &token, true).await?;
                    }
                    Ok::<_, String>(ws)
                };
                match joined.await {
                    Ok(mut ws) => {
                        ok.fetch_add(1, Ordering::AcqRel);
                        drop(permit);
                        // Idle: answer pings until the scenario ends.
                        let _ = wsclient::receive(&mut ws, system, None, |_| {}).await;
                    }
                    Err(e) => {
                        failed_c.fetch_add(1, Ordering::AcqRel);
                        first_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
            if failed.load(Ordering::Acquire) > 0 {
                break;
            }
        }
        // Wait for the attempts in flight.
        let deadline = t0 + LEVEL_TIMEOUT;
        while ok.load(Ordering::Acquire) + failed.load(Ordering::Acquire) < opened
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let secs = t0.elapsed().as_secs_f64();
        let reached = ok.load(Ordering::Acquire);
        tokio::time::sleep(SETTLE).await;
        let rss = server.rss_kib();
        let kib = match (rss0, rss) {
            (Some(a), Some(b)) if reached > 0 => b.saturating_sub(a) as f64 / reached as f64,
            _ => f64::NAN,
        };
        let error = first_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let stop = reached < wanted;
        out.push(Level {
            reached,
            connects_per_sec: (reached - before) as f64 / secs,
            kib_per_connection: kib,
            error: if stop {
                Some(error.unwrap_or_else(|| "timed out".into()))
            } else {
                None
            },
        });
        if stop {
            break;
        }
    }
    held.abort_all();
    while held.join_next().await.is_some() {}
    out
}
