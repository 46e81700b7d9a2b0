//! Bad input and wrong states through the C ABI: every call returns the
//! documented code (and nothing is sent), never crashes.

mod ffi_support;

use std::ffi::{c_char, c_void};

use ffi_support::*;
use opentok::ffi::otc_session_error_code::*;
use opentok::ffi::*;

fn send(s: *mut otc_session, t: *const c_char, d: *const c_char) -> otc_status {
    unsafe { otc_session_send_signal(s, t, d) }
}

const BAD_UTF8: &[u8] = b"ab\xff\xfe\0";

#[test]
fn send_validation_codes_before_anything_is_queued() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    let cases: Vec<(String, String, otc_session_error_code)> = vec![
        (
            "t".repeat(129),
            String::new(),
            OTC_SESSION_SIGNAL_TYPE_TOO_LONG,
        ),
        ("a b".into(), String::new(), OTC_SESSION_INVALID_SIGNAL_TYPE),
        (
            "chat/1".into(),
            String::new(),
            OTC_SESSION_INVALID_SIGNAL_TYPE,
        ),
        ("é".into(), String::new(), OTC_SESSION_INVALID_SIGNAL_TYPE),
        (
            "ok".into(),
            "x".repeat(8193),
            OTC_SESSION_SIGNAL_DATA_TOO_LONG,
        ),
        (
            "ok".into(),
            "é".repeat(4097),
            OTC_SESSION_SIGNAL_DATA_TOO_LONG,
        ),
        // Type is checked before data, as the SDK does.
        (
            "t".repeat(129),
            "x".repeat(8193),
            OTC_SESSION_SIGNAL_TYPE_TOO_LONG,
        ),
    ];
    for (t, d, want) in &cases {
        assert_eq!(
            a.broadcast(t, d),
            code(*want),
            "type {t:.20?} data len {}",
            d.len()
        );
        // Same through every other send function.
        let (tc, dc) = (cs(t), cs(d));
        let own = otc_session_get_connection(b.session);
        let opts = otc_signal_options {
            retry_after_reconnect: OTC_FALSE,
        };
        unsafe {
            assert_eq!(
                otc_session_send_signal_to_connection(a.session, tc.as_ptr(), dc.as_ptr(), own),
                code(*want)
            );
            assert_eq!(
                otc_session_send_signal_with_options(a.session, tc.as_ptr(), dc.as_ptr(), opts),
                code(*want)
            );
            assert_eq!(
                otc_session_send_signal_to_connection_with_options(
                    a.session,
                    tc.as_ptr(),
                    dc.as_ptr(),
                    own,
                    opts
                ),
                code(*want)
            );
        }
        let done = Recorder::default();
        assert_eq!(a.send_to_ids(t, d, &[&b.id], &done).0, code(*want));
    }
    let bad = BAD_UTF8.as_ptr() as *const c_char;
    let ok = cs("ok");
    let invalid = code(OTC_SESSION_NULL_OR_INVALID_PARAMETER);
    assert_eq!(
        send(a.session, bad, ok.as_ptr()),
        invalid,
        "invalid UTF-8 type"
    );
    assert_eq!(
        send(a.session, ok.as_ptr(), bad),
        invalid,
        "invalid UTF-8 data"
    );
    assert_eq!(
        send(std::ptr::null_mut(), ok.as_ptr(), ok.as_ptr()),
        invalid,
        "NULL session"
    );
    let stray = 0x1000 as *mut otc_session;
    assert_eq!(
        send(stray, ok.as_ptr(), ok.as_ptr()),
        invalid,
        "never-created handle"
    );
    unsafe {
        assert_eq!(
            otc_session_send_signal_to_connection(
                a.session,
                ok.as_ptr(),
                ok.as_ptr(),
                std::ptr::null()
            ),
            invalid,
            "NULL connection"
        );
    }

    // Nothing of the refused signals was sent: the next valid signal is the
    // first thing B receives.
    assert_eq!(a.broadcast("first", "valid"), OTC_SUCCESS);
    let evs = b.rec.wait_until("first signal", |e| {
        e.iter().any(|x| matches!(x, Ev::Signal { .. }))
    });
    assert_eq!(
        b.rec.signals(),
        vec![("first".to_string(), "valid".to_string(), Some(a.id.clone()))],
        "{evs:?}"
    );
}

#[test]
fn list_extension_argument_errors() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let t = cs("t");
    let invalid = code(OTC_SESSION_NULL_OR_INVALID_PARAMETER);
    let opts = otc_signal_options {
        retry_after_reconnect: OTC_TRUE,
    };
    unsafe {
        // NULL list with a non-zero count.
        assert_eq!(
            otc_session_send_signal_to_connections(
                a.session,
                t.as_ptr(),
                t.as_ptr(),
                std::ptr::null(),
                2,
                opts,
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            invalid
        );
        // A NULL id inside the list.
        let ids = [t.as_ptr(), std::ptr::null()];
        assert_eq!(
            otc_session_send_signal_to_connections(
                a.session,
                t.as_ptr(),
                t.as_ptr(),
                ids.as_ptr(),
                2,
                opts,
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            invalid
        );
        // An empty id, and an invalid UTF-8 id.
        let empty = cs("");
        let ids = [empty.as_ptr()];
        assert_eq!(
            otc_session_send_signal_to_connections(
                a.session,
                t.as_ptr(),
                t.as_ptr(),
                ids.as_ptr(),
                1,
                opts,
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            invalid
        );
        let ids = [BAD_UTF8.as_ptr() as *const c_char];
        assert_eq!(
            otc_session_send_signal_to_connections(
                a.session,
                t.as_ptr(),
                t.as_ptr(),
                ids.as_ptr(),
                1,
                opts,
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            invalid
        );
        // More targets than the limit (the array is never read).
        let ids = [t.as_ptr()];
        assert_eq!(
            otc_session_send_signal_to_connections(
                a.session,
                t.as_ptr(),
                t.as_ptr(),
                ids.as_ptr(),
                1001,
                opts,
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            invalid
        );
    }
}

#[test]
fn calls_in_the_wrong_state() {
    let sid = server().new_session_id();
    let mut c = Client::new(&sid, false);
    let not_connected = code(OTC_SESSION_NOT_CONNECTED);
    // New session: nothing to send on, nothing to disconnect.
    assert_eq!(c.broadcast("t", "d"), not_connected);
    assert_eq!(otc_session_disconnect(c.session), not_connected);
    assert!(otc_session_get_connection(c.session).is_null());
    let done = Recorder::default();
    assert_eq!(c.send_to_ids("t", "d", &[], &done).0, not_connected);

    // Connect arguments.
    let invalid = code(OTC_SESSION_NULL_OR_INVALID_PARAMETER);
    unsafe {
        assert_eq!(otc_session_connect(c.session, std::ptr::null()), invalid);
        let empty = cs("");
        assert_eq!(otc_session_connect(c.session, empty.as_ptr()), invalid);
        let bad = BAD_UTF8.as_ptr() as *const c_char;
        assert_eq!(otc_session_connect(c.session, bad), invalid);
        assert_eq!(
            otc_session_connect(std::ptr::null_mut(), empty.as_ptr()),
            invalid
        );
    }

    // Connect twice: the second is refused while the first is under way.
    let tok = cs(&server().token(&sid, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, tok.as_ptr()) },
        OTC_SUCCESS
    );
    assert_eq!(
        unsafe { otc_session_connect(c.session, tok.as_ptr()) },
        code(OTC_SESSION_ILLEGAL_STATE)
    );
    c.rec.wait_for("connected", &Ev::Connected);
    assert_eq!(
        unsafe { otc_session_connect(c.session, tok.as_ptr()) },
        code(OTC_SESSION_ILLEGAL_STATE)
    );

    // Disconnected: sending fails with 1010; a second disconnect too.
    assert_eq!(otc_session_disconnect(c.session), OTC_SUCCESS);
    c.rec.wait_for("disconnected", &Ev::Disconnected);
    assert_eq!(c.broadcast("t", "d"), not_connected);
    assert_eq!(otc_session_disconnect(c.session), not_connected);

    // Connecting again after a disconnect works.
    assert_eq!(
        unsafe { otc_session_connect(c.session, tok.as_ptr()) },
        OTC_SUCCESS
    );
    c.rec.wait_until("connected twice", |e| {
        e.iter().filter(|x| **x == Ev::Connected).count() == 2
    });
    assert_eq!(c.broadcast("again", ""), OTC_SUCCESS);
    c.rec.wait_until("own signal", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { t, .. } if t == "again"))
    });

    // Deleted: every call on the stale handle is refused, not followed.
    assert_eq!(c.delete(), OTC_SUCCESS);
    assert_eq!(c.delete(), invalid, "double delete");
    assert_eq!(c.broadcast("t", "d"), invalid);
    assert_eq!(otc_session_disconnect(c.session), invalid);
    assert_eq!(
        unsafe { otc_session_connect(c.session, tok.as_ptr()) },
        invalid
    );
    assert!(otc_session_get_id(c.session).is_null());
    assert!(otc_session_get_connection(c.session).is_null());
    assert!(otc_session_get_user_data(c.session).is_null());
    assert_eq!(otc_session_delete(std::ptr::null_mut()), invalid);
}

#[test]
fn connect_failures_are_reported_through_on_error() {
    init();
    let sid = server().new_session_id();

    // A token for another session: authorization failure.
    let c = Client::new(&sid, false);
    let other = server().new_session_id();
    let tok = cs(&server().token(&other, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, tok.as_ptr()) },
        OTC_SUCCESS
    );
    let evs = c
        .rec
        .wait_until("error", |e| e.iter().any(|x| matches!(x, Ev::Error { .. })));
    assert!(
        evs.iter()
            .any(|e| matches!(e, Ev::Error { code: 1004, .. })),
        "expected authorization failure: {evs:?}"
    );
    assert!(!evs.contains(&Ev::Connected));
    // Every failed connect ends with on_disconnected, after on_error.
    let evs = c
        .rec
        .wait_for("on_disconnected after the failure", &Ev::Disconnected);
    assert!(matches!(evs.last(), Some(Ev::Disconnected)), "{evs:?}");
    // The session may connect again after a failure.
    let good = cs(&server().token(&sid, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, good.as_ptr()) },
        OTC_SUCCESS
    );
    c.rec.wait_for("connected after failure", &Ev::Connected);

    // A garbage token.
    let c2 = Client::new(&sid, false);
    let junk = cs("not-a-token");
    assert_eq!(
        unsafe { otc_session_connect(c2.session, junk.as_ptr()) },
        OTC_SUCCESS
    );
    c2.rec.wait_until("error", |e| {
        e.iter().any(|x| matches!(x, Ev::Error { code: 1004, .. }))
    });

    // Nobody listening: connection failed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rec = Recorder::default();
    let cb = callbacks(&rec);
    let settings = otc_session_settings_new();
    let url = cs(&format!("http://127.0.0.1:{port}"));
    let key = cs(otc_server::DEV_API_KEY);
    let sidc = cs(&sid);
    unsafe {
        assert_eq!(
            otc_session_settings_set_server_url(settings, url.as_ptr()),
            OTC_SUCCESS
        );
        let s = otc_session_new_with_settings(key.as_ptr(), sidc.as_ptr(), &cb, settings);
        otc_session_settings_delete(settings);
        assert_eq!(otc_session_connect(s, good.as_ptr()), OTC_SUCCESS);
        let evs = rec.wait_until("error", |e| e.iter().any(|x| matches!(x, Ev::Error { .. })));
        assert!(
            matches!(evs[0], Ev::Error { code: 1006, .. }),
            "expected connection failed: {evs:?}"
        );
        assert_eq!(otc_session_delete(s), OTC_SUCCESS);
    }
}

#[test]
fn constructor_and_settings_argument_errors() {
    init();
    let rec = Recorder::default();
    let cb = callbacks(&rec);
    let key = cs("100000");
    let sid = cs(&server().new_session_id());
    let bad = BAD_UTF8.as_ptr() as *const c_char;
    let empty = cs("");
    unsafe {
        assert!(otc_session_new(std::ptr::null(), sid.as_ptr(), &cb).is_null());
        assert!(otc_session_new(key.as_ptr(), std::ptr::null(), &cb).is_null());
        assert!(otc_session_new(key.as_ptr(), sid.as_ptr(), std::ptr::null()).is_null());
        assert!(otc_session_new(bad, sid.as_ptr(), &cb).is_null());
        assert!(otc_session_new(key.as_ptr(), empty.as_ptr(), &cb).is_null());
        let s = otc_session_new(key.as_ptr(), sid.as_ptr(), &cb);
        assert!(!s.is_null());
        assert_eq!(
            otc_session_get_user_data(s),
            &rec as *const Recorder as *mut c_void
        );
        assert_eq!(otc_session_delete(s), OTC_SUCCESS);

        let invalid = code(OTC_SESSION_NULL_OR_INVALID_PARAMETER);
        let st = otc_session_settings_new();
        for url in [
            "",
            "not a url",
            "ftp://127.0.0.1:1",
            "gopher://127.0.0.1:1",
            "http://",
        ] {
            let u = cs(url);
            assert_eq!(
                otc_session_settings_set_server_url(st, u.as_ptr()),
                invalid,
                "{url:?}"
            );
        }
        assert_eq!(otc_session_settings_set_server_url(st, bad), invalid);
        assert_eq!(
            otc_session_settings_set_server_url(std::ptr::null_mut(), key.as_ptr()),
            invalid
        );
        for good in [
            "ws://[::1]:4443",
            "https://127.0.0.1:1",
            "wss://otc.example",
        ] {
            let u = cs(good);
            assert_eq!(
                otc_session_settings_set_server_url(st, u.as_ptr()),
                OTC_SUCCESS,
                "{good:?}"
            );
        }
        assert_eq!(
            otc_session_settings_set_server_url(st, std::ptr::null()),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_session_settings_set_connection_events_suppressed(std::ptr::null_mut(), OTC_TRUE),
            invalid
        );
        assert_eq!(otc_session_settings_delete(st), OTC_SUCCESS);
        assert_eq!(otc_session_settings_delete(std::ptr::null_mut()), invalid);

        // Connection getters survive NULL.
        assert!(otc_connection_get_id(std::ptr::null()).is_null());
        assert!(otc_connection_get_data(std::ptr::null()).is_null());
        assert!(otc_connection_get_session_id(std::ptr::null()).is_null());
        assert_eq!(otc_connection_get_creation_time(std::ptr::null()), 0);
        assert!(otc_connection_copy(std::ptr::null()).is_null());
        assert_eq!(otc_connection_delete(std::ptr::null_mut()), invalid);
    }
}
