//! libopentok: the signaling part of the Vonage Video (OpenTok) Linux SDK,
//! as an open library speaking to a self-hosted `otc-server`.
//!
//! The C ABI lives in [`ffi`] and does nothing but check arguments, convert
//! strings, own handles and stop panics. Everything else is the Rust core;
//! one signal travels through it like this:
//!
//! 1. `ffi::session` — `otc_session_send_signal` checks pointers and UTF-8;
//! 2. [`session`] — validates type and data against `protocol::limits`,
//!    checks the state, and hands the signal to
//! 3. [`outbox`] — which numbers it and keeps it until the server answers;
//! 4. [`transport`] — the WebSocket writer task sends the frame;
//! 5. the server routes it; on each receiver [`transport`]'s reader yields it,
//!    [`session`] resolves the sender's [`connection`] and queues an event for
//! 6. [`dispatch`] — the session's dispatch thread, which calls
//!    `on_signal_received`.
//!
//! When the link drops, [`session`] keeps the session (state
//! `reconnecting`), and resumes the same connection on a new link following
//! the [`reconnect`] policy; the [`outbox`] sends again what the server had
//! not confirmed. See `docs/reconnection.md` for the guarantee.
//!
//! Links follow the session's [`transport::Route`]s, one per server URL
//! (tried in turn): `ws://` or `wss://` ([`tls`]: rustls, the system's trust
//! store plus an optional CA file), directly or through an HTTP `CONNECT`
//! proxy ([`proxy`]).
//!
//! [`runtime`] owns the process-wide pieces (`otc_init` / `otc_destroy`) and
//! [`log`] the library's logging.

pub mod connection;
pub mod dispatch;
pub mod error;
pub mod ffi;
pub mod issue_report;
pub mod log;
pub mod outbox;
pub mod proxy;
pub mod reconnect;
pub mod runtime;
pub mod session;
pub mod tls;
pub mod transport;
pub mod video_frame;
