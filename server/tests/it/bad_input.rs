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

/// Frames that break RFC 6455 itself, each sent by a hand-written client:
/// before `connect` and after it, each is answered with the `error` frame
/// (1604) and a close with the RFC's code, the TCP connection ends without
/// a reset, and once joined the peers see the offender leave with
/// `protocol_violation`.
#[tokio::test]
async fn websocket_framing_violations_close_with_rfc_codes() {
    use crate::raw_ws::{close_code, error_codes, frame, text, Ending, RawWs};
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    let ping = br#"{"kind":"ping","id":1}"#;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "unmasked client frame",
            frame(true, 0, 0x1, false, ping),
            1002,
        ),
        ("RSV1 set", frame(true, 4, 0x1, true, ping), 1002),
        ("RSV3 set", frame(true, 1, 0x1, true, ping), 1002),
        (
            "reserved data opcode 3",
            frame(true, 0, 0x3, true, ping),
            1002,
        ),
        (
            "reserved control opcode 0xB",
            frame(true, 0, 0xb, true, b""),
            1002,
        ),
        (
            "continuation with nothing to continue",
            frame(true, 0, 0x0, true, ping),
            1002,
        ),
        ("fragmented ping", frame(false, 0, 0x9, true, b"x"), 1002),
        (
            "ping of 126 bytes",
            frame(true, 0, 0x9, true, &[b'p'; 126]),
            1002,
        ),
        (
            "text after an unfinished text",
            [frame(false, 0, 0x1, true, b"{"), text("{}")].concat(),
            1002,
        ),
        (
            "invalid UTF-8",
            frame(true, 0, 0x1, true, &[b'{', 0xff, 0xfe, b'}']),
            1007,
        ),
        (
            "oversize text frame",
            frame(true, 0, 0x1, true, &vec![b'a'; MAX_FRAME_BYTES + 1024]),
            1009,
        ),
        (
            "oversize message in fragments",
            [
                frame(false, 0, 0x1, true, &vec![b' '; MAX_FRAME_BYTES / 2 + 1]),
                frame(true, 0, 0x0, true, &vec![b' '; MAX_FRAME_BYTES / 2 + 1]),
            ]
            .concat(),
            1009,
        ),
    ];
    for (what, bytes, want) in &cases {
        for joined in [false, true] {
            let mut raw = RawWs::open(&server).await;
            if joined {
                raw.send(&text(&connect_msg(&sid, &token(&sid), false).encode()))
                    .await;
                let f = raw.next_frame(WAIT).await.expect("connected frame");
                let v: serde_json::Value = serde_json::from_slice(&f.payload).expect("json");
                assert_eq!(v["kind"], "connected", "{what}");
                created(&a.event().await);
                created(&b.event().await);
            }
            raw.send(bytes).await;
            let (frames, ending) = raw.read_to_end().await;
            let case = format!(
                "{what} ({})",
                if joined { "joined" } else { "before connect" }
            );
            assert_eq!(close_code(&frames), Some(*want), "{case}: {frames:?}");
            assert_eq!(error_codes(&frames), vec![1604], "{case}");
            assert_eq!(
                ending,
                Ending::Fin,
                "{case}: the server reset the connection"
            );
            if joined {
                for peer in [&mut a, &mut b] {
                    let (_, why) = destroyed(&peer.event().await);
                    assert_eq!(why, DisconnectReason::ProtocolViolation, "{case}");
                }
            }
            still_served(&mut a, &mut b, &case).await;
        }
    }
    server.shutdown().await;
}

/// A frame that is a JSON array (serde would read it field by field) is
/// refused and closes the link, before and after `connect`.
#[tokio::test]
async fn a_frame_must_be_a_json_object() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    let positional = format!(r#"["signal", 1, "t", "x", ["{}"]]"#, b.id);
    let mut ws = open(&server).await;
    send_raw(
        &mut ws,
        Message::text(format!(
            r#"["connect", 1, "{}", "{sid}", "{}"]"#,
            otc_server::DEV_API_KEY,
            token(&sid)
        )),
    )
    .await;
    expect_refusal(&mut ws, ErrorCode::ProtocolError).await;
    let mut bad = Client::join(&server, &sid).await;
    created(&a.event().await);
    created(&b.event().await);
    send_raw(&mut bad.ws, Message::text(positional)).await;
    expect_refusal(&mut bad.ws, ErrorCode::ProtocolError).await;
    assert_eq!(
        destroyed(&a.event().await).1,
        DisconnectReason::ProtocolViolation
    );
    assert_eq!(
        destroyed(&b.event().await).1,
        DisconnectReason::ProtocolViolation
    );
    // b got no signal from it: the next signal b sees is a's check.
    still_served(&mut a, &mut b, "after the array").await;
    server.shutdown().await;
}
