//! `ServerMessage::decode`, the client library's reader of every server
//! frame (src/transport.rs). Same checks as `client_frame`: the fast path
//! agrees with the tagged enum, `encode` is serde_json's, and decoding an
//! encoded message gives it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::limits::MAX_FRAME_BYTES;
use protocol::ServerMessage;

fuzz_target!(|text: &str| {
    let decoded = ServerMessage::decode(text);
    if let Err(e) = &decoded {
        // The reader turns the error into text and a code; neither may panic.
        let _ = (e.to_string(), e.code());
    }
    if text.len() <= MAX_FRAME_BYTES {
        let reference = serde_json::from_str::<ServerMessage>(text).ok();
        assert_eq!(
            decoded.as_ref().ok(),
            reference.as_ref(),
            "decode differs from the tagged enum"
        );
    } else {
        assert!(decoded.is_err(), "an oversize frame was accepted");
    }
    let Ok(msg) = decoded else { return };
    // `event_seq` reads every variant; it must not panic either.
    let _ = msg.event_seq();
    let frame = msg.encode();
    assert_eq!(
        frame,
        serde_json::to_string(&msg).expect("serialize"),
        "encode differs from serde_json"
    );
    match ServerMessage::decode(&frame) {
        Ok(again) => assert_eq!(again, msg, "round trip changed the message"),
        Err(e) => assert!(
            frame.len() > MAX_FRAME_BYTES,
            "re-encoded frame refused: {e}"
        ),
    }
});
