//! Scenario 8: idle connections spread over the nodes of one cluster.
//!
//! Every process here may hold at most a fixed number of open files
//! (20,000 on the reference machine, not raisable), and every connection
//! costs one descriptor at each end. So the connections are held by
//! *holder* child processes (`otc-bench cluster-hold`), each below the
//! limit, and the nodes are as many as needed for each to stay below it
//! too (at least the plan's count).
//!
//! Connection `i` (counted over the whole run) goes to node `i % nodes`,
//! from source address `127.0.0.(2 + i / 5,000)`, into the holder's
//! session `i / 1,000`: each session spans every node, so the cluster
//! keeps its membership in Redis and every node has a share of it.
//!
//! A holder prints one line when its connections are open,
//! `reached OK FAILED SECONDS [first error]`, then `alive N` every second
//! (connections still open, answering the nodes' pings) until its
//! standard input closes, which is how the parent stops it.
//!
//! Figures: each node's and Redis's resident memory before and after,
//! per connection; the connect rate over the whole cluster; and, after an
//! idle window longer than several heartbeats and audits, how many
//! connections are still open.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cluster;
use crate::connections::source;
use crate::procfs::{self, ChildServer};
use crate::report::{Row, Target};
use crate::wsclient::{self, System};
use crate::Programs;

/// Simultaneous connection attempts per holder.
const CONCURRENCY: usize = 128;
/// Connections per OpenTok session.
const PER_SESSION: usize = 1_000;
/// Descriptors a node or a holder keeps for everything but connections
/// (listeners, Redis, standard streams, the runtime's own).
const SPARE_FILES: usize = 400;
/// Longest time for every holder to open its connections.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(600);
/// Longest a holder lives, whatever its parent does.
const HOLDER_LIFETIME: Duration = Duration::from_secs(3_600);
/// Set once a holder reported its first lost connection.
static LOST_REPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// Time given to the processes to settle before reading their memory.
const SETTLE: Duration = Duration::from_secs(2);

/// Counts of scenario 8.
#[derive(Debug, Clone)]
pub struct Plan {
    pub connections: usize,
    /// Nodes at least; more when `connections / nodes` would pass the
    /// open-file limit.
    pub nodes: usize,
    /// How long the connections stay idle before they are counted again.
    pub idle: Duration,
}

#[derive(Debug)]
pub struct Measured {
    pub nodes: usize,
    pub holders: usize,
    pub reached: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub connect_seconds: f64,
    pub node_kib_per_connection: f64,
    pub busiest_node_kib: f64,
    pub redis_kib_per_connection: f64,
    pub redis_rss_kib: f64,
    pub alive_after_idle: usize,
}

/// Connections one process may hold under `nofile` open files.
fn per_process(nofile: u64) -> usize {
    (nofile as usize).saturating_sub(SPARE_FILES).max(1_000)
}

/// Nodes and holders for `plan` under `nofile`.
pub fn layout(plan: &Plan, nofile: u64) -> (usize, usize) {
    let most = per_process(nofile);
    let nodes = plan.nodes.max(plan.connections.div_ceil(most));
    let holders = plan.connections.div_ceil(most).max(1);
    (nodes, holders)
}

pub fn rows(programs: &Programs, redis_bin: &Path, plan: &Plan, nofile: u64) -> Vec<Row> {
    let (nodes, _) = layout(plan, nofile);
    let s = format!("8 cluster idle, {} over {nodes} nodes", plan.connections);
    let m = match run(programs, redis_bin, plan, nofile) {
        Ok(m) => m,
        Err(e) => return vec![crate::failed_row(&s, "connected", &e)],
    };
    let connected = Row::new(
        &s,
        "connected",
        "",
        Some(m.reached as f64),
        None,
        Target::AtLeast(plan.connections as f64),
    )
    .note(format!(
        "{}{} nodes, {} holder processes; {} failed{}",
        if m.reached < plan.connections {
            format!("only {} of {}; ", m.reached, plan.connections)
        } else {
            String::new()
        },
        m.nodes,
        m.holders,
        m.failed,
        m.first_error
            .as_ref()
            .map(|e| format!(", first: {e}"))
            .unwrap_or_default()
    ));
    vec![
        connected,
        Row::new(
            &s,
            "node memory per connection",
            "KB",
            Some(m.node_kib_per_connection * 1.024),
            None,
            Target::AtMost(20.0),
        )
        .note(format!(
            "all nodes' growth / connections; busiest node grew {:.0} MB",
            m.busiest_node_kib * 1.024 / 1000.0
        )),
        Row::new(
            &s,
            "Redis memory per connection",
            "KB",
            Some(m.redis_kib_per_connection * 1.024),
            None,
            Target::None,
        )
        .note(format!(
            "Redis resident {:.0} MB with every connection held",
            m.redis_rss_kib * 1.024 / 1000.0
        )),
        Row::new(
            &s,
            "connect rate (whole cluster)",
            "/s",
            Some(m.reached as f64 / m.connect_seconds.max(1e-9)),
            None,
            Target::None,
        ),
        Row::new(
            &s,
            &format!("still open after {} s idle", plan.idle.as_secs()),
            "",
            Some(m.alive_after_idle as f64),
            None,
            Target::AtLeast(m.reached as f64),
        ),
    ]
}

/// One holder child and the lines it printed.
struct Holder {
    child: Child,
}

impl Drop for Holder {
    fn drop(&mut self) {
        // Closing stdin asks it to stop; kill in case it does not.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Line {
    Reached {
        ok: usize,
        failed: usize,
        error: Option<String>,
    },
    Alive(usize),
}

fn parse(line: &str) -> Option<Line> {
    let mut w = line.splitn(5, ' ');
    match w.next()? {
        "reached" => {
            let ok = w.next()?.parse().ok()?;
            let failed = w.next()?.parse().ok()?;
            let _secs = w.next();
            let error = w.next().map(str::to_string);
            Some(Line::Reached { ok, failed, error })
        }
        "alive" => Some(Line::Alive(w.next()?.parse().ok()?)),
        _ => None,
    }
}

fn run(
    programs: &Programs,
    redis_bin: &Path,
    plan: &Plan,
    nofile: u64,
) -> Result<Measured, String> {
    let (nodes_n, holders_n) = layout(plan, nofile);
    let redis = cluster::start_redis(redis_bin)?;
    let url = cluster::redis_url(&redis);
    let mut nodes: Vec<ChildServer> = Vec::new();
    for k in 0..nodes_n {
        nodes.push(cluster::start_node(programs, &url, &format!("bench-{k}"))?);
    }
    // Let the nodes finish their first heartbeats and audits.
    std::thread::sleep(SETTLE);
    let node_rss0: Vec<Option<u64>> = nodes.iter().map(ChildServer::rss_kib).collect();
    let redis_rss0 = redis.rss_kib();
    let addrs = nodes
        .iter()
        .map(|n| n.addr.to_string())
        .collect::<Vec<_>>()
        .join(",");

    let (tx, rx) = mpsc::channel::<(usize, String)>();
    let mut holders = Vec::new();
    let share = plan.connections.div_ceil(holders_n);
    let t0 = Instant::now();
    for h in 0..holders_n {
        let first = h * share;
        let count = share.min(plan.connections.saturating_sub(first));
        let mut child = Command::new(&programs.me)
            .args([
                "cluster-hold",
                "--nodes",
                &addrs,
                "--first",
                &first.to_string(),
                "--count",
                &count.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start a holder: {e}"))?;
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send((h, line)).is_err() {
                        break;
                    }
                }
            });
        }
        holders.push(Holder { child });
    }
    drop(tx);

    let mut reached = vec![None::<(usize, usize, Option<String>)>; holders_n];
    let mut alive = vec![0usize; holders_n];
    let deadline = t0 + CONNECT_TIMEOUT;
    while reached.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((h, line)) => match parse(&line) {
                Some(Line::Reached { ok, failed, error }) => {
                    crate::progress(&format!("  holder {h}: {ok} open, {failed} failed"));
                    reached[h] = Some((ok, failed, error));
                }
                Some(Line::Alive(n)) => alive[h] = n,
                None => {}
            },
            Err(_) => break,
        }
    }
    let connect_seconds = t0.elapsed().as_secs_f64();
    let ok: usize = reached.iter().flatten().map(|r| r.0).sum();
    let failed: usize = reached.iter().flatten().map(|r| r.1).sum();
    let first_error = reached
        .iter()
        .flatten()
        .find_map(|r| r.2.clone())
        .or_else(|| {
            reached
                .iter()
                .any(Option::is_none)
                .then(|| format!("a holder did not finish within {CONNECT_TIMEOUT:?}"))
        });

    std::thread::sleep(SETTLE);
    let mut grown = Vec::new();
    for (n, r0) in nodes.iter().zip(&node_rss0) {
        grown.push(match (r0, n.rss_kib()) {
            (Some(a), Some(b)) => b.saturating_sub(*a) as f64,
            _ => f64::NAN,
        });
    }
    let redis_rss = redis.rss_kib();
    let per = |kib: f64| if ok > 0 { kib / ok as f64 } else { f64::NAN };
    let redis_grown = match (redis_rss0, redis_rss) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64,
        _ => f64::NAN,
    };

    // Idle: drain the holders' reports, then count what is still open.
    crate::progress(&format!("  idle for {:?}", plan.idle));
    let idle_end = Instant::now() + plan.idle;
    while let Some(left) = idle_end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok((h, line)) => {
                if let Some(Line::Alive(n)) = parse(&line) {
                    alive[h] = n;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(left);
                break;
            }
        }
    }
    // One more report from each, written after the window.
    let mut fresh = vec![false; holders_n];
    let report_by = Instant::now() + Duration::from_secs(5);
    while fresh.iter().any(|f| !f) {
        let left = report_by.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((h, line)) => {
                if let Some(Line::Alive(n)) = parse(&line) {
                    alive[h] = n;
                    fresh[h] = true;
                }
            }
            Err(_) => break,
        }
    }
    let alive_after_idle = alive
        .iter()
        .zip(&fresh)
        .map(|(n, f)| if *f { *n } else { 0 })
        .sum();

    drop(holders);
    for n in nodes {
        n.stop(Duration::from_secs(20));
    }
    redis.stop(Duration::from_secs(5));
    Ok(Measured {
        nodes: nodes_n,
        holders: holders_n,
        reached: ok,
        failed,
        first_error,
        connect_seconds,
        node_kib_per_connection: per(grown.iter().sum()),
        busiest_node_kib: grown.iter().cloned().fold(0.0, f64::max),
        redis_kib_per_connection: per(redis_grown),
        redis_rss_kib: redis_rss.map_or(f64::NAN, |k| k as f64),
        alive_after_idle,
    })
}

/// Entry point of the `cluster-hold` subcommand.
pub fn hold_main(nodes: Vec<SocketAddr>, first: usize, count: usize) -> Result<(), String> {
    if nodes.is_empty() {
        return Err("no nodes given".into());
    }
    procfs::raise_nofile(1 << 20);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let stdin_closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let closed = Arc::clone(&stdin_closed);
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            closed.store(true, Ordering::Release);
        });
    }
    rt.block_on(hold(nodes, first, count, stdin_closed));
    Ok(())
}

async fn hold(
    nodes: Vec<SocketAddr>,
    first: usize,
    count: usize,
    stdin_closed: Arc<std::sync::atomic::AtomicBool>,
) {
    let project = otc_server::Project::dev();
    let gate = Arc::new(Semaphore::new(CONCURRENCY));
    let open = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut session: Option<(usize, String, String)> = None;
    let t0 = Instant::now();
    for i in first..first + count {
        let k = i / PER_SESSION;
        if session.as_ref().is_none_or(|s| s.0 != k) {
            let sid = otc_server::create_session_id(&project);
            let token =
                otc_server::mint_token(&project, &sid, &Default::default()).unwrap_or_default();
            session = Some((k, sid, token));
        }
        let Some((_, sid, token)) = session.clone() else {
            break;
        };
        let Ok(permit) = Arc::clone(&gate).acquire_owned().await else {
            break;
        };
        if t0.elapsed() > CONNECT_TIMEOUT {
            break;
        }
        let addr = nodes[i % nodes.len()];
        let (open, done, failed, first_error) = (
            Arc::clone(&open),
            Arc::clone(&done),
            Arc::clone(&failed),
            Arc::clone(&first_error),
        );
        tasks.spawn(async move {
            let joined = async {
                let path = wsclient::path_for(System::Ours, &sid);
                let mut ws =
                    wsclient::open(addr, &path, System::Ours, Some(source(i)), true).await?;
                wsclient::join(&mut ws, &sid, &token, true).await?;
                Ok::<_, String>(ws)
            };
            match joined.await {
                Ok(mut ws) => {
                    open.fetch_add(1, Ordering::AcqRel);
                    done.fetch_add(1, Ordering::AcqRel);
                    drop(permit);
                    let why = match wsclient::receive(&mut ws, System::Ours, None, |_| {}).await {
                        Ok(_) => "closed by the node".to_string(),
                        Err(e) => e,
                    };
                    open.fetch_sub(1, Ordering::AcqRel);
                    // The first connection lost says why (on stderr, for the
                    // operator; the parent counts what is still open).
                    if !LOST_REPORTED.swap(true, Ordering::AcqRel) {
                        eprintln!("otc-bench cluster-hold: a connection to {addr} ended: {why}");
                    }
                }
                Err(e) => {
                    failed.fetch_add(1, Ordering::AcqRel);
                    done.fetch_add(1, Ordering::AcqRel);
                    first_error
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(e);
                }
            }
        });
    }
    while done.load(Ordering::Acquire) < count && t0.elapsed() < CONNECT_TIMEOUT {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .map(|e| format!(" {}", e.replace('\n', " ")))
        .unwrap_or_default();
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say(format!(
        "reached {} {} {:.2}{error}",
        open.load(Ordering::Acquire),
        failed.load(Ordering::Acquire),
        t0.elapsed().as_secs_f64()
    ));
    let end = Instant::now() + HOLDER_LIFETIME;
    while !stdin_closed.load(Ordering::Acquire) && Instant::now() < end {
        tokio::time::sleep(Duration::from_secs(1)).await;
        say(format!("alive {}", open.load(Ordering::Acquire)));
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_keeps_every_process_under_the_open_file_limit() {
        let plan = Plan {
            connections: 100_000,
            nodes: 5,
            idle: Duration::from_secs(1),
        };
        // 20,000 files: 19,600 connections a process, so 6 nodes, 6 holders.
        assert_eq!(layout(&plan, 20_000), (6, 6));
        // With room to spare the plan's node count stands.
        assert_eq!(layout(&plan, 1 << 20), (5, 1));
    }

    #[test]
    fn holder_lines_parse() {
        match parse("reached 10 2 1.50 connect 127.0.0.1:1: refused") {
            Some(Line::Reached { ok, failed, error }) => {
                assert_eq!((ok, failed), (10, 2));
                assert_eq!(error.as_deref(), Some("connect 127.0.0.1:1: refused"));
            }
            _ => panic!("reached line not parsed"),
        }
        assert!(matches!(parse("alive 7"), Some(Line::Alive(7))));
        assert!(parse("noise").is_none());
    }
}
