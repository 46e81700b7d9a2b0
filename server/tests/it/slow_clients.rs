//! Connections that never authenticate: silent sockets, slow-loris headers,
//! upgraded links that never send `connect`, idle HTTP keep-alive, and
//! thousands of them at once, with the per-address and total caps. Timeouts
//! are configured small (hundreds of milliseconds) so each test takes about
//! a second; the margins are generous, as the tests share two cores.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use otc_server::{Config, ServerHandle, ServerLimits};
use protocol::{ErrorCode, ServerMessage, SUBPROTOCOL};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

use crate::client::{
    connect_msg, created, next_msg, send, session, start, token, ws_url, Client, Ws, WAIT,
};

/// How late after its timeout the server may close a connection and still
/// pass (scheduling on a loaded two-core machine, not a performance claim).
const MARGIN: Duration = Duration::from_millis(1500);

/// Lower bound slack: the server's timer starts at its accept, a little
/// before the test's clock does.
const EARLY: Duration = Duration::from_millis(50);

fn config(limits: ServerLimits) -> Config {
    Config {
        limits,
        ..Config::dev()
    }
}

fn loopback(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

/// A raw TCP connection to the server from the loopback address `source`.
async fn tcp_from(server: &ServerHandle, source: Ipv4Addr) -> TcpStream {
    let sock = TcpSocket::new_v4().expect("socket");
    sock.bind(SocketAddr::new(IpAddr::V4(source), 0))
        .expect("bind a loopback source address");
    tokio::time::timeout(WAIT, sock.connect(server.local_addr()))
        .await
        .expect("connect in time")
        .expect("connect")
}

/// Reads until the server closes the connection (end of stream or reset),
/// for at most `limit`; returns how long that took from `since`, or `None`
/// if it stayed open.
async fn closed_within(tcp: &mut TcpStream, since: Instant, limit: Duration) -> Option<Duration> {
    let end = Instant::now() + limit;
    let mut buf = [0u8; 4096];
    // Bounded: each round either ends the wait or consumes bytes.
    for _ in 0..1000 {
        match tokio::time::timeout_at(end.into(), tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(since.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
    None
}

/// Polls `cond` every 10 ms until it holds, for at most [`WAIT`].
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let end = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends `GET /health` on a kept-alive connection and reads the response;
/// `None` if the connection closed first. Also says whether the server
/// announced `connection: close`.
async fn get_health(tcp: &mut TcpStream) -> Option<(String, bool)> {
    let req = "GET /health HTTP/1.1\r\nHost: test\r\n\r\n";
    if tcp.write_all(req.as_bytes()).await.is_err() {
        return None;
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    for _ in 0..100 {
        let n = match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return None,
        };
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_lowercase();
        if let Some(head_end) = text.find("\r\n\r\n") {
            // `/health` answers "ok" with a content-length of 2.
            if text.len() >= head_end + 4 + 2 {
                let close = text[..head_end].contains("connection: close");
                return Some((text[head_end + 4..].to_string(), close));
            }
        }
    }
    None
}

/// Opens a WebSocket from the loopback address `source`.
async fn ws_from(server: &ServerHandle, source: Ipv4Addr) -> Ws {
    let tcp = tcp_from(server, source).await;
    let mut req = ws_url(server).into_client_request().expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp)),
    )
    .await
    .expect("upgrade in time")
    .expect("upgrade");
    ws
}

/// Opens a WebSocket from `source` and has its `connect` accepted.
async fn join_from(server: &ServerHandle, source: Ipv4Addr) -> Ws {
    let mut ws = ws_from(server, source).await;
    let sid = session();
    send(&mut ws, &connect_msg(&sid, &token(&sid), true)).await;
    match next_msg(&mut ws).await {
        ServerMessage::Connected { .. } => ws,
        other => panic!("expected connected, got {other:?}"),
    }
}

#[tokio::test]
async fn silent_connection_is_closed_at_the_header_timeout() {
    let header = Duration::from_millis(300);
    let server = start(config(ServerLimits {
        http_header_timeout: header,
        auth_timeout: Duration::from_secs(30),
        ..Default::default()
    }))
    .await;
    let t0 = Instant::now();
    let mut tcp = tcp_from(&server, loopback(1)).await;
    eventually("the connection is pending", || {
        server.pending_connections() == 1
    })
    .await;
    let took = closed_within(&mut tcp, t0, header + MARGIN)
        .await
        .expect("a silent connection is closed");
    assert!(
        took + EARLY >= header,
        "closed by the timeout, after {took:?}"
    );
    eventually("its slot is free", || server.pending_connections() == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn dripped_headers_are_cut_off_at_the_header_timeout() {
    let header = Duration::from_millis(300);
    let server = start(config(ServerLimits {
        http_header_timeout: header,
        auth_timeout: Duration::from_secs(30),
        ..Default::default()
    }))
    .await;
    let t0 = Instant::now();
    let mut tcp = tcp_from(&server, loopback(1)).await;
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n")
        .await
        .expect("request line");
    // One header line every 100 ms: each read sees progress, the head is
    // never complete. Bounded: 50 lines would take 5 s.
    let mut took = None;
    for i in 0..50 {
        if tcp
            .write_all(format!("X-Drip-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            took = Some(t0.elapsed());
            break;
        }
        if let Some(t) = closed_within(&mut tcp, t0, Duration::from_millis(100)).await {
            took = Some(t);
            break;
        }
    }
    let took = took.expect("the dripping client is cut off");
    assert!(
        took + EARLY >= header,
        "closed by the timeout, after {took:?}"
    );
    assert!(took <= header + MARGIN, "closed only after {took:?}");
    eventually("its slot is free", || server.pending_connections() == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_request_head_is_refused_at_once() {
    let server = start(config(ServerLimits {
        http_header_timeout: Duration::from_secs(30),
        ..Default::default()
    }))
    .await;
    let mut tcp = tcp_from(&server, loopback(1)).await;
    let big = "a".repeat(protocol::limits::MAX_HTTP_REQUEST_HEAD_BYTES + 1024);
    let req = format!("GET /health HTTP/1.1\r\nHost: test\r\nX-Big: {big}\r\n\r\n");
    let t = Instant::now();
    // The server may stop reading (and reset) before all of it is written.
    let _ = tcp.write_all(req.as_bytes()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let mut closed = false;
    for _ in 0..100 {
        match tokio::time::timeout(MARGIN, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            Ok(_) => {
                closed = true;
                break;
            }
            Err(_) => break,
        }
    }
    assert!(
        closed,
        "closed without waiting for the header timeout (got {:?})",
        String::from_utf8_lossy(&got)
    );
    let head = String::from_utf8_lossy(&got);
    // The 431 is lost if the reset for the unread rest arrives first.
    assert!(
        head.is_empty() || head.starts_with("HTTP/1.1 431"),
        "refused as too large: {head}"
    );
    assert!(t.elapsed() < MARGIN, "refused at once");
    eventually("its slot is free", || server.pending_connections() == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn upgraded_link_without_connect_is_closed_at_the_auth_deadline() {
    let auth = Duration::from_millis(400);
    let server = start(config(ServerLimits {
        auth_timeout: auth,
        // Far beyond the test: only the auth deadline can end the link.
        idle_timeout: Duration::from_secs(30),
        ..Default::default()
    }))
    .await;
    let t0 = Instant::now();
    let mut ws = ws_from(&server, loopback(1)).await;
    // A ping every 50 ms keeps the link busy but never authenticates it.
    // Bounded: 100 rounds of 50 ms (answers are read within each round).
    let mut refused = None;
    'rounds: for _ in 0..100 {
        if ws.send(Message::Ping(vec![1].into())).await.is_err() {
            break;
        }
        let round_end = tokio::time::Instant::now() + Duration::from_millis(50);
        for _ in 0..100 {
            match tokio::time::timeout_at(round_end, ws.next()).await {
                Err(_) => continue 'rounds,
                Ok(Some(Ok(Message::Text(t)))) => {
                    let m = ServerMessage::decode(t.as_str()).expect("decode");
                    refused = Some((m, t0.elapsed()));
                    break 'rounds;
                }
                // The pong to our ping.
                Ok(Some(Ok(_))) => continue,
                Ok(_) => break 'rounds,
            }
        }
    }
    let (msg, took) = refused.expect("an error frame before the close");
    match msg {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::TimedOut),
        other => panic!("expected error 1021, got {other:?}"),
    }
    assert!(
        took + EARLY >= auth,
        "closed by the deadline, after {took:?}"
    );
    assert!(took <= auth + MARGIN, "closed only after {took:?}");
    let close = crate::client::expect_close(&mut ws).await;
    assert_eq!(close.map(|c| u16::from(c.code)), Some(1008));
    eventually("its slot is free", || server.pending_connections() == 0).await;

    // A client that connects in time is not bound by the deadline.
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    assert_eq!(
        server.pending_connections(),
        0,
        "joined links are not pending"
    );
    tokio::time::sleep(auth * 2).await;
    let seq = a
        .signal("after-deadline", "still here", Some(vec![b.id.clone()]))
        .await;
    a.acked(seq).await;
    let (_, ty, data) = b.signal_in().await;
    assert_eq!(
        (ty.as_str(), data.as_str()),
        ("after-deadline", "still here")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legitimate_clients_get_in_past_2000_idle_connections() {
    // 2,000 silent sockets from 127.0.0.2 ..= 127.0.0.9 (250 each, under
    // the default per-address cap), plus the server's 2,000 ends: about
    // 4,000 descriptors in this process.
    const SOURCES: u8 = 8;
    const PER_SOURCE: usize = 250;
    const IDLE: usize = SOURCES as usize * PER_SOURCE;
    let header = Duration::from_secs(2);
    let server = start(config(ServerLimits {
        http_header_timeout: header,
        auth_timeout: Duration::from_secs(3),
        ..Default::default()
    }))
    .await;
    let t0 = Instant::now();
    let mut idle = Vec::with_capacity(IDLE);
    for s in 0..SOURCES {
        let source = loopback(2 + s);
        let batch = (0..PER_SOURCE).map(|_| tcp_from(&server, source));
        idle.extend(futures_util::future::join_all(batch).await);
    }
    eventually("every idle connection is pending", || {
        server.pending_connections() >= IDLE
    })
    .await;
    let opened = t0.elapsed();
    assert!(opened < header, "opening took {opened:?}, past the timeout");

    let t1 = Instant::now();
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    assert_eq!(created(&a.event().await).id, b.id);
    let seq = a
        .signal("hello", "through the crowd", Some(vec![b.id.clone()]))
        .await;
    a.acked(seq).await;
    let (from, ty, data) = b.signal_in().await;
    assert_eq!(from.as_deref(), Some(a.id.as_str()));
    assert_eq!((ty.as_str(), data.as_str()), ("hello", "through the crowd"));
    let joined = t1.elapsed();
    assert!(
        server.pending_connections() >= IDLE,
        "the idle ones were still open meanwhile"
    );
    eprintln!("{IDLE} idle connections open in {opened:?}; two clients joined and signalled in {joined:?}");

    // And the server lets go of every one of them at the header timeout.
    eventually("every idle connection is closed", || {
        server.pending_connections() == 0
    })
    .await;
    let all_closed = t0.elapsed();
    assert!(
        all_closed <= header + MARGIN * 2,
        "closed after {all_closed:?}"
    );
    for tcp in &mut idle {
        let t = Instant::now();
        assert!(
            closed_within(tcp, t, MARGIN).await.is_some(),
            "the server closed its end"
        );
    }
    drop(idle);
    // The joined clients were never affected.
    let seq = b.signal("back", "ok", Some(vec![a.id.clone()])).await;
    b.acked(seq).await;
    assert_eq!(a.signal_in().await.2, "ok");
    server.shutdown().await;
}

#[tokio::test]
async fn caps_per_address_and_in_total_refuse_at_once() {
    let server = start(config(ServerLimits {
        max_pending_per_ip: 20,
        max_pending_connections: 30,
        // Far beyond the test: the held sockets stay pending.
        http_header_timeout: Duration::from_secs(30),
        auth_timeout: Duration::from_secs(30),
        ..Default::default()
    }))
    .await;
    let quick = Duration::from_millis(1000);
    let mut from_1 = Vec::new();
    for _ in 0..20 {
        from_1.push(tcp_from(&server, loopback(1)).await);
    }
    eventually("20 pending", || server.pending_connections() == 20).await;

    // One more from 127.0.0.1 is closed at once...
    let t = Instant::now();
    let mut over = tcp_from(&server, loopback(1)).await;
    assert!(
        closed_within(&mut over, t, quick).await.is_some(),
        "over the per-address cap: closed at once"
    );
    // ...while another address still gets in, and once joined no longer
    // counts.
    let mut joined = join_from(&server, loopback(2)).await;
    eventually("back to 20 pending", || server.pending_connections() == 20).await;

    // Fill the total from 127.0.0.2; then a third address is refused too.
    let mut from_2 = Vec::new();
    for _ in 0..10 {
        from_2.push(tcp_from(&server, loopback(2)).await);
    }
    eventually("30 pending", || server.pending_connections() == 30).await;
    let t = Instant::now();
    let mut over = tcp_from(&server, loopback(3)).await;
    assert!(
        closed_within(&mut over, t, quick).await.is_some(),
        "over the total cap: closed at once"
    );
    // The held ones were not disturbed.
    assert_eq!(server.pending_connections(), 30);

    // Closing some frees their slots for anyone.
    from_1.truncate(15);
    eventually("25 pending", || server.pending_connections() == 25).await;
    let again = join_from(&server, loopback(1)).await;
    eventually("still 25 pending", || server.pending_connections() == 25).await;
    drop((again, from_1, from_2));
    eventually("none pending", || server.pending_connections() == 0).await;

    // The joined link kept working throughout.
    send(&mut joined, &protocol::ClientMessage::Ping { id: 7 }).await;
    assert_eq!(next_msg(&mut joined).await, ServerMessage::Pong { id: 7 });
    server.shutdown().await;
}

#[tokio::test]
async fn rest_works_and_idle_keep_alive_is_closed() {
    let header = Duration::from_millis(300);
    let server = start(config(ServerLimits {
        http_header_timeout: header,
        auth_timeout: Duration::from_secs(30),
        ..Default::default()
    }))
    .await;
    let http = reqwest::Client::builder()
        .timeout(WAIT)
        .no_proxy()
        .build()
        .expect("http client");
    let url = format!("{}/health", server.base_url());
    for round in 0..2 {
        let r = http.get(&url).send().await.expect("request");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        assert_eq!(r.text().await.expect("body"), "ok");
        if round == 0 {
            // Past the idle timeout: the pooled connection is gone, and the
            // client opens a new one without the caller noticing.
            tokio::time::sleep(header * 2).await;
        }
    }

    // Kept alive, a second request in time is served on the same
    // connection; after that, silence closes it.
    let mut tcp = tcp_from(&server, loopback(1)).await;
    let (body, close) = get_health(&mut tcp).await.expect("first response");
    assert_eq!((body.as_str(), close), ("ok", false));
    tokio::time::sleep(header / 3).await;
    let (body, _) = get_health(&mut tcp).await.expect("second response");
    assert_eq!(body, "ok");
    let t = Instant::now();
    let took = closed_within(&mut tcp, t, header + MARGIN)
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(
        took + EARLY >= header,
        "closed by the timeout, after {took:?}"
    );
    eventually("no slot held", || server.pending_connections() == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn busy_keep_alive_is_closed_at_the_auth_deadline() {
    let auth = Duration::from_millis(1000);
    let server = start(config(ServerLimits {
        http_header_timeout: Duration::from_millis(300),
        auth_timeout: auth,
        ..Default::default()
    }))
    .await;
    let t0 = Instant::now();
    let mut tcp = tcp_from(&server, loopback(1)).await;
    // A request every 100 ms never lets the connection idle out; the auth
    // deadline still ends it, after a complete response. Bounded: 50
    // rounds take about 5 s.
    let mut served = 0;
    let mut took = None;
    for _ in 0..50 {
        match get_health(&mut tcp).await {
            None => {
                took = Some(t0.elapsed());
                break;
            }
            Some((body, close)) => {
                assert_eq!(body, "ok", "never a cut-off response");
                served += 1;
                if close {
                    took = closed_within(&mut tcp, t0, MARGIN).await;
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = took.expect("closed at the deadline");
    assert!(served >= 3, "served {served} requests before the deadline");
    assert!(
        took + EARLY >= auth,
        "closed by the deadline, after {took:?}"
    );
    assert!(took <= auth + MARGIN, "closed only after {took:?}");
    server.shutdown().await;
}
