//! `protocol::binary`: the readers of binary signal frames, on both sides.
//!
//! Beyond "never panics": a frame that decodes is a signal whose data came
//! raw, and encoding the decoded message again gives a frame that decodes to
//! the same message (and, on the client side, the same message as its JSON
//! text frame).
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::limits::MAX_FRAME_BYTES;
use protocol::{binary, ClientMessage, ServerMessage};

fuzz_target!(|frame: &[u8]| {
    match binary::decode_client(frame) {
        Err(e) => {
            let _ = (e.to_string(), e.code());
        }
        Ok(msg) => {
            assert!(frame.len() <= MAX_FRAME_BYTES, "an oversize frame was accepted");
            let again = binary::encode_client(&msg).expect("a decoded frame is a signal");
            assert_eq!(binary::decode_client(&again).expect("re-encoded decodes"), msg);
            assert_eq!(
                ClientMessage::decode(&msg.encode()).expect("its text decodes"),
                msg
            );
        }
    }
    match binary::decode_server(frame) {
        Err(e) => {
            let _ = (e.to_string(), e.code());
        }
        Ok(msg) => {
            let ServerMessage::Signal {
                seq,
                from,
                signal_type,
                data,
            } = &msg
            else {
                panic!("only signals decode from binary: {msg:?}");
            };
            let again = binary::encode_server_signal(*seq, from.as_deref(), signal_type, data);
            assert_eq!(binary::decode_server(&again).expect("re-encoded decodes"), msg);
        }
    }
});
