//! What the library accepts before the server's answer to `connect`: a
//! server pings every link from the moment it opens, so a join slower than
//! its ping interval (a cluster node waiting on Redis) sends a `ping`
//! first. The library answers it and goes on waiting for `connected`.
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

/// Accepts one link, reads `connect`, pings twice, checks both pongs, then
/// answers `connected`. Reports each step on `steps`.
async fn scripted_server(listener: tokio::net::TcpListener, steps: mpsc::Sender<String>) {
    let Ok((tcp, _)) = listener.accept().await else {
        return;
    };
    // The callback's error type is tungstenite's (an HTTP response).
    #[allow(clippy::result_large_err)]
    let with_subprotocol = |_: &Request, mut resp: Response| {
        resp.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, with_subprotocol).await else {
        return;
    };
    let next_client = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return ClientMessage::decode(t.as_str()).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
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
    let connected = ServerMessage::Connected {
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
    };
    if ws.send(Message::text(connected.encode())).await.is_err() {
        return;
    }
    // Hold the link until the client goes.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

#[test]
fn pings_before_connected_are_answered_and_the_join_goes_on() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    rt.spawn(scripted_server(listener, tx));

    let session_id = server().new_session_id();
    let mut c = Client::new_at(&base, &session_id, true, None);
    let token = cs(&server().token(&session_id, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, token.as_ptr()) },
        OTC_SUCCESS
    );
    c.rec
        .wait_until("on_connected", |e| e.contains(&Ev::Connected));
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
