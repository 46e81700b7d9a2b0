//! `ClientMessage::decode`, the server's reader of every client frame.
//!
//! Beyond "never panics", it checks what messages.rs promises:
//! * the fast path for hot kinds decodes exactly as the tagged enum does
//!   (same success or failure, same message);
//! * `encode` writes byte for byte what serde_json writes;
//! * a decoded message encodes to a frame that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::limits::MAX_FRAME_BYTES;
use protocol::ClientMessage;

fuzz_target!(|text: &str| {
    let decoded = ClientMessage::decode(text);
    if let Err(e) = &decoded {
        // The reader turns the error into text and a code; neither may panic.
        let _ = (e.to_string(), e.code());
    }
    if text.len() <= MAX_FRAME_BYTES {
        let reference = serde_json::from_str::<ClientMessage>(text).ok();
        assert_eq!(
            decoded.as_ref().ok(),
            reference.as_ref(),
            "decode differs from the tagged enum"
        );
    } else {
        assert!(decoded.is_err(), "an oversize frame was accepted");
    }
    let Ok(msg) = decoded else { return };
    let frame = msg.encode();
    assert_eq!(
        frame,
        serde_json::to_string(&msg).expect("serialize"),
        "encode differs from serde_json"
    );
    match ClientMessage::decode(&frame) {
        Ok(again) => assert_eq!(again, msg, "round trip changed the message"),
        // Re-encoding may grow a frame past the cap (escapes written
        // longhand); only a frame within the cap must decode.
        Err(e) => assert!(
            frame.len() > MAX_FRAME_BYTES,
            "re-encoded frame refused: {e}"
        ),
    }
});
