//! `otc_session_settings_*`: options fixed when a session is created.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::ffi;
use super::castable::{castable, to_c, try_mut, try_str, try_take};
use super::{otc_bool, otc_session_settings, otc_status, success, OTC_FALSE, OTC_SUCCESS};
use crate::error::Error;
use crate::session::Settings;

castable!(otc_session_settings => Settings);

/// Creates settings with the defaults (connection events sent, server from
/// `OTC_SERVER_URL` or the default address). Free with
/// `otc_session_settings_delete`; a session keeps its own copy.
#[no_mangle]
pub extern "C" fn otc_session_settings_new() -> *mut otc_session_settings {
    ffi!({ Ok(to_c(Settings::default())) })
}

/// With `suppress` true the server sends this client no
/// connection-created/dropped events.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_connection_events_suppressed(
    settings: *mut otc_session_settings,
    suppress: otc_bool,
) -> otc_status {
    ffi!({
        unsafe { try_mut(settings) }?.suppress_connection_events = suppress != OTC_FALSE;
        Ok(OTC_SUCCESS)
    })
}

/// Extension: not in the Vonage SDK. Sets the base URL of the `otc-server`
/// to use, `"http://host:port"` or `"ws://host:port"` (TLS is not supported
/// yet). Without it a session uses the environment variable `OTC_SERVER_URL`,
/// else `http://127.0.0.1:4443`. NULL clears a URL set before. Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a malformed URL.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`; `url` is NULL
/// or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_server_url(
    settings: *mut otc_session_settings,
    url: *const c_char,
) -> otc_status {
    ffi!({
        let s = unsafe { try_mut(settings) }?;
        if url.is_null() {
            s.server_url = None;
            return Ok(OTC_SUCCESS);
        }
        let url = unsafe { try_str(url, "url") }?;
        if url.is_empty() {
            return Err(Error::invalid("url is empty"));
        }
        success(s.set_server_url(url))
    })
}

/// Extension: not in the Vonage SDK. How long a session keeps trying to
/// resume its connection after the link to the server drops, in
/// milliseconds. By default it is a little longer than the server's own
/// grace period (which the server announces when the session connects), so
/// there is rarely a reason to change it. `0` turns automatic reconnection
/// off: a dropped link then ends the session at once (`on_error` with
/// `OTC_SESSION_CONNECTION_DROPPED`, then `on_disconnected`). Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a negative value or NULL
/// settings.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_reconnection_window_ms(
    settings: *mut otc_session_settings,
    window_ms: i64,
) -> otc_status {
    ffi!({
        let s = unsafe { try_mut(settings) }?;
        let ms = u64::try_from(window_ms)
            .map_err(|_| Error::invalid(format!("window_ms is negative ({window_ms})")))?;
        s.reconnection_window = Some(Duration::from_millis(ms));
        Ok(OTC_SUCCESS)
    })
}

/// Frees settings.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new` and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_delete(
    settings: *mut otc_session_settings,
) -> otc_status {
    ffi!({
        drop(unsafe { try_take(settings) }?);
        Ok(OTC_SUCCESS)
    })
}
