//! `wss://` and `https://` server URLs through the C ABI: the in-process
//! otc-server behind a TLS terminator of the test, with certificates made
//! here by a private CA trusted through `otc_session_settings_set_ca_file`.
//! Signals flow over TLS; a certificate for another name, an expired one,
//! one from an untrusted CA, a plain server spoken to in TLS and an HTTP
//! error on the upgrade all reach `on_error` with 1006 and the cause, then
//! `on_disconnected`; bad CA files are refused when they are set.
//! (`OTC_CA_FILE` has its own test binary, `tests/tls_env.rs`: the
//! environment is process-wide.)

mod ffi_support;
mod tls_support;

use std::ffi::c_char;

use ffi_support::*;
use opentok::ffi::*;
use tls_support::*;

const FAILED: i32 = otc_session_error_code::OTC_SESSION_CONNECTION_FAILED as i32;
const INVALID: i32 = otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER as i32;

/// A TLS front for the test server with `cert`.
fn front(cert: ServerCert) -> TlsFront {
    TlsFront::start(addr_of(&server().base_url), cert)
}

/// Connects `c` and expects a failure: returns `on_error`'s code and
/// message, after checking that `on_disconnected` followed and
/// `on_connected` never came.
fn connect_fails(c: &Client, sid: &str) -> (i32, String) {
    let token = cs(&server().token(sid, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, token.as_ptr()) },
        OTC_SUCCESS
    );
    let evs = c.rec.wait_until("on_error then on_disconnected", |e| {
        e.contains(&Ev::Disconnected)
    });
    let errors: Vec<(i32, String)> = evs
        .iter()
        .filter_map(|e| match e {
            Ev::Error { code, msg } => Some((*code, msg.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "one on_error: {evs:?}");
    assert!(!evs.contains(&Ev::Connected), "{evs:?}");
    assert_eq!(
        evs.last(),
        Some(&Ev::Disconnected),
        "on_disconnected comes last: {evs:?}"
    );
    let (code, msg) = errors.into_iter().next().unwrap_or_default();
    eprintln!("on_error {code}: {msg}");
    (code, msg)
}

#[test]
fn signals_flow_over_wss_with_a_private_ca_given_as_a_ca_file() {
    let f = front(good_cert());
    let sid = server().new_session_id();
    // https:// and wss:// mean the same, by IP address and by name.
    let url_a = f.url();
    let url_b = format!("wss://localhost:{}", f.addr.port());
    let a = client(&url_a, &sid, Some(&ca().pem_path)).connect_and_wait(&sid, Opts::default());
    let b = client(&url_b, &sid, Some(&ca().pem_path)).connect_and_wait(&sid, Opts::default());
    assert!(f.accepted() >= 2, "both links went through the TLS front");
    b.rec.wait_for(
        "B sees A",
        &Ev::Created {
            id: a.id.clone(),
            data: String::new(),
        },
    );
    assert_eq!(a.broadcast("chat", "over TLS"), OTC_SUCCESS);
    let from_a = Ev::Signal {
        t: "chat".into(),
        d: "over TLS".into(),
        from: Some(a.id.clone()),
    };
    b.rec.wait_for("B gets A's broadcast", &from_a);
    a.rec.wait_for("A gets its own broadcast", &from_a);
    // A signal as large as the protocol allows, both ways.
    let big = "x".repeat(8192);
    assert_eq!(b.broadcast("big", &big), OTC_SUCCESS);
    a.rec.wait_for(
        "A gets B's 8 KB signal",
        &Ev::Signal {
            t: "big".into(),
            d: big.clone(),
            from: Some(b.id.clone()),
        },
    );
}

#[test]
fn a_certificate_for_another_name_fails_with_1006_naming_the_name() {
    // Valid for 127.0.0.1 only; the URL says localhost.
    let f = front(ca().issue(&["127.0.0.1"]));
    let sid = server().new_session_id();
    let c = client(
        &format!("wss://localhost:{}", f.addr.port()),
        &sid,
        Some(&ca().pem_path),
    );
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(
        msg.contains("TLS: certificate not valid for name 'localhost'"),
        "{msg}"
    );
    // And one for a name, reached by IP address.
    let f = front(ca().issue(&["otc.example"]));
    let c = client(&f.url(), &sid, Some(&ca().pem_path));
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(
        msg.contains("certificate not valid for name '127.0.0.1'") && msg.contains("otc.example"),
        "{msg}"
    );
}

#[test]
fn an_expired_certificate_fails_with_1006() {
    let f = front(ca().issue_dated(&["127.0.0.1"], (2000, 1, 1), (2001, 1, 1)));
    let sid = server().new_session_id();
    let c = client(&f.url(), &sid, Some(&ca().pem_path));
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("has expired"), "{msg}");
    assert!(msg.contains("2001-01-01"), "the date it expired: {msg}");
}

#[test]
fn a_certificate_from_an_untrusted_ca_fails_with_1006() {
    let f = front(rogue_ca().issue(&["127.0.0.1"]));
    let sid = server().new_session_id();
    // Trusting our CA, not the rogue one...
    let c = client(&f.url(), &sid, Some(&ca().pem_path));
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("is not trusted"), "{msg}");
    // ...and with the system's store alone, our private CA is not trusted
    // either.
    let f = front(good_cert());
    let c = client(&f.url(), &sid, None);
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("is not trusted"), "{msg}");
}

#[test]
fn tls_to_a_plain_server_and_http_errors_on_the_upgrade_fail_with_1006() {
    let sid = server().new_session_id();
    // wss:// to the plain server: it answers the ClientHello in HTTP.
    let plain = addr_of(&server().base_url);
    let c = client(&format!("wss://{plain}"), &sid, Some(&ca().pem_path));
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.starts_with("TLS: "), "{msg}");
    // The upgrade at a path the server does not serve: HTTP 404, over TLS.
    let f = front(good_cert());
    let c = client(&format!("{}/not-here", f.url()), &sid, Some(&ca().pem_path));
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("HTTP 404"), "{msg}");
    // Nothing listening at all.
    let c = client(
        &format!("wss://127.0.0.1:{}", free_port()),
        &sid,
        Some(&ca().pem_path),
    );
    let (code, msg) = connect_fails(&c, &sid);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("connection refused"), "{msg}");
}

#[test]
fn ca_files_are_checked_when_set() {
    let s = otc_session_settings_new();
    let set = |p: *const c_char| unsafe { otc_session_settings_set_ca_file(s, p) };
    let good = cs(&ca().pem_path);
    assert_eq!(set(good.as_ptr()), OTC_SUCCESS);
    assert_eq!(set(std::ptr::null()), OTC_SUCCESS, "NULL clears it");
    let missing = cs(&format!("{}/no-such.pem", scratch().display()));
    assert_eq!(set(missing.as_ptr()), INVALID);
    let not_pem = cs(&write_file("not-pem.txt", "hello\n"));
    assert_eq!(set(not_pem.as_ptr()), INVALID);
    let dir = cs(&scratch().display().to_string());
    assert_eq!(set(dir.as_ptr()), INVALID, "a directory");
    let empty = cs("");
    assert_eq!(set(empty.as_ptr()), INVALID);
    assert_eq!(set(BAD_UTF8.as_ptr() as *const c_char), INVALID);
    assert_eq!(
        unsafe { otc_session_settings_set_ca_file(std::ptr::null_mut(), good.as_ptr()) },
        INVALID
    );
    // A bundle with several certificates, ours among them, is fine.
    let both = std::fs::read_to_string(&ca().pem_path).unwrap()
        + &std::fs::read_to_string(&rogue_ca().pem_path).unwrap();
    let both = cs(&write_file("both.pem", &both));
    assert_eq!(set(both.as_ptr()), OTC_SUCCESS);
    assert_eq!(unsafe { otc_session_settings_delete(s) }, OTC_SUCCESS);
}

/// Bytes that are not UTF-8, NUL-terminated.
const BAD_UTF8: &[u8] = b"\xff\xfe\0";
