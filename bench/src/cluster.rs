//! The cluster's moving parts as child processes: one `redis-server` and
//! otc-server nodes joined to it, plus scenario 7 (one sender and one
//! receiver on different nodes, against the same pair on a single
//! standalone server, in the same run).
//!
//! Scenario 8 (idle connections spread over many nodes) is in
//! [`crate::cluster_idle`]; both start their processes through here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::one_to_one::{self, LatencyPlan};
use crate::pair::{LibPair, Pair};
use crate::procfs::{self, ChildServer};
use crate::report::{Row, Target};
use crate::Programs;

/// How long a node may take to answer `/readyz` with 200 (it needs Redis).
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Finds `redis-server`: `explicit` if given, else the first on `PATH`.
/// `scripts/ensure-tools.sh` installs it (Debian's `redis-server`).
pub fn find_redis(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("{} not found", p.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "redis-server not found on PATH (scripts/ensure-tools.sh installs it, \
             or pass --redis-server PATH)"
                .to_string()
        })
}

/// A private `redis-server` on a loopback port: no persistence, so it
/// never writes files and its memory is only what the cluster keeps.
pub fn start_redis(bin: &Path) -> Result<ChildServer, String> {
    let port = procfs::free_port().map_err(|e| e.to_string())?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ChildServer::spawn_with("redis-server", bin, &args, addr, Stdio::null())
        .map_err(|e| e.to_string())
}

/// `redis://ADDR/` for a node's `--redis`.
pub fn redis_url(redis: &ChildServer) -> String {
    format!("redis://{}/", redis.addr)
}

/// Starts cluster node `node_id` on `redis_url` (with the benchmark's
/// usual flags) and waits until it is ready.
pub fn start_node(
    programs: &Programs,
    redis_url: &str,
    node_id: &str,
) -> Result<ChildServer, String> {
    let extra = [
        "--redis".to_string(),
        redis_url.to_string(),
        "--node-id".to_string(),
        node_id.to_string(),
    ];
    let node = programs.start_ours_with(&extra, Stdio::inherit())?;
    wait_ready(node.addr, READY_TIMEOUT).map_err(|e| format!("node {node_id}: {e}"))?;
    Ok(node)
}

/// Polls `GET /readyz` until it answers 200.
pub fn wait_ready(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        match readyz(addr) {
            Ok(200) => return Ok(()),
            Ok(code) => last = format!("/readyz answered {code}"),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("not ready after {timeout:?}: {last}"))
}

fn readyz(addr: SocketAddr) -> Result<u16, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).map_err(|e| e.to_string())?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| "not an HTTP answer".to_string())
}

/// Counts of scenario 7.
pub struct PairPlan {
    pub latency: LatencyPlan,
    pub throughput_for: Duration,
}

/// Scenario 7: a standalone server, and a Redis with two nodes A and B.
/// Three pairs in one OpenTok session each: standalone (the baseline
/// column), sender and receiver both on A, sender on A and receiver on B.
pub fn pair_rows(programs: &Programs, redis_bin: &Path, plan: &PairPlan) -> Vec<Row> {
    let s = "7 cluster 1->1";
    match pair_rows_inner(programs, redis_bin, plan) {
        Ok(rows) => rows,
        Err(e) => vec![crate::failed_row(s, "set-up", &e)],
    }
}

fn pair_rows_inner(
    programs: &Programs,
    redis_bin: &Path,
    plan: &PairPlan,
) -> Result<Vec<Row>, String> {
    let single = programs.start_ours()?;
    let redis = start_redis(redis_bin)?;
    let url = redis_url(&redis);
    let a = start_node(programs, &url, "bench-a")?;
    let b = start_node(programs, &url, "bench-b")?;
    let capacity = 2_000_000;
    let alone = LibPair::connect(&single.base_url(), &single.base_url(), capacity)?;
    let same = LibPair::connect(&a.base_url(), &a.base_url(), capacity)?;
    let across = LibPair::connect(&b.base_url(), &a.base_url(), capacity)?;
    let pairs: [(&str, &dyn Pair); 2] = [("cross-node", &across), ("same node", &same)];
    let mut rows = Vec::new();

    let s = "7 cluster 1->1, 100 B latency";
    let base = one_to_one::latency(&alone, &plan.latency);
    for (label, pair) in pairs {
        match (one_to_one::latency(pair, &plan.latency), &base) {
            (Ok(o), Ok(b)) => {
                let note = format!(
                    "{} samples at {}/s; baseline: standalone server",
                    o.samples, plan.latency.per_second
                );
                rows.push(
                    Row::new(
                        s,
                        &format!("{label} p50"),
                        "us",
                        Some(o.p50_us),
                        Some(b.p50_us),
                        Target::None,
                    )
                    .note(note),
                );
                rows.push(Row::new(
                    s,
                    &format!("{label} p99"),
                    "us",
                    Some(o.p99_us),
                    Some(b.p99_us),
                    Target::None,
                ));
            }
            (o, b) => rows.push(crate::failed_row(
                s,
                label,
                &format!("cluster: {:?}; standalone: {:?}", o.err(), b.as_ref().err()),
            )),
        }
    }

    let s = "7 cluster 1->1 throughput";
    for (size, size_label) in [(100usize, "100 B"), (8192, "8 KB")] {
        let base = one_to_one::throughput(&alone, size, plan.throughput_for);
        for (label, pair) in pairs {
            let figure = format!("{label}, {size_label} signals");
            match (
                one_to_one::throughput(pair, size, plan.throughput_for),
                &base,
            ) {
                (Ok((o, _)), Ok((b, _))) => {
                    rows.push(Row::new(s, &figure, "/s", Some(o), Some(*b), Target::None))
                }
                (o, b) => rows.push(crate::failed_row(
                    s,
                    &figure,
                    &format!("cluster: {:?}; standalone: {:?}", o.err(), b.as_ref().err()),
                )),
            }
        }
    }
    if let Some(kib) = redis.rss_kib() {
        rows.push(
            Row::new(
                s,
                "Redis resident memory after",
                "MB",
                Some(kib as f64 * 1.024 / 1000.0),
                None,
                Target::None,
            )
            .note("the sessions' logs are trimmed as receivers acknowledge"),
        );
    }
    drop((alone, same, across));
    for node in [a, b, single] {
        node.stop(Duration::from_secs(10));
    }
    redis.stop(Duration::from_secs(5));
    Ok(rows)
}
