//! Binary signal frames (`binary_signals`, see `protocol::binary`): agreed
//! per link, each recipient reads a signal in its link's encoding, a replay
//! to a link of the other kind is re-encoded, and a binary frame where none
//! was agreed (or a broken one) is a protocol violation. A cluster node
//! delivers from its shared log as text, which binary links read too: there
//! only the content is checked.

use otc_server::{Config, ServerLimits};
use protocol::messages::DisconnectReason;
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

use crate::client::*;

/// Does the server deliver binary frames (one node) or text only (a node
/// of a cluster)?
fn delivers_binary() -> bool {
    crate::cluster_redis_url().is_none()
}

/// The `connect` of a client asking for binary signal frames.
fn binary_connect(sid: &str) -> ClientMessage {
    let mut msg = connect_msg(sid, &token(sid), false);
    if let ClientMessage::Connect { binary_signals, .. } = &mut msg {
        *binary_signals = true;
    }
    msg
}

/// Joins asking for binary signal frames.
async fn join_binary(server: &otc_server::ServerHandle, sid: &str) -> Client {
    let c = Client::join_msg(open(server).await, sid, &binary_connect(sid)).await;
    assert!(c.binary, "the server agreed to binary signals");
    c
}

/// Data that JSON must escape, and plenty that it need not.
fn awkward(n: usize) -> String {
    format!("\"quoted\" back\\slash\nnew line é 😀 {}", "x".repeat(n))
}

#[tokio::test]
async fn each_recipient_reads_a_signal_in_its_links_encoding() {
    let server = start_dev().await;
    let sid = session();
    let mut a = join_binary(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let mut c = join_binary(&server, &sid).await;
    assert!(!b.binary, "a client that did not ask gets no binary frames");
    created(&a.event().await);
    created(&a.event().await);
    created(&b.event().await);

    let data = awkward(8000);
    let seq = a.signal("chat", &data, None).await;
    a.acked(seq).await;
    let want = (Some(a.id.clone()), "chat".to_string(), data.clone());
    assert_eq!(b.signal_in().await, want);
    assert!(!b.last_binary, "a text link reads text");
    assert_eq!(c.signal_in().await, want);
    assert_eq!(
        c.last_binary,
        delivers_binary(),
        "a binary link reads binary"
    );

    // A text client's signal reaches a binary one whole as well.
    let seq = b
        .signal("reply", "ok \"b\"", Some(vec![c.id.clone()]))
        .await;
    b.acked(seq).await;
    assert_eq!(c.signal_in().await.2, "ok \"b\"");
    assert_eq!(c.last_binary, delivers_binary());
    server.shutdown().await;
}

#[tokio::test]
async fn a_replay_to_a_link_of_the_other_kind_is_re_encoded() {
    let server = start(Config {
        limits: ServerLimits {
            reconnect_grace: Duration::from_secs(10),
            ..ServerLimits::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = session();
    let mut a = join_binary(&server, &sid).await;
    let mut c = join_binary(&server, &sid).await;
    created(&a.event().await);
    // c reads but does not acknowledge: the signal stays in its replay
    // buffer, whose frame was built for binary links only.
    c.auto_ack = false;
    let data = awkward(100);
    let seq = a.signal("keep", &data, Some(vec![c.id.clone()])).await;
    a.acked(seq).await;
    let before = c.last_seq;
    assert_eq!(c.signal_in().await.2, data);
    assert_eq!(c.last_binary, delivers_binary());

    // c's link drops; it comes back without binary frames.
    let old = std::mem::replace(&mut c.ws, open(&server).await);
    drop(old);
    c.ws = resume_ws(&server, &c, &c.secret, before, false).await;
    c.binary = false;
    c.last_seq = before;
    assert_eq!(
        c.msg().await,
        ServerMessage::Resumed {
            last_client_seq: 0,
            binary_signals: false
        }
    );
    assert_eq!(
        c.signal_in().await,
        (Some(a.id.clone()), "keep".into(), data.clone())
    );
    assert!(!c.last_binary, "replayed as text");
    server.shutdown().await;
}

#[tokio::test]
async fn binary_frames_where_none_were_agreed_or_broken_ones_are_violations() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let signal = ClientMessage::Signal {
        seq: 1,
        signal_type: "x".into(),
        data: "y".into(),
        to: None,
    };
    let good = protocol::binary::encode_client(&signal).expect("a signal");
    // A well-formed binary signal on a link that did not agree to them.
    let mut text = Client::join(&server, &sid).await;
    created(&a.event().await);
    send_raw(&mut text.ws, Message::binary(good.clone())).await;
    let message = expect_refusal(&mut text.ws, ErrorCode::ProtocolError).await;
    assert!(message.contains("binary_signals"), "{message}");
    assert_eq!(
        destroyed(&a.event().await),
        (text.id.clone(), DisconnectReason::ProtocolViolation)
    );
    // As the first frame, before anything was agreed.
    let mut ws = open(&server).await;
    send_raw(&mut ws, Message::binary(good)).await;
    expect_refusal(&mut ws, ErrorCode::ProtocolError).await;
    // Broken ones on a binary link: data not UTF-8, a header that is not a
    // signal, a header length past the end.
    let mut not_utf8 = protocol::binary::encode_client(&signal).expect("a signal");
    *not_utf8.last_mut().expect("data") = 0xff;
    let mut ack = (22u32).to_be_bytes().to_vec();
    ack.extend_from_slice(br#"{"kind":"ack","seq":1}"#);
    for (i, frame) in [not_utf8, ack, vec![0, 0, 0, 9, b'{']]
        .into_iter()
        .enumerate()
    {
        let mut bad = join_binary(&server, &sid).await;
        assert_eq!(created(&a.event().await).id, bad.id, "case {i}");
        send_raw(&mut bad.ws, Message::binary(frame)).await;
        let message = expect_refusal(&mut bad.ws, ErrorCode::ProtocolError).await;
        assert!(message.contains("binary frame"), "case {i}: {message}");
        assert_eq!(
            destroyed(&a.event().await),
            (bad.id.clone(), DisconnectReason::ProtocolViolation),
            "case {i}"
        );
    }
    // Nothing was routed from any of them.
    let seq = a.signal("still", "here", None).await;
    a.acked(seq).await;
    assert_eq!(a.signal_in().await.2, "here");
    server.shutdown().await;
}
