//! Scenario 5: one process holding many sessions.
//!
//! Measured in a child process of its own (`otc-bench client-scale`), so the
//! thread count and memory are those of a client process and nothing else:
//! ours is the library driven through the C ABI (`otc_init`, then N
//! `otc_session_new_with_settings` + `otc_session_connect`, each in a session
//! of its own); the baseline is N raw tokio-tungstenite connections to the
//! relay, one reader task each, on a two-thread runtime. The child prints
//! one JSON line and exits.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::pair::{LibSession, Probe};
use crate::procfs::{rss_kib, threads};
use crate::wsclient::{self, System};

/// Sessions asked to connect before waiting for them.
const BATCH: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
pub struct Measured {
    pub sessions: usize,
    pub threads_before: u64,
    pub threads_after: u64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub connect_seconds: f64,
}

impl Measured {
    pub fn kib_per_session(&self) -> f64 {
        self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 / self.sessions as f64
    }
}

/// The child's work for our library.
fn ours(addr: SocketAddr, n: usize) -> Result<Measured, String> {
    crate::pair::init_library()?;
    let (t0, m0) = (threads(None).unwrap_or(0), rss_kib(None).unwrap_or(0));
    let base_url = format!("http://{addr}");
    let project = otc_server::Project::dev();
    let probe = Probe::new(0);
    let start = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    for i in 0..n {
        let sid = otc_server::create_session_id(&project);
        let token = otc_server::mint_token(&project, &sid, &Default::default())
            .map_err(|e| format!("mint token: {e}"))?;
        let s = LibSession::new(&base_url, &sid, true, Arc::clone(&probe))?;
        s.connect(&token)?;
        sessions.push(s);
        if (i + 1) % BATCH == 0 || i + 1 == n {
            probe.wait_connected(i + 1, Duration::from_secs(30))?;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    let (t1, m1) = (threads(None).unwrap_or(0), rss_kib(None).unwrap_or(0));
    drop(sessions);
    Ok(Measured {
        sessions: n,
        threads_before: t0,
        threads_after: t1,
        rss_before_kib: m0,
        rss_after_kib: m1,
        connect_seconds: secs,
    })
}

/// The child's work for the baseline.
fn baseline(addr: SocketAddr, n: usize) -> Result<Measured, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (t0, m0) = (threads(None).unwrap_or(0), rss_kib(None).unwrap_or(0));
    let start = Instant::now();
    let tasks = rt.block_on(async {
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let path = wsclient::path_for(System::Baseline, &format!("scale-{i}"));
            let mut ws = wsclient::open(addr, &path, System::Baseline, None, false).await?;
            tasks.push(tokio::spawn(async move {
                let _ = wsclient::receive(&mut ws, System::Baseline, None, |_| {}).await;
            }));
        }
        Ok::<_, String>(tasks)
    })?;
    let secs = start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    let (t1, m1) = (threads(None).unwrap_or(0), rss_kib(None).unwrap_or(0));
    for t in tasks {
        t.abort();
    }
    Ok(Measured {
        sessions: n,
        threads_before: t0,
        threads_after: t1,
        rss_before_kib: m0,
        rss_after_kib: m1,
        connect_seconds: secs,
    })
}

/// Entry point of the `client-scale` subcommand: prints one JSON line.
pub fn child_main(system: System, addr: SocketAddr, n: usize) -> Result<(), String> {
    let m = match system {
        System::Ours => ours(addr, n)?,
        System::Baseline => baseline(addr, n)?,
    };
    println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
    Ok(())
}

/// Runs the child and reads its answer.
pub fn measure(exe: &Path, system: System, addr: SocketAddr, n: usize) -> Result<Measured, String> {
    let out = Command::new(exe)
        .args([
            "client-scale",
            "--system",
            system.name(),
            "--addr",
            &addr.to_string(),
            "--sessions",
            &n.to_string(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {exe:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("client-scale child failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("bad child output {line:?}: {e}"))
}
