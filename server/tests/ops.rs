//! Operations: `/metrics` (read with a strict parser of the text format,
//! and its counters followed as signals flow), `/healthz` and `/readyz`
//! through a graceful shutdown, and the `otc-server` binary's logs (JSON
//! lines, plain text off a terminal, refusals at WARN, a bad log level).

#[allow(dead_code)] // shared helpers; not every test uses each one
#[path = "it/client.rs"]
mod client;

/// One node alone: no Redis.
fn cluster_redis_url() -> Option<String> {
    None
}

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use client::{expect_refusal, send, Client, WAIT};
use otc_server::{Config, ServerHandle, ServerLimits, TokenOptions};
use protocol::{ClientMessage, ErrorCode, ServerMessage, PROTOCOL_VERSION, SUBPROTOCOL, WS_PATH};
use reqwest::StatusCode;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const BIN: &str = env!("CARGO_BIN_EXE_otc-server");

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .no_proxy()
        .build()
        .expect("http client")
}

// ---------------------------------------------------------------------
// A strict reader of the Prometheus / OpenMetrics text format.
// ---------------------------------------------------------------------

/// Sample name and sorted labels, e.g. `("otc_signals_refused_total",
/// [("code","1461"),("source","client")])`.
type Key = (String, Labels);

type Labels = Vec<(String, String)>;

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

/// Parses `{a="x",b="y"}` at the start of `s`; returns the labels and the
/// rest of the line.
fn parse_labels(s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Vec::new();
    let mut rest = s.strip_prefix('{').ok_or("no {")?;
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !valid_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err("label value not quoted".into());
        }
        let mut value = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => value.push('\n'),
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                '"' => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                c => value.push(c),
            }
        }
        let end = end.ok_or("unterminated label value")?;
        labels.push((name.to_string(), value));
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err("expected , or }".into());
        }
    }
}

/// Every sample of an exposition; an error for any line that is not a
/// known comment or a well-formed sample, or a missing `# EOF`.
fn parse_exposition(text: &str) -> Result<HashMap<Key, f64>, String> {
    let mut out = HashMap::new();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut eof = false;
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if eof {
            return Err(at("after # EOF".into()));
        }
        if line == "# EOF" {
            eof = true;
            continue;
        }
        if let Some(c) = line.strip_prefix("# ") {
            let mut w = c.splitn(3, ' ');
            let (kind, name) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
            if !valid_name(name) {
                return Err(at("bad metric name in comment".into()));
            }
            match kind {
                "HELP" | "UNIT" => {}
                "TYPE" => {
                    let t = w.next().unwrap_or("");
                    let known = [
                        "counter",
                        "gauge",
                        "histogram",
                        "info",
                        "summary",
                        "unknown",
                    ];
                    if !known.contains(&t) {
                        return Err(at(format!("unknown type {t:?}")));
                    }
                    types.insert(name.to_string(), t.to_string());
                }
                _ => return Err(at("unknown comment".into())),
            }
            continue;
        }
        let split = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..split];
        if !valid_name(name) {
            return Err(at("bad metric name".into()));
        }
        let (mut labels, rest) = if line[split..].starts_with('{') {
            parse_labels(&line[split..]).map_err(at)?
        } else {
            (Vec::new(), &line[split..])
        };
        let value = rest
            .strip_prefix(' ')
            .and_then(|v| v.split(' ').next())
            .ok_or_else(|| at("no value".into()))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|_| at("value is not a number".into()))?,
        };
        // Every sample belongs to a declared family.
        let family = ["_total", "_bucket", "_count", "_sum", "_info"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.contains_key(*f)))
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(at("sample of an undeclared family".into()));
        }
        labels.sort();
        if out.insert((name.to_string(), labels), value).is_some() {
            return Err(at("duplicate sample".into()));
        }
    }
    if !eof {
        return Err("no # EOF".into());
    }
    Ok(out)
}

struct Scrape(HashMap<Key, f64>);

impl Scrape {
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut l: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        l.sort();
        *self
            .0
            .get(&(name.to_string(), l))
            .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
    }
}

async fn scrape_at(base: &str) -> Scrape {
    let resp = http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = resp.text().await.expect("body");
    Scrape(parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}")))
}

async fn scrape(server: &ServerHandle) -> Scrape {
    scrape_at(&server.base_url()).await
}

#[test]
fn the_strict_reader_refuses_what_is_not_the_text_format() {
    let good = "# TYPE a counter\na_total{x=\"1\",y=\"q\\\"\"} 3\n# TYPE b gauge\nb 2.5\n# EOF\n";
    let s = parse_exposition(good).expect("good");
    assert_eq!(s.len(), 2);
    for bad in [
        "# TYPE a counter\na_total 1\n",                   // no EOF
        "a_total 1\n# EOF\n",                              // undeclared
        "# TYPE a counter\na_total{x=1} 1\n# EOF\n",       // unquoted
        "# TYPE a counter\na_total one\n# EOF\n",          // not a number
        "# TYPE a counter\n9a_total 1\n# EOF\n",           // bad name
        "# TYPE a wobble\na 1\n# EOF\n",                   // unknown type
        "# TYPE a counter\na_total 1\na_total 2\n# EOF\n", // duplicate
    ] {
        assert!(parse_exposition(bad).is_err(), "{bad:?}");
    }
}

// ---------------------------------------------------------------------
// /metrics follows the signals.
// ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_signals_as_they_flow() {
    let server = client::start_dev().await;
    let before = scrape(&server).await;
    let client = [("source", "client")];
    assert_eq!(before.get("otc_connections", &[]), 0.0);
    assert_eq!(before.get("otc_signals_received_total", &client), 0.0);
    assert_eq!(before.get("otc_ready", &[]), 1.0);

    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    client::created(&a.event().await);

    // Three broadcasts from a (each reaches a and b), two signals from b
    // to a only.
    for i in 0..3 {
        let seq = a.signal("chat", &format!("a{i}"), None).await;
        a.acked(seq).await;
    }
    for _ in 0..3 {
        a.signal_in().await;
        b.signal_in().await;
    }
    for i in 0..2 {
        let seq = b
            .signal("dm", &format!("b{i}"), Some(vec![a.id.clone()]))
            .await;
        b.acked(seq).await;
        a.signal_in().await;
    }
    // One refused: a type with a character outside the alphabet.
    let bad = a.signal("no spaces", "x", None).await;
    a.refused(bad, ErrorCode::InvalidSignalType).await;
    // And one from the application server, to both.
    server
        .hub()
        .signal_from_server(otc_server::DEV_API_KEY, &sid, None, "news", "hi")
        .await
        .expect("server signal");
    a.signal_in().await;
    b.signal_in().await;

    let after = scrape(&server).await;
    let delta =
        |name: &str, labels: &[(&str, &str)]| after.get(name, labels) - before.get(name, labels);
    let rest = [("source", "rest")];
    assert_eq!(delta("otc_signals_received_total", &client), 6.0);
    assert_eq!(delta("otc_signals_routed_total", &client), 5.0);
    assert_eq!(
        delta("otc_signals_delivered_total", &client),
        3.0 * 2.0 + 2.0
    );
    assert_eq!(
        delta(
            "otc_signals_refused_total",
            &[("source", "client"), ("code", "1461")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            "otc_signals_refused_total",
            &[("source", "client"), ("code", "1602")]
        ),
        0.0
    );
    assert_eq!(delta("otc_signals_received_total", &rest), 1.0);
    assert_eq!(delta("otc_signals_routed_total", &rest), 1.0);
    assert_eq!(delta("otc_signals_delivered_total", &rest), 2.0);
    // Every routed client signal was timed, and the buckets add up.
    assert_eq!(delta("otc_signal_routing_seconds_count", &[]), 5.0);
    assert_eq!(
        after.get("otc_signal_routing_seconds_bucket", &[("le", "+Inf")]),
        after.get("otc_signal_routing_seconds_count", &[])
    );
    assert!(after.get("otc_signal_routing_seconds_sum", &[]) > 0.0);
    assert_eq!(after.get("otc_connections", &[]), 2.0);
    assert_eq!(after.get("otc_websocket_links", &[]), 2.0);
    assert_eq!(after.get("otc_sessions", &[]), 1.0);
    assert_eq!(delta("otc_connects_total", &[("result", "ok")]), 2.0);
    // The first scrape was counted by its route template.
    assert!(
        after.get(
            "otc_http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")]
        ) >= 1.0
    );

    // A rate-limited sender: 1602 is counted under its code.
    let limited = client::start(Config {
        limits: ServerLimits {
            signal_rate_per_sec: 1,
            signal_burst: 1,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid2 = client::session();
    let mut c = Client::join(&limited, &sid2).await;
    let first = c.signal("t", "1", None).await;
    c.acked(first).await;
    let second = c.signal("t", "2", None).await;
    c.refused(second, ErrorCode::RateLimited).await;
    let m = scrape(&limited).await;
    assert_eq!(
        m.get(
            "otc_signals_refused_total",
            &[("source", "client"), ("code", "1602")]
        ),
        1.0
    );

    // Leaving is counted by reason, and the gauges come back down once
    // everything was acknowledged.
    b.disconnect().await;
    let deadline = Instant::now() + WAIT;
    loop {
        let m = scrape(&server).await;
        let left = m.get(
            "otc_connections_left_total",
            &[("reason", "client_disconnected")],
        );
        if left == 1.0 && m.get("otc_connections", &[]) == 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "b's departure not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.disconnect().await;
    let deadline = Instant::now() + WAIT;
    loop {
        let m = scrape(&server).await;
        if m.get("otc_connections", &[]) == 0.0
            && m.get("otc_replay_buffered_frames", &[]) == 0.0
            && m.get("otc_replay_buffered_bytes", &[]) == 0.0
            && m.get("otc_websocket_links", &[]) == 0.0
        {
            break;
        }
        assert!(Instant::now() < deadline, "gauges did not come back to 0");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.shutdown().await;
    limited.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_buffers_and_evictions_are_counted() {
    let server = client::start(Config {
        limits: ServerLimits {
            send_queue_frames: 16,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = client::session();
    // `slow` never reads, nor acknowledges.
    let mut slow = Client::join(&server, &sid).await;
    slow.auto_ack = false;
    // Fill its socket buffers and then its queue, from the application
    // server (bounded: 4000 signals of 8 KB at most).
    let pad = "x".repeat(8000);
    let mut saw_buffered = false;
    for i in 0..4000 {
        if server
            .hub()
            .signal_from_server(otc_server::DEV_API_KEY, &sid, None, "bulk", &pad)
            .await
            .is_err()
        {
            break;
        }
        if i == 0 {
            let m = scrape(&server).await;
            assert_eq!(m.get("otc_replay_buffered_frames", &[]), 1.0);
            assert!(m.get("otc_replay_buffered_bytes", &[]) > 8000.0);
            saw_buffered = true;
        }
        if server.hub().session_count() == 0 {
            break;
        }
    }
    assert!(saw_buffered);
    let deadline = Instant::now() + WAIT;
    loop {
        let m = scrape(&server).await;
        if m.get("otc_evictions_total", &[("reason", "slow_consumer")]) == 1.0 {
            assert_eq!(
                m.get("otc_connections_left_total", &[("reason", "slow_consumer")]),
                1.0
            );
            assert_eq!(m.get("otc_replay_buffered_bytes", &[]), 0.0);
            assert_eq!(m.get("otc_connections", &[]), 0.0);
            break;
        }
        assert!(Instant::now() < deadline, "no eviction counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(slow);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_are_counted_ok_and_refused() {
    let server = client::start_dev().await;
    let sid = client::session();
    let c = Client::join(&server, &sid).await;
    let (id, secret) = (c.id.clone(), c.secret.clone());
    drop(c); // the link drops; the connection waits for a resume
    let resume = |secret: String| ClientMessage::Resume {
        version: PROTOCOL_VERSION,
        api_key: otc_server::DEV_API_KEY.into(),
        session_id: sid.clone(),
        connection_id: id.clone(),
        resume_secret: secret,
        last_seq: 0,
        ack_runs: false,
        binary_signals: false,
    };
    let mut ws = client::open(&server).await;
    send(&mut ws, &resume("wrong".into())).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
    // The right secret: accepted (the old link may still be going away,
    // so try again for a moment).
    let deadline = Instant::now() + WAIT;
    loop {
        let mut ws = client::open(&server).await;
        send(&mut ws, &resume(secret.clone())).await;
        if let client::Next::Msg(ServerMessage::Resumed { .. }) = client::next(&mut ws).await {
            break;
        }
        assert!(Instant::now() < deadline, "resume never accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let m = scrape(&server).await;
    assert_eq!(m.get("otc_resumes_total", &[("result", "ok")]), 1.0);
    assert!(m.get("otc_resumes_total", &[("result", "refused")]) >= 1.0);
    server.shutdown().await;
}

#[test]
fn metrics_listen_and_log_format_come_from_flags_env_and_file() {
    use clap::Parser;
    use otc_server::cli::{resolve, Cli};
    use otc_server::logging::LogFormat;
    let cli = Cli::try_parse_from([
        "otc-server",
        "--metrics-listen",
        "127.0.0.1:9464",
        "--log-format",
        "json",
    ])
    .expect("parse");
    assert_eq!(cli.common.log_format, Some(LogFormat::Json));
    let r = resolve(&cli.common, &cli.serve).expect("resolve");
    assert_eq!(r.log_format, LogFormat::Json);
    assert_eq!(
        r.config.metrics_listen,
        Some("127.0.0.1:9464".parse().expect("addr"))
    );
    let plain = Cli::try_parse_from(["otc-server"]).expect("parse");
    assert_eq!(plain.common.log_format, None);
    assert_eq!(
        resolve(&plain.common, &plain.serve)
            .expect("resolve")
            .log_format,
        LogFormat::Text
    );
    assert!(Cli::try_parse_from(["otc-server", "--log-format", "yaml"]).is_err());

    let dir = std::env::temp_dir().join(format!("otc-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("otc-server.toml");
    std::fs::write(
        &file,
        "metrics_listen = \"127.0.0.1:9465\"\nlog_format = \"json\"\n",
    )
    .expect("write");
    let path = file.to_string_lossy().to_string();
    let cli = Cli::try_parse_from(["otc-server", "--config", &path]).expect("parse");
    let r = resolve(&cli.common, &cli.serve).expect("resolve");
    assert_eq!(r.config.metrics_listen.map(|a| a.port()), Some(9465));
    assert_eq!(r.log_format, LogFormat::Json, "log_format from the file");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------
// /healthz and /readyz through a graceful shutdown.
// ---------------------------------------------------------------------

async fn status_of(url: &str) -> Option<StatusCode> {
    http().get(url).send().await.ok().map(|r| r.status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_while_draining_and_healthz_stays_200() {
    let server = client::start(Config {
        metrics_listen: Some("127.0.0.1:0".parse().expect("addr")),
        limits: ServerLimits {
            // Room to queue far more than the sockets hold.
            send_queue_frames: 8192,
            send_queue_bytes: 64 * 1024 * 1024,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let ops = format!(
        "http://{}",
        server.metrics_addr().expect("metrics listener")
    );
    let main = server.base_url();
    assert_eq!(
        status_of(&format!("{main}/healthz")).await,
        Some(StatusCode::OK)
    );
    assert_eq!(
        status_of(&format!("{main}/readyz")).await,
        Some(StatusCode::OK)
    );
    // With a metrics listener, /metrics lives only there.
    assert_eq!(
        status_of(&format!("{main}/metrics")).await,
        Some(StatusCode::NOT_FOUND)
    );
    let m = scrape_at(&ops).await;
    assert_eq!(m.get("otc_ready", &[]), 1.0);
    assert_eq!(
        status_of(&format!("{ops}/readyz")).await,
        Some(StatusCode::OK)
    );

    // A client that does not read, with far more queued for it than its
    // socket holds, so the drain waits for it.
    let sid = client::session();
    let reader = Client::join(&server, &sid).await;
    let pad = "x".repeat(8000);
    for _ in 0..3000 {
        server
            .hub()
            .signal_from_server(otc_server::DEV_API_KEY, &sid, None, "bulk", &pad)
            .await
            .expect("queued");
    }
    let shutdown = tokio::spawn(server.shutdown());
    let deadline = Instant::now() + WAIT;
    loop {
        match status_of(&format!("{ops}/readyz")).await {
            Some(StatusCode::SERVICE_UNAVAILABLE) => break,
            Some(StatusCode::OK) => {}
            other => panic!("/readyz during the drain: {other:?}"),
        }
        assert!(Instant::now() < deadline, "/readyz never turned 503");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!shutdown.is_finished(), "still draining");
    assert_eq!(
        status_of(&format!("{ops}/healthz")).await,
        Some(StatusCode::OK)
    );
    let m = scrape_at(&ops).await;
    assert_eq!(m.get("otc_ready", &[]), 0.0);
    // The client goes away: the drain ends, and so does the listener.
    drop(reader);
    tokio::time::timeout(WAIT * 2, shutdown)
        .await
        .expect("shutdown ends")
        .expect("shutdown task");
    assert_eq!(status_of(&format!("{ops}/healthz")).await, None);
}

// ---------------------------------------------------------------------
// The binary's logs.
// ---------------------------------------------------------------------

/// A running `otc-server serve`, its stderr collected line by line.
struct Served {
    child: Child,
    base: String,
    stderr: mpsc::Receiver<String>,
}

fn serve(args: &[&str], envs: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("OTC_API_KEY")
        .env_remove("OTC_API_SECRET")
        .env_remove("OTC_CONFIG")
        .env_remove("OTC_LOG_LEVEL")
        .env_remove("OTC_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let (addr_tx, addr_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("otc-server: listening on ") {
                let url = rest.split_whitespace().next().unwrap_or("").to_string();
                let _ = addr_tx.send(url);
            }
        }
    });
    let base = addr_rx.recv_timeout(WAIT).expect("prints its address");
    Served {
        child,
        base,
        stderr: line_rx,
    }
}

impl Served {
    /// SIGTERM, wait for the exit (bounded), and every stderr line.
    fn stop(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(code) = self.child.try_wait().expect("wait") {
                assert!(code.success(), "exit status {code:?}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut lines = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(WAIT) {
            lines.push(l);
        }
        lines
    }

    fn ws_url(&self) -> String {
        format!("{}{WS_PATH}", self.base.replacen("http://", "ws://", 1))
    }
}

async fn open_url(url: &str) -> client::Ws {
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("open in time")
        .expect("open");
    ws
}

/// The local address of a client socket (what the server logs as the peer).
fn local_addr(ws: &client::Ws) -> std::net::SocketAddr {
    match ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp.local_addr().expect("local addr"),
        _ => panic!("plain TCP expected"),
    }
}

fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v.is_object(), "{l}");
            assert!(v["timestamp"].is_string(), "{l}");
            assert!(v["level"].is_string(), "{l}");
            assert!(v["fields"]["message"].is_string(), "{l}");
            v
        })
        .collect()
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v["fields"][name].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_name_every_refusal() {
    let served = serve(
        &[
            "--log-format",
            "json",
            "--signal-rate-per-sec",
            "1",
            "--signal-burst",
            "1",
        ],
        &[],
    );
    let sid = client::session();

    // A refused token.
    let mut ws = open_url(&served.ws_url()).await;
    let token_peer = local_addr(&ws);
    send(&mut ws, &client::connect_msg(&sid, "not-a-token", false)).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;

    // An unknown API key.
    let mut ws = open_url(&served.ws_url()).await;
    let mut m = client::connect_msg(&sid, &client::token(&sid), false);
    if let ClientMessage::Connect { api_key, .. } = &mut m {
        *api_key = "999999".into();
    }
    send(&mut ws, &m).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;

    // A refused resume.
    let mut ws = open_url(&served.ws_url()).await;
    let resume_peer = local_addr(&ws);
    send(
        &mut ws,
        &ClientMessage::Resume {
            version: PROTOCOL_VERSION,
            api_key: otc_server::DEV_API_KEY.into(),
            session_id: sid.clone(),
            connection_id: "c0ffee".into(),
            resume_secret: "wrong".into(),
            last_seq: 0,
            ack_runs: false,
            binary_signals: false,
        },
    )
    .await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;

    // The rate limit: one signal goes, the next two are refused.
    let mut ws = open_url(&served.ws_url()).await;
    let rate_peer = local_addr(&ws);
    let opts = TokenOptions::default();
    let token = otc_server::mint_token(&otc_server::Project::dev(), &sid, &opts).expect("mint");
    send(&mut ws, &client::connect_msg(&sid, &token, false)).await;
    assert!(matches!(
        client::next_msg(&mut ws).await,
        ServerMessage::Connected { .. }
    ));
    for seq in 1..=3 {
        let s = ClientMessage::Signal {
            seq,
            signal_type: "t".into(),
            data: "d".into(),
            to: None,
        };
        send(&mut ws, &s).await;
    }
    let mut refused = 0;
    for _ in 0..10 {
        if refused == 2 {
            break;
        }
        if let ServerMessage::SignalError { code, .. } = client::next_msg(&mut ws).await {
            assert_eq!(code, ErrorCode::RateLimited);
            refused += 1;
        }
    }
    assert_eq!(refused, 2);

    // REST: no credentials (403), and a request that is fine (404 for a
    // session nobody is in, logged at INFO).
    let signal = format!("{}/v2/project/100000/session/{sid}/signal", served.base);
    let r = http().post(&signal).send().await.expect("POST");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let jwt = otc_server::rest::mint_rest_token(&otc_server::Project::dev(), WAIT).expect("jwt");
    let r = http()
        .post(&signal)
        .header("X-OPENTOK-AUTH", jwt)
        .json(&serde_json::json!({"type": "t", "data": "d"}))
        .send()
        .await
        .expect("POST");
    // Still connected: the rate-limited client is in the session.
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    drop(ws);

    let lines = served.stop();
    let logs = json_lines(&lines);
    let find = |pred: &dyn Fn(&Value) -> bool, what: &str| -> Value {
        logs.iter()
            .find(|v| pred(v))
            .cloned()
            .unwrap_or_else(|| panic!("no log line for {what}:\n{}", lines.join("\n")))
    };
    let start = find(
        &|v| field(v, "message").contains("listening on"),
        "start-up",
    );
    assert_eq!(field(&start, "version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(start["fields"]["projects"], 1);
    assert!(field(&start, "limits").contains("rate=1/s"), "{start}");

    let token = find(
        &|v| field(v, "message") == "connect refused" && field(v, "reason").contains("token"),
        "the refused token",
    );
    assert_eq!(token["level"], "WARN");
    assert_eq!(field(&token, "peer"), token_peer.to_string());
    assert_eq!(field(&token, "project"), otc_server::DEV_API_KEY);
    assert_eq!(field(&token, "session"), sid);
    assert_eq!(token["fields"]["code"], 1004);

    let key = find(
        &|v| field(v, "message") == "connect refused" && field(v, "project") == "999999",
        "the unknown API key",
    );
    assert_eq!(key["level"], "WARN");
    assert!(field(&key, "reason").contains("unknown API key"), "{key}");

    let resume = find(
        &|v| field(v, "message") == "resume refused",
        "the refused resume",
    );
    assert_eq!(resume["level"], "WARN");
    assert_eq!(field(&resume, "peer"), resume_peer.to_string());
    assert_eq!(field(&resume, "session"), sid);
    assert_eq!(field(&resume, "connection"), "c0ffee");

    // Both rate refusals came within a second: one line for them.
    let rate: Vec<&Value> = logs
        .iter()
        .filter(|v| field(v, "message").contains("rate limit"))
        .collect();
    assert_eq!(rate.len(), 1, "{rate:?}");
    assert_eq!(rate[0]["level"], "WARN");
    assert_eq!(field(rate[0], "peer"), rate_peer.to_string());
    assert_eq!(field(rate[0], "project"), otc_server::DEV_API_KEY);
    assert_eq!(field(rate[0], "session"), sid);

    let rest = find(
        &|v| field(v, "message") == "REST request refused",
        "the REST 403",
    );
    assert_eq!(rest["level"], "WARN");
    assert_eq!(rest["fields"]["status"], 403);
    assert_eq!(
        field(&rest, "route"),
        "/v2/project/{key}/session/{sid}/signal"
    );
    assert_eq!(field(&rest, "project"), "100000");
    assert_eq!(field(&rest, "session"), sid);
    assert!(field(&rest, "peer").starts_with("127.0.0.1:"), "{rest}");
    assert!(field(&rest, "reason").contains("project JWT"), "{rest}");

    let ok = find(
        &|v| field(v, "message") == "REST request" && v["fields"]["status"] == 204,
        "the REST request log",
    );
    assert_eq!(ok["level"], "INFO");
    assert_eq!(field(&ok, "method"), "POST");
    assert!(ok["fields"]["duration_ms"].is_number(), "{ok}");
}

#[test]
fn text_logs_have_no_colour_codes_off_a_terminal() {
    let served = serve(&["--log-format", "text", "--log-level", "debug"], &[]);
    // Something to log: a request.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let r = http()
            .get(format!("{}/nope", served.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    });
    let lines = served.stop();
    let text = lines.join("\n");
    assert!(text.contains("listening on"), "{text}");
    assert!(text.contains("unmatched"), "{text}");
    assert!(
        !text.contains("\x1b["),
        "colour codes in a piped log:\n{text}"
    );
}

#[test]
fn an_invalid_log_level_stops_the_start() {
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("OTC_LOG_LEVEL")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn");
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{args:?} kept running");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, err)
    };
    for (args, envs) in [
        (
            &["serve", "--listen", "127.0.0.1:0", "--log-level", "inf"][..],
            &[][..],
        ),
        (
            &["serve", "--listen", "127.0.0.1:0"][..],
            &[("RUST_LOG", "verbose")][..],
        ),
        (
            &["serve", "--listen", "127.0.0.1:0"][..],
            &[("OTC_LOG_LEVEL", "info,otc_server=loud")][..],
        ),
        (&["create-session", "--log-level", "chatty"][..], &[][..]),
    ] {
        let (status, err) = run(args, envs);
        assert!(!status.success(), "{args:?} {envs:?} started");
        assert!(err.contains("invalid log level"), "{args:?}: {err}");
    }
    let (status, err) = run(&["serve", "--log-format", "xml"], &[]);
    assert!(!status.success());
    assert!(err.contains("xml"), "{err}");
}
