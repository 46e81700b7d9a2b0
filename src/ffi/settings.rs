//! `otc_session_settings_*`: options fixed when a session is created.

use std::ffi::c_char;
use std::time::Duration;

use protocol::limits::MAX_CUSTOM_ICE_SERVERS;

use super::boundary::{ffi, function_name, warn_once};
use super::castable::{castable, to_c, try_copy, try_mut, try_opt_str, try_str, try_take};
use super::{
    otc_bool, otc_custom_ice_config, otc_session_settings, otc_status, success, OTC_FALSE,
    OTC_SUCCESS,
};
use crate::error::{Error, Result};
use crate::session::{IceConfig, IceServer, MediaOptions, Settings};

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
/// to use: `"http://host:port"` or `"ws://host:port"` for a plain link,
/// `"https://host:port"` or `"wss://host:port"` for TLS (the port defaults
/// to 80 or 443). Without it a session uses the environment variable
/// `OTC_SERVER_URL` (one URL, or several separated by commas: see
/// `otc_session_settings_set_server_urls`), else `http://127.0.0.1:4443`.
/// NULL clears a URL (or list) set before. Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a malformed URL or another
/// scheme. The same as `otc_session_settings_set_server_urls` with a list
/// of one: after a lost link every reconnection attempt goes to this URL
/// (behind a load balancer, to whichever node it picks).
///
/// TLS trusts the system's certificate store (plus
/// `otc_session_settings_set_ca_file` or `OTC_CA_FILE`), and always checks
/// the certificate's chain, dates and that it names the URL's host (a DNS
/// name, or an IP address); there is no way to turn that off. A failure
/// reaches `on_error` with `OTC_SESSION_CONNECTION_FAILED` and the cause
/// (for example "TLS: certificate not valid for name 'localhost' ...").
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
            s.server_urls.clear();
            return Ok(OTC_SUCCESS);
        }
        let url = unsafe { try_str(url, "url") }?;
        if url.is_empty() {
            return Err(Error::invalid("url is empty"));
        }
        success(s.set_server_url(url))
    })
}

/// Extension: not in the Vonage SDK. Most server URLs a session takes, from
/// `otc_session_settings_set_server_urls` or `OTC_SERVER_URL`
/// (`protocol::limits::MAX_SERVER_URLS`).
pub const OTC_MAX_SERVER_URLS: usize = 16;

/// Extension: not in the Vonage SDK. Sets several server URLs, each as for
/// `otc_session_settings_set_server_url`, for servers reachable at more
/// than one address (the nodes of a cluster, without a load balancer in
/// front). `urls` points to `count` strings, at most
/// `OTC_MAX_SERVER_URLS` (16). `count` 0 clears a list (or URL) set before
/// (`urls` may then be NULL). Without a list a session uses the environment
/// variable `OTC_SERVER_URL`, which may hold the same list separated by
/// commas (spaces around them allowed), else `http://127.0.0.1:4443`.
///
/// `otc_session_connect` tries the URLs in order until a server answers: a
/// URL that cannot be reached (no TCP connection, a proxy, TLS or WebSocket
/// failure, no answer within 10 s) moves on to the next one, while a
/// refusal by a server that answers (a bad token, an unknown session, ...)
/// ends the attempt as with one URL. When no URL can be reached, `on_error`
/// names each one's failure, then `on_disconnected` follows. After a lost
/// link, the first reconnection attempt goes to the URL the session was
/// connected through, and each further attempt to the next URL in the list
/// (wrapping around); the URL that resumes the connection is where the
/// next reconnection starts. Each attempt is logged at
/// `OTC_LOG_LEVEL_INFO` with its URL. Resuming on another URL needs a
/// server there that knows the connection (one cluster); an independent
/// server refuses the resume, which ends the session as any refused resume
/// does (`on_error` with `OTC_SESSION_CONNECTION_DROPPED`, then
/// `on_disconnected`).
///
/// Returns `OTC_SESSION_NULL_OR_INVALID_PARAMETER`, and keeps what the
/// settings had, for NULL settings, `urls` NULL with a non-zero `count`, a
/// `count` above `OTC_MAX_SERVER_URLS`, or any entry that is NULL, not UTF-8, empty or not a
/// valid server URL (the log names the entry).
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`; `urls` is
/// NULL or points to `count` pointers, each NULL or a NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_server_urls(
    settings: *mut otc_session_settings,
    urls: *const *const c_char,
    count: usize,
) -> otc_status {
    ffi!({
        let s = unsafe { try_mut(settings) }?;
        if count == 0 {
            s.server_urls.clear();
            return Ok(OTC_SUCCESS);
        }
        if urls.is_null() {
            return Err(Error::invalid(format!("urls is NULL but count is {count}")));
        }
        if count > OTC_MAX_SERVER_URLS {
            return Err(Error::invalid(format!(
                "count {count} is more than the limit of {OTC_MAX_SERVER_URLS} server URLs"
            )));
        }
        // SAFETY: the caller promises `count` readable pointers.
        let ptrs = unsafe { std::slice::from_raw_parts(urls, count) };
        let list = ptrs
            .iter()
            .enumerate()
            .map(|(i, p)| unsafe { try_str(*p, &format!("urls[{i}]")) })
            .collect::<Result<Vec<&str>>>()?;
        success(s.set_server_urls(&list))
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

/// Extension: not in the Vonage SDK. Trusts the CA certificates of the PEM
/// file at `path` for TLS (a `wss://`/`https://` server URL, an `https://`
/// proxy), in addition to the system's store, never instead of it. The file
/// is read and checked now: unreadable, not PEM, no certificate, or a
/// certificate that cannot be a trust anchor returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` and logs why (the settings keep
/// what they had). NULL clears a file set before. Without this setting a
/// session uses the file named by the environment variable `OTC_CA_FILE`,
/// read when it connects (a bad one makes `otc_session_connect` return
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER`); the variable is only looked at
/// when the session uses TLS.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`; `path` is
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_ca_file(
    settings: *mut otc_session_settings,
    path: *const c_char,
) -> otc_status {
    ffi!({
        let s = unsafe { try_mut(settings) }?;
        let path = unsafe { try_opt_path(path) }?;
        success(s.set_ca_file(path))
    })
}

/// A NULL (`None`) or non-empty UTF-8 path.
///
/// # Safety
/// `path` is NULL or NUL-terminated.
unsafe fn try_opt_path<'a>(path: *const c_char) -> Result<Option<&'a str>> {
    if path.is_null() {
        return Ok(None);
    }
    let p = unsafe { try_str(path, "path") }?;
    if p.is_empty() {
        return Err(Error::invalid("path is empty"));
    }
    Ok(Some(p))
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

/// Stores a media-only option and says once that it has no effect here.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`.
unsafe fn set_media_option(
    name: &'static str,
    settings: *mut otc_session_settings,
    set: impl FnOnce(&mut MediaOptions),
) -> Result<otc_status> {
    set(&mut unsafe { try_mut(settings) }?.media);
    warn_once(name, "accepted and kept; it has no effect without media");
    Ok(OTC_SUCCESS)
}

/// The SDK's allowed-IP-addresses option for media connections. Accepted
/// and kept; it has no effect here (no media), which is logged once.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_ip_whitelist(
    settings: *mut otc_session_settings,
    ip_whitelist: otc_bool,
) -> otc_status {
    ffi!({
        unsafe {
            set_media_option(function_name!(), settings, |m| {
                m.ip_whitelist = ip_whitelist != OTC_FALSE;
            })
        }
    })
}

/// The SDK's single-peer-connection option for media. Accepted and kept;
/// no effect here (no media), logged once.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_single_peer_connection(
    settings: *mut otc_session_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({
        unsafe {
            set_media_option(function_name!(), settings, |m| {
                m.single_peer_connection = enabled != OTC_FALSE;
            })
        }
    })
}

/// The SDK's session-migration option (moving media to another server
/// without a reconnect). Accepted and kept; no effect here, logged once:
/// otc-server has no media servers to migrate between, and a lost link is
/// resumed by the library's own reconnection.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_session_migration(
    settings: *mut otc_session_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({
        unsafe {
            set_media_option(function_name!(), settings, |m| {
                m.session_migration = enabled != OTC_FALSE;
            })
        }
    })
}

/// Reads entry `i` of a C string array that may itself be NULL ("" then).
///
/// # Safety
/// `array` is NULL or holds more than `i` pointers, each NULL or a
/// NUL-terminated string.
unsafe fn entry(array: *mut *mut c_char, i: usize, what: &str) -> Result<String> {
    if array.is_null() {
        return Ok(String::new());
    }
    let p = unsafe { *array.add(i) };
    Ok(unsafe { try_opt_str(p, &format!("{what}[{i}]")) }?.to_string())
}

/// TURN servers for the media connections. The struct and its strings are
/// copied (the caller may free them). `num_ice_servers` must be 0 to 64 and
/// `ice_url` hold that many non-NULL URLs; `ice_user` and `ice_credential`
/// may be NULL (or hold NULL entries) for servers without credentials.
/// Accepted and kept; no effect here (no media), logged once. 1011 for NULL
/// arguments or a malformed config.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`;
/// `custom_ice_config` is NULL or points to a valid struct whose arrays hold
/// `num_ice_servers` entries.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_custom_ice_config(
    settings: *mut otc_session_settings,
    custom_ice_config: *const otc_custom_ice_config,
) -> otc_status {
    ffi!({
        let c = unsafe { try_copy(custom_ice_config, "custom_ice_config") }?;
        let n = usize::try_from(c.num_ice_servers)
            .ok()
            .filter(|n| *n <= MAX_CUSTOM_ICE_SERVERS)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "num_ice_servers is {}, not 0 to {MAX_CUSTOM_ICE_SERVERS}",
                    c.num_ice_servers
                ))
            })?;
        if n > 0 && c.ice_url.is_null() {
            return Err(Error::invalid("ice_url is NULL"));
        }
        let mut servers = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: the arrays hold `n` entries per the contract.
            let url = unsafe { try_str(*c.ice_url.add(i), &format!("ice_url[{i}]")) }?;
            servers.push(IceServer {
                url: url.to_string(),
                user: unsafe { entry(c.ice_user, i, "ice_user") }?,
                credential: unsafe { entry(c.ice_credential, i, "ice_credential") }?,
            });
        }
        let ice = IceConfig {
            servers,
            force_turn: c.force_turn != OTC_FALSE,
            use_custom_turn_only: c.use_custom_turn_only != OTC_FALSE,
        };
        unsafe { set_media_option(function_name!(), settings, |m| m.custom_ice = Some(ice)) }
    })
}

/// The SDK's IP proxy: every link of the session (the first connect and
/// every reconnection attempt) goes through the HTTP forward proxy at
/// `proxy_url`, `"http://host:port"` or `"https://host:port"` (TLS to the
/// proxy itself; the port defaults to 80 or 443), with `CONNECT host:port`
/// to the server: a `ws://` server link is then plain inside the tunnel, a
/// `wss://` one is TLS end to end with the server. `"http://user:password@host:port"`
/// (percent-encoded) sends `Proxy-Authorization: Basic`. Nothing else
/// selects a proxy: the `http_proxy`, `https_proxy` and `no_proxy`
/// environment variables are not read. NULL clears it (direct links).
/// Returns `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a malformed URL or
/// another scheme. A proxy that cannot be reached or refuses the tunnel
/// (any answer but 2xx, 407 included) reaches `on_error` with
/// `OTC_SESSION_CONNECTION_FAILED` and the proxy's answer.
///
/// # Safety
/// `settings` is NULL or came from `otc_session_settings_new`; `proxy_url`
/// is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn otc_session_settings_set_proxy_url(
    settings: *mut otc_session_settings,
    proxy_url: *const c_char,
) -> otc_status {
    ffi!({
        let s = unsafe { try_mut(settings) }?;
        if proxy_url.is_null() {
            return success(s.set_proxy_url(None));
        }
        let text = unsafe { try_str(proxy_url, "proxy_url") }?;
        success(s.set_proxy_url(Some(text)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_constants_match_the_core() {
        assert_eq!(OTC_MAX_SERVER_URLS, protocol::limits::MAX_SERVER_URLS);
    }
}
