//! `OTC_SERVER_URL` as a comma-separated list, used when the settings name
//! no server. The environment is process-wide, so this binary holds a
//! single test that sets it in sequence.

mod ffi_support;

use ffi_support::*;
use opentok::ffi::*;

const INVALID: i32 = otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER as i32;

/// A session whose settings name no server (so it reads `OTC_SERVER_URL`).
fn unconfigured(sid: &str) -> Client {
    Client::new_with(sid, |_| {})
}

fn connect(c: &Client, sid: &str) -> otc_status {
    let token = cs(&server().token(sid, None));
    unsafe { otc_session_connect(c.session, token.as_ptr()) }
}

#[test]
fn otc_server_url_lists_urls_tried_in_turn_and_refuses_a_bad_entry() {
    let sid = server().new_session_id();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let live = server().base_url.clone();

    // "dead, live": the dead URL is skipped, signals flow.
    std::env::set_var("OTC_SERVER_URL", format!("{dead}, {live}"));
    let a = unconfigured(&sid).connect_and_wait(&sid, Opts::default());
    let b = unconfigured(&sid).connect_and_wait(&sid, Opts::default());
    assert_eq!(a.broadcast("env", "through the list"), OTC_SUCCESS);
    b.rec.wait_for(
        "b gets a's signal",
        &Ev::Signal {
            t: "env".into(),
            d: "through the list".into(),
            from: Some(a.id.clone()),
        },
    );
    assert!(!a
        .rec
        .snapshot()
        .iter()
        .any(|e| matches!(e, Ev::Error { .. })));

    // An empty or malformed entry: connect itself refuses, as for a
    // malformed single URL, and nothing is reported through callbacks.
    for bad in [
        format!("{live},,{dead}"),
        format!("{live},"),
        format!("{live}, not a url"),
        format!("{live}, ftp://127.0.0.1:1"),
        "not a url".to_string(),
    ] {
        std::env::set_var("OTC_SERVER_URL", &bad);
        let c = unconfigured(&sid);
        assert_eq!(connect(&c, &sid), INVALID, "OTC_SERVER_URL={bad:?}");
        assert!(
            c.rec.snapshot().is_empty(),
            "{bad:?}: {:?}",
            c.rec.snapshot()
        );
    }
    // More than OTC_MAX_SERVER_URLS entries.
    std::env::set_var(
        "OTC_SERVER_URL",
        vec![live.as_str(); OTC_MAX_SERVER_URLS + 1].join(","),
    );
    let c = unconfigured(&sid);
    assert_eq!(connect(&c, &sid), INVALID);

    // The settings win over the environment's list.
    std::env::set_var("OTC_SERVER_URL", format!("{dead}, {dead}"));
    let d = Client::new(&sid, false).connect_and_wait(&sid, Opts::default());
    assert!(!d.id.is_empty());
    std::env::remove_var("OTC_SERVER_URL");
}
