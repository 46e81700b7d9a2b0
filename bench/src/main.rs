//! `otc-bench`: measures libopentok + otc-server against a minimal
//! tokio-tungstenite relay, in the same run, and reports every figure as a
//! ratio to that baseline.
//!
//! ```text
//! otc-bench [--quick] [--runs N] [--out FILE] [--only SCENARIO,...] [--server-bin PATH]
//! ```
//!
//! Modules, one concept each:
//!
//! * [`relay`] — the baseline relay (also run as `otc-bench relay`);
//! * [`procfs`] — child server processes, their CPU time and memory;
//! * [`wsclient`] — raw WebSocket load generators for both systems;
//! * [`pair`] — the 1→1 sender/receiver: library sessions through the C ABI
//!   (ours) or raw relay clients (baseline);
//! * [`one_to_one`], [`fanout`], [`connections`], [`client_scale`],
//!   [`isolation`] — the scenarios;
//! * [`cluster`] — Redis and cluster nodes as child processes, and the
//!   cross-node pair (scenario 7); [`cluster_idle`] — idle connections over
//!   many nodes, held by child processes (scenario 8);
//! * [`report`] — rows, the table and the JSON file.
//!
//! Servers run as child processes so that their CPU time and memory can be
//! read from `/proc` without the load generator's share.

mod client_scale;
mod cluster;
mod cluster_idle;
mod connections;
mod fanout;
mod isolation;
mod one_to_one;
mod pair;
mod procfs;
mod relay;
mod report;
mod wsclient;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::pair::{BasePair, LibPair, Pair};
use crate::procfs::ChildServer;
use crate::report::{Machine, Results, Row, Target};
use crate::wsclient::System;

#[derive(Debug, Parser)]
#[command(name = "otc-bench", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the benchmarks (the default).
    Run(RunArgs),
    /// Internal: serve the baseline relay.
    #[command(hide = true)]
    Relay {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// Internal: hold many client sessions and print what they cost.
    #[command(hide = true)]
    ClientScale {
        #[arg(long)]
        system: SystemArg,
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        sessions: usize,
    },
    /// Internal: hold idle connections spread over cluster nodes.
    #[command(hide = true)]
    ClusterHold {
        #[arg(long, value_delimiter = ',')]
        nodes: Vec<SocketAddr>,
        #[arg(long)]
        first: usize,
        #[arg(long)]
        count: usize,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SystemArg {
    Ours,
    Baseline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Latency,
    Throughput,
    Fanout,
    Connections,
    ClientScale,
    Isolation,
    Cluster,
    ClusterIdle,
}

#[derive(Debug, Args, Clone, Default)]
struct RunArgs {
    /// Small counts: the whole run takes well under a minute.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON results.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Run only these scenarios (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// The otc-server binary [default: next to this program].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Highest idle-connection count tried in the full run.
    #[arg(long, default_value_t = 50_000)]
    max_connections: usize,
    /// The redis-server binary for the cluster scenarios [default: on PATH].
    #[arg(long)]
    redis_server: Option<PathBuf>,
    /// Runs of the latency, throughput and fan-out scenarios: each figure is
    /// the median over them, shown with the lowest and highest run.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: u32,
}

/// Counts of one run (full or quick).
struct Plan {
    latency: one_to_one::LatencyPlan,
    throughput_for: Duration,
    fanout: Vec<fanout::Plan>,
    connection_levels: Vec<usize>,
    client_sessions: usize,
    isolation: isolation::Plan,
    cluster_pair: cluster::PairPlan,
    cluster_idle: cluster_idle::Plan,
}

impl Plan {
    fn new(a: &RunArgs, nofile: u64) -> Plan {
        // Each connection is one descriptor in the server process and one
        // here; keep some for everything else.
        let most = (nofile.saturating_sub(500) as usize).max(10_000);
        if a.quick {
            Plan {
                latency: one_to_one::LatencyPlan {
                    count: 1_000,
                    warmup: 100,
                    per_second: 1_000.0,
                },
                throughput_for: Duration::from_millis(500),
                fanout: vec![
                    fanout::Plan {
                        receivers: 100,
                        signals: 200,
                        window: 8,
                    },
                    fanout::Plan {
                        receivers: 1_000,
                        signals: 30,
                        window: 8,
                    },
                ],
                connection_levels: vec![10_000],
                client_sessions: 1_000,
                isolation: isolation::Plan {
                    participants: 600,
                    alone: Duration::from_millis(1_500),
                    load_for: Duration::from_secs(5),
                    after_joins: Duration::from_secs(3),
                    sender_rate: 200.0,
                    signal_bytes: 1_000,
                    send_queue_frames: 256,
                },
                cluster_pair: cluster::PairPlan {
                    latency: one_to_one::LatencyPlan {
                        count: 500,
                        warmup: 50,
                        per_second: 1_000.0,
                    },
                    throughput_for: Duration::from_millis(500),
                },
                cluster_idle: cluster_idle::Plan {
                    connections: 10_000,
                    nodes: 2,
                    idle: Duration::from_secs(3),
                },
            }
        } else {
            Plan {
                latency: one_to_one::LatencyPlan {
                    count: 5_000,
                    warmup: 200,
                    per_second: 500.0,
                },
                throughput_for: Duration::from_secs(3),
                fanout: vec![
                    fanout::Plan {
                        receivers: 100,
                        signals: 3_000,
                        window: 8,
                    },
                    fanout::Plan {
                        receivers: 1_000,
                        signals: 400,
                        window: 8,
                    },
                ],
                connection_levels: vec![10_000, a.max_connections.clamp(10_000, most)],
                client_sessions: 1_000,
                isolation: isolation::Plan {
                    participants: 1_900,
                    alone: Duration::from_secs(3),
                    load_for: Duration::from_secs(22),
                    after_joins: Duration::from_secs(6),
                    sender_rate: 100.0,
                    signal_bytes: 1_000,
                    send_queue_frames: 1_024,
                },
                cluster_pair: cluster::PairPlan {
                    latency: one_to_one::LatencyPlan {
                        count: 5_000,
                        warmup: 200,
                        per_second: 500.0,
                    },
                    throughput_for: Duration::from_secs(3),
                },
                // 100,000 over 5 nodes is the aim; under a 20,000-file
                // limit a node holds at most ~19,600, so a sixth is added
                // (cluster_idle::layout).
                cluster_idle: cluster_idle::Plan {
                    connections: 100_000,
                    nodes: 5,
                    idle: Duration::from_secs(10),
                },
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Relay { listen }) => serve_relay(listen),
        Some(Cmd::ClientScale {
            system,
            addr,
            sessions,
        }) => client_scale::child_main(system.into(), addr, sessions),
        Some(Cmd::ClusterHold {
            nodes,
            first,
            count,
        }) => cluster_idle::hold_main(nodes, first, count),
        Some(Cmd::Run(args)) => run(&args),
        None => run(&cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("otc-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

impl From<SystemArg> for System {
    fn from(s: SystemArg) -> System {
        match s {
            SystemArg::Ours => System::Ours,
            SystemArg::Baseline => System::Baseline,
        }
    }
}

fn serve_relay(listen: SocketAddr) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("relay cannot listen on {listen}: {e}"))?;
        relay::serve(l).await;
        Ok(())
    })
}

/// The programs the benchmark starts.
struct Programs {
    me: PathBuf,
    server: PathBuf,
}

impl Programs {
    fn find(args: &RunArgs) -> Result<Programs, String> {
        let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
        let server = match &args.server_bin {
            Some(p) => p.clone(),
            None => me.with_file_name("otc-server"),
        };
        if !server.exists() {
            return Err(format!(
                "{server:?} not found: build it with `cargo build --release -p otc-server` \
                 (same target dir) or pass --server-bin"
            ));
        }
        Ok(Programs { me, server })
    }

    fn start_ours(&self) -> Result<ChildServer, String> {
        self.start_ours_with(&[], Stdio::inherit())
    }

    /// Our server with the benchmark's flags, then `extra` flags; its
    /// standard error goes to `stderr`.
    fn start_ours_with(&self, extra: &[String], stderr: Stdio) -> Result<ChildServer, String> {
        let addr: SocketAddr = (
            [127, 0, 0, 1],
            procfs::free_port().map_err(|e| e.to_string())?,
        )
            .into();
        // The per-connection rate limit (5,000/s by default) is a policy, not
        // a cost: lift it so throughput measures the implementation.
        let args: Vec<String> = [
            "--listen",
            &addr.to_string(),
            "--log-level",
            "warn",
            "--signal-rate-per-sec",
            "1000000000",
            "--signal-burst",
            "1000000000",
            // The server acknowledges a signal once it is routed (no
            // end-to-end flow control), so during the throughput runs the
            // receiver's un-acknowledged events are bounded only by the
            // driver's window (2,048) plus how far its `ack`s lag. On two
            // shared cores they can lag by tens of milliseconds, which at
            // ~300k signals/s passes the default replay bound (8,192) now
            // and then and ends the receiver with `replay_overflow`. A larger
            // bound is a memory policy, like the rate limit: raise it. (The
            // send queue needs no raising since the writers batch their
            // flushes; see docs/performance.md.)
            "--replay-buffer-frames",
            "65536",
            // One sender's signals may take a quarter of a recipient's
            // queue and replay buffer (SENDER_SHARE_DIVISOR); the 1->1 runs
            // keep 2,048 signals of up to 8 KB in flight to one receiver, so
            // the queue bounds are raised to make that share 4,096 frames
            // and 64 MiB.
            "--send-queue-frames",
            "16384",
            "--send-queue-bytes",
            "268435456",
            "--replay-buffer-bytes",
            "536870912",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // `extra` overrides: a flag given there is dropped from the above
        // (every flag above takes one value).
        let mut args: Vec<String> = args
            .chunks(2)
            .filter(|pair| !extra.contains(&pair[0]))
            .flatten()
            .cloned()
            .collect();
        args.extend(extra.iter().cloned());
        ChildServer::spawn_with("otc-server", &self.server, &args, addr, stderr)
            .map_err(|e| e.to_string())
    }

    fn start_relay(&self) -> Result<ChildServer, String> {
        let addr: SocketAddr = (
            [127, 0, 0, 1],
            procfs::free_port().map_err(|e| e.to_string())?,
        )
            .into();
        let args = vec!["relay".to_string(), "--listen".into(), addr.to_string()];
        ChildServer::spawn("relay", &self.me, &args, addr).map_err(|e| e.to_string())
    }
}

fn progress(msg: &str) {
    eprintln!("otc-bench: {msg}");
}

fn run(args: &RunArgs) -> Result<(), String> {
    let started = Instant::now();
    let wants = |s: Scenario| args.only.is_empty() || args.only.contains(&s);
    let nofile = procfs::raise_nofile(1 << 20);
    let programs = Programs::find(args)?;
    let plan = Plan::new(args, nofile);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows: Vec<Row> = Vec::new();

    let ours = programs.start_ours()?;
    let base = programs.start_relay()?;
    progress(&format!(
        "otc-server pid {} at {}, relay pid {} at {}, open-file limit {nofile}",
        ours.pid(),
        ours.addr,
        base.pid(),
        base.addr
    ));

    if wants(Scenario::Latency) || wants(Scenario::Throughput) {
        let capacity = 4_000_000;
        let lib = LibPair::connect(&ours.base_url(), &ours.base_url(), capacity);
        let raw = BasePair::connect(rt.handle(), base.addr, capacity);
        match (&lib, &raw) {
            (Ok(lib), Ok(raw)) => {
                if wants(Scenario::Latency) {
                    rows.extend(repeated(args.runs, "1 latency", || {
                        latency_rows(lib, raw, &plan)
                    }));
                }
                if wants(Scenario::Throughput) {
                    rows.extend(repeated(args.runs, "2 throughput", || {
                        throughput_rows(lib, raw, &plan)
                    }));
                }
            }
            (l, r) => {
                let e = [l.as_ref().err(), r.as_ref().err()]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ");
                rows.push(failed_row("1-2 one-to-one", "set-up", &e));
            }
        }
    }

    if wants(Scenario::Fanout) {
        for p in &plan.fanout {
            let what = format!("3 fan-out 1->{}", p.receivers);
            rows.extend(repeated(args.runs, &what, || {
                let o = rt.block_on(fanout::run(System::Ours, &ours, p));
                let b = rt.block_on(fanout::run(System::Baseline, &base, p));
                fanout_rows(p, o, b)
            }));
        }
    }

    if wants(Scenario::ClientScale) {
        progress(&format!(
            "5 client scale ({} sessions)",
            plan.client_sessions
        ));
        let n = plan.client_sessions;
        let o = client_scale::measure(&programs.me, System::Ours, ours.addr, n);
        let b = client_scale::measure(&programs.me, System::Baseline, base.addr, n);
        rows.extend(client_scale_rows(n, o, b));
    }
    ours.stop(Duration::from_secs(5));
    base.stop(Duration::from_secs(5));

    if wants(Scenario::Connections) {
        progress(&format!("4 connections {:?}", plan.connection_levels));
        let o = fresh_levels(&programs, &rt, System::Ours, &plan.connection_levels);
        let b = fresh_levels(&programs, &rt, System::Baseline, &plan.connection_levels);
        rows.extend(connection_rows(&plan.connection_levels, o, b));
    }

    if wants(Scenario::Isolation) {
        let p = &plan.isolation;
        progress(&format!(
            "6 isolation (B alone, then while A fills with {} non-readers)",
            p.participants
        ));
        // A fresh server: A's half-dead sockets must not linger into, or
        // come from, another scenario. Its standard error goes to a file:
        // every eviction is logged, and A's can be many.
        let log = args.out.with_file_name("isolation-server.log");
        let r = std::fs::create_dir_all(log.parent().unwrap_or(Path::new(".")))
            .and_then(|()| std::fs::File::create(&log))
            .map_err(|e| format!("cannot create {}: {e}", log.display()))
            .and_then(|file| {
                let extra = [
                    "--send-queue-frames".to_string(),
                    p.send_queue_frames.to_string(),
                ];
                programs.start_ours_with(&extra, Stdio::from(file))
            })
            .and_then(|server| {
                let r = rt.block_on(isolation::run(&server, p));
                server.stop(Duration::from_secs(10));
                r
            })
            .map(|r| (r, isolation::LogCount::read(&log)));
        rows.extend(isolation_rows(p, r, &log));
    }

    if wants(Scenario::Cluster) || wants(Scenario::ClusterIdle) {
        match cluster::find_redis(args.redis_server.as_deref()) {
            Ok(redis) => {
                if wants(Scenario::Cluster) {
                    progress("7 cluster 1->1 (cross-node and same node against standalone)");
                    rows.extend(cluster::pair_rows(&programs, &redis, &plan.cluster_pair));
                }
                if wants(Scenario::ClusterIdle) {
                    let p = &plan.cluster_idle;
                    let (nodes, holders) = cluster_idle::layout(p, nofile);
                    progress(&format!(
                        "8 cluster idle: {} connections over {nodes} nodes from {holders} holders",
                        p.connections
                    ));
                    rows.extend(cluster_idle::rows(&programs, &redis, p, nofile));
                }
            }
            Err(e) => rows.push(failed_row("7-8 cluster", "set-up", &e)),
        }
    }

    let wall = started.elapsed().as_secs_f64();
    let table = report::table(&rows);
    println!("{table}");
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let results = Results {
        command,
        quick: args.quick,
        machine: Machine::detect(),
        unix_time: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        wall_seconds: wall,
        rows: &rows,
    };
    report::write_json(&args.out, &results)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    let m = &results.machine;
    println!(
        "machine: {} x {}, {} GiB; wall time {wall:.0} s; results in {}",
        m.cpus,
        m.cpu_model,
        m.memory_gib,
        args.out.display()
    );
    Ok(())
}

/// Runs a scenario `runs` times (both systems each time, so every run's
/// ratio compares like with like) and merges the rows into medians with
/// their spread (see [`report::merge_runs`]).
fn repeated(runs: u32, what: &str, mut once: impl FnMut() -> Vec<Row>) -> Vec<Row> {
    let all = (1..=runs)
        .map(|i| {
            progress(&format!("{what} (run {i} of {runs})"));
            once()
        })
        .collect();
    report::merge_runs(all)
}

fn failed_row(scenario: &str, figure: &str, error: &str) -> Row {
    Row::new(scenario, figure, "", None, None, Target::None).note(format!("failed: {error}"))
}

fn latency_rows(lib: &dyn Pair, raw: &dyn Pair, plan: &Plan) -> Vec<Row> {
    let s = "1 latency 1->1, 100 B";
    let o = one_to_one::latency(lib, &plan.latency);
    let b = one_to_one::latency(raw, &plan.latency);
    let (o, b) = match (o, b) {
        (Ok(o), Ok(b)) => (o, b),
        (o, b) => {
            let e = format!("ours: {:?}; baseline: {:?}", o.err(), b.err());
            return vec![failed_row(s, "one-way latency", &e)];
        }
    };
    let rate = format!("{} samples at {}/s", o.samples, plan.latency.per_second);
    vec![
        Row::new(
            s,
            "p50",
            "us",
            Some(o.p50_us),
            Some(b.p50_us),
            Target::RatioAtMost(1.1),
        )
        .note(rate),
        Row::new(
            s,
            "p99",
            "us",
            Some(o.p99_us),
            Some(b.p99_us),
            Target::RatioAtMost(1.3),
        ),
        Row::new(
            s,
            "p99.9",
            "us",
            Some(o.p999_us),
            Some(b.p999_us),
            Target::None,
        ),
    ]
}

fn throughput_rows(lib: &dyn Pair, raw: &dyn Pair, plan: &Plan) -> Vec<Row> {
    let s = "2 throughput 1->1";
    let mut rows = Vec::new();
    for (size, label) in [(100usize, "100 B"), (8192, "8 KB")] {
        let o = one_to_one::throughput(lib, size, plan.throughput_for);
        let b = one_to_one::throughput(raw, size, plan.throughput_for);
        let figure = format!("{label} signals");
        match (o, b) {
            (Ok((o, _)), Ok((b, _))) => rows.push(Row::new(
                s,
                &figure,
                "/s",
                Some(o),
                Some(b),
                Target::RatioAtLeast(0.9),
            )),
            (o, b) => rows.push(failed_row(
                s,
                &figure,
                &format!("ours: {:?}; baseline: {:?}", o.err(), b.err()),
            )),
        }
    }
    rows
}

fn fanout_rows(
    p: &fanout::Plan,
    o: Result<fanout::FanOut, String>,
    b: Result<fanout::FanOut, String>,
) -> Vec<Row> {
    let s = format!("3 fan-out 1->{}", p.receivers);
    let (o, b) = match (o, b) {
        (Ok(o), Ok(b)) => (o, b),
        (o, b) => {
            let e = format!("ours: {:?}; baseline: {:?}", o.err(), b.err());
            return vec![failed_row(&s, "deliveries", &e)];
        }
    };
    vec![
        Row::new(
            &s,
            "deliveries",
            "/s",
            Some(o.deliveries_per_sec),
            Some(b.deliveries_per_sec),
            Target::None,
        )
        .note(format!("{} signals, window {}", p.signals, p.window)),
        Row::new(
            &s,
            "server CPU per delivery",
            "us",
            Some(o.cpu_us_per_delivery),
            Some(b.cpu_us_per_delivery),
            // The target is set for the largest session measured.
            if p.receivers >= 1_000 {
                Target::AtMost(1.0)
            } else {
                Target::None
            },
        ),
        Row::new(
            &s,
            "p50 delivery latency",
            "ms",
            Some(o.p50_us / 1000.0),
            Some(b.p50_us / 1000.0),
            Target::None,
        ),
        Row::new(
            &s,
            "p99 delivery latency",
            "ms",
            Some(o.p99_us / 1000.0),
            Some(b.p99_us / 1000.0),
            Target::None,
        ),
    ]
}

fn client_scale_rows(
    n: usize,
    o: Result<client_scale::Measured, String>,
    b: Result<client_scale::Measured, String>,
) -> Vec<Row> {
    let s = format!("5 client scale, {n} sessions");
    let (o, b) = match (o, b) {
        (Ok(o), Ok(b)) => (o, b),
        (o, b) => {
            let e = format!("ours: {:?}; baseline: {:?}", o.err(), b.err());
            return vec![failed_row(&s, "threads", &e)];
        }
    };
    vec![
        Row::new(
            &s,
            "process threads",
            "",
            Some(o.threads_after as f64),
            Some(b.threads_after as f64),
            Target::AtMost((n - 1) as f64),
        )
        .note(format!("{} before the sessions", o.threads_before)),
        Row::new(
            &s,
            "memory per session",
            "KB",
            Some(o.kib_per_session() * 1.024),
            Some(b.kib_per_session() * 1.024),
            Target::None,
        ),
        Row::new(
            &s,
            "connect all",
            "s",
            Some(o.connect_seconds),
            Some(b.connect_seconds),
            Target::None,
        ),
    ]
}

fn isolation_rows(
    p: &isolation::Plan,
    r: Result<(isolation::Isolation, isolation::LogCount), String>,
    log: &Path,
) -> Vec<Row> {
    let s = format!("6 isolation, A: {} non-readers", p.participants);
    let (r, logged) = match r {
        Ok(r) => r,
        Err(e) => return vec![failed_row(&s, "B round trip", &e)],
    };
    let mut rows = Vec::new();
    for (phase, f, time) in [
        ("B alone", &r.alone, p.alone.as_secs_f64()),
        ("B while A fills", &r.load, r.load_seconds),
    ] {
        let ms = |us: f64| Some(us / 1000.0);
        let row = |figure: &str, v: f64| {
            Row::new(
                &s,
                &format!("{phase}: round trip {figure}"),
                "ms",
                ms(v),
                None,
                Target::None,
            )
        };
        rows.push(row("p50", f.p50_us).note(format!(
            "{} rounds in {time:.1} s, {} over 100 ms",
            f.rounds, f.stalls
        )));
        rows.push(row("p99", f.p99_us));
        rows.push(row("max", f.max_us));
    }
    if let Some(e) = &r.probe_error {
        rows.push(failed_row(&s, "B stopped early", e));
    }
    let mut joined = format!(
        "{} of {} joined in {:.1} s",
        r.joined, p.participants, r.join_seconds
    );
    if let Some(e) = &r.first_join_error {
        joined.push_str(&format!("; {} failed, first: {e}", r.join_errors));
    }
    rows.push(
        Row::new(
            &s,
            "A join rate",
            "/s",
            Some(r.joined as f64 / r.join_seconds.max(1e-9)),
            None,
            Target::None,
        )
        .note(joined),
    );
    // The server's log names every evicted connection (several times
    // over, in a cascade); A's reading member sees each departure, unless
    // it is evicted itself.
    rows.push(
        Row::new(
            &s,
            "A slow-consumer evictions",
            "",
            Some(logged.evicted as f64),
            None,
            Target::None,
        )
        .note(format!(
            "connections named in the server's warnings; A's reading member saw {}{}; \
             it broadcast {} signals of {} B at {}/s; server send queue {} frames",
            r.evictions,
            if r.sender_alive {
                ""
            } else {
                " before it was evicted too"
            },
            r.broadcasts,
            p.signal_bytes,
            p.sender_rate,
            p.send_queue_frames
        )),
    );
    rows.push(Row::new(
        &s,
        "server CPU while A fills",
        "s",
        Some(r.load_cpu_seconds),
        None,
        Target::None,
    ));
    rows.push(
        Row::new(
            &s,
            "server log lines",
            "",
            Some(logged.lines as f64),
            None,
            Target::None,
        )
        .note(format!(
            "{:.1} MB in {}, {} of them slow-consumer warnings",
            logged.bytes as f64 / 1e6,
            log.display(),
            logged.eviction_warnings
        )),
    );
    rows
}

fn fresh_levels(
    programs: &Programs,
    rt: &tokio::runtime::Runtime,
    system: System,
    levels: &[usize],
) -> Result<Vec<connections::Level>, String> {
    let server = match system {
        System::Ours => programs.start_ours()?,
        System::Baseline => programs.start_relay()?,
    };
    let out = rt.block_on(connections::run(system, &server, levels));
    server.stop(Duration::from_secs(10));
    Ok(out)
}

fn connection_rows(
    levels: &[usize],
    o: Result<Vec<connections::Level>, String>,
    b: Result<Vec<connections::Level>, String>,
) -> Vec<Row> {
    let (o, b) = match (o, b) {
        (Ok(o), Ok(b)) => (o, b),
        (o, b) => {
            let e = format!("ours: {:?}; baseline: {:?}", o.err(), b.err());
            return vec![failed_row("4 connections", "idle connections", &e)];
        }
    };
    let mut rows = Vec::new();
    for (i, wanted) in levels.iter().enumerate() {
        let s = format!("4 connections, {wanted} idle");
        let (lo, lb) = (o.get(i), b.get(i));
        let reached = |l: Option<&connections::Level>| l.map(|l| l.reached as f64);
        let mut r = Row::new(
            &s,
            "connected",
            "",
            reached(lo),
            reached(lb),
            Target::AtLeast(*wanted as f64),
        );
        let errs: Vec<String> = [("ours", lo), ("baseline", lb)]
            .iter()
            .filter_map(|(who, l)| {
                l.and_then(|l| l.error.clone())
                    .map(|e| format!("{who}: {e}"))
            })
            .collect();
        if !errs.is_empty() {
            r = r.note(errs.join("; "));
        }
        rows.push(r);
        rows.push(Row::new(
            &s,
            "server memory per connection",
            "KB",
            lo.map(|l| l.kib_per_connection * 1.024),
            lb.map(|l| l.kib_per_connection * 1.024),
            Target::AtMost(20.0),
        ));
        rows.push(Row::new(
            &s,
            "connect rate",
            "/s",
            lo.map(|l| l.connects_per_sec),
            lb.map(|l| l.connects_per_sec),
            Target::None,
        ));
    }
    rows
}
