//! The list-send extension `otc_session_send_signal_to_connections`, the
//! send to the application server `otc_session_send_signal_to_server`, and
//! their completion callback.

mod ffi_support;

use ffi_support::*;
use opentok::ffi::otc_session_error_code::*;
use opentok::ffi::otc_signal_error_code::*;
use opentok::ffi::*;
use otc_server::Role;

#[test]
fn sends_to_the_listed_connections_only_and_reports_success() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    let c = Client::join(&sid, Opts::default());
    let d = Client::join(&sid, Opts::default());
    let done = Recorder::default();
    let (st, id1) = a.send_to_ids("team", "b and c", &[&b.id, &c.id], &done);
    assert_eq!(st, OTC_SUCCESS);
    assert!(id1 > 0);
    let want = Ev::Signal {
        t: "team".into(),
        d: "b and c".into(),
        from: Some(a.id.clone()),
    };
    b.rec.wait_for("b", &want);
    c.rec.wait_for("c", &want);
    done.wait_for(
        "completion",
        &Ev::Complete {
            id: id1,
            result: OTC_SUCCESS,
        },
    );

    // Count 0 = whole session, sender included; ids increase.
    let (st, id2) = a.send_to_ids("all", "", &[], &done);
    assert_eq!(st, OTC_SUCCESS);
    assert!(id2 > id1);
    let all = Ev::Signal {
        t: "all".into(),
        d: String::new(),
        from: Some(a.id.clone()),
    };
    for cl in [&a, &b, &c, &d] {
        let evs = cl.rec.wait_for("broadcast", &all);
        if cl.id == a.id || cl.id == d.id {
            assert!(!evs.contains(&want), "non-target received a listed signal");
        }
    }
    done.wait_for(
        "completion 2",
        &Ev::Complete {
            id: id2,
            result: OTC_SUCCESS,
        },
    );
    assert_eq!(
        done.completions().len(),
        2,
        "each completion is called exactly once"
    );
}

#[test]
fn target_not_connected_is_reported_to_the_completion() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let mut b = Client::join(&sid, Opts::default());
    let b_id = b.id.clone();
    assert_eq!(b.delete(), OTC_SUCCESS);
    a.rec.wait_for("b gone", &Ev::Dropped { id: b_id.clone() });
    let done = Recorder::default();
    let (st, id) = a.send_to_ids("t", "d", &[&b_id], &done);
    assert_eq!(
        st, OTC_SUCCESS,
        "the library cannot know; the server decides"
    );
    done.wait_for(
        "target not connected",
        &Ev::Complete {
            id,
            result: sig_code(OTC_SIGNAL_TARGET_NOT_CONNECTED),
        },
    );
    let (st, id) = a.send_to_ids("t", "d", &["no-such-connection"], &done);
    assert_eq!(st, OTC_SUCCESS);
    done.wait_for(
        "unknown id",
        &Ev::Complete {
            id,
            result: sig_code(OTC_SIGNAL_TARGET_NOT_CONNECTED),
        },
    );
}

#[test]
fn permission_denied_for_a_role_that_may_not_signal() {
    let sid = server().new_session_id();
    let a = Client::join(
        &sid,
        Opts {
            role: Role::PublisherOnly,
            ..Default::default()
        },
    );
    let done = Recorder::default();
    let (st, id) = a.send_to_ids("t", "d", &[], &done);
    assert_eq!(st, OTC_SUCCESS);
    done.wait_for(
        "permission denied",
        &Ev::Complete {
            id,
            result: sig_code(OTC_SIGNAL_PERMISSION_DENIED),
        },
    );
}

#[test]
fn not_connected_is_returned_and_the_completion_is_not_called() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    assert_eq!(otc_session_disconnect(a.session), OTC_SUCCESS);
    a.rec.wait_for("disconnected", &Ev::Disconnected);
    let done = Recorder::default();
    let mut id = 12345u64;
    let (st, _) = a.send_to_ids("t", "d", &[], &done);
    assert_eq!(st, code(OTC_SESSION_NOT_CONNECTED));
    // signal_id_out is untouched on failure.
    let t = cs("t");
    let st = unsafe {
        otc_session_send_signal_to_connections(
            a.session,
            t.as_ptr(),
            t.as_ptr(),
            std::ptr::null(),
            0,
            otc_signal_options {
                retry_after_reconnect: OTC_TRUE,
            },
            None,
            std::ptr::null_mut(),
            &mut id,
        )
    };
    assert_eq!(st, code(OTC_SESSION_NOT_CONNECTED));
    assert_eq!(id, 12345);
    // A later connect and signal proves no stale completion was queued.
    let tok = cs(&server().token(&sid, None));
    assert_eq!(
        unsafe { otc_session_connect(a.session, tok.as_ptr()) },
        OTC_SUCCESS
    );
    a.rec.wait_until("reconnected", |e| {
        e.iter().filter(|x| **x == Ev::Connected).count() == 2
    });
    let (st, id) = a.send_to_ids("t", "d", &[], &done);
    assert_eq!(st, OTC_SUCCESS);
    done.wait_for(
        "ok",
        &Ev::Complete {
            id,
            result: OTC_SUCCESS,
        },
    );
    assert_eq!(done.completions(), vec![(id, OTC_SUCCESS)]);
}

/// The application server's event stream of the development project, read
/// on a thread of its own: its lines come out of the channel.
fn event_stream() -> std::sync::mpsc::Receiver<String> {
    use std::io::{BufRead, BufReader, Write};
    let jwt = otc_server::rest::mint_rest_token(
        &otc_server::Project::dev(),
        std::time::Duration::from_secs(60),
    )
    .expect("jwt");
    let addr = server().base_url.trim_start_matches("http://").to_string();
    let mut tcp = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        tcp,
        "GET /v2/project/{}/events HTTP/1.1\r\nHost: {addr}\r\nX-OPENTOK-AUTH: {jwt}\r\n\r\n",
        otc_server::DEV_API_KEY
    )
    .expect("request");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(tcp).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits (boundedly) for a line of the stream that contains `what`.
fn stream_line(rx: &std::sync::mpsc::Receiver<String>, what: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(what) => return line,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    panic!("the event stream had no line with {what:?}");
}

#[test]
fn a_signal_to_the_server_completes_once_the_application_server_has_it() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    let done = Recorder::default();
    // Bad input is returned at once, as for any signal.
    let (st, _) = a.send_to_server("bad type!", "x", &done);
    assert_eq!(st, OTC_SESSION_INVALID_SIGNAL_TYPE as i32);
    // Nobody listening (no callback URL, no stream): 1600 to the completion.
    let (st, id) = a.send_to_server("order", "nobody hears", &done);
    assert_eq!(st, OTC_SUCCESS);
    done.wait_for(
        "undelivered",
        &Ev::Complete {
            id,
            result: OTC_SIGNAL_TARGET_NOT_CONNECTED as i32,
        },
    );
    // With the application server's stream open, it has it: success.
    let stream = event_stream();
    stream_line(&stream, "event: ready");
    let (st, id) = a.send_to_server("order", "two pizzas", &done);
    assert_eq!(st, OTC_SUCCESS);
    let line = stream_line(&stream, "two pizzas");
    assert!(line.contains(&a.id), "the sender is named: {line}");
    done.wait_for(
        "delivered",
        &Ev::Complete {
            id,
            result: OTC_SUCCESS,
        },
    );
    // The other participant heard none of it.
    let (st, _) = a.send_to_ids("marker", "end", &[], &done);
    assert_eq!(st, OTC_SUCCESS);
    let marker = Ev::Signal {
        t: "marker".into(),
        d: "end".into(),
        from: Some(a.id.clone()),
    };
    let seen = b.rec.wait_for("marker", &marker);
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Ev::Signal { t, .. } if t == "order")),
        "{seen:?}"
    );
}
