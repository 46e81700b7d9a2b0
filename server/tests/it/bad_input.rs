//! Malformed and hostile input: each gets a typed error or a close with a
//! reason, and everyone else keeps being served.

use protocol::limits::MAX_FRAME_BYTES;
use protocol::messages::DisconnectReason;
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use tokio_tungstenite::tungstenite::Message;

use crate::client::*;

/// A healthy pair in the session; checks they still talk after the abuse.
async fn still_served(a: &mut Client, b: &mut Client, tag: &str) {
    let seq = a.signal("check", tag, Some(vec![b.id.clone()])).await;
    a.acked(seq).await;
    let (from, _, data) = b.signal_in().await;
    assert_eq!(from.as_deref(), Some(a.id.as_str()));
    assert_eq!(data, tag);
}

#[tokio::test]
async fn garbage_before_connect() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);

    let cases: Vec<(Message, ErrorCode)> = vec![
        (Message::text("{not json"), ErrorCode::ProtocolError),
        (
            Message::text(r#"{"kind":"launch_rockets"}"#),
            ErrorCode::ProtocolError,
        ),
        (Message::text(r#"{"seq":1}"#), ErrorCode::ProtocolError),
        (Message::binary(vec![1u8, 2, 3]), ErrorCode::ProtocolError),
        (
            Message::text(
                ClientMessage::Signal {
                    seq: 1,
                    signal_type: "x".into(),
                    data: "y".into(),
                    to: None,
                }
                .encode(),
            ),
            ErrorCode::NotConnected,
        ),
        (
            Message::text(ClientMessage::Ack { seq: 1 }.encode()),
            ErrorCode::ProtocolError,
        ),
    ];
    for (i, (frame, code)) in cases.into_iter().enumerate() {
        let mut ws = open(&server).await;
        send_raw(&mut ws, frame).await;
        expect_refusal(&mut ws, code).await;
        still_served(&mut a, &mut b, &format!("case {i}")).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_after_connect_ends_only_that_connection() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);

    for (i, frame) in [
        Message::text("[1,2,3]"),
        Message::text(r#"{"kind":"teleport","to":"mars"}"#),
        Message::binary(vec![0u8; 16]),
        Message::text(connect_msg(&sid, &token(&sid), false).encode()),
    ]
    .into_iter()
    .enumerate()
    {
        let mut bad = Client::join(&server, &sid).await;
        assert_eq!(created(&a.event().await).id, bad.id);
        assert_eq!(created(&b.event().await).id, bad.id);
        send_raw(&mut bad.ws, frame).await;
        expect_refusal(&mut bad.ws, ErrorCode::ProtocolError).await;
        assert_eq!(
            destroyed(&a.event().await),
            (bad.id.clone(), DisconnectReason::ProtocolViolation)
        );
        assert_eq!(
            destroyed(&b.event().await),
            (bad.id.clone(), DisconnectReason::ProtocolViolation)
        );
        still_served(&mut a, &mut b, &format!("after {i}")).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn oversize_frame_is_refused_before_buffering() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);

    let mut big = Client::join(&server, &sid).await;
    created(&a.event().await);
    created(&b.event().await);
    let frame = format!(
        r#"{{"kind":"signal","seq":1,"type":"x","data":"{}"}}"#,
        "a".repeat(MAX_FRAME_BYTES)
    );
    // The server may close while we are still writing; either way it must
    // not deliver it.
    let _ = futures_util::SinkExt::send(&mut big.ws, Message::text(frame)).await;
    let mut saw_error = false;
    let close = loop {
        match next(&mut big.ws).await {
            Next::Msg(ServerMessage::Error { code, .. }) => {
                assert_eq!(code, ErrorCode::ProtocolError);
                saw_error = true;
            }
            Next::Msg(other) => panic!("unexpected {other:?}"),
            Next::Closed(c) => break c,
        }
    };
    let reason_given = close.as_ref().is_some_and(|c| u16::from(c.code) == 1009);
    assert!(
        saw_error || reason_given,
        "oversize frame reported ({close:?})"
    );
    let (gone, why) = destroyed(&a.event().await);
    assert_eq!(gone, big.id);
    assert_eq!(why, DisconnectReason::ProtocolViolation);
    destroyed(&b.event().await);
    still_served(&mut a, &mut b, "after oversize").await;
    server.shutdown().await;
}
