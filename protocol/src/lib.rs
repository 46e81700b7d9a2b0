//! The contract between `libopentok` and `otc-server`.
//!
//! Everything both sides must agree on lives here and nowhere else:
//!
//! * [`messages`] — the JSON frames exchanged over the WebSocket, one message
//!   kind per frame, tagged by `kind`;
//! * [`limits`] — every size, count and rate bound (signal type and data
//!   length, frame cap, connection data, …);
//! * [`validate`] — the checks that enforce those limits, used by the client
//!   *before* anything is queued and again by the server (never trust a client);
//! * [`codes`] — the Vonage SDK's numeric error codes carried by error frames.
//!
//! The protocol is versioned twice: the WebSocket subprotocol name
//! ([`SUBPROTOCOL`]) and an explicit `version` field in the first frame a
//! client sends, so an old client talking to a new server gets a typed error
//! rather than undefined behaviour.

pub mod binary;
pub mod codes;
pub mod limits;
pub mod messages;
pub mod validate;

pub use codes::ErrorCode;
pub use messages::{ClientMessage, ConnectionInfo, ServerMessage};

/// Version of the wire protocol described by [`messages`].
pub const PROTOCOL_VERSION: u32 = 1;

/// WebSocket subprotocol offered by the client and accepted by the server.
pub const SUBPROTOCOL: &str = "otc-signal.v1";

/// Path of the WebSocket endpoint on the server.
pub const WS_PATH: &str = "/v1/ws";
