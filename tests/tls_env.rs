//! `OTC_CA_FILE`: the extra CA bundle named by the environment, used when
//! the settings name none. The environment is process-wide, so this binary
//! holds a single test that sets and unsets it in sequence.

mod ffi_support;
mod tls_support;

use ffi_support::*;
use opentok::ffi::*;
use tls_support::*;

const FAILED: i32 = otc_session_error_code::OTC_SESSION_CONNECTION_FAILED as i32;
const INVALID: i32 = otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER as i32;

fn connect(c: &Client, sid: &str) -> otc_status {
    let token = cs(&server().token(sid, None));
    unsafe { otc_session_connect(c.session, token.as_ptr()) }
}

fn first_error(c: &Client) -> (i32, String) {
    let evs = c
        .rec
        .wait_until("on_disconnected", |e| e.contains(&Ev::Disconnected));
    evs.into_iter()
        .find_map(|e| match e {
            Ev::Error { code, msg } => Some((code, msg)),
            _ => None,
        })
        .expect("an on_error before on_disconnected")
}

#[test]
fn otc_ca_file_is_trusted_when_the_settings_name_no_ca_file() {
    let f = TlsFront::start(addr_of(&server().base_url), good_cert());
    let sid = server().new_session_id();

    // Trusted through the environment: two sessions exchange a signal.
    std::env::set_var("OTC_CA_FILE", &ca().pem_path);
    let a = client(&f.url(), &sid, None).connect_and_wait(&sid, Opts::default());
    let b = client(&f.url(), &sid, None).connect_and_wait(&sid, Opts::default());
    assert_eq!(a.broadcast("env", "trusted by OTC_CA_FILE"), OTC_SUCCESS);
    b.rec.wait_for(
        "B gets A's signal",
        &Ev::Signal {
            t: "env".into(),
            d: "trusted by OTC_CA_FILE".into(),
            from: Some(a.id.clone()),
        },
    );

    // The settings win over the environment: the rogue CA's file in the
    // settings does not trust our server even though OTC_CA_FILE would.
    let c = client(&f.url(), &sid, Some(&rogue_ca().pem_path));
    assert_eq!(connect(&c, &sid), OTC_SUCCESS);
    let (code, msg) = first_error(&c);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("is not trusted"), "{msg}");

    // A file that cannot be read: the connect call itself refuses, naming
    // the variable.
    let missing = format!("{}/missing-ca.pem", scratch().display());
    std::env::set_var("OTC_CA_FILE", &missing);
    let d = client(&f.url(), &sid, None);
    assert_eq!(connect(&d, &sid), INVALID);
    // A plain link does not look at it.
    let plain = client(&server().base_url, &sid, None).connect_and_wait(&sid, Opts::default());
    drop(plain);

    // Empty means unset: the system's store alone does not trust our CA.
    std::env::set_var("OTC_CA_FILE", "");
    let e = client(&f.url(), &sid, None);
    assert_eq!(connect(&e, &sid), OTC_SUCCESS);
    let (code, msg) = first_error(&e);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("is not trusted"), "{msg}");
    std::env::remove_var("OTC_CA_FILE");
}
