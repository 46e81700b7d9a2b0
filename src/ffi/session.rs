//! `otc_session_*`: creating, connecting, signaling, deleting.
//!
//! Also the bridge from core events to the application's callback struct
//! ([`CallbackSink`]): a pure translation of each [`Event`] into the matching
//! C call.

use std::any::Any;
use std::ffi::{c_char, c_void};
use std::sync::Arc;

use protocol::limits::MAX_SIGNAL_TARGETS;

use protocol::ErrorCode;

use super::boundary::{ffi, function_name, warn_once};
use super::castable::{as_c, try_copy, try_opt_str, try_ref, try_session, try_str};
use super::{
    otc_connection, otc_session, otc_session_callbacks, otc_session_capabilities,
    otc_session_settings, otc_signal_completion_callback, otc_signal_options, otc_status, success,
    ENCRYPTION_SECRET_MAXIMUM_LENGTH, ENCRYPTION_SECRET_MINIMUM_LENGTH, OTC_FALSE, OTC_SUCCESS,
};
use crate::connection::Connection;
use crate::dispatch::{Completion, Event, EventSink};
use crate::error::{Error, Result};
use crate::outbox::Outgoing;
use crate::runtime;
use crate::session::{Session, Settings};

/// The application's callbacks, called on the dispatch thread.
struct CallbackSink {
    cb: otc_session_callbacks,
}

// SAFETY: the SDK contract is that callbacks and their user_data may be used
// from the library's callback thread; we only ever copy the pointers.
unsafe impl Send for CallbackSink {}
unsafe impl Sync for CallbackSink {}

fn conn_ptr(c: &Arc<Connection>) -> *const otc_connection {
    as_c::<otc_connection>(c)
}

impl EventSink for CallbackSink {
    fn deliver(&self, session: usize, event: &Event) {
        let s = session as *mut otc_session;
        let ud = self.cb.user_data;
        // SAFETY (every call below): the application gave us these function
        // pointers for exactly these calls; every pointer argument lives
        // until the call returns.
        match event {
            Event::Connected => {
                if let Some(f) = self.cb.on_connected {
                    unsafe { f(s, ud) }
                }
            }
            Event::Disconnected => {
                if let Some(f) = self.cb.on_disconnected {
                    unsafe { f(s, ud) }
                }
            }
            Event::ReconnectionStarted => {
                if let Some(f) = self.cb.on_reconnection_started {
                    unsafe { f(s, ud) }
                }
            }
            Event::Reconnected => {
                if let Some(f) = self.cb.on_reconnected {
                    unsafe { f(s, ud) }
                }
            }
            Event::ConnectionCreated(c) => {
                if let Some(f) = self.cb.on_connection_created {
                    unsafe { f(s, ud, conn_ptr(c)) }
                }
            }
            Event::ConnectionDropped(c) => {
                if let Some(f) = self.cb.on_connection_dropped {
                    unsafe { f(s, ud, conn_ptr(c)) }
                }
            }
            Event::Signal {
                signal_type,
                data,
                from,
            } => {
                if let Some(f) = self.cb.on_signal_received {
                    let from = from.as_ref().map_or(std::ptr::null(), conn_ptr);
                    unsafe { f(s, ud, signal_type.as_ptr(), data.as_ptr(), from) }
                }
            }
            Event::Error { message, code } => {
                if let Some(f) = self.cb.on_error {
                    unsafe { f(s, ud, message.as_ptr(), *code) }
                }
            }
            // Completions carry their own C function (see `completion`);
            // barriers are the dispatcher's own.
            Event::SignalComplete { .. } | Event::Barrier(_) => {}
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A raw pointer that C allows us to hand back on another thread.
#[derive(Clone, Copy)]
struct CPtr(*mut c_void);
// SAFETY: we never dereference it; it is only passed back to the application.
unsafe impl Send for CPtr {}

fn completion(
    session: *const otc_session,
    user_data: *mut c_void,
    cb: otc_signal_completion_callback,
    data: *mut c_void,
) -> Option<Completion> {
    let f = cb?;
    let session = session as usize;
    let (ud, data) = (CPtr(user_data), CPtr(data));
    Some(Box::new(move |signal_id, result| {
        let (ud, data) = (ud, data);
        // SAFETY: the application's completion callback, with its own data.
        unsafe { f(session as *mut otc_session, ud.0, signal_id, result, data.0) }
    }))
}

unsafe fn new_session(
    apikey: *const c_char,
    session_id: *const c_char,
    callbacks: *const otc_session_callbacks,
    settings: *mut otc_session_settings,
) -> Result<*mut otc_session> {
    if !runtime::is_initialized() {
        return Err(Error::not_initialized());
    }
    let api_key = unsafe { try_str(apikey, "apikey") }?;
    let session_id = unsafe { try_str(session_id, "session_id") }?;
    // Copied: the caller may free its struct.
    let cb = unsafe { try_copy(callbacks, "callbacks") }?;
    let settings = if settings.is_null() {
        Settings::default()
    } else {
        unsafe { try_ref(settings) }?.clone()
    };
    let addr =
        runtime::create_session(api_key, session_id, settings, Box::new(CallbackSink { cb }))?;
    Ok(addr as *mut otc_session)
}

/// Creates a session (not yet connected). `callbacks` is copied. Returns NULL
/// (and logs why) if an argument is NULL or invalid, or before `otc_init`.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `callbacks` is NULL or points to a
/// valid struct.
#[no_mangle]
pub unsafe extern "C" fn otc_session_new(
    apikey: *const c_char,
    session_id: *const c_char,
    callbacks: *const otc_session_callbacks,
) -> *mut otc_session {
    ffi!({ unsafe { new_session(apikey, session_id, callbacks, std::ptr::null_mut()) } })
}

/// As `otc_session_new`, with settings (copied; NULL means defaults).
///
/// # Safety
/// As `otc_session_new`; `settings` is NULL or came from
/// `otc_session_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_new_with_settings(
    apikey: *const c_char,
    session_id: *const c_char,
    callbacks: *const otc_session_callbacks,
    settings: *mut otc_session_settings,
) -> *mut otc_session {
    ffi!({ unsafe { new_session(apikey, session_id, callbacks, settings) } })
}

/// Deletes a session, disconnecting it if needed. When it returns, no
/// callback of this session is running (unless called from one of its own
/// callbacks, which then simply finishes) and none will run again. Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for NULL or an already deleted
/// session.
#[no_mangle]
pub extern "C" fn otc_session_delete(session: *mut otc_session) -> otc_status {
    ffi!({
        if session.is_null() {
            return Err(Error::invalid("otc_session pointer is NULL"));
        }
        success(runtime::delete_session(session as usize))
    })
}

/// Starts connecting with `token`; `on_connected` follows, or `on_error`
/// then `on_disconnected` (see `on_error` in `otc_session_callbacks` for the
/// codes: 1006 for an unreachable server, TLS, certificate or proxy
/// failures, 1021 for timeouts). The link goes to the server URL (settings,
/// `OTC_SERVER_URL`, default), through the proxy of the settings if any.
/// Returns `OTC_SESSION_ILLEGAL_STATE` if the session is already connecting
/// or connected, `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for an empty or
/// oversize token, a malformed `OTC_SERVER_URL`, or an unusable
/// `OTC_CA_FILE` (when TLS is used).
///
/// # Safety
/// `token` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn otc_session_connect(
    session: *mut otc_session,
    token: *const c_char,
) -> otc_status {
    ffi!({
        let s = try_session(session)?;
        success(s.connect(unsafe { try_str(token, "token") }?))
    })
}

/// Leaves the session; `on_disconnected` follows. Returns
/// `OTC_SESSION_NOT_CONNECTED` if it is neither connected nor connecting.
#[no_mangle]
pub extern "C" fn otc_session_disconnect(session: *mut otc_session) -> otc_status {
    ffi!({ success(try_session(session)?.disconnect()) })
}

/// One signal as C describes it, before it is checked.
struct SignalArgs {
    session: *const otc_session,
    r#type: *const c_char,
    signal: *const c_char,
    options: otc_signal_options,
    on_complete: otc_signal_completion_callback,
    completion_data: *mut c_void,
}

impl SignalArgs {
    fn new(session: *const otc_session, r#type: *const c_char, signal: *const c_char) -> Self {
        SignalArgs {
            session,
            r#type,
            signal,
            options: DEFAULT_OPTIONS,
            on_complete: None,
            completion_data: std::ptr::null_mut(),
        }
    }

    fn with_options(mut self, options: otc_signal_options) -> Self {
        self.options = options;
        self
    }

    /// Checks the arguments and sends to `to` (`None`: the whole session).
    ///
    /// # Safety
    /// The strings are NULL or NUL-terminated.
    unsafe fn send(self, to: Option<Vec<String>>) -> Result<u64> {
        unsafe { self.send_to(Dest::Session(to)) }
    }

    /// Checks the arguments and sends to `to`.
    ///
    /// # Safety
    /// The strings are NULL or NUL-terminated.
    unsafe fn send_to(self, to: Dest) -> Result<u64> {
        let s = try_session(self.session)?;
        let signal_type = unsafe { try_opt_str(self.r#type, "type") }?;
        let data = unsafe { try_opt_str(self.signal, "signal") }?;
        let user_data = user_data_of(&s);
        s.send_signal(Outgoing {
            signal_type: signal_type.to_string(),
            data: data.to_string(),
            to_server: matches!(to, Dest::Server),
            to: match to {
                Dest::Session(to) => to,
                Dest::Server => None,
            },
            retry_after_reconnect: self.options.retry_after_reconnect != OTC_FALSE,
            completion: completion(
                self.session,
                user_data,
                self.on_complete,
                self.completion_data,
            ),
        })
    }
}

/// Where a signal goes.
enum Dest {
    /// The session's connections (`None`: all of them).
    Session(Option<Vec<String>>),
    /// The project's application server.
    Server,
}

/// The one target of the `*_to_connection` functions.
///
/// # Safety
/// `connection` is NULL or a valid connection pointer.
unsafe fn target_of(connection: *const otc_connection) -> Result<Option<Vec<String>>> {
    let c = unsafe { try_ref(connection) }?;
    Ok(Some(vec![c.id_str().to_string()]))
}

const DEFAULT_OPTIONS: otc_signal_options = otc_signal_options {
    retry_after_reconnect: 1,
};

/// Sends a signal to every connection of the session, the sender included.
/// `type` (NULL = "") is at most 128 bytes of `A-Z a-z 0-9 - _ ~`; `signal`
/// (NULL = "") at most 8192 bytes of UTF-8. Checked before anything is
/// queued: 1414 type too long, 1461 invalid type, 1413 data too long, 1011
/// NULL session or invalid UTF-8, 1010 not connected, 1603 when 8192
/// signals already wait for the server's answer.
///
/// Every send call returns at once. At most 4 MiB of signals
/// (`MAX_UNANSWERED_SIGNAL_BYTES`) are on their way unanswered; the rest
/// wait in order in the library and go out as the server answers, so a
/// burst faster than the slowest recipient reads is paced rather than
/// refused. Signals still waiting when the session disconnects are not
/// sent; those sent with a completion callback report 1010 (not connected).
///
/// # Safety
/// Strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn otc_session_send_signal(
    session: *mut otc_session,
    r#type: *const c_char,
    signal: *const c_char,
) -> otc_status {
    ffi!({
        unsafe { SignalArgs::new(session, r#type, signal).send(None) }?;
        Ok(OTC_SUCCESS)
    })
}

/// Sends a signal to one connection. Errors as `otc_session_send_signal`,
/// plus 1011 for a NULL connection.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `connection` is NULL or a valid
/// connection pointer.
#[no_mangle]
pub unsafe extern "C" fn otc_session_send_signal_to_connection(
    session: *mut otc_session,
    r#type: *const c_char,
    signal: *const c_char,
    connection: *const otc_connection,
) -> otc_status {
    ffi!({
        try_session(session)?;
        let to = unsafe { target_of(connection) }?;
        unsafe { SignalArgs::new(session, r#type, signal).send(to) }?;
        Ok(OTC_SUCCESS)
    })
}

/// As `otc_session_send_signal`, with options.
///
/// # Safety
/// As `otc_session_send_signal`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_send_signal_with_options(
    session: *mut otc_session,
    r#type: *const c_char,
    signal: *const c_char,
    signal_options: otc_signal_options,
) -> otc_status {
    ffi!({
        let args = SignalArgs::new(session, r#type, signal).with_options(signal_options);
        unsafe { args.send(None) }?;
        Ok(OTC_SUCCESS)
    })
}

/// As `otc_session_send_signal_to_connection`, with options.
///
/// # Safety
/// As `otc_session_send_signal_to_connection`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_send_signal_to_connection_with_options(
    session: *mut otc_session,
    r#type: *const c_char,
    signal: *const c_char,
    connection: *const otc_connection,
    signal_options: otc_signal_options,
) -> otc_status {
    ffi!({
        try_session(session)?;
        let to = unsafe { target_of(connection) }?;
        let args = SignalArgs::new(session, r#type, signal).with_options(signal_options);
        unsafe { args.send(to) }?;
        Ok(OTC_SUCCESS)
    })
}

/// The targets of `otc_session_send_signal_to_connections`.
///
/// # Safety
/// `ids` is NULL or points to `count` string pointers.
unsafe fn targets_of(ids: *const *const c_char, count: usize) -> Result<Option<Vec<String>>> {
    if count == 0 {
        return Ok(None);
    }
    if ids.is_null() {
        return Err(Error::invalid(format!(
            "connection_ids is NULL but connection_count is {count}"
        )));
    }
    if count > MAX_SIGNAL_TARGETS {
        return Err(Error::invalid(format!(
            "connection_count {count} is more than the limit of {MAX_SIGNAL_TARGETS}"
        )));
    }
    // SAFETY: the caller promises `count` readable pointers.
    let ids = unsafe { std::slice::from_raw_parts(ids, count) };
    ids.iter()
        .enumerate()
        .map(|(i, p)| unsafe { try_str(*p, &format!("connection_ids[{i}]")) }.map(str::to_string))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Extension: not in the Vonage SDK. Sends a signal to a list of
/// connections, given by id (`otc_connection_get_id`), or to the whole
/// session (sender included) when `connection_ids` is NULL or
/// `connection_count` is 0. At most 1000 ids.
///
/// Problems found before anything is queued are returned (as for
/// `otc_session_send_signal`; `on_complete` is then not called). Otherwise
/// the call returns `OTC_SUCCESS`, stores the signal's id in
/// `*signal_id_out` (if not NULL), and `on_complete` (if not NULL) is called
/// once with that id and the outcome: `OTC_SUCCESS` when the server has
/// routed the signal, `OTC_SIGNAL_TARGET_NOT_CONNECTED` when a target is not
/// in the session (then nobody receives it: a list is all or nothing, so a
/// retry after fixing the list cannot double a delivery), or another code (see
/// `otc_signal_completion_callback`).
///
/// # Safety
/// Strings are NULL or NUL-terminated; `connection_ids` is NULL or points to
/// `connection_count` string pointers; `signal_id_out` is NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn otc_session_send_signal_to_connections(
    session: *mut otc_session,
    r#type: *const c_char,
    signal: *const c_char,
    connection_ids: *const *const c_char,
    connection_count: usize,
    signal_options: otc_signal_options,
    on_complete: otc_signal_completion_callback,
    completion_data: *mut c_void,
    signal_id_out: *mut u64,
) -> otc_status {
    ffi!({
        try_session(session)?;
        let to = unsafe { targets_of(connection_ids, connection_count) }?;
        let args = SignalArgs {
            on_complete,
            completion_data,
            ..SignalArgs::new(session, r#type, signal).with_options(signal_options)
        };
        let id = unsafe { args.send(to) }?;
        // SAFETY: NULL or writable per the contract.
        if let Some(out) = unsafe { signal_id_out.as_mut() } {
            *out = id;
        }
        Ok(OTC_SUCCESS)
    })
}

/// Extension: not in the Vonage SDK. Sends a signal to the project's
/// application server instead of to the session: it reaches the server's
/// callback URL (a POST of a `signal` event with this client's connection)
/// or its event stream (docs/rest.md), not the other participants. The
/// application server answers, if it wants to, with a REST signal.
///
/// Checked and numbered like `otc_session_send_signal_to_connections`
/// (same limits and codes; `on_complete` is not called when the call
/// returns an error). `on_complete` (if not NULL) is called once: with
/// `OTC_SUCCESS` when the application server has the signal (its callback
/// URL answered 2xx, or an event stream took it), or with
/// `OTC_SIGNAL_TARGET_NOT_CONNECTED` (it is not listening, or its callback
/// URL kept failing), `OTC_SIGNAL_PERMISSION_DENIED` (it answered a 4xx),
/// `OTC_SIGNAL_RATE_LIMITED`, `OTC_SIGNAL_BUFFER_FULL` (its queue was full),
/// `OTC_SESSION_CONNECTION_DROPPED` or `OTC_SESSION_NOT_CONNECTED` (the
/// session ended first). Retried after a reconnection like any signal
/// (per `signal_options`), and never delivered twice.
///
/// # Safety
/// Strings are NULL or NUL-terminated; `signal_id_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn otc_session_send_signal_to_server(
    session: *mut otc_session,
    r#type: *const c_char,
    signal: *const c_char,
    signal_options: otc_signal_options,
    on_complete: otc_signal_completion_callback,
    completion_data: *mut c_void,
    signal_id_out: *mut u64,
) -> otc_status {
    ffi!({
        try_session(session)?;
        let args = SignalArgs {
            on_complete,
            completion_data,
            ..SignalArgs::new(session, r#type, signal).with_options(signal_options)
        };
        let id = unsafe { args.send_to(Dest::Server) }?;
        // SAFETY: NULL or writable per the contract.
        if let Some(out) = unsafe { signal_id_out.as_mut() } {
            *out = id;
        }
        Ok(OTC_SUCCESS)
    })
}

/// The session id (valid until the session is deleted; do not free), or
/// NULL for an invalid session.
#[no_mangle]
pub extern "C" fn otc_session_get_id(session: *const otc_session) -> *mut c_char {
    ffi!({ Ok(try_session(session)?.session_id_c().as_ptr() as *mut c_char) })
}

/// This client's own connection while connected (valid until the session is
/// deleted; do not delete it), else NULL.
#[no_mangle]
pub extern "C" fn otc_session_get_connection(session: *const otc_session) -> *mut otc_connection {
    ffi!({
        let s = try_session(session)?;
        Ok(s.own_connection().map_or(std::ptr::null(), |c| c) as *mut otc_connection)
    })
}

/// What this client may do. `publish` and `force_mute` are always
/// `OTC_FALSE` (no media).
#[no_mangle]
pub extern "C" fn otc_session_get_capabilities(
    session: *const otc_session,
) -> otc_session_capabilities {
    const NONE: otc_session_capabilities = otc_session_capabilities {
        publish: OTC_FALSE,
        force_mute: OTC_FALSE,
    };
    ffi!(or NONE, {
        try_session(session)?;
        Ok(NONE)
    })
}

fn user_data_of(s: &Session) -> *mut c_void {
    s.sink()
        .as_any()
        .downcast_ref::<CallbackSink>()
        .map_or(std::ptr::null_mut(), |c| c.cb.user_data)
}

/// The `user_data` of the session's callbacks, or NULL for an invalid
/// session.
#[no_mangle]
pub extern "C" fn otc_session_get_user_data(session: *const otc_session) -> *mut c_void {
    ffi!({ Ok(user_data_of(&*try_session(session)?)) })
}

/// Copies `s` into memory from `malloc`, for a string the caller frees
/// with `free()`.
fn malloc_c_string(s: &str) -> Result<*mut c_char> {
    let bytes = s.as_bytes();
    // SAFETY: a plain allocation; checked for NULL below.
    let p = unsafe { libc::malloc(bytes.len() + 1) } as *mut c_char;
    if p.is_null() {
        return Err(Error::internal("out of memory"));
    }
    // SAFETY: `p` holds len + 1 bytes; the source does not overlap it.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, p, bytes.len());
        *p.add(bytes.len()) = 0;
    }
    Ok(p)
}

/// Reports a problem the application saw: `issue_description` (NULL = "",
/// at most 8192 bytes of UTF-8) goes to the server, which logs it with the
/// project, session and connection under a new unique issue id, and this
/// call waits (at most 5 s) for that id. On success `*issue_id` is set to
/// it, a string the caller frees with `free()`. Fails with
/// `OTC_SESSION_NOT_CONNECTED` unless connected, 1011 for a NULL session or
/// `issue_id` or a description that is too long, 1021 if the server did not
/// answer in time, 1022 if the link dropped first, 1602 when the sender's
/// signal rate limit is exhausted; `*issue_id` is then left unchanged.
///
/// # Safety
/// `issue_description` is NULL or NUL-terminated; `issue_id` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn otc_session_report_issue(
    session: *mut otc_session,
    issue_description: *const c_char,
    issue_id: *mut *mut c_char,
) -> otc_status {
    ffi!({
        let s = try_session(session)?;
        let description = unsafe { try_opt_str(issue_description, "issue_description") }?;
        if issue_id.is_null() {
            return Err(Error::invalid("issue_id is NULL"));
        }
        let id = s.report_issue(description)?;
        let out = malloc_c_string(&id)?;
        // SAFETY: non-NULL and writable per the contract.
        unsafe { *issue_id = out };
        Ok(OTC_SUCCESS)
    })
}

/// The SDK's end-to-end encryption secret for media. Checked (1011 for a
/// NULL session or secret, `OTC_SESSION_INVALID_ENCRYPTION_SECRET` unless it
/// is 8 to 256 bytes) and otherwise without effect here: signals are not
/// media and are not end-to-end encrypted (logged once).
///
/// # Safety
/// `secret` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn otc_session_set_encryption_secret(
    session: *mut otc_session,
    secret: *const c_char,
) -> otc_status {
    ffi!({
        try_session(session)?;
        let secret = unsafe { try_str(secret, "secret") }?;
        let n = secret.len();
        if !(ENCRYPTION_SECRET_MINIMUM_LENGTH..=ENCRYPTION_SECRET_MAXIMUM_LENGTH).contains(&n) {
            return Err(Error::new(
                ErrorCode::InvalidEncryptionSecret,
                format!(
                    "the secret is {n} bytes, not {ENCRYPTION_SECRET_MINIMUM_LENGTH} to \
                     {ENCRYPTION_SECRET_MAXIMUM_LENGTH}"
                ),
            ));
        }
        warn_once(
            function_name!(),
            "accepted; it has no effect without media (signals are not end-to-end encrypted)",
        );
        Ok(OTC_SUCCESS)
    })
}
