//! Session settings of the SDK beyond connection events: the media-only
//! options are accepted, checked and kept (logged once as having no effect),
//! the proxy URL is checked, the encryption secret's length is enforced.

mod ffi_support;

use std::ffi::{c_char, CStr};
use std::sync::Mutex;

use ffi_support::*;
use opentok::ffi::*;

const INVALID: otc_session_error_code =
    otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER;

static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn logger(message: *const c_char) {
    let m = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    LOGGED.lock().unwrap().push(m);
}

fn logged(needle: &str) -> usize {
    LOGGED
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(needle))
        .count()
}

fn with_logging() {
    otc_log_set_logger_callback(Some(logger));
    otc_log_enable(OTC_LOG_LEVEL_WARN);
}

#[test]
fn media_only_options_are_accepted_once_logged_and_null_is_refused() {
    with_logging();
    let s = otc_session_settings_new();
    for _ in 0..3 {
        unsafe {
            assert_eq!(
                otc_session_settings_set_ip_whitelist(s, OTC_TRUE),
                OTC_SUCCESS
            );
            assert_eq!(
                otc_session_settings_set_single_peer_connection(s, OTC_TRUE),
                OTC_SUCCESS
            );
            assert_eq!(
                otc_session_settings_set_session_migration(s, OTC_FALSE),
                OTC_SUCCESS
            );
        }
    }
    for f in [
        "otc_session_settings_set_ip_whitelist",
        "otc_session_settings_set_single_peer_connection",
        "otc_session_settings_set_session_migration",
    ] {
        assert_eq!(
            logged(&format!("{f}: accepted and kept")),
            1,
            "{f} logged once"
        );
    }
    unsafe {
        let null = std::ptr::null_mut();
        assert_eq!(
            otc_session_settings_set_ip_whitelist(null, OTC_TRUE),
            code(INVALID)
        );
        assert_eq!(
            otc_session_settings_set_single_peer_connection(null, OTC_TRUE),
            code(INVALID)
        );
        assert_eq!(
            otc_session_settings_set_session_migration(null, OTC_TRUE),
            code(INVALID)
        );
        assert_eq!(otc_session_settings_delete(s), OTC_SUCCESS);
    }
    assert!(
        logged("otc_session_settings_set_ip_whitelist: otc_session_settings pointer is NULL") >= 1
    );
}

#[test]
fn custom_ice_config_is_copied_and_checked() {
    let s = otc_session_settings_new();
    let urls = [
        cs("turn:turn.example.com:3478"),
        cs("turns:turn.example.com:5349"),
    ];
    let users = [cs("alice"), cs("bob")];
    let creds = [cs("secret1"), cs("secret2")];
    let mut url_ptrs: Vec<*mut c_char> = urls.iter().map(|c| c.as_ptr() as *mut c_char).collect();
    let mut user_ptrs: Vec<*mut c_char> = users.iter().map(|c| c.as_ptr() as *mut c_char).collect();
    let mut cred_ptrs: Vec<*mut c_char> = creds.iter().map(|c| c.as_ptr() as *mut c_char).collect();
    let mut cfg = otc_custom_ice_config {
        num_ice_servers: 2,
        ice_url: url_ptrs.as_mut_ptr(),
        ice_user: user_ptrs.as_mut_ptr(),
        ice_credential: cred_ptrs.as_mut_ptr(),
        force_turn: OTC_TRUE,
        use_custom_turn_only: OTC_FALSE,
    };
    unsafe {
        assert_eq!(
            otc_session_settings_set_custom_ice_config(s, &cfg),
            OTC_SUCCESS
        );
        // Credentials are optional.
        cfg.ice_user = std::ptr::null_mut();
        cfg.ice_credential = std::ptr::null_mut();
        assert_eq!(
            otc_session_settings_set_custom_ice_config(s, &cfg),
            OTC_SUCCESS
        );
        // Zero servers is a valid (empty) list.
        cfg.num_ice_servers = 0;
        assert_eq!(
            otc_session_settings_set_custom_ice_config(s, &cfg),
            OTC_SUCCESS
        );
        // Refused: negative or huge counts, missing URLs, NULL pointers.
        for n in [-1, 65, i32::MAX] {
            cfg.num_ice_servers = n;
            assert_eq!(
                otc_session_settings_set_custom_ice_config(s, &cfg),
                code(INVALID)
            );
        }
        cfg.num_ice_servers = 2;
        url_ptrs[1] = std::ptr::null_mut();
        cfg.ice_url = url_ptrs.as_mut_ptr();
        assert_eq!(
            otc_session_settings_set_custom_ice_config(s, &cfg),
            code(INVALID)
        );
        cfg.ice_url = std::ptr::null_mut();
        assert_eq!(
            otc_session_settings_set_custom_ice_config(s, &cfg),
            code(INVALID)
        );
        assert_eq!(
            otc_session_settings_set_custom_ice_config(s, std::ptr::null()),
            code(INVALID)
        );
        assert_eq!(
            otc_session_settings_set_custom_ice_config(std::ptr::null_mut(), &cfg),
            code(INVALID)
        );
        assert_eq!(otc_session_settings_delete(s), OTC_SUCCESS);
    }
}

#[test]
fn proxy_url_is_checked_and_kept() {
    let s = otc_session_settings_new();
    unsafe {
        for good in [
            "http://127.0.0.1:3128",
            "https://proxy.example.com:8443",
            "http://u:p@h",
        ] {
            let u = cs(good);
            assert_eq!(
                otc_session_settings_set_proxy_url(s, u.as_ptr()),
                OTC_SUCCESS,
                "{good}"
            );
        }
        for bad in ["", "proxy:3128", "ftp://h:21", "socks5://h:1080", "http://"] {
            let u = cs(bad);
            assert_eq!(
                otc_session_settings_set_proxy_url(s, u.as_ptr()),
                code(INVALID),
                "{bad}"
            );
        }
        assert_eq!(
            otc_session_settings_set_proxy_url(s, std::ptr::null()),
            OTC_SUCCESS
        );
        let u = cs("http://127.0.0.1:3128");
        assert_eq!(
            otc_session_settings_set_proxy_url(std::ptr::null_mut(), u.as_ptr()),
            code(INVALID)
        );
        assert_eq!(otc_session_settings_delete(s), OTC_SUCCESS);
    }
}

#[test]
fn encryption_secret_length_is_enforced() {
    let sid = server().new_session_id();
    let c = Client::new(&sid, false);
    let bad = code_of(otc_session_error_code::OTC_SESSION_INVALID_ENCRYPTION_SECRET);
    for (secret, want) in [
        ("1234567", bad),
        ("12345678", OTC_SUCCESS),
        (&"k".repeat(256)[..], OTC_SUCCESS),
        (&"k".repeat(257)[..], bad),
    ] {
        let s = cs(secret);
        assert_eq!(
            unsafe { otc_session_set_encryption_secret(c.session, s.as_ptr()) },
            want,
            "{} bytes",
            secret.len()
        );
    }
    unsafe {
        assert_eq!(
            otc_session_set_encryption_secret(c.session, std::ptr::null()),
            code(INVALID)
        );
        let s = cs("12345678");
        assert_eq!(
            otc_session_set_encryption_secret(std::ptr::null_mut(), s.as_ptr()),
            code(INVALID)
        );
    }
}

fn code_of(c: otc_session_error_code) -> otc_status {
    c as otc_status
}
