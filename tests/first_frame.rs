//! What the library accepts before the server's answer to `connect`: a
//! server pings every link from the moment it opens, so a join slower than
//! its ping interval (a cluster node waiting on Redis) sends a `ping`
//! first. The library answers it and goes on waiting for `connected`.
//!
//! And what it does with a refused resume: a refusal that says "not now"
//! (1503 from a cluster node cut off from Redis, 1023 from a server
//! shutting down, 2000) is tried again; only a final one ends the session.
//!
//! The server here is a scripted one on loopback (tokio-tungstenite), so
//! the frames and their order are exactly the test's.

mod ffi_support;

use std::sync::mpsc;
use std::time::Duration;

use ffi_support::*;
use futures_util::{SinkExt, StreamExt};
use opentok::ffi::*;
use protocol::{ClientMessage, ConnectionInfo, ServerMessage, PROTOCOL_VERSION, SUBPROTOCOL};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Accepts the next link, with the protocol's subprotocol.
async fn accept(listener: &tokio::net::TcpListener) -> Option<Ws> {
    let (tcp, _) = listener.accept().await.ok()?;
    // The callback's error type is tungstenite's (an HTTP response).
    #[allow(clippy::result_large_err)]
    let with_subprotocol = |_: &Request, mut resp: Response| {
        resp.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        Ok(resp)
    };
    tokio_tungstenite::accept_hdr_async(tcp, with_subprotocol)
        .await
        .ok()
}

/// The client's next frame (within 10 s).
async fn next_client(ws: &mut Ws) -> Option<ClientMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return ClientMessage::decode(t.as_str()).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

fn connected(session_id: String) -> ServerMessage {
    ServerMessage::Connected {
        version: PROTOCOL_VERSION,
        session_id,
        connection: ConnectionInfo {
            id: "c".repeat(32),
            created_at_ms: 1,
            data: String::new(),
        },
        connections: Vec::new(),
        resume_secret: "s".repeat(64),
        last_seq: 0,
        ping_interval_ms: 5_000,
        reconnect_grace_ms: 30_000,
        // A server of before binary signal frames.
        binary_signals: false,
    }
}

/// Accepts one link, reads `connect`, pings twice, checks both pongs, then
/// answers `connected`. Reports each step on `steps`.
async fn scripted_server(listener: tokio::net::TcpListener, steps: mpsc::Sender<String>) {
    let Some(mut ws) = accept(&listener).await else {
        return;
    };
    let Some(ClientMessage::Connect { session_id, .. }) = next_client(&mut ws).await else {
        let _ = steps.send("no connect".into());
        return;
    };
    let _ = steps.send("connect".into());
    for id in [7u64, 8] {
        let ping = ServerMessage::Ping { id }.encode();
        if ws.send(Message::text(ping)).await.is_err() {
            return;
        }
        match next_client(&mut ws).await {
            Some(ClientMessage::Pong { id: got }) if got == id => {
                let _ = steps.send(format!("pong {id}"));
            }
            other => {
                let _ = steps.send(format!("expected pong {id}, got {other:?}"));
                return;
            }
        }
    }
    if ws
        .send(Message::text(connected(session_id).encode()))
        .await
        .is_err()
    {
        return;
    }
    hold_until_the_client_goes(ws).await;
}

/// Reads (and drops) the client's frames until it goes, at most 10 s.
async fn hold_until_the_client_goes(mut ws: Ws) {
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// A library session connected through the scripted server at `base`.
fn connected_client(base: &str) -> Client {
    let session_id = server().new_session_id();
    let c = Client::new_at(base, &session_id, true, None);
    let token = cs(&server().token(&session_id, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, token.as_ptr()) },
        OTC_SUCCESS
    );
    c.rec
        .wait_until("on_connected", |e| e.contains(&Ev::Connected));
    c
}

/// Runs `script` on a loopback listener in a runtime of its own: the
/// runtime, the base URL to give the library, and the steps it reports.
fn serve<F: std::future::Future<Output = ()> + Send + 'static>(
    script: impl FnOnce(tokio::net::TcpListener, mpsc::Sender<String>) -> F,
) -> (tokio::runtime::Runtime, String, mpsc::Receiver<String>) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    rt.spawn(script(listener, tx));
    (rt, base, rx)
}

#[test]
fn pings_before_connected_are_answered_and_the_join_goes_on() {
    // The runtime lives to the end of the test: it runs the scripted server.
    let (_rt, base, rx) = serve(scripted_server);

    let mut c = connected_client(&base);
    let steps: Vec<String> = rx.try_iter().collect();
    assert_eq!(steps, ["connect", "pong 7", "pong 8"]);
    assert!(
        !c.rec
            .snapshot()
            .iter()
            .any(|e| matches!(e, Ev::Error { .. })),
        "no error reported: {:?}",
        c.rec.snapshot()
    );
    c.delete();
}

/// Accepts a join, drops its link, refuses the first resume with `code`,
/// and (if `then_resume`) accepts the second. Reports each step.
async fn refusing_server(
    listener: tokio::net::TcpListener,
    code: protocol::ErrorCode,
    steps: mpsc::Sender<String>,
) {
    let Some(mut ws) = accept(&listener).await else {
        return;
    };
    let Some(ClientMessage::Connect { session_id, .. }) = next_client(&mut ws).await else {
        return;
    };
    if ws
        .send(Message::text(connected(session_id).encode()))
        .await
        .is_err()
    {
        return;
    }
    drop(ws); // the link is lost, without a word
    let _ = steps.send("dropped".into());
    for attempt in 1..=2 {
        let Some(mut ws) = accept(&listener).await else {
            return;
        };
        let Some(ClientMessage::Resume { .. }) = next_client(&mut ws).await else {
            let _ = steps.send(format!("attempt {attempt}: no resume"));
            return;
        };
        let _ = steps.send(format!("resume {attempt}"));
        let answer = if attempt == 1 {
            ServerMessage::Error {
                code,
                message: "not now".into(),
            }
        } else {
            ServerMessage::Resumed {
                last_client_seq: 0,
                binary_signals: false,
            }
        };
        if ws.send(Message::text(answer.encode())).await.is_err() {
            return;
        }
        if attempt == 2 {
            let _ = tokio::time::timeout(Duration::from_secs(10), async {
                while let Some(Ok(_)) = ws.next().await {}
            })
            .await;
        }
    }
}

fn run_refusal(code: protocol::ErrorCode) -> (Vec<String>, Vec<Ev>, Client) {
    let (rt, base, rx) = serve(move |l, tx| refusing_server(l, code, tx));
    let session_id = server().new_session_id();
    let c = Client::new_at(&base, &session_id, true, Some(20_000));
    let token = cs(&server().token(&session_id, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, token.as_ptr()) },
        OTC_SUCCESS
    );
    let evs = c.rec.wait_until("reconnected or disconnected", |e| {
        e.contains(&Ev::Reconnected) || e.contains(&Ev::Disconnected)
    });
    let steps = rx.try_iter().collect();
    rt.shutdown_background(); // the scripted server may still hold the link
    (steps, evs, c)
}

#[test]
fn a_resume_refused_for_now_is_tried_again() {
    for code in [
        protocol::ErrorCode::NoMessagingServer,
        protocol::ErrorCode::ConnectionRefused,
        protocol::ErrorCode::InternalError,
    ] {
        let (steps, evs, mut c) = run_refusal(code);
        assert_eq!(steps, ["dropped", "resume 1", "resume 2"], "{code:?}");
        assert!(evs.contains(&Ev::ReconnectionStarted), "{code:?}: {evs:?}");
        assert!(evs.contains(&Ev::Reconnected), "{code:?}: {evs:?}");
        assert!(!evs.contains(&Ev::Disconnected), "{code:?}: {evs:?}");
        c.delete();
    }
}

#[test]
fn a_final_resume_refusal_ends_the_session() {
    let (steps, evs, mut c) = run_refusal(protocol::ErrorCode::AuthorizationFailure);
    assert_eq!(steps, ["dropped", "resume 1"]);
    assert!(evs.contains(&Ev::Disconnected), "{evs:?}");
    assert!(!evs.contains(&Ev::Reconnected), "{evs:?}");
    c.delete();
}

/// A server that does not agree to binary signal frames (one from before
/// them): reports whether `connect` offered them, answers without them,
/// then reports how the client's next signal came: as JSON text.
async fn text_only_server(listener: tokio::net::TcpListener, steps: mpsc::Sender<String>) {
    let Some(mut ws) = accept(&listener).await else {
        return;
    };
    let Some(ClientMessage::Connect {
        session_id,
        binary_signals,
        ..
    }) = next_client(&mut ws).await
    else {
        let _ = steps.send("no connect".into());
        return;
    };
    let _ = steps.send(format!("connect, binary offered: {binary_signals}"));
    if ws
        .send(Message::text(connected(session_id).encode()))
        .await
        .is_err()
    {
        return;
    }
    let step = match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => match ClientMessage::decode(t.as_str()) {
            Ok(ClientMessage::Signal {
                signal_type, data, ..
            }) => format!("text signal {signal_type} {data}"),
            other => format!("text frame {other:?}"),
        },
        Ok(Some(Ok(Message::Binary(_)))) => "binary frame".to_string(),
        other => format!("no signal: {other:?}"),
    };
    let _ = steps.send(step);
    hold_until_the_client_goes(ws).await;
}

#[test]
fn a_server_that_does_not_agree_to_binary_frames_gets_json_signals() {
    let (_rt, base, rx) = serve(text_only_server);
    let mut c = connected_client(&base);
    let (ty, data) = (cs("chat"), cs("say \"hi\""));
    assert_eq!(
        unsafe { otc_session_send_signal(c.session, ty.as_ptr(), data.as_ptr()) },
        OTC_SUCCESS
    );
    let steps: Vec<String> = (0..2)
        .map_while(|_| rx.recv_timeout(Duration::from_secs(10)).ok())
        .collect();
    assert_eq!(
        steps,
        [
            "connect, binary offered: true",
            "text signal chat say \"hi\""
        ]
    );
    c.delete();
}
