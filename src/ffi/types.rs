//! The types the C header declares: scalars, constants, enums with the SDK's
//! values, the plain structs, the callback struct and the opaque handles.
//!
//! Enum parameters that C passes *in* (`otc_log_enable`) and that we pass
//! *out* to callbacks with values the SDK enum lacks (`on_error`) are plain
//! `int`s on the Rust side (see [`otc_log_level`],
//! [`otc_session_error_code_arg`]); the header still names the enum, so C
//! code is unchanged, but a value outside the enum can never become an
//! invalid Rust enum.

use std::ffi::{c_char, c_int, c_void};

// stream.h's types, which the session callbacks name.
use super::{otc_stream, otc_stream_video_type};

/// A boolean: `OTC_TRUE` or `OTC_FALSE`.
pub type otc_bool = c_int;

/// The result of a call: `OTC_SUCCESS` or an error code
/// (an `enum otc_session_error_code` value, or one of ours, see
/// `enum otc_signal_error_code`).
pub type otc_status = c_int;

// `enum otc_constant` and `enum otc_log_level` have members that share a
// value (aliases), which a Rust enum cannot say; the header declares them
// in C (cbindgen.toml, `after_includes`) and these constants, excluded from
// the header, are their Rust names.

/// The call succeeded.
pub const OTC_SUCCESS: otc_status = 0;
/// Boolean true.
pub const OTC_TRUE: otc_bool = 1;
/// Boolean false.
pub const OTC_FALSE: otc_bool = 0;

/// `enum otc_log_level` on the Rust side: any `int` C may pass.
pub type otc_log_level = c_int;
pub const OTC_LOG_LEVEL_DISABLED: otc_log_level = 0;
pub const OTC_LOG_LEVEL_ERROR: otc_log_level = 1;
pub const OTC_LOG_LEVEL_WARN: otc_log_level = 2;
pub const OTC_LOG_LEVEL_INFO: otc_log_level = 3;
pub const OTC_LOG_LEVEL_DEBUG: otc_log_level = 4;
pub const OTC_LOG_LEVEL_FATAL: otc_log_level = OTC_LOG_LEVEL_ERROR;
pub const OTC_LOG_LEVEL_MSG: otc_log_level = OTC_LOG_LEVEL_DEBUG;
pub const OTC_LOG_LEVEL_TRACE: otc_log_level = OTC_LOG_LEVEL_DEBUG;
pub const OTC_LOG_LEVEL_ALL: otc_log_level = OTC_LOG_LEVEL_DEBUG;

/// A session: a handle returned by `otc_session_new`, freed by
/// `otc_session_delete`.
pub struct otc_session {
    _private: [u8; 0],
}

/// Options for `otc_session_new_with_settings`.
pub struct otc_session_settings {
    _private: [u8; 0],
}

/// A participant of a session.
pub struct otc_connection {
    _private: [u8; 0],
}

/// Why a stream's video stopped or started, as in the Vonage SDK (given to
/// media callbacks, which this library never calls).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_video_reason {
    OTC_VIDEO_REASON_PUBLISH_VIDEO = 1,
    OTC_VIDEO_REASON_SUBSCRIBE_TO_VIDEO = 2,
    OTC_VIDEO_REASON_QUALITY = 3,
    OTC_VIDEO_REASON_CODEC_NOT_SUPPORTED = 4,
}

/// Given to `on_mute_forced` (never called here: no media to mute).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_on_mute_forced_info {
    /// Whether the mute is in force.
    pub active: otc_bool,
}

/// General error codes, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_error_code {
    OTC_INVALID_PARAM = 1,
    OTC_FATAL = 2,
    OTC_INVALID_VIDEO_FORMAT = 3,
    OTC_CONNECTION_DROPPED = 1022,
    OTC_UNABLE_TO_FORCE_DISCONNECT = 1520,
    OTC_UNABLE_TO_FORCE_MUTE = 1540,
    OTC_CONNECTION_TIMED_OUT = 1542,
    OTC_UNKNOWN_PUBLISHER_INSTANCE = 2003,
    OTC_UNKNOWN_SUBSCRIBER_INSTANCE = 2004,
    OTC_VIDEO_CAPTURE_FAILED = 3000,
    OTC_CAMERA_FAILED = 3010,
    OTC_VIDEO_RENDER_FAILED = 4000,
    /// Returned by every function that needs media (publishing,
    /// subscribing, devices): this library has no media engine.
    OT_UNABLE_TO_ACCESS_MEDIA_ENGINE = 5000,
}

/// Session error codes, with the Vonage SDK's members and values (in the
/// SDK's order). Functions returning `otc_status` return one of these on
/// failure; `on_error` receives one.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_session_error_code {
    /// The token was refused.
    OTC_SESSION_AUTHORIZATION_FAILURE = 1004,
    OTC_SESSION_BLOCKED_COUNTRY = 1026,
    /// The link to the server was lost.
    OTC_SESSION_CONNECTION_DROPPED = 1022,
    /// The server could not be reached.
    OTC_SESSION_CONNECTION_FAILED = 1006,
    /// The session holds its maximum number of connections.
    OTC_SESSION_CONNECTION_LIMIT_EXCEEDED = 1027,
    OTC_SESSION_CONNECTION_REFUSED = 1023,
    /// The server did not answer in time.
    OTC_SESSION_CONNECTION_TIMED_OUT = 1021,
    OTC_SESSION_FORCE_UNPUBLISH_OR_INVALID_STREAM = 1535,
    /// The call is not allowed now (e.g. before `otc_init`, after
    /// `otc_destroy`, or `otc_session_connect` on a connected session).
    OTC_SESSION_ILLEGAL_STATE = 1015,
    OTC_SESSION_INTERNAL_ERROR = 2000,
    /// The session id was refused by the server.
    OTC_SESSION_INVALID_SESSION = 1005,
    /// The signal type holds a character outside `A-Z a-z 0-9 - _ ~`.
    OTC_SESSION_INVALID_SIGNAL_TYPE = 1461,
    /// The session is not connected.
    OTC_SESSION_NOT_CONNECTED = 1010,
    OTC_SESSION_NO_MESSAGING_SERVER = 1503,
    /// A pointer was NULL, a string was not UTF-8, or a handle is not live.
    OTC_SESSION_NULL_OR_INVALID_PARAMETER = 1011,
    OTC_SESSION_PUBLISHER_NOT_FOUND = 1113,
    /// The signal data is longer than 8192 bytes.
    OTC_SESSION_SIGNAL_DATA_TOO_LONG = 1413,
    /// The signal type is longer than 128 bytes.
    OTC_SESSION_SIGNAL_TYPE_TOO_LONG = 1414,
    OTC_SESSION_UNABLE_TO_SEND_SIGNAL = 1550,
    OTC_SESSION_STATE_FAILED = 1020,
    OTC_SESSION_SUBSCRIBER_NOT_FOUND = 1112,
    OTC_SESSION_UNEXPECTED_GET_SESSION_INFO_REPONSE = 2001,
    /// End-to-end encryption needs a secret (media only; never returned here).
    OTC_SESSION_ENCRYPTION_SECRET_MISSING = 6000,
    /// `otc_session_set_encryption_secret` was given a secret shorter than
    /// `ENCRYPTION_SECRET_MINIMUM_LENGTH` or longer than
    /// `ENCRYPTION_SECRET_MAXIMUM_LENGTH` bytes.
    OTC_SESSION_INVALID_ENCRYPTION_SECRET = 6004,
}

/// Shortest secret `otc_session_set_encryption_secret` accepts, in bytes.
pub const ENCRYPTION_SECRET_MINIMUM_LENGTH: usize = 8;
/// Longest secret `otc_session_set_encryption_secret` accepts, in bytes.
pub const ENCRYPTION_SECRET_MAXIMUM_LENGTH: usize = 256;

/// Rust-side stand-in for `enum otc_session_error_code` passed to
/// `on_error` (it may carry an `enum otc_signal_error_code` value too).
pub type otc_session_error_code_arg = c_int;

/// Extension: not in the Vonage SDK. Outcomes of a signal for which the SDK
/// has no C code; returned by the send functions or given to an
/// `otc_signal_completion_callback` (alongside `otc_session_error_code`
/// values such as 1010 or 1022).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_signal_error_code {
    /// A target connection is not connected to the session.
    OTC_SIGNAL_TARGET_NOT_CONNECTED = 1600,
    /// The token's role does not allow signaling.
    OTC_SIGNAL_PERMISSION_DENIED = 1601,
    /// Too many signals in too short a time.
    OTC_SIGNAL_RATE_LIMITED = 1602,
    /// Too many signals are waiting for the server's acknowledgement.
    OTC_SIGNAL_BUFFER_FULL = 1603,
    /// The server and the library disagree on the protocol.
    OTC_SIGNAL_PROTOCOL_ERROR = 1604,
}

/// What this client may do in the session.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_session_capabilities {
    /// Always `OTC_FALSE`: media is not supported by this library.
    pub publish: otc_bool,
    /// Always `OTC_FALSE`: there are no streams to mute.
    pub force_mute: otc_bool,
}

/// TURN servers for the media connections, as in the Vonage SDK. Accepted
/// and kept by `otc_session_settings_set_custom_ice_config`; without media
/// they are never used.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct otc_custom_ice_config {
    /// How many entries `ice_url`, `ice_user` and `ice_credential` hold.
    pub num_ice_servers: c_int,
    pub ice_url: *mut *mut c_char,
    pub ice_user: *mut *mut c_char,
    pub ice_credential: *mut *mut c_char,
    pub force_turn: otc_bool,
    pub use_custom_turn_only: otc_bool,
}

/// Options of one signal.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_signal_options {
    /// Whether a signal sent while reconnecting is queued until the session
    /// is back (`OTC_TRUE`, the default of the functions without options) or
    /// refused with `OTC_SESSION_NOT_CONNECTED` (`OTC_FALSE`).
    pub retry_after_reconnect: otc_bool,
}

/// Receives the library's log messages (see `otc_log_set_logger_callback`).
pub type otc_logger_callback = Option<unsafe extern "C" fn(message: *const c_char)>;

/// Extension: not in the Vonage SDK. Told the outcome of a signal sent with
/// `otc_session_send_signal_to_connections`: `result` is `OTC_SUCCESS` once
/// the server has accepted and routed it, else an error code
/// (`OTC_SIGNAL_TARGET_NOT_CONNECTED`, `OTC_SIGNAL_PERMISSION_DENIED`,
/// `OTC_SIGNAL_RATE_LIMITED`, `OTC_SESSION_NOT_CONNECTED` when the session was
/// disconnected first, `OTC_SESSION_CONNECTION_DROPPED` when the link was
/// lost first, ...). Called once, on the session's callback thread, like the
/// session callbacks; never after `otc_session_delete` returns.
pub type otc_signal_completion_callback = Option<
    unsafe extern "C" fn(
        session: *mut otc_session,
        user_data: *mut c_void,
        signal_id: u64,
        result: otc_status,
        completion_data: *mut c_void,
    ),
>;

/// The application's callbacks, in the Vonage SDK's order and layout.
///
/// Every field may be NULL. Callbacks run on an internal thread, one at a
/// time and in order for a session; pointers they receive are valid only
/// during the call (use `otc_connection_copy` to keep a connection). Any
/// library function may be called from inside a callback. The `on_stream_*`,
/// `on_archive_*` and `on_mute_forced` callbacks are never called (no media).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_session_callbacks {
    /// The session is connected.
    pub on_connected:
        Option<unsafe extern "C" fn(session: *mut otc_session, user_data: *mut c_void)>,
    /// The session is disconnected (after `otc_session_disconnect`, a forced
    /// disconnection, or a lost link that could not be resumed).
    pub on_disconnected:
        Option<unsafe extern "C" fn(session: *mut otc_session, user_data: *mut c_void)>,
    /// Another connection is in the session: called for those present when
    /// connecting and for later arrivals (not with connection events
    /// suppressed).
    pub on_connection_created: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            connection: *const otc_connection,
        ),
    >,
    /// Another connection left the session.
    pub on_connection_dropped: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            connection: *const otc_connection,
        ),
    >,
    pub on_stream_received: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
        ),
    >,
    pub on_stream_dropped: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
        ),
    >,
    pub on_stream_has_audio_changed: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
            has_audio: otc_bool,
        ),
    >,
    pub on_stream_has_video_changed: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
            has_video: otc_bool,
        ),
    >,
    pub on_stream_has_captions_changed: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
            has_captions: otc_bool,
        ),
    >,
    pub on_stream_video_dimensions_changed: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
            width: c_int,
            height: c_int,
        ),
    >,
    pub on_stream_video_type_changed: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            stream: *const otc_stream,
            r#type: otc_stream_video_type,
        ),
    >,
    /// A signal arrived. `type` and `signal` are never NULL (possibly "").
    /// `connection` is the sender (yourself for your own broadcasts), or NULL
    /// for a signal sent by the server through the REST API.
    pub on_signal_received: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            r#type: *const c_char,
            signal: *const c_char,
            connection: *const otc_connection,
        ),
    >,
    /// The link to the server dropped; the library is resuming the same
    /// connection (the others see no drop). Signals sent meanwhile are
    /// queued, unless their options say `retry_after_reconnect = OTC_FALSE`
    /// (then the send returns `OTC_SESSION_NOT_CONNECTED`).
    pub on_reconnection_started:
        Option<unsafe extern "C" fn(session: *mut otc_session, user_data: *mut c_void)>,
    /// The connection was resumed: same connection id, missed signals
    /// follow, queued signals are sent. If it cannot be resumed in time,
    /// `on_error` and `on_disconnected` are called instead.
    pub on_reconnected:
        Option<unsafe extern "C" fn(session: *mut otc_session, user_data: *mut c_void)>,
    pub on_archive_started: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            archive_id: *const c_char,
            name: *const c_char,
        ),
    >,
    pub on_archive_stopped: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            archive_id: *const c_char,
        ),
    >,
    /// Something failed: connecting, a link that could not be resumed
    /// (`OTC_SESSION_CONNECTION_DROPPED`), the server dropping this client
    /// because a bounded buffer overflowed (`OTC_SIGNAL_BUFFER_FULL`), or
    /// signals that were accepted but could not be sent before the session
    /// ended (one call saying how many). When the session ends,
    /// `on_disconnected` follows. `error_string` names the cause.
    ///
    /// A connect that fails gets one `on_error`, then `on_disconnected`:
    /// `OTC_SESSION_CONNECTION_FAILED` (1006) when the server cannot be
    /// reached or spoken to: connection refused, host name not resolved,
    /// TLS handshake failed, certificate untrusted, expired or not valid for
    /// the host, proxy unreachable or refusing `CONNECT` (407 included),
    /// HTTP error status on the WebSocket upgrade; `OTC_SESSION_CONNECTION_TIMED_OUT`
    /// (1021) when a step took too long (10 s for the whole connect, the
    /// message says which step); the server's own refusals keep their codes
    /// (`OTC_SESSION_AUTHORIZATION_FAILURE` 1004, `OTC_SESSION_INVALID_SESSION`
    /// 1005, `OTC_SESSION_CONNECTION_LIMIT_EXCEEDED` 1027,
    /// `OTC_SESSION_CONNECTION_REFUSED` 1023 from a server shutting down).
    pub on_error: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            error_string: *const c_char,
            error: otc_session_error_code_arg,
        ),
    >,
    /// Never called: there is no media to mute.
    pub on_mute_forced: Option<
        unsafe extern "C" fn(
            session: *mut otc_session,
            user_data: *mut c_void,
            mute_info: *mut otc_on_mute_forced_info,
        ),
    >,
    /// Passed to every callback.
    pub user_data: *mut c_void,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// The SDK's generic error enum (its `error.h`), kept for code that names it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_error {
    OTC_GENERIC_ERROR = 0,
}
