//! Several server URLs (`otc_session_settings_set_server_urls`): the first
//! connect walks the list until a server answers, and the resume attempts
//! after a lost link move along it, starting with the URL last joined.
//! (`OTC_SERVER_URL`'s comma-separated form is in `tests/server_urls_env.rs`,
//! a binary of its own because the environment is process-wide.)
//!
//! Servers run in-process on loopback; the fault-injecting proxies of
//! `tests/proxy` stand in for the URLs (each proxy is one URL), so a test
//! can cut a link, make a URL unreachable and count who was contacted.

mod ffi_support;
mod proxy;

use std::ffi::{c_char, CStr, CString};
use std::net::SocketAddr;
use std::sync::{Mutex, Once};

use ffi_support::*;
use opentok::ffi::*;
use proxy::Proxy;

const INVALID: otc_session_error_code =
    otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER;
const DROPPED: i32 = otc_session_error_code::OTC_SESSION_CONNECTION_DROPPED as i32;
const FAILED: i32 = otc_session_error_code::OTC_SESSION_CONNECTION_FAILED as i32;
const AUTH: i32 = otc_session_error_code::OTC_SESSION_AUTHORIZATION_FAILURE as i32;

static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn logger(message: *const c_char) {
    let m = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    LOGGED.lock().unwrap().push(m);
}

/// The library's log, at INFO, into [`LOGGED`] (for the whole binary).
fn with_info_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        init();
        otc_log_set_logger_callback(Some(logger));
        otc_log_enable(OTC_LOG_LEVEL_INFO);
    });
}

/// The logged lines that contain every one of `needles`, in order.
fn logged(needles: &[&str]) -> Vec<String> {
    LOGGED
        .lock()
        .unwrap()
        .iter()
        .filter(|m| needles.iter().all(|n| m.contains(n)))
        .cloned()
        .collect()
}

/// A loopback URL where nothing listens (a port just freed).
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

fn addr_of(base_url: &str) -> SocketAddr {
    base_url
        .trim_start_matches("http://")
        .parse()
        .expect("http://host:port")
}

/// The WebSocket endpoint the library derives from a test base URL, as its
/// log lines and messages show it.
fn ws(base_url: &str) -> String {
    format!("{}/v1/ws", base_url.replacen("http://", "ws://", 1))
}

/// A proxy in front of `server`: one more URL for the same server.
fn proxy_to(server: &Server) -> Proxy {
    Proxy::start(server.rt.handle(), addr_of(&server.base_url))
}

/// Calls the extension with `urls` (each entry NULL if `None`).
fn set_urls(settings: *mut otc_session_settings, urls: &[Option<&str>]) -> otc_status {
    let owned: Vec<Option<CString>> = urls.iter().map(|u| u.map(cs)).collect();
    let ptrs: Vec<*const c_char> = owned
        .iter()
        .map(|u| u.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()))
        .collect();
    unsafe { otc_session_settings_set_server_urls(settings, ptrs.as_ptr(), ptrs.len()) }
}

/// A session (not connected) whose settings list `urls`.
fn client_at(urls: &[String], sid: &str) -> Client {
    Client::new_with(sid, |s| {
        let list: Vec<Option<&str>> = urls.iter().map(|u| Some(u.as_str())).collect();
        assert_eq!(set_urls(s, &list), OTC_SUCCESS, "{urls:?}");
    })
}

fn count(c: &Client, ev: &Ev) -> usize {
    c.rec.snapshot().iter().filter(|e| *e == ev).count()
}

fn errors(evs: &[Ev]) -> Vec<(i32, String)> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Error { code, msg } => Some((*code, msg.clone())),
            _ => None,
        })
        .collect()
}

/// `from` broadcasts and `to` receives it.
fn signal_flows(from: &Client, to: &Client, data: &str) {
    assert_eq!(from.broadcast("urls", data), OTC_SUCCESS);
    to.rec.wait_for(
        &format!("{data:?} from {}", from.id),
        &Ev::Signal {
            t: "urls".into(),
            d: data.into(),
            from: Some(from.id.clone()),
        },
    );
}

#[test]
fn a_dead_first_url_is_skipped_and_signals_flow() {
    with_info_logging();
    let sid = server().new_session_id();
    let dead = dead_url();
    let live = server().base_url.clone();
    let a = client_at(&[dead.clone(), live.clone()], &sid).connect_and_wait(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    a.rec.wait_until("a sees b", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Created { id, .. } if *id == b.id))
    });
    signal_flows(&a, &b, "a to b past a dead URL");
    signal_flows(&b, &a, "b to a");
    // The dead URL is the library's business: logged, never an on_error.
    assert!(
        errors(&a.rec.snapshot()).is_empty(),
        "{:?}",
        a.rec.snapshot()
    );
    let tried = logged(&[&format!("session {sid}: connecting to"), "(server URL"]);
    assert_eq!(
        tried,
        [
            format!(
                "opentok [INFO] session {sid}: connecting to {} (server URL 1 of 2)",
                ws(&dead)
            ),
            format!(
                "opentok [INFO] session {sid}: connecting to {} (server URL 2 of 2)",
                ws(&live)
            ),
        ]
    );
    let skipped = logged(&[&format!("session {sid}: {}", ws(&dead)), "trying the next"]);
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].contains("connection refused"), "{skipped:?}");
}

#[test]
fn a_refusal_by_a_live_server_does_not_move_on() {
    with_info_logging();
    let sid = server().new_session_id();
    let second = proxy_to(server());
    let c = client_at(&[server().base_url.clone(), second.base_url()], &sid);
    let junk = cs("not-a-token");
    assert_eq!(
        unsafe { otc_session_connect(c.session, junk.as_ptr()) },
        OTC_SUCCESS
    );
    let evs = c.rec.wait_for("on_disconnected", &Ev::Disconnected);
    assert_eq!(evs.len(), 2, "on_error then on_disconnected: {evs:?}");
    assert!(
        matches!(&evs[0], Ev::Error { code, .. } if *code == AUTH),
        "{evs:?}"
    );
    assert_eq!(
        second.accepted(),
        0,
        "the second URL was tried after a refusal"
    );
}

#[test]
fn when_no_url_can_be_reached_on_error_names_each_one_then_on_disconnected() {
    with_info_logging();
    let sid = server().new_session_id();
    let (d1, d2) = (dead_url(), dead_url());
    let c = client_at(&[d1.clone(), d2.clone()], &sid);
    let token = cs(&server().token(&sid, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, token.as_ptr()) },
        OTC_SUCCESS
    );
    let evs = c.rec.wait_for("on_disconnected", &Ev::Disconnected);
    assert_eq!(evs.len(), 2, "on_error then on_disconnected: {evs:?}");
    let (code, msg) = errors(&evs).remove(0);
    assert_eq!(code, FAILED, "{msg}");
    assert!(
        msg.starts_with("none of the 2 server URLs could be reached: "),
        "{msg}"
    );
    for d in [&d1, &d2] {
        assert!(msg.contains(&format!("{}: cannot connect", ws(d))), "{msg}");
    }
    assert!(otc_session_get_connection(c.session).is_null());
}

#[test]
fn the_list_is_checked_entry_by_entry_and_kept_unless_all_are_good() {
    with_info_logging();
    let invalid = code(INVALID);
    let live = server().base_url.clone();
    let st = otc_session_settings_new();
    assert_eq!(set_urls(st, &[Some(&live)]), OTC_SUCCESS);
    let bad_utf8 = b"http://\xff:1\0";
    let sixteen: Vec<Option<&str>> = vec![Some("http://127.0.0.1:1"); OTC_MAX_SERVER_URLS];
    let seventeen: Vec<Option<&str>> = vec![Some("http://127.0.0.1:1"); OTC_MAX_SERVER_URLS + 1];
    for (list, says) in [
        (vec![Some(live.as_str()), Some("")], "urls[1] is empty"),
        (vec![Some(live.as_str()), Some("  ")], "urls[1] is empty"),
        (vec![Some("not a url")], "urls[0]: server URL \"not a url\""),
        (
            vec![Some(live.as_str()), Some("ftp://127.0.0.1:1")],
            "urls[1]: server URL \"ftp://127.0.0.1:1\": scheme",
        ),
        (vec![Some(live.as_str()), None], "urls[1] is NULL"),
        (seventeen, "count 17 is more than the limit of 16"),
    ] {
        assert_eq!(set_urls(st, &list), invalid, "{list:?}");
        let lines = logged(&["otc_session_settings_set_server_urls", says]);
        assert!(!lines.is_empty(), "no log line says {says:?}");
    }
    let live_c = cs(&live);
    let p = [live_c.as_ptr(), bad_utf8.as_ptr() as *const c_char];
    unsafe {
        assert_eq!(
            otc_session_settings_set_server_urls(st, p.as_ptr(), 2),
            invalid
        );
        assert_eq!(
            otc_session_settings_set_server_urls(st, std::ptr::null(), 2),
            invalid
        );
        assert_eq!(
            otc_session_settings_set_server_urls(std::ptr::null_mut(), p.as_ptr(), 1),
            invalid
        );
    }
    assert!(!logged(&["urls[1] is not valid UTF-8"]).is_empty());
    assert!(!logged(&["urls is NULL but count is 2"]).is_empty());

    // Every refusal kept the list of one live URL: the session connects.
    let sid = server().new_session_id();
    let c = Client::new_with(&sid, |s| {
        assert_eq!(set_urls(s, &[Some(&live)]), OTC_SUCCESS);
        // Refusals on these settings too, then the copy is taken.
        assert_eq!(set_urls(s, &[Some(&live), Some("")]), invalid);
    })
    .connect_and_wait(&sid, Opts::default());
    assert!(!c.id.is_empty());

    // Sixteen is the limit, not refused; count 0 clears (urls may be NULL);
    // set_server_url is a list of one.
    assert_eq!(set_urls(st, &sixteen), OTC_SUCCESS);
    unsafe {
        assert_eq!(
            otc_session_settings_set_server_urls(st, std::ptr::null(), 0),
            OTC_SUCCESS
        );
        let one = cs(&live);
        assert_eq!(
            otc_session_settings_set_server_url(st, one.as_ptr()),
            OTC_SUCCESS
        );
        assert_eq!(otc_session_settings_delete(st), OTC_SUCCESS);
    }
}

#[test]
fn resume_attempts_start_with_the_url_last_joined_then_take_the_next() {
    with_info_logging();
    let sid = server().new_session_id();
    let (p1, p2) = (proxy_to(server()), proxy_to(server()));
    let a =
        client_at(&[p1.base_url(), p2.base_url()], &sid).connect_and_wait(&sid, Opts::default());
    let peer = Client::join(&sid, Opts::default());
    peer.rec.wait_until("the peer sees a", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Created { id, .. } if *id == a.id))
    });
    assert_eq!((p1.accepted(), p2.accepted()), (1, 0));

    // 1. The link is cut, the URL still answers: the first attempt goes
    // back to the URL last joined and resumes there (a load balancer's
    // case: the same URL again).
    p1.cut_all();
    a.rec.wait_until("resumed once", |e| {
        e.iter().filter(|x| **x == Ev::Reconnected).count() == 1
    });
    assert_eq!((p1.accepted(), p2.accepted()), (2, 0));

    // 2. The first URL is out of reach: attempt 1 fails on it, attempt 2
    // takes the second URL and resumes (same server behind both).
    p1.refuse_new(true);
    p1.cut_all();
    a.rec.wait_until("resumed twice", |e| {
        e.iter().filter(|x| **x == Ev::Reconnected).count() == 2
    });
    assert_eq!((p1.accepted(), p2.accepted()), (2, 1));
    assert_eq!(p1.refused(), 1);
    signal_flows(&a, &peer, "through the second URL");

    // 3. The second URL is now the one last joined: it is tried first, and
    // the first one, reachable again, takes over.
    p1.refuse_new(false);
    p2.refuse_new(true);
    p2.cut_all();
    a.rec.wait_until("resumed three times", |e| {
        e.iter().filter(|x| **x == Ev::Reconnected).count() == 3
    });
    assert_eq!((p1.accepted(), p2.accepted()), (3, 1));
    assert_eq!(p2.refused(), 1);
    signal_flows(&a, &peer, "back on the first URL");
    signal_flows(&peer, &a, "to a, resumed three times");

    // One connection throughout: nobody saw it drop, no error.
    assert_eq!(count(&a, &Ev::ReconnectionStarted), 3);
    assert!(
        errors(&a.rec.snapshot()).is_empty(),
        "{:?}",
        a.rec.snapshot()
    );
    assert!(!peer
        .rec
        .snapshot()
        .iter()
        .any(|e| matches!(e, Ev::Dropped { id } if *id == a.id)));

    // Each attempt logged at INFO with its URL.
    let (u1, u2) = (ws(&p1.base_url()), ws(&p2.base_url()));
    let attempt = |n: u32, url: &str, i: u32| {
        format!(
            "opentok [INFO] session {sid}: reconnection attempt {n}: resuming on {url} \
             (server URL {i} of 2)"
        )
    };
    assert_eq!(
        logged(&[&format!("session {sid}: reconnection attempt")]),
        [
            attempt(1, &u1, 1),
            attempt(1, &u1, 1),
            attempt(2, &u2, 2),
            attempt(1, &u2, 2),
            attempt(2, &u1, 1),
        ]
    );
}

#[test]
fn the_next_url_of_an_independent_server_refuses_the_resume_and_the_session_ends() {
    with_info_logging();
    // B is a second single-node server: it does not know A's connections
    // (resuming across nodes needs the cluster).
    let b = Server::start();
    let sid = server().new_session_id();
    let (pa, pb) = (proxy_to(server()), proxy_to(&b));
    let c =
        client_at(&[pa.base_url(), pb.base_url()], &sid).connect_and_wait(&sid, Opts::default());
    let joined = c.rec.snapshot().len();

    // A's link dies and A stays out of reach: after the attempt on A, the
    // next one goes to B.
    pa.refuse_new(true);
    pa.cut_all();
    let evs = c.rec.wait_for("on_disconnected", &Ev::Disconnected);
    assert_eq!(pb.accepted(), 1, "B saw the attempt");
    assert_eq!((pa.accepted(), pa.refused()), (1, 1));

    // What the application hears: the reconnection started, then B's
    // refusal as a dropped connection, then on_disconnected.
    let after = &evs[joined..];
    assert_eq!(after.first(), Some(&Ev::ReconnectionStarted), "{after:?}");
    assert_eq!(after.last(), Some(&Ev::Disconnected), "{after:?}");
    assert!(!after.contains(&Ev::Reconnected), "{after:?}");
    let errs = errors(after);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let (code, msg) = &errs[0];
    assert_eq!(*code, DROPPED, "{msg}");
    assert!(
        msg.starts_with(&format!(
            "the connection was lost and the server ({}) refused to resume it: ",
            ws(&pb.base_url())
        )),
        "{msg}"
    );
    assert!(msg.ends_with(&format!("(error {AUTH})")), "{msg}");
    assert!(otc_session_get_connection(c.session).is_null());
    let tried = logged(&[&format!("session {sid}: reconnection attempt")]);
    assert_eq!(tried.len(), 2, "{tried:?}");
    assert!(tried[0].contains(&ws(&pa.base_url())), "{tried:?}");
    assert!(tried[1].contains(&ws(&pb.base_url())), "{tried:?}");

    // The session may connect again, as a new connection: the walk starts
    // at the first URL, reachable again.
    pa.refuse_new(false);
    let old = c.id.clone();
    let c = c.connect_and_wait(&sid, Opts::default());
    assert_ne!(c.id, old);
    assert_eq!((pa.accepted(), pb.accepted()), (2, 1));
    drop(c);
    b.shutdown();
}
