//! Session monitoring as an application server sees it: the callbacks
//! POSTed to its URL (checked by a small HTTP receiver here, signature
//! included), their retries, and the event stream it can hold open.

#[allow(dead_code)] // shared helpers; not every test uses each one
#[path = "it/client.rs"]
mod client;

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

/// One node alone: no Redis.
fn cluster_redis_url() -> Option<String> {
    None
}

use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use client::{Client, WAIT};
use otc_server::monitor::MonitorEvent;
use otc_server::{Project, ServerHandle, DEV_API_KEY, DEV_API_SECRET};
use receiver::{config_with_callback, Receiver, Sse};

async fn metric(server: &ServerHandle, name: &str) -> f64 {
    let text = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(format!("{}/metrics", server.base_url()))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}

async fn rest_delete(server: &ServerHandle, path: &str) -> reqwest::StatusCode {
    let jwt =
        otc_server::rest::mint_rest_token(&Project::dev(), Duration::from_secs(60)).expect("jwt");
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .delete(format!("{}{path}", server.base_url()))
        .header("X-OPENTOK-AUTH", jwt)
        .send()
        .await
        .expect("DELETE")
        .status()
}

#[tokio::test]
async fn joins_and_departures_are_posted_signed_and_in_order() {
    let mut rx = Receiver::start().await;
    let server = client::start(config_with_callback(&rx.url, None)).await;
    let sid = client::session();
    let a = Client::join(&server, &sid).await;
    let got = rx.next().await;
    got.check_signature(DEV_API_SECRET, DEV_API_KEY);
    let e = got.event();
    assert_eq!(
        (
            e.event.as_str(),
            e.session_id.as_str(),
            e.project_id.as_str()
        ),
        ("connectionCreated", sid.as_str(), DEV_API_KEY)
    );
    assert_eq!(e.connection.id, a.id);
    assert_eq!(e.reason, None);
    assert!(e.connection.created_at > 0 && e.timestamp >= e.connection.created_at);

    let b = Client::join_with(
        &server,
        &sid,
        &otc_server::mint_token(
            &Project::dev(),
            &sid,
            &otc_server::TokenOptions {
                data: Some("name=bob".into()),
                ..Default::default()
            },
        )
        .expect("token"),
        false,
    )
    .await;
    let e = rx.next().await.event();
    assert_eq!(
        (e.event.as_str(), e.connection.id.as_str()),
        ("connectionCreated", b.id.as_str())
    );
    assert_eq!(e.connection.data, "name=bob");

    // b is disconnected by the application server, a leaves by itself.
    let path = format!(
        "/v2/project/{DEV_API_KEY}/session/{sid}/connection/{}",
        b.id
    );
    assert_eq!(
        rest_delete(&server, &path).await,
        reqwest::StatusCode::NO_CONTENT
    );
    let got = rx.next().await;
    got.check_signature(DEV_API_SECRET, DEV_API_KEY);
    let e = got.event();
    assert_eq!(
        (
            e.event.as_str(),
            e.connection.id.as_str(),
            e.reason.as_deref()
        ),
        (
            "connectionDestroyed",
            b.id.as_str(),
            Some("forceDisconnected")
        )
    );
    assert_eq!(e.connection.data, "name=bob");
    let a_id = a.id.clone();
    a.disconnect().await;
    let e = rx.next().await.event();
    assert_eq!(
        (
            e.event.as_str(),
            e.connection.id.as_str(),
            e.reason.as_deref()
        ),
        (
            "connectionDestroyed",
            a_id.as_str(),
            Some("clientDisconnected")
        )
    );
    assert!(
        rx.quiet_for(Duration::from_millis(300)).await,
        "one POST per event"
    );
    assert_eq!(
        metric(&server, "otc_callbacks_total{result=\"delivered\"}").await,
        4.0
    );
    drop(b);
    server.shutdown().await;
    rx.stop();
}

#[tokio::test]
async fn a_configured_secret_signs_instead_of_the_api_secret() {
    let mut rx = Receiver::start().await;
    let secret = "a-callback-secret-of-its-own-0123456789";
    let server = client::start(config_with_callback(&rx.url, Some(secret))).await;
    let sid = client::session();
    let _a = Client::join(&server, &sid).await;
    let got = rx.next().await;
    got.check_signature(secret, DEV_API_KEY);
    let wrong = std::panic::catch_unwind(|| got.check_signature(DEV_API_SECRET, DEV_API_KEY));
    assert!(wrong.is_err(), "the API secret must not verify it");
    server.shutdown().await;
    rx.stop();
}

#[tokio::test]
async fn failures_are_retried_and_refusals_are_not() {
    let mut rx = Receiver::start().await;
    let server = client::start(config_with_callback(&rx.url, None)).await;
    let sid = client::session();
    // Two failures, then a success: the same event three times.
    rx.answer_next(&[
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS,
    ]);
    let a = Client::join(&server, &sid).await;
    let bodies: Vec<Bytes> = [rx.next().await, rx.next().await, rx.next().await]
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "the same event again"
    );
    let e: MonitorEvent = serde_json::from_slice(&bodies[0]).expect("event");
    assert_eq!(
        (e.event.as_str(), e.connection.id.as_str()),
        ("connectionCreated", a.id.as_str())
    );

    // A 400 is the receiver refusing this event: not sent again; the
    // next event goes on.
    rx.answer_next(&[StatusCode::BAD_REQUEST]);
    let id = a.id.clone();
    a.disconnect().await;
    let e = rx.next().await.event();
    assert_eq!(
        (e.event.as_str(), e.connection.id.as_str()),
        ("connectionDestroyed", id.as_str())
    );
    assert!(
        rx.quiet_for(protocol::limits::CALLBACK_FIRST_BACKOFF * 3)
            .await,
        "a refused callback is not retried"
    );
    let b = Client::join(&server, &sid).await;
    assert_eq!(rx.next().await.event().connection.id, b.id);
    assert_eq!(
        metric(&server, "otc_callbacks_total{result=\"delivered\"}").await,
        2.0
    );
    assert_eq!(
        metric(&server, "otc_callbacks_total{result=\"failed\"}").await,
        1.0
    );
    assert_eq!(metric(&server, "otc_callback_attempts_total").await, 5.0);
    server.shutdown().await;
    rx.stop();
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_hold_up_the_session() {
    // Accepts TCP connections (the kernel does) but never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/cb", silent.local_addr().expect("addr"));
    let server = client::start(config_with_callback(&url, None)).await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut others = Vec::new();
    for _ in 0..20 {
        others.push(Client::join(&server, &sid).await);
        let _ = a.event().await; // its connection_created
    }
    a.signal("t", "still flowing", None).await;
    for c in others.iter_mut() {
        // Past the later arrivals' connection_created.
        let data = loop {
            if let protocol::ServerMessage::Signal { data, .. } = c.event().await {
                break data;
            }
        };
        assert_eq!(data, "still flowing");
    }
    // The first event is stuck in its POST; the others wait their turn.
    assert!(metric(&server, "otc_callback_queued_events").await >= 19.0);
    server.shutdown().await;
    drop(silent);
}

fn rest_jwt() -> String {
    otc_server::rest::mint_rest_token(&Project::dev(), Duration::from_secs(60)).expect("jwt")
}

#[tokio::test]
async fn the_event_stream_carries_joins_and_departures() {
    let server = client::start_dev().await;
    // Only the application server may listen.
    let resp = Sse::open(&server, None).await;
    assert_eq!(resp.status(), reqwest::StatusCode::FORBIDDEN);
    let sid = client::session();
    let participant = client::token(&sid);
    let resp = Sse::open(&server, Some(participant)).await;
    assert_eq!(resp.status(), reqwest::StatusCode::FORBIDDEN);

    let resp = Sse::open(&server, Some(rest_jwt())).await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    assert!(resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream")));
    let mut sse = Sse {
        resp,
        buf: String::new(),
    };
    let (name, data) = sse.next().await;
    assert_eq!(name, "ready");
    assert!(data.contains(DEV_API_KEY), "{data}");

    let a = Client::join(&server, &sid).await;
    let (name, data) = sse.next().await;
    assert_eq!(name, "connectionCreated");
    let e: MonitorEvent = serde_json::from_str(&data).expect("event json");
    assert_eq!(
        (e.session_id.as_str(), e.connection.id.as_str()),
        (sid.as_str(), a.id.as_str())
    );
    let id = a.id.clone();
    a.disconnect().await;
    let (name, data) = sse.next().await;
    assert_eq!(name, "connectionDestroyed");
    let e: MonitorEvent = serde_json::from_str(&data).expect("event json");
    assert_eq!(
        (e.connection.id.as_str(), e.reason.as_deref()),
        (id.as_str(), Some("clientDisconnected"))
    );
    // The server's shutdown ends the stream (it does not hold it up).
    let stopping = tokio::spawn(server.shutdown());
    let ended = tokio::time::timeout(WAIT, async {
        loop {
            match sse.resp.chunk().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends at shutdown");
    tokio::time::timeout(WAIT, stopping)
        .await
        .expect("shutdown finishes")
        .expect("shutdown task");
}

#[tokio::test]
async fn event_streams_per_project_are_bounded() {
    let server = client::start_dev().await;
    let mut open = Vec::new();
    for _ in 0..protocol::limits::MAX_EVENT_STREAMS_PER_PROJECT {
        let r = Sse::open(&server, Some(rest_jwt())).await;
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        open.push(r);
    }
    let r = Sse::open(&server, Some(rest_jwt())).await;
    assert_eq!(r.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = r.json().await.expect("json error body");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("event streams")),
        "{body}"
    );
    // Closing one makes room again.
    drop(open.pop());
    let mut ok = false;
    for _ in 0..100 {
        let r = Sse::open(&server, Some(rest_jwt())).await;
        if r.status() == reqwest::StatusCode::OK {
            ok = true;
            open.push(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "a closed stream frees its place");
    drop(open);
    server.shutdown().await;
}

/// The next delivery report of a signal to the application server:
/// (signal seq, `None` when delivered, else the code).
async fn delivery(c: &mut Client) -> (u64, Option<protocol::ErrorCode>) {
    match c.event().await {
        protocol::ServerMessage::SignalDelivered { signal_seq, .. } => (signal_seq, None),
        protocol::ServerMessage::SignalUndelivered {
            signal_seq, code, ..
        } => (signal_seq, Some(code)),
        other => panic!("expected a delivery report, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signal_to_the_server_reaches_its_callback_url_and_its_sender_hears_how_it_went() {
    let mut rx = Receiver::start().await;
    let server = client::start(config_with_callback(&rx.url, None)).await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let _ = rx.next().await; // a's connectionCreated
    let mut b = Client::join(&server, &sid).await;
    let _ = rx.next().await;
    let _ = a.event().await; // b's connection_created

    let seq = a.signal_to_server("order", "{\"pizza\":2}").await;
    a.acked(seq).await;
    let got = rx.next().await;
    got.check_signature(DEV_API_SECRET, DEV_API_KEY);
    let e = got.event();
    assert_eq!(
        (e.event.as_str(), e.session_id.as_str()),
        ("signal", sid.as_str())
    );
    assert_eq!(e.connection.id, a.id, "the sender");
    let s = e.signal.expect("the signal");
    assert_eq!(
        (s.signal_type.as_str(), s.data.as_str()),
        ("order", "{\"pizza\":2}")
    );
    assert_eq!(delivery(&mut a).await, (seq, None));

    // The application server refuses the next one (a 4xx): 1601.
    rx.answer_next(&[StatusCode::FORBIDDEN]);
    let seq = a.signal_to_server("order", "too many").await;
    a.acked(seq).await;
    let _ = rx.next().await;
    assert_eq!(
        delivery(&mut a).await,
        (seq, Some(protocol::ErrorCode::PermissionDenied))
    );
    // Bad input is refused like any signal's, before anything is sent.
    let seq = a.signal_to_server("bad type!", "x").await;
    a.refused(seq, protocol::ErrorCode::InvalidSignalType).await;
    // Nobody else in the session heard any of it.
    a.signal("marker", "end", None).await;
    match b.event().await {
        protocol::ServerMessage::Signal { signal_type, .. } => assert_eq!(signal_type, "marker"),
        other => panic!("b got {other:?}"),
    }
    assert!(rx.quiet_for(Duration::from_millis(300)).await);
    server.shutdown().await;
    rx.stop();
}

#[tokio::test]
async fn without_a_callback_url_a_signal_to_the_server_needs_an_event_stream() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    // Nobody listening: undelivered, 1600.
    let seq = a.signal_to_server("help", "anyone?").await;
    a.acked(seq).await;
    assert_eq!(
        delivery(&mut a).await,
        (seq, Some(protocol::ErrorCode::SignalTargetNotConnected))
    );
    // With a stream open, the stream has it.
    let mut stream = Sse::ready(&server).await;
    let seq = a.signal_to_server("help", "now?").await;
    let (name, data) = stream.next().await;
    assert_eq!(name, "signal");
    let e: MonitorEvent = serde_json::from_str(&data).expect("json");
    assert_eq!(e.connection.id, a.id);
    assert_eq!(e.signal.map(|s| s.data), Some("now?".to_string()));
    a.acked(seq).await;
    assert_eq!(delivery(&mut a).await, (seq, None));
    server.shutdown().await;
}

#[tokio::test]
async fn a_signal_to_the_server_sent_again_after_a_resume_is_posted_once() {
    let mut rx = Receiver::start().await;
    let server = client::start(config_with_callback(&rx.url, None)).await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let _ = rx.next().await;
    let seq = a.signal_to_server("once", "only").await;
    a.acked(seq).await;
    let _ = rx.next().await;
    // The same seq again (as after a resume): answered, not posted again.
    let m = protocol::ClientMessage::SignalToServer {
        seq,
        signal_type: "once".into(),
        data: "only".into(),
    };
    client::send(&mut a.ws, &m).await;
    a.acked(seq).await;
    assert_eq!(delivery(&mut a).await, (seq, None));
    assert!(
        rx.quiet_for(Duration::from_millis(500)).await,
        "posted once"
    );
    server.shutdown().await;
    rx.stop();
}
