//! Binary signal frames: the signal's data as raw bytes next to a JSON
//! header, so that nobody scans or escapes up to 8 KB of data as JSON text.
//!
//! A client that sets `binary_signals` in its `connect` or `resume` may be
//! answered with `binary_signals: true` in `connected` or `resumed`. From
//! then on, on that link:
//!
//! * the client may send its `signal` and `signal_to_server` frames as
//!   WebSocket binary frames, and the server may deliver `signal` events as
//!   binary frames;
//! * every other frame stays JSON text, and each side still accepts every
//!   frame as text too (a server may send a text `signal` to a binary link:
//!   `otc-server` as a cluster node delivers signals from its shared log as
//!   text).
//!
//! A link where either side did not agree carries only text frames; a binary
//! frame there is a protocol violation, as it always was.
//!
//! # Layout
//!
//! ```text
//! +----------------+---------------------------+----------------------+
//! | header length  | header: the frame's JSON  | data: the signal's   |
//! | u32 big-endian | text with "data" empty    | data, UTF-8, raw     |
//! +----------------+---------------------------+----------------------+
//! ```
//!
//! The header is exactly the JSON text frame of the same message with an
//! empty `data` (absent is accepted too); a header with non-empty `data` is
//! refused, so no frame has two meanings. The data is the rest of the frame
//! and must be valid UTF-8, like every signal's data. The whole frame is
//! bound by [`crate::limits::MAX_FRAME_BYTES`], as a text frame is.
//!
//! Decoding checks the size, splits, decodes the header with the text
//! decoder (so field rules and errors are the text frame's) and attaches the
//! data. Tests check that text and binary frames of a message decode alike.

use crate::limits::MAX_FRAME_BYTES;
use crate::messages::{encode_server_signal as encode_server_text, DecodeError};
use crate::{ClientMessage, ServerMessage};

/// Bytes of the header length in front of every binary frame.
const LENGTH_BYTES: usize = 4;

/// Splits a frame into its header text and its data bytes.
fn split(frame: &[u8]) -> Result<(&str, &[u8]), DecodeError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(frame.len()));
    }
    let Some((len, rest)) = frame.split_first_chunk::<LENGTH_BYTES>() else {
        return Err(DecodeError::Binary("shorter than its header length"));
    };
    let len = u32::from_be_bytes(*len) as usize;
    if len > rest.len() {
        return Err(DecodeError::Binary(
            "header length past the end of the frame",
        ));
    }
    let (header, data) = rest.split_at(len);
    let header =
        std::str::from_utf8(header).map_err(|_| DecodeError::Binary("header is not UTF-8"))?;
    Ok((header, data))
}

/// The data bytes as a string, with room for one more byte: the library
/// hands it on as a C string, whose terminating NUL then needs no new
/// allocation.
fn data_string(data: &[u8]) -> Result<String, DecodeError> {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.extend_from_slice(data);
    String::from_utf8(bytes).map_err(|_| DecodeError::Binary("data is not UTF-8"))
}

/// Puts the frame's data into the decoded header's `data` field (`slot`,
/// `None` when the header is not of a kind that may be binary), which the
/// header must have left empty.
fn attach(slot: Option<&mut String>, data: &[u8]) -> Result<(), DecodeError> {
    let slot = slot.ok_or(NOT_A_SIGNAL)?;
    if !slot.is_empty() {
        return Err(DATA_IN_HEADER);
    }
    *slot = data_string(data)?;
    Ok(())
}

/// Puts a frame together from its header text and data.
fn join(header: &str, data: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(LENGTH_BYTES + header.len() + data.len());
    // Headers are a few hundred bytes at most (bounded by the frame limit).
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data.as_bytes());
    out
}

const NOT_A_SIGNAL: DecodeError = DecodeError::Binary("only signal frames may be binary");
const DATA_IN_HEADER: DecodeError =
    DecodeError::Binary("the header of a binary frame must not carry data");

/// The binary frame of a client `signal` or `signal_to_server`; `None` for
/// other kinds (they are always text).
pub fn encode_client(msg: &ClientMessage) -> Option<Vec<u8>> {
    let (header, data) = match msg {
        ClientMessage::Signal {
            seq,
            signal_type,
            data,
            to,
        } => (
            ClientMessage::Signal {
                seq: *seq,
                signal_type: signal_type.clone(),
                data: String::new(),
                to: to.clone(),
            },
            data,
        ),
        ClientMessage::SignalToServer {
            seq,
            signal_type,
            data,
        } => (
            ClientMessage::SignalToServer {
                seq: *seq,
                signal_type: signal_type.clone(),
                data: String::new(),
            },
            data,
        ),
        _ => return None,
    };
    Some(join(&header.encode(), data))
}

/// Parses a binary client frame.
pub fn decode_client(frame: &[u8]) -> Result<ClientMessage, DecodeError> {
    let (header, data) = split(frame)?;
    let mut msg = ClientMessage::decode(header)?;
    let slot = match &mut msg {
        ClientMessage::Signal { data, .. } | ClientMessage::SignalToServer { data, .. } => {
            Some(data)
        }
        _ => None,
    };
    attach(slot, data)?;
    Ok(msg)
}

/// The binary frame of a server `signal` event from its parts (the binary
/// twin of [`crate::messages::encode_server_signal`]).
pub fn encode_server_signal(
    seq: u64,
    from: Option<&str>,
    signal_type: &str,
    data: &str,
) -> Vec<u8> {
    join(&encode_server_text(seq, from, signal_type, ""), data)
}

/// Parses a binary server frame.
pub fn decode_server(frame: &[u8]) -> Result<ServerMessage, DecodeError> {
    let (header, data) = split(frame)?;
    let mut msg = ServerMessage::decode(header)?;
    let slot = match &mut msg {
        ServerMessage::Signal { data, .. } => Some(data),
        _ => None,
    };
    attach(slot, data)?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_signals() -> Vec<ClientMessage> {
        vec![
            ClientMessage::Signal {
                seq: 7,
                signal_type: "chat".into(),
                data: "x".repeat(8192),
                to: Some(vec!["c1".into(), "c2".into()]),
            },
            ClientMessage::Signal {
                seq: 1,
                signal_type: String::new(),
                data: "quote \" backslash \\ newline \n é 😀".into(),
                to: None,
            },
            ClientMessage::SignalToServer {
                seq: 3,
                signal_type: "t\"".into(),
                data: String::new(),
            },
        ]
    }

    #[test]
    fn client_signals_decode_from_binary_as_from_text() {
        for m in client_signals() {
            let bin = encode_client(&m).unwrap();
            assert_eq!(decode_client(&bin).unwrap(), m);
            assert_eq!(ClientMessage::decode(&m.encode()).unwrap(), m);
            // The data is carried raw, not escaped.
            if let ClientMessage::Signal { data, .. } = &m {
                assert!(bin.ends_with(data.as_bytes()));
            }
        }
        assert!(encode_client(&ClientMessage::Ack { seq: 1 }).is_none());
    }

    #[test]
    fn server_signals_decode_from_binary_as_from_text() {
        for (from, ty, data) in [
            (Some("conn-1"), "chat", "x".repeat(8192)),
            (None, "", "\"\\\u{1}é".to_string()),
        ] {
            let m = ServerMessage::Signal {
                seq: 42,
                from: from.map(str::to_string),
                signal_type: ty.into(),
                data: data.clone(),
            };
            let bin = encode_server_signal(42, from, ty, &data);
            assert_eq!(decode_server(&bin).unwrap(), m);
            assert_eq!(ServerMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    fn frame(header: &str, data: &[u8]) -> Vec<u8> {
        let mut f = (header.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(header.as_bytes());
        f.extend_from_slice(data);
        f
    }

    fn refused(f: &[u8]) -> String {
        let e = decode_client(f).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::ProtocolError);
        e.to_string()
    }

    #[test]
    fn malformed_binary_frames_are_refused_with_a_reason() {
        assert!(refused(&[0, 0]).contains("shorter"));
        assert!(refused(&[0, 0, 1, 0, b'{']).contains("past the end"));
        assert!(refused(&frame("{\"kind\":\"ack\",\"seq\":1}", b"")).contains("only signal"));
        let with_data = r#"{"kind":"signal","seq":1,"type":"","data":"x"}"#;
        assert!(refused(&frame(with_data, b"y")).contains("must not carry data"));
        let ok = r#"{"kind":"signal","seq":1,"type":""}"#;
        assert!(refused(&frame(ok, &[0xff, 0xfe])).contains("not UTF-8"));
        assert!(refused(&frame("{\"kind\":", b"")).contains("malformed"));
        let head = [0xffu8, 0xfe];
        let mut f = 2u32.to_be_bytes().to_vec();
        f.extend_from_slice(&head);
        assert!(refused(&f).contains("header is not UTF-8"));
        let big = frame(ok, &vec![b'x'; MAX_FRAME_BYTES]);
        assert!(matches!(decode_client(&big), Err(DecodeError::TooLarge(_))));
        // A data-less header is fine.
        assert_eq!(
            decode_client(&frame(ok, b"hi")).unwrap(),
            ClientMessage::Signal {
                seq: 1,
                signal_type: String::new(),
                data: "hi".into(),
                to: None,
            }
        );
        // Servers send only `signal` as binary.
        let ack = r#"{"kind":"signal_ack","seq":1}"#;
        assert!(decode_server(&frame(ack, b"")).is_err());
    }
}
