//! The frames of the wire protocol.
//!
//! Each WebSocket text frame holds exactly one JSON object whose `kind` field
//! names the message. Field names are `snake_case`; unknown fields are
//! ignored (so a newer peer may add optional fields), unknown kinds are an
//! error (so nothing is silently skipped).
//!
//! Two sequence spaces keep delivery exactly-once and in order:
//!
//! * **client seq** — the client numbers its `signal` frames 1, 2, 3, …; the
//!   server answers each with `signal_ack` or `signal_error` carrying that
//!   number, and on resume tells the client the highest one it has processed
//!   so nothing is applied twice.
//! * **event seq** — the server numbers the events it delivers (`signal`,
//!   `connection_created`, `connection_destroyed`) with one increasing counter
//!   per session, so one serialized frame can be shared by every recipient.
//!   A client sees increasing, not necessarily contiguous, numbers; it
//!   acknowledges the highest it has handled with `ack`, and resumes with it.

use serde::{Deserialize, Serialize};

use crate::codes::ErrorCode;

/// A participant of a session, as the other participants see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// Connection id, unique within the server.
    pub id: String,
    /// Creation time, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// The `connection_data` of the token it connected with ("" if none).
    #[serde(default)]
    pub data: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Frames sent by the client library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First frame of a new connection.
    Connect {
        /// Must equal [`crate::PROTOCOL_VERSION`].
        version: u32,
        api_key: String,
        session_id: String,
        token: String,
        /// When true the server sends this client no connection events.
        #[serde(default)]
        suppress_connection_events: bool,
        /// The client understands acknowledgement runs: the server may
        /// answer a run of consecutive accepted signals with one
        /// `signal_ack` (see [`ServerMessage::SignalAck`]).
        #[serde(default, skip_serializing_if = "is_false")]
        ack_runs: bool,
        /// The client can send and receive binary signal frames (see
        /// [`crate::binary`]); they are used once `connected` agrees.
        #[serde(default, skip_serializing_if = "is_false")]
        binary_signals: bool,
    },
    /// First frame of a link that takes over a dropped connection.
    Resume {
        version: u32,
        api_key: String,
        session_id: String,
        connection_id: String,
        /// The secret handed out in [`ServerMessage::Connected`].
        resume_secret: String,
        /// Highest event seq the client has handled.
        last_seq: u64,
        /// As in `connect`, for the new link.
        #[serde(default, skip_serializing_if = "is_false")]
        ack_runs: bool,
        /// As in `connect`, for the new link.
        #[serde(default, skip_serializing_if = "is_false")]
        binary_signals: bool,
    },
    /// A signal to the whole session (`to` absent) or to the listed
    /// connections.
    Signal {
        /// Client sequence number, starting at 1, increasing by one.
        seq: u64,
        #[serde(rename = "type", default)]
        signal_type: String,
        #[serde(default)]
        data: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Vec<String>>,
    },
    /// A signal to the project's application server instead of to the
    /// session (our extension). Numbered in the same client seq as
    /// [`ClientMessage::Signal`] and answered the same way (`signal_ack`:
    /// accepted, on its way); its delivery to the application server is
    /// reported later by [`ServerMessage::SignalDelivered`] or
    /// [`ServerMessage::SignalUndelivered`].
    SignalToServer {
        seq: u64,
        #[serde(rename = "type", default)]
        signal_type: String,
        #[serde(default)]
        data: String,
    },
    /// Every event up to and including `seq` has been handled.
    Ack {
        seq: u64,
    },
    Ping {
        id: u64,
    },
    Pong {
        id: u64,
    },
    /// The client leaves the session for good.
    Disconnect,
    /// The application reports a problem (`otc_session_report_issue`); the
    /// server logs it under a new issue id and answers with
    /// [`ServerMessage::IssueReported`] or [`ServerMessage::IssueRefused`].
    ReportIssue {
        /// The client's number for this request, echoed in the answer.
        id: u64,
        /// At most [`crate::limits::MAX_ISSUE_DESCRIPTION_BYTES`] bytes.
        #[serde(default)]
        description: String,
    },
}

/// Why the server ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectReason {
    /// The client asked to leave.
    ClientDisconnected,
    /// The link dropped and was not resumed within the grace period.
    NetworkDisconnected,
    /// An application server asked for it (REST force disconnect).
    ForceDisconnected,
    /// The server is shutting down.
    ServerShutdown,
    /// The client did not read its events fast enough; its send queue
    /// overflowed and undelivered events were discarded.
    SlowConsumer,
    /// More events were waiting for acknowledgement than the replay buffer
    /// holds, so exactly-once delivery could no longer be promised.
    ReplayOverflow,
    /// The client broke the protocol.
    ProtocolViolation,
}

impl DisconnectReason {
    /// Every reason.
    pub const ALL: [DisconnectReason; 7] = [
        DisconnectReason::ClientDisconnected,
        DisconnectReason::NetworkDisconnected,
        DisconnectReason::ForceDisconnected,
        DisconnectReason::ServerShutdown,
        DisconnectReason::SlowConsumer,
        DisconnectReason::ReplayOverflow,
        DisconnectReason::ProtocolViolation,
    ];

    /// The reason with this wire name, if any.
    pub fn from_wire(name: &str) -> Option<DisconnectReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The reason as its wire name (`"force_disconnected"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientDisconnected => "client_disconnected",
            DisconnectReason::NetworkDisconnected => "network_disconnected",
            DisconnectReason::ForceDisconnected => "force_disconnected",
            DisconnectReason::ServerShutdown => "server_shutdown",
            DisconnectReason::SlowConsumer => "slow_consumer",
            DisconnectReason::ReplayOverflow => "replay_overflow",
            DisconnectReason::ProtocolViolation => "protocol_violation",
        }
    }
}

/// Frames sent by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to a successful `connect`.
    Connected {
        version: u32,
        session_id: String,
        /// This client's own connection.
        connection: ConnectionInfo,
        /// The other connections present now (empty when events are
        /// suppressed), or the first of them: when they do not fit in
        /// [`crate::limits::CONNECTION_LIST_PAGE_BYTES`], the rest follow
        /// at once in [`ServerMessage::Connections`] frames, before any
        /// event.
        connections: Vec<ConnectionInfo>,
        /// Secret needed to resume this connection after a drop.
        resume_secret: String,
        /// Event seq of the session at the moment of joining; events for this
        /// client carry larger numbers.
        last_seq: u64,
        /// Interval of the server's pings, in milliseconds.
        ping_interval_ms: u64,
        /// How long the server keeps a dropped connection, in milliseconds.
        reconnect_grace_ms: u64,
        /// The client asked for binary signal frames and the server agrees:
        /// this link may carry them both ways (see [`crate::binary`]).
        #[serde(default, skip_serializing_if = "is_false")]
        binary_signals: bool,
    },
    /// More of the connections that were present at `connected` (a session
    /// too large for one frame). Only ever right after `connected`; not an
    /// event (no seq): each listed connection is reported as created.
    Connections {
        connections: Vec<ConnectionInfo>,
    },
    /// Answer to a successful `resume`; replayed events follow it.
    Resumed {
        /// Highest client seq the server has processed; the client resends
        /// only signals numbered above it.
        last_client_seq: u64,
        /// As in `connected`, for this link.
        #[serde(default, skip_serializing_if = "is_false")]
        binary_signals: bool,
    },
    /// A refusal of `connect`/`resume`, or a protocol violation. The server
    /// closes the link after sending it.
    Error {
        code: ErrorCode,
        message: String,
    },
    /// The signal with this client seq was accepted and routed; with
    /// `first` (only to a client that asked for `ack_runs`), every signal
    /// numbered `first..=seq` was. A run never spans a refused signal or
    /// crosses another frame: whatever the server sends about those signals
    /// after this frame (a delivery report) comes after it.
    SignalAck {
        seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first: Option<u64>,
    },
    /// The signal with this client seq was refused.
    SignalError {
        seq: u64,
        code: ErrorCode,
        message: String,
    },
    /// A signal delivered to this client.
    Signal {
        /// Event seq.
        seq: u64,
        /// Sender connection id; absent for signals sent through the REST API.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(rename = "type", default)]
        signal_type: String,
        #[serde(default)]
        data: String,
    },
    /// The application server received this client's `signal_to_server`
    /// number `signal_seq` (its callback URL answered 2xx, or an event
    /// stream took it). An event for the sender only, so it is replayed
    /// after a resume like any other: reported exactly once.
    SignalDelivered {
        seq: u64,
        signal_seq: u64,
    },
    /// The application server did not receive `signal_to_server` number
    /// `signal_seq`: 1600 (it is not listening, or its callback URL kept
    /// failing), 1601 (it refused the callback with a 4xx) or 1603 (the
    /// project's callback queue was full). An event, like
    /// [`ServerMessage::SignalDelivered`].
    SignalUndelivered {
        seq: u64,
        signal_seq: u64,
        code: ErrorCode,
        message: String,
    },
    /// Another connection joined the session.
    ConnectionCreated {
        seq: u64,
        connection: ConnectionInfo,
    },
    /// Another connection left the session.
    ConnectionDestroyed {
        seq: u64,
        connection_id: String,
        reason: DisconnectReason,
    },
    Ping {
        id: u64,
    },
    Pong {
        id: u64,
    },
    /// Answer to [`ClientMessage::ReportIssue`]: logged under `issue_id`.
    IssueReported {
        id: u64,
        issue_id: String,
    },
    /// Answer to [`ClientMessage::ReportIssue`]: not logged.
    IssueRefused {
        id: u64,
        code: ErrorCode,
        message: String,
    },
    /// The server ends this connection; the link closes after this frame.
    Disconnected {
        reason: DisconnectReason,
        message: String,
    },
}

impl ServerMessage {
    /// The event seq of a deliverable event, `None` for control frames.
    pub fn event_seq(&self) -> Option<u64> {
        match self {
            ServerMessage::Signal { seq, .. }
            | ServerMessage::SignalDelivered { seq, .. }
            | ServerMessage::SignalUndelivered { seq, .. }
            | ServerMessage::ConnectionCreated { seq, .. }
            | ServerMessage::ConnectionDestroyed { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("frame is {0} bytes, more than the limit of {max}", max = crate::limits::MAX_FRAME_BYTES)]
    TooLarge(usize),
    /// Valid JSON, but not an object (serde would read an array's items
    /// into the fields in order).
    #[error("a frame must be one JSON object with a \"kind\" field")]
    NotAnObject,
    #[error("malformed frame: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A binary frame that is not a well-formed binary signal (see
    /// [`crate::binary`]).
    #[error("malformed binary frame: {0}")]
    Binary(&'static str),
}

impl DecodeError {
    /// The SDK error code reported for this failure.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ProtocolError
    }
}

/// Size check, then the fast path for the hot kinds (see [`fast`]), then the
/// tagged enum.
fn decode<T: for<'de> Deserialize<'de>>(
    text: &str,
    fast: fn(&str) -> Option<T>,
) -> Result<T, DecodeError> {
    if text.len() > crate::limits::MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(text.len()));
    }
    // JSON allows only these four characters of white space.
    let start = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if !start.starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => DecodeError::NotAnObject,
            Err(e) => DecodeError::Malformed(e),
        });
    }
    if let Some(m) = fast(text) {
        return Ok(m);
    }
    Ok(serde_json::from_str(text)?)
}

fn encode<T: Serialize>(msg: &T) -> String {
    // Serializing these types cannot fail: every field is a string, number,
    // bool, sequence or plain enum, and all map keys are strings.
    serde_json::to_string(msg).unwrap_or_else(|e| {
        format!(r#"{{"kind":"error","code":2000,"message":"encode failed: {e}"}}"#)
    })
}

impl ClientMessage {
    /// Parses one frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode(text, fast::client)
    }
    /// Serializes to the JSON text of one frame.
    pub fn encode(&self) -> String {
        fast::encode_client(self).unwrap_or_else(|| encode(self))
    }
}

/// The JSON text of a server `signal` frame from borrowed parts: exactly
/// what [`ServerMessage::Signal`]'s `encode` writes, without first copying
/// the type and data (up to 8 KB) into a message. The server builds every
/// relayed signal this way.
pub fn encode_server_signal(seq: u64, from: Option<&str>, signal_type: &str, data: &str) -> String {
    /// The fields of [`ServerMessage::Signal`], borrowed, in its order and
    /// with its attributes (the tests compare the two).
    #[derive(Serialize)]
    struct SignalRef<'a> {
        kind: &'static str,
        seq: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<&'a str>,
        #[serde(rename = "type")]
        signal_type: &'a str,
        data: &'a str,
    }
    fast::encode_server_signal(seq, from, signal_type, data).unwrap_or_else(|| {
        encode(&SignalRef {
            kind: "signal",
            seq,
            from,
            signal_type,
            data,
        })
    })
}

impl ServerMessage {
    /// Parses one frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode(text, fast::server)
    }
    /// Serializes to the JSON text of one frame.
    pub fn encode(&self) -> String {
        fast::encode_server(self).unwrap_or_else(|| encode(self))
    }
}

/// Decoding the hot frames without the tagged-enum detour.
///
/// serde handles `#[serde(tag = "kind")]` by first buffering the whole
/// object into an intermediate tree (its private `Content` type) and only
/// then building the variant, so a `signal` frame's data is copied into that
/// tree and out again, with an allocation per field. `signal` (both ways)
/// and `signal_ack` are nearly all the traffic, so [`ClientMessage::decode`]
/// and [`ServerMessage::decode`] first try a flat struct holding the fields
/// of those kinds, deserialized straight from the text. When it does not
/// parse, or the frame is another kind, they fall back to the enum, so every
/// other frame — and every error — is decoded exactly as before. The flat
/// structs mirror the enum variants' fields and serde attributes; the tests
/// below check that both paths agree. They deny unknown fields: serde_json
/// skips an unknown field without checking its escapes (a lone surrogate
/// passes) while the enum buffers and so decodes every field, so a frame
/// with extra fields is left to the enum. (Our peers send none.)
///
/// Encoding has a fast path too, for `signal` frames: serde_json escapes a
/// string byte by byte, which for 8 KB of data was the largest single cost
/// of relaying a signal on the server (and of sending one in the library).
/// When no string of the frame needs escaping (no `"`, `\\` or control
/// character: a check the compiler vectorizes), the frame is written
/// directly, byte for byte what serde_json writes; otherwise serde_json
/// writes it. Tests compare both outputs.
mod fast {
    use std::borrow::Cow;
    use std::fmt::Write as _;

    use serde::Deserialize;

    use super::{ClientMessage, ServerMessage};

    /// The fields of a client `signal` frame.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ClientSignal<'a> {
        #[serde(borrow)]
        kind: Cow<'a, str>,
        seq: u64,
        #[serde(rename = "type", default)]
        signal_type: String,
        #[serde(default)]
        data: String,
        #[serde(default)]
        to: Option<Vec<String>>,
    }

    /// The fields of a server `signal` or `signal_ack` frame.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ServerSignal<'a> {
        #[serde(borrow)]
        kind: Cow<'a, str>,
        seq: u64,
        #[serde(default)]
        first: Option<u64>,
        #[serde(default)]
        from: Option<String>,
        #[serde(rename = "type", default)]
        signal_type: String,
        #[serde(default)]
        data: String,
    }

    /// `Some` only for a well-formed `signal` frame.
    pub(super) fn client(text: &str) -> Option<ClientMessage> {
        let f: ClientSignal<'_> = serde_json::from_str(text).ok()?;
        (f.kind == "signal").then_some(ClientMessage::Signal {
            seq: f.seq,
            signal_type: f.signal_type,
            data: f.data,
            to: f.to,
        })
    }

    /// `Some` only for a well-formed `signal` or `signal_ack` frame.
    pub(super) fn server(text: &str) -> Option<ServerMessage> {
        let f: ServerSignal<'_> = serde_json::from_str(text).ok()?;
        match f.kind.as_ref() {
            "signal" => Some(ServerMessage::Signal {
                seq: f.seq,
                from: f.from,
                signal_type: f.signal_type,
                data: f.data,
            }),
            "signal_ack" => Some(ServerMessage::SignalAck {
                seq: f.seq,
                first: f.first,
            }),
            _ => None,
        }
    }

    /// Can `s` go between JSON quotes as it is (serde_json would escape
    /// nothing in it)? Checked in fixed-size chunks without an early exit
    /// inside a chunk, so the inner loop is vectorized.
    fn plain(s: &str) -> bool {
        s.as_bytes().chunks(64).all(|chunk| {
            chunk
                .iter()
                .fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
        })
    }

    /// Appends `"s"`; `None` if `s` needs escaping.
    fn push_str(out: &mut String, s: &str) -> Option<()> {
        if !plain(s) {
            return None;
        }
        out.push('"');
        out.push_str(s);
        out.push('"');
        Some(())
    }

    /// A client `signal` frame written directly; `None` for other kinds or
    /// when a string needs escaping. Field order is serde's: the tag, then
    /// the variant's fields as declared, `to` left out when absent.
    pub(super) fn encode_client(m: &ClientMessage) -> Option<String> {
        let ClientMessage::Signal {
            seq,
            signal_type,
            data,
            to,
        } = m
        else {
            return None;
        };
        let ids = to
            .as_ref()
            .map_or(0, |t| t.iter().map(|id| id.len() + 3).sum());
        let mut out = String::with_capacity(64 + signal_type.len() + data.len() + ids);
        let _ = write!(out, r#"{{"kind":"signal","seq":{seq},"type":"#);
        push_str(&mut out, signal_type)?;
        out.push_str(r#","data":"#);
        push_str(&mut out, data)?;
        if let Some(to) = to {
            out.push_str(r#","to":["#);
            for (i, id) in to.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_str(&mut out, id)?;
            }
            out.push(']');
        }
        out.push('}');
        Some(out)
    }

    /// A server `signal` frame written directly; `None` for other kinds or
    /// when a string needs escaping.
    pub(super) fn encode_server(m: &ServerMessage) -> Option<String> {
        let ServerMessage::Signal {
            seq,
            from,
            signal_type,
            data,
        } = m
        else {
            return None;
        };
        encode_server_signal(*seq, from.as_deref(), signal_type, data)
    }

    /// A server `signal` frame from its parts; `None` when a string needs
    /// escaping.
    pub(super) fn encode_server_signal(
        seq: u64,
        from: Option<&str>,
        signal_type: &str,
        data: &str,
    ) -> Option<String> {
        let from_len = from.as_ref().map_or(0, |f| f.len() + 10);
        let mut out = String::with_capacity(64 + from_len + signal_type.len() + data.len());
        let _ = write!(out, r#"{{"kind":"signal","seq":{seq}"#);
        if let Some(from) = from {
            out.push_str(r#","from":"#);
            push_str(&mut out, from)?;
        }
        out.push_str(r#","type":"#);
        push_str(&mut out, signal_type)?;
        out.push_str(r#","data":"#);
        push_str(&mut out, data)?;
        out.push('}');
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_frame_shape() {
        let m = ClientMessage::Signal {
            seq: 7,
            signal_type: "chat".into(),
            data: "hi".into(),
            to: None,
        };
        let j = m.encode();
        assert_eq!(j, r#"{"kind":"signal","seq":7,"type":"chat","data":"hi"}"#);
        assert_eq!(ClientMessage::decode(&j).expect("decode"), m);
    }

    #[test]
    fn server_frames_round_trip() {
        let msgs = vec![
            ServerMessage::Signal {
                seq: 3,
                from: None,
                signal_type: String::new(),
                data: "x".into(),
            },
            ServerMessage::SignalError {
                seq: 1,
                code: ErrorCode::SignalTargetNotConnected,
                message: "gone".into(),
            },
            ServerMessage::ConnectionDestroyed {
                seq: 9,
                connection_id: "c".into(),
                reason: DisconnectReason::ForceDisconnected,
            },
            ServerMessage::Disconnected {
                reason: DisconnectReason::ServerShutdown,
                message: "bye".into(),
            },
        ];
        for m in msgs {
            assert_eq!(ServerMessage::decode(&m.encode()).expect("decode"), m);
        }
    }

    #[test]
    fn rejects_unknown_kind_malformed_and_oversize() {
        assert!(ClientMessage::decode(r#"{"kind":"launch_rockets"}"#).is_err());
        assert!(ClientMessage::decode("{not json").is_err());
        assert!(ClientMessage::decode(r#"{"seq":1}"#).is_err());
        let big = format!(
            r#"{{"kind":"signal","seq":1,"data":"{}"}}"#,
            "a".repeat(crate::limits::MAX_FRAME_BYTES)
        );
        assert!(matches!(
            ClientMessage::decode(&big),
            Err(DecodeError::TooLarge(_))
        ));
    }

    #[test]
    fn only_an_object_is_a_frame() {
        // serde would take these positionally; the protocol does not.
        for text in [
            r#"["signal", 1, "t", "x"]"#,
            r#" ["ack", 4]"#,
            r#"["signal_ack", 1]"#,
            "42",
            r#""signal""#,
            "null",
        ] {
            assert!(
                matches!(ClientMessage::decode(text), Err(DecodeError::NotAnObject)),
                "{text}"
            );
            assert!(
                matches!(ServerMessage::decode(text), Err(DecodeError::NotAnObject)),
                "{text}"
            );
        }
        assert!(matches!(
            ClientMessage::decode("[1,"),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            ClientMessage::decode(""),
            Err(DecodeError::Malformed(_))
        ));
        let padded = "\r\n {\"kind\":\"ack\",\"seq\":4}";
        assert_eq!(
            ClientMessage::decode(padded).expect("decode"),
            ClientMessage::Ack { seq: 4 }
        );
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let m = ClientMessage::decode(r#"{"kind":"ack","seq":4,"future":true}"#).expect("decode");
        assert_eq!(m, ClientMessage::Ack { seq: 4 });
    }

    /// Frames for the agreement tests: the hot kinds in every shape a peer
    /// may send (field order, defaults, escapes, unknown fields), broken
    /// variants of them, and other kinds that must fall through.
    const CLIENT_FRAMES: &[&str] = &[
        r#"{"kind":"signal","seq":7,"type":"chat","data":"hi"}"#,
        r#"{"data":"x","seq":3,"kind":"signal"}"#,
        r#"{"kind":"signal","seq":1}"#,
        r#"{"kind":"signal","seq":1,"to":["a","b"],"type":"t"}"#,
        r#"{"kind":"signal","seq":1,"to":null,"data":"x"}"#,
        r#"{"kind":"signal","seq":1,"to":[]}"#,
        r#"{"kind":"signal","seq":2,"type":"t","data":"a\"b\\c\u00e9\n\ud83d\ude00"}"#,
        r#"{"kind":"sign\u0061l","seq":2,"data":"y"}"#,
        r#"{"kind":"signal","seq":1,"extra":{"a":[1,2,{"b":null}]},"data":"z"}"#,
        r#"{"kind":"signal"}"#,
        r#"{"kind":"signal","seq":"1"}"#,
        r#"{"kind":"signal","seq":-1}"#,
        r#"{"kind":"signal","seq":1.5}"#,
        r#"{"kind":"signal","seq":1,"type":null}"#,
        r#"{"kind":"signal","seq":1,"data":5}"#,
        r#"{"kind":"signal","seq":1,"to":"a"}"#,
        r#"{"kind":"signal","seq":1,"data":"a","data":"b"}"#,
        r#"{"kind":"signal","kind":"ack","seq":1}"#,
        r#"{"kind":"ack","seq":1,"kind":"signal"}"#,
        r#"{"kind":7,"seq":1}"#,
        r#"{"kind":"Signal","seq":1}"#,
        r#"{"kind":"signal","seq":1"#,
        r#"["signal",1]"#,
        r#"{"kind":"ack","seq":4}"#,
        r#"{"kind":"ack","seq":4,"data":"x","type":"t"}"#,
        r#"{"kind":"ping","id":1}"#,
        r#"{"kind":"disconnect"}"#,
        r#"{"kind":"launch_rockets","seq":1}"#,
        r#"{"kind":"connect","version":1,"api_key":"k","session_id":"s","token":"t"}"#,
    ];

    const SERVER_FRAMES: &[&str] = &[
        r#"{"kind":"signal","seq":3,"from":"c1","type":"chat","data":"hi"}"#,
        r#"{"kind":"signal","seq":3,"data":"from the REST API"}"#,
        r#"{"kind":"signal","seq":3,"from":null}"#,
        r#"{"data":"\u0000\t","type":"t","from":"c","seq":9,"kind":"signal"}"#,
        r#"{"kind":"signal","seq":1,"unknown":[true]}"#,
        r#"{"kind":"signal","from":"c"}"#,
        r#"{"kind":"signal","seq":1,"from":5}"#,
        r#"{"kind":"signal","seq":1,"from":"a","from":"b"}"#,
        r#"{"kind":"signal_ack","seq":12}"#,
        r#"{"seq":12,"kind":"signal_ack","data":"ignored","from":"x"}"#,
        r#"{"kind":"signal_ack","seq":12,"from":5}"#,
        r#"{"kind":"signal_ack"}"#,
        r#"{"kind":"signal_ack","seq":-3}"#,
        r#"{"kind":"signal_error","seq":1,"code":1500,"message":"no"}"#,
        r#"{"kind":"pong","id":2}"#,
        r#"{"kind":"connection_destroyed","seq":4,"connection_id":"c","reason":"slow_consumer"}"#,
        r#"{"kind":"resumed","last_client_seq":5}"#,
        r#"{"kind":"nope","seq":1}"#,
        "",
    ];

    /// What `decode` should give: the enum's result, but only for an object
    /// (serde alone also reads arrays; see `only_an_object_is_a_frame`).
    fn object<T>(slow: Option<T>, text: &str) -> Option<T> {
        slow.filter(|_| text.trim_start().starts_with('{'))
    }

    #[test]
    fn fast_decode_agrees_with_the_tagged_enum() {
        for text in CLIENT_FRAMES {
            let slow = serde_json::from_str::<ClientMessage>(text).ok();
            if let Some(f) = fast::client(text) {
                assert_eq!(Some(&f), slow.as_ref(), "fast path differs on {text}");
            }
            let both = ClientMessage::decode(text).ok();
            assert_eq!(
                both,
                object(slow, text),
                "decode differs from the enum on {text}"
            );
        }
        for text in SERVER_FRAMES {
            let slow = serde_json::from_str::<ServerMessage>(text).ok();
            if let Some(f) = fast::server(text) {
                assert_eq!(Some(&f), slow.as_ref(), "fast path differs on {text}");
            }
            let both = ServerMessage::decode(text).ok();
            assert_eq!(
                both,
                object(slow, text),
                "decode differs from the enum on {text}"
            );
        }
    }

    /// Found by the `client_frame` fuzz target (fuzz/): serde_json skips an
    /// unknown field without decoding its string escapes, so the flat
    /// struct of the fast path took a frame whose unknown field holds a lone
    /// surrogate (`\ude00`), which the tagged enum (which buffers every
    /// field) refuses. Both paths must refuse it.
    #[test]
    fn fast_decode_refuses_a_lone_surrogate_in_an_unknown_field() {
        let found = r#"{"kind":"signal","seq":1,"tyxe":"t","datea":"a\"b\\c\u20e9\\nud83d\ude00","|o":["c-0","c-2"]}"#;
        let client = [
            found,
            r#"{"kind":"signal","seq":1,"x":"\ude00"}"#,
            r#"{"kind":"signal","seq":1,"x":["\ud800"],"data":"d"}"#,
            r#"{"kind":"signal","seq":1,"x":{"\udfff":1}}"#,
        ];
        for text in client {
            assert!(
                serde_json::from_str::<ClientMessage>(text).is_err(),
                "{text}"
            );
            assert!(ClientMessage::decode(text).is_err(), "{text}");
        }
        let server = [
            r#"{"kind":"signal","seq":1,"x":"\ude00"}"#,
            r#"{"kind":"signal_ack","seq":1,"x":"\ud800"}"#,
        ];
        for text in server {
            assert!(
                serde_json::from_str::<ServerMessage>(text).is_err(),
                "{text}"
            );
            assert!(ServerMessage::decode(text).is_err(), "{text}");
        }
    }

    #[test]
    fn fast_decode_takes_the_hot_kinds_and_nothing_else() {
        let data = "d\"q".repeat(2000);
        let hot = ClientMessage::Signal {
            seq: 5,
            signal_type: "t".into(),
            data: data.clone(),
            to: Some(vec!["a".into()]),
        };
        assert_eq!(fast::client(&hot.encode()), Some(hot));
        let hot = [
            ServerMessage::Signal {
                seq: 5,
                from: Some("c".into()),
                signal_type: String::new(),
                data,
            },
            ServerMessage::SignalAck {
                seq: 8,
                first: None,
            },
            ServerMessage::SignalAck {
                seq: 9,
                first: Some(3),
            },
        ];
        for m in hot {
            assert_eq!(fast::server(&m.encode()), Some(m));
        }
        assert_eq!(fast::client(&ClientMessage::Ack { seq: 4 }.encode()), None);
        assert_eq!(
            fast::server(
                &ServerMessage::SignalError {
                    seq: 1,
                    code: ErrorCode::SignalTargetNotConnected,
                    message: "gone".into(),
                }
                .encode()
            ),
            None
        );
    }

    #[test]
    fn fast_encode_writes_what_serde_json_writes() {
        let texts = [
            "",
            "hi",
            "caf\u{e9} \u{1f600} / ' \u{7f} <>&",
            "quote \" inside",
            "back\\slash",
            "tab\there",
            "nul\u{0}",
            "\u{1f}",
            &"x".repeat(8192),
            &format!("{}\n", "y".repeat(100)),
        ];
        let mut fast_taken = 0;
        for t in texts {
            for other in ["", "c1", t] {
                let client = [
                    ClientMessage::Signal {
                        seq: 1,
                        signal_type: other.into(),
                        data: t.into(),
                        to: None,
                    },
                    ClientMessage::Signal {
                        seq: u64::MAX,
                        signal_type: "chat".into(),
                        data: t.into(),
                        to: Some(vec![]),
                    },
                    ClientMessage::Signal {
                        seq: 42,
                        signal_type: t.into(),
                        data: other.into(),
                        to: Some(vec!["a".into(), other.into(), t.into()]),
                    },
                ];
                for m in &client {
                    let expected = serde_json::to_string(m).unwrap();
                    assert_eq!(m.encode(), expected);
                    if let Some(f) = fast::encode_client(m) {
                        assert_eq!(f, expected);
                        fast_taken += 1;
                    }
                    assert_eq!(&ClientMessage::decode(&m.encode()).unwrap(), m);
                }
                let server = [
                    ServerMessage::Signal {
                        seq: 0,
                        from: None,
                        signal_type: other.into(),
                        data: t.into(),
                    },
                    ServerMessage::Signal {
                        seq: 9,
                        from: Some(other.into()),
                        signal_type: t.into(),
                        data: t.into(),
                    },
                ];
                for m in &server {
                    let expected = serde_json::to_string(m).unwrap();
                    assert_eq!(m.encode(), expected);
                    if let ServerMessage::Signal {
                        seq,
                        from,
                        signal_type,
                        data,
                    } = m
                    {
                        let parts = encode_server_signal(*seq, from.as_deref(), signal_type, data);
                        assert_eq!(parts, expected);
                    }
                    if let Some(f) = fast::encode_server(m) {
                        assert_eq!(f, expected);
                        fast_taken += 1;
                    }
                    assert_eq!(&ServerMessage::decode(&m.encode()).unwrap(), m);
                }
            }
        }
        assert!(
            fast_taken > 40,
            "the fast path was taken {fast_taken} times"
        );
        assert_eq!(fast::encode_client(&ClientMessage::Ack { seq: 1 }), None);
        assert_eq!(
            fast::encode_server(&ServerMessage::SignalAck {
                seq: 1,
                first: None
            }),
            None
        );
    }
}
