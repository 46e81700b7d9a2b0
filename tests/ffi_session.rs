//! End-to-end behaviour of sessions through the C ABI against an in-process
//! otc-server: connection events, broadcast and targeted signals, server
//! signals, ordering, callbacks that call back into the library, and
//! deletion while events flow.

mod ffi_support;

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use ffi_support::*;
use opentok::ffi::*;

fn created_ids(evs: &[Ev]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Created { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn connection_events_for_existing_and_later_connections() {
    let sid = server().new_session_id();
    let a = Client::join(
        &sid,
        Opts {
            data: Some("name=alice"),
            ..Default::default()
        },
    );
    let b = Client::join(
        &sid,
        Opts {
            data: Some("name=bob"),
            ..Default::default()
        },
    );

    // A learns about B's arrival, with B's token data.
    a.rec.wait_for(
        "A sees B",
        &Ev::Created {
            id: b.id.clone(),
            data: "name=bob".into(),
        },
    );
    // B is told about A, who was there first.
    b.rec.wait_for(
        "B sees A",
        &Ev::Created {
            id: a.id.clone(),
            data: "name=alice".into(),
        },
    );

    let c = Client::join(&sid, Opts::default());
    a.rec.wait_for(
        "A sees C",
        &Ev::Created {
            id: c.id.clone(),
            data: String::new(),
        },
    );
    b.rec.wait_for(
        "B sees C",
        &Ev::Created {
            id: c.id.clone(),
            data: String::new(),
        },
    );
    let c_seen = c
        .rec
        .wait_until("C sees A and B", |e| created_ids(e).len() == 2);
    let mut ids = created_ids(&c_seen);
    ids.sort();
    let mut expected = vec![a.id.clone(), b.id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "C must see exactly the others, never itself");

    // Nobody is ever told about itself.
    for cl in [&a, &b, &c] {
        assert!(!created_ids(&cl.rec.snapshot()).contains(&cl.id));
    }

    // Leaving: B disconnects; A and C see it dropped, B sees on_disconnected.
    assert_eq!(otc_session_disconnect(b.session), OTC_SUCCESS);
    b.rec.wait_for("B disconnected", &Ev::Disconnected);
    a.rec
        .wait_for("A sees B leave", &Ev::Dropped { id: b.id.clone() });
    c.rec
        .wait_for("C sees B leave", &Ev::Dropped { id: b.id.clone() });
    assert!(otc_session_get_connection(b.session).is_null());
    // Every callback got the session handle it belongs to.
    for cl in [&a, &b, &c] {
        assert!(cl
            .rec
            .sessions_seen
            .lock()
            .unwrap()
            .iter()
            .all(|s| *s == cl.session as usize));
    }
}

#[test]
fn suppressed_connection_events_are_not_sent_but_signals_still_name_the_sender() {
    let sid = server().new_session_id();
    let a = Client::join(
        &sid,
        Opts {
            suppress: true,
            ..Default::default()
        },
    );
    let b = Client::join(&sid, Opts::default());
    b.rec
        .wait_until("B sees A", |e| created_ids(e) == vec![a.id.clone()]);
    assert_eq!(b.broadcast("hello", "from b"), OTC_SUCCESS);
    a.rec.wait_for(
        "A receives B's signal",
        &Ev::Signal {
            t: "hello".into(),
            d: "from b".into(),
            from: Some(b.id.clone()),
        },
    );
    drop(b);
    // A's own broadcast after B left: it arrives, and still no connection
    // event was ever reported to A.
    assert_eq!(a.broadcast("x", "y"), OTC_SUCCESS);
    let evs = a.rec.wait_for(
        "A's own signal",
        &Ev::Signal {
            t: "x".into(),
            d: "y".into(),
            from: Some(a.id.clone()),
        },
    );
    assert!(
        evs.iter()
            .all(|e| !matches!(e, Ev::Created { .. } | Ev::Dropped { .. })),
        "{evs:?}"
    );
}

#[test]
fn broadcast_reaches_everyone_including_the_sender_and_targeted_only_the_target() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    let c = Client::join(&sid, Opts::default());

    assert_eq!(a.broadcast("chat", "hi all"), OTC_SUCCESS);
    let want = Ev::Signal {
        t: "chat".into(),
        d: "hi all".into(),
        from: Some(a.id.clone()),
    };
    for cl in [&a, &b, &c] {
        cl.rec.wait_for("broadcast", &want);
    }

    // Targeted: B picks A's connection from its on_connection_created... we
    // use the sender pointer from a received signal instead (the SDK
    // sample's way), via a copy kept past the callback.
    let t = cs("private");
    let d = cs("only for c");
    // Build a connection object for C from A's point of view: C's broadcast.
    assert_eq!(c.broadcast("whoami", ""), OTC_SUCCESS);
    a.rec.wait_for(
        "C's whoami",
        &Ev::Signal {
            t: "whoami".into(),
            d: String::new(),
            from: Some(c.id.clone()),
        },
    );
    // The own connection of C is a valid target pointer too.
    let c_conn = unsafe { otc_connection_copy(otc_session_get_connection(c.session)) };
    assert!(!c_conn.is_null());
    let st =
        unsafe { otc_session_send_signal_to_connection(a.session, t.as_ptr(), d.as_ptr(), c_conn) };
    assert_eq!(st, OTC_SUCCESS);
    assert_eq!(unsafe { otc_connection_delete(c_conn) }, OTC_SUCCESS);
    let want = Ev::Signal {
        t: "private".into(),
        d: "only for c".into(),
        from: Some(a.id.clone()),
    };
    c.rec.wait_for("targeted signal", &want);
    // A then broadcasts a marker; once B and A have it, the private signal
    // (sent earlier, same sender, in order) would have arrived if misrouted.
    assert_eq!(a.broadcast("marker", ""), OTC_SUCCESS);
    let marker = Ev::Signal {
        t: "marker".into(),
        d: String::new(),
        from: Some(a.id.clone()),
    };
    for cl in [&a, &b] {
        let evs = cl.rec.wait_for("marker", &marker);
        assert!(
            !evs.contains(&want),
            "a targeted signal reached a non-target: {evs:?}"
        );
    }
}

#[test]
fn signals_of_one_sender_arrive_in_order_with_exact_contents() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    const N: usize = 300;
    for i in 0..N {
        assert_eq!(a.broadcast("seq", &format!("{i}")), OTC_SUCCESS);
    }
    // Boundaries and non-ASCII survive intact.
    let long_type = "t".repeat(128);
    let long_data = "é".repeat(4096); // 8192 bytes
    assert_eq!(a.broadcast(&long_type, &long_data), OTC_SUCCESS);
    let evs = b.rec.wait_until("all signals", |e| {
        e.iter().filter(|x| matches!(x, Ev::Signal { .. })).count() == N + 1
    });
    let got: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            Ev::Signal { t, d, .. } if t == "seq" => Some(d.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    assert_eq!(got, expected);
    assert!(evs.contains(&Ev::Signal {
        t: long_type,
        d: long_data,
        from: Some(a.id.clone())
    }));
}

#[test]
fn null_type_and_data_mean_empty_strings() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let st = unsafe { otc_session_send_signal(a.session, std::ptr::null(), std::ptr::null()) };
    assert_eq!(st, OTC_SUCCESS);
    a.rec.wait_for(
        "empty signal",
        &Ev::Signal {
            t: String::new(),
            d: String::new(),
            from: Some(a.id.clone()),
        },
    );
}

#[test]
fn signals_from_the_server_have_no_connection() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    server().signal_from_server(&sid, None, "announce", "from the app server");
    let want = Ev::Signal {
        t: "announce".into(),
        d: "from the app server".into(),
        from: None,
    };
    a.rec.wait_for("server signal at A", &want);
    b.rec.wait_for("server signal at B", &want);
}

#[test]
fn echo_bot_answers_from_inside_its_callback() {
    let sid = server().new_session_id();
    // The bot answers every "ping" with an "echo" to the sender only, from
    // inside on_signal_received, exactly like the SDK's signaling sample.
    let bot = Client::join(
        &sid,
        Opts {
            action: Some(Box::new(|session, ev| {
                if let Ev::Signal {
                    t,
                    d,
                    from: Some(from),
                } = ev
                {
                    if t == "ping" {
                        let (t, d, to) = (cs("echo"), cs(d), cs(from));
                        let ids = [to.as_ptr()];
                        let st = unsafe {
                            otc_session_send_signal_to_connections(
                                session,
                                t.as_ptr(),
                                d.as_ptr(),
                                ids.as_ptr(),
                                1,
                                otc_signal_options {
                                    retry_after_reconnect: OTC_TRUE,
                                },
                                None,
                                std::ptr::null_mut(),
                                std::ptr::null_mut(),
                            )
                        };
                        assert_eq!(st, OTC_SUCCESS);
                    }
                }
            })),
            ..Default::default()
        },
    );
    let user = Client::join(&sid, Opts::default());
    let other = Client::join(&sid, Opts::default());
    for i in 0..5 {
        assert_eq!(user.broadcast("ping", &format!("n{i}")), OTC_SUCCESS);
    }
    for i in 0..5 {
        user.rec.wait_for(
            "echo",
            &Ev::Signal {
                t: "echo".into(),
                d: format!("n{i}"),
                from: Some(bot.id.clone()),
            },
        );
    }
    // The third participant saw the pings but no echo.
    assert_eq!(other.broadcast("done", ""), OTC_SUCCESS);
    bot.rec.wait_for(
        "done at bot",
        &Ev::Signal {
            t: "done".into(),
            d: String::new(),
            from: Some(other.id.clone()),
        },
    );
    // The bot only sends after it received "done"'s predecessor pings, and
    // "done" follows them at the bot; wait for "done" at other to be sure
    // everything routed to other has arrived.
    let evs = other.rec.wait_for(
        "done at other",
        &Ev::Signal {
            t: "done".into(),
            d: String::new(),
            from: Some(other.id.clone()),
        },
    );
    assert!(evs
        .iter()
        .all(|e| !matches!(e, Ev::Signal { t, .. } if t == "echo")));
}

/// The signaling sample's way: `otc_session_send_signal_to_connection` with
/// the `connection` pointer the callback received.
#[test]
fn reply_to_the_connection_pointer_given_to_the_callback() {
    let sid = server().new_session_id();
    let bot = Client::join(
        &sid,
        Opts {
            action: Some(Box::new(|_session, _ev| {})),
            ..Default::default()
        },
    );
    // Replace the recorder's C callback by one that replies with the pointer.
    extern "C" fn reply(
        s: *mut otc_session,
        _ud: *mut c_void,
        t: *const std::ffi::c_char,
        d: *const std::ffi::c_char,
        c: *const otc_connection,
    ) {
        let t = unsafe { std::ffi::CStr::from_ptr(t) };
        if t.to_bytes() == b"q" && !c.is_null() {
            let a = cs("a");
            unsafe { otc_session_send_signal_to_connection(s, a.as_ptr(), d, c) };
        }
    }
    // A second bot session with the reply callback.
    let rec = Arc::new(Recorder::default());
    let mut cb = callbacks(&rec);
    cb.on_signal_received = Some(reply);
    let key = cs(otc_server::DEV_API_KEY);
    let sidc = cs(&sid);
    let settings = otc_session_settings_new();
    let url = cs(&server().base_url);
    unsafe { otc_session_settings_set_server_url(settings, url.as_ptr()) };
    let s = unsafe { otc_session_new_with_settings(key.as_ptr(), sidc.as_ptr(), &cb, settings) };
    unsafe { otc_session_settings_delete(settings) };
    let tok = cs(&server().token(&sid, None));
    assert_eq!(unsafe { otc_session_connect(s, tok.as_ptr()) }, OTC_SUCCESS);
    rec.wait_for("replier connected", &Ev::Connected);
    let user = Client::join(&sid, Opts::default());
    assert_eq!(user.broadcast("q", "42"), OTC_SUCCESS);
    let replier_id = unsafe { conn_id(otc_session_get_connection(s)) };
    user.rec.wait_for(
        "answer",
        &Ev::Signal {
            t: "a".into(),
            d: "42".into(),
            from: Some(replier_id),
        },
    );
    assert_eq!(otc_session_delete(s), OTC_SUCCESS);
    drop(bot);
}

#[test]
fn disconnect_and_delete_from_inside_a_callback() {
    let sid = server().new_session_id();
    let quitter = Client::join(
        &sid,
        Opts {
            action: Some(Box::new(|session, ev| {
                if matches!(ev, Ev::Signal { t, .. } if t == "quit") {
                    assert_eq!(otc_session_disconnect(session), OTC_SUCCESS);
                }
            })),
            ..Default::default()
        },
    );
    let mut deleter = Client::join(
        &sid,
        Opts {
            action: Some(Box::new(|session, ev| {
                if matches!(ev, Ev::Signal { t, .. } if t == "delete") {
                    assert_eq!(otc_session_delete(session), OTC_SUCCESS);
                }
            })),
            ..Default::default()
        },
    );
    deleter.forget(); // it deletes itself
    let boss = Client::join(&sid, Opts::default());

    assert_eq!(boss.broadcast("quit", ""), OTC_SUCCESS);
    quitter
        .rec
        .wait_for("quitter disconnected", &Ev::Disconnected);
    boss.rec.wait_for(
        "boss sees quitter leave",
        &Ev::Dropped {
            id: quitter.id.clone(),
        },
    );

    assert_eq!(boss.broadcast("delete", ""), OTC_SUCCESS);
    boss.rec.wait_for(
        "boss sees deleter leave",
        &Ev::Dropped {
            id: deleter.id.clone(),
        },
    );
    // Deleting from inside its own callback still ends with
    // on_disconnected, called (nested) before the delete returned. The
    // recorder notes an event after its action ran, so the nested one is
    // recorded first.
    let before = deleter.rec.wait_until("the delete signal recorded", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { t, .. } if t == "delete"))
    });
    assert!(
        matches!(
            &before[before.len().saturating_sub(2)..],
            [Ev::Disconnected, Ev::Signal { t, .. }] if t == "delete"
        ),
        "{before:?}"
    );
    // More traffic: the deleted session must report nothing more.
    assert_eq!(boss.broadcast("after", ""), OTC_SUCCESS);
    boss.rec.wait_for(
        "after",
        &Ev::Signal {
            t: "after".into(),
            d: String::new(),
            from: Some(boss.id.clone()),
        },
    );
    assert_eq!(deleter.rec.snapshot(), before);
    // Its handle is dead now.
    assert_eq!(
        deleter.broadcast("x", ""),
        code(otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
}

#[test]
fn disconnect_then_delete_at_once_still_delivers_on_disconnected() {
    // The SDK samples' habit: disconnect, then delete right away.
    let sid = server().new_session_id();
    for _ in 0..20 {
        let mut c = Client::join(&sid, Opts::default());
        assert_eq!(otc_session_disconnect(c.session), OTC_SUCCESS);
        assert_eq!(c.delete(), OTC_SUCCESS);
        let evs = c.rec.snapshot();
        assert_eq!(
            evs.iter().filter(|e| **e == Ev::Disconnected).count(),
            1,
            "exactly one on_disconnected before delete returned: {evs:?}"
        );
        assert_eq!(evs.last(), Some(&Ev::Disconnected), "{evs:?}");
    }
}

#[test]
fn deleting_a_connected_session_delivers_on_disconnected_and_the_others_see_it_leave() {
    let sid = server().new_session_id();
    let watcher = Client::join(&sid, Opts::default());
    let mut c = Client::join(&sid, Opts::default());
    let id = c.id.clone();
    assert_eq!(c.delete(), OTC_SUCCESS);
    assert_eq!(c.rec.snapshot().last(), Some(&Ev::Disconnected));
    watcher
        .rec
        .wait_for("the deleted client leaves", &Ev::Dropped { id });
    // A session that never connected reports nothing.
    let mut idle = Client::new(&sid, false);
    assert_eq!(idle.delete(), OTC_SUCCESS);
    assert!(idle.rec.snapshot().is_empty());
}

#[test]
fn report_issue_returns_a_new_id_from_the_server_each_time() {
    let sid = server().new_session_id();
    let c = Client::join(&sid, Opts::default());
    let report = |text: &str| -> (otc_status, Option<String>) {
        let text = cs(text);
        let mut out: *mut std::ffi::c_char = std::ptr::null_mut();
        let st = unsafe { otc_session_report_issue(c.session, text.as_ptr(), &mut out) };
        if out.is_null() {
            return (st, None);
        }
        let id = unsafe { std::ffi::CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned();
        // The id is the caller's, freed with free().
        unsafe { libc_free(out.cast()) };
        (st, Some(id))
    };
    let (st, a) = report("the video froze");
    assert_eq!(st, OTC_SUCCESS);
    let (st, b) = report("");
    assert_eq!(st, OTC_SUCCESS);
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a, b);
    assert_eq!(a.len(), 36, "a UUID: {a}");
    // Too long: refused before anything is sent, nothing written.
    let (st, none) = report(&"x".repeat(8193));
    assert_eq!(
        st,
        code(otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
    assert!(none.is_none());
    // NULL out-parameter, NULL session.
    assert_eq!(
        unsafe { otc_session_report_issue(c.session, std::ptr::null(), std::ptr::null_mut()) },
        code(otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
    let mut out: *mut std::ffi::c_char = std::ptr::null_mut();
    assert_eq!(
        unsafe { otc_session_report_issue(std::ptr::null_mut(), std::ptr::null(), &mut out) },
        code(otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
    // Not connected.
    let idle = Client::new(&sid, false);
    assert_eq!(
        unsafe { otc_session_report_issue(idle.session, std::ptr::null(), &mut out) },
        code(otc_session_error_code::OTC_SESSION_NOT_CONNECTED)
    );
    assert!(out.is_null());
    // Signals still flow afterwards.
    assert_eq!(c.broadcast("after", "report"), OTC_SUCCESS);
    c.rec.wait_for(
        "own broadcast",
        &Ev::Signal {
            t: "after".into(),
            d: "report".into(),
            from: Some(c.id.clone()),
        },
    );
}

extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut std::ffi::c_void);
}

#[test]
fn no_callback_runs_after_delete_returns_even_while_events_flow() {
    let sid = server().new_session_id();
    let mut slow = Client::join(&sid, Opts::default());
    *slow.rec.signal_delay.lock().unwrap() = Duration::from_micros(300);
    let sender = Client::join(&sid, Opts::default());
    const N: usize = 2000;
    for i in 0..N {
        assert_eq!(sender.broadcast("flood", &i.to_string()), OTC_SUCCESS);
    }
    slow.rec.wait_until("some signals arrived", |e| {
        e.iter().filter(|x| matches!(x, Ev::Signal { .. })).count() >= 10
    });
    assert_eq!(slow.delete(), OTC_SUCCESS);
    let at_delete = slow.rec.snapshot().len();
    // The sender receives its own flood; when all N are back every frame to
    // `slow` has been routed too, so any late callback would show up.
    sender.rec.wait_until("flood echoed", |e| {
        e.iter().filter(|x| matches!(x, Ev::Signal { .. })).count() == N
    });
    assert_eq!(sender.broadcast("end", ""), OTC_SUCCESS);
    sender.rec.wait_for(
        "end",
        &Ev::Signal {
            t: "end".into(),
            d: String::new(),
            from: Some(sender.id.clone()),
        },
    );
    assert!(at_delete < N + 3, "delete should have cut the flood short");
    assert_eq!(
        slow.rec.snapshot().len(),
        at_delete,
        "a callback ran after otc_session_delete returned"
    );
}

#[test]
fn session_getters() {
    let sid = server().new_session_id();
    let a = Client::join(
        &sid,
        Opts {
            data: Some("me"),
            ..Default::default()
        },
    );
    let id = otc_session_get_id(a.session);
    assert_eq!(
        unsafe { std::ffi::CStr::from_ptr(id) }.to_str().unwrap(),
        sid
    );
    assert_eq!(
        otc_session_get_user_data(a.session),
        Arc::as_ptr(&a.rec) as *mut c_void
    );
    assert_eq!(otc_session_get_capabilities(a.session).publish, OTC_FALSE);
    let own = otc_session_get_connection(a.session);
    unsafe {
        assert_eq!(conn_id(own), a.id);
        let data = std::ffi::CStr::from_ptr(otc_connection_get_data(own));
        assert_eq!(data.to_str().unwrap(), "me");
        let s = std::ffi::CStr::from_ptr(otc_connection_get_session_id(own));
        assert_eq!(s.to_str().unwrap(), sid);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let created = otc_connection_get_creation_time(own);
        assert!(created > 0 && created <= now_ms, "creation time {created}");
        // A copy outlives nothing it depends on and reads the same.
        let copy = otc_connection_copy(own);
        assert_eq!(conn_id(copy), a.id);
        assert_eq!(otc_connection_get_creation_time(copy), created);
        assert_eq!(otc_connection_delete(copy), OTC_SUCCESS);
    }
}

/// A newcomer to a session whose participant list does not fit in one
/// frame (here 60 participants with the longest connection data, in
/// characters JSON escapes to six bytes: about 360 KB of list, the frame
/// limit is 128 KB) joins and is told about every one of them.
#[test]
fn joining_a_session_whose_participant_list_exceeds_a_frame() {
    let sid = server().new_session_id();
    let data = "\u{1}".repeat(protocol::limits::MAX_CONNECTION_DATA_CHARS);
    let present: Vec<Client> = (0..60)
        .map(|_| {
            Client::join(
                &sid,
                Opts {
                    data: Some(&data),
                    suppress: true,
                    ..Default::default()
                },
            )
        })
        .collect();
    let newcomer = Client::join(&sid, Opts::default());
    let evs = newcomer
        .rec
        .wait_until("told about all 60", |e| created_ids(e).len() >= 60);
    let mut want: Vec<String> = present.iter().map(|c| c.id.clone()).collect();
    let mut got = created_ids(&evs);
    assert_eq!(got.len(), 60, "each one once");
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(evs
        .iter()
        .all(|e| !matches!(e, Ev::Created { data: d, .. } if *d != data)));
    // And the session works as usual.
    assert_eq!(present[0].broadcast("after", "list"), OTC_SUCCESS);
    newcomer.rec.wait_until("the broadcast", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { d, .. } if d == "list"))
    });
}

#[test]
fn a_burst_past_the_wire_window_is_paced_and_every_signal_answered_once() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    // ~9.6 MB sent at once: more than twice what may be unanswered on the
    // wire (MAX_UNANSWERED_SIGNAL_BYTES), so most of it waits in the
    // outbox and goes out as the server answers; none is refused.
    const N: usize = 1200;
    const { assert!(N * 8000 > 2 * protocol::limits::MAX_UNANSWERED_SIGNAL_BYTES) };
    let payload = "y".repeat(8000);
    let done = Recorder::default();
    let mut ids = Vec::new();
    for i in 0..N {
        let (st, id) = a.send_to_ids("burst", &format!("{i}:{payload}"), &[&b.id], &done);
        assert_eq!(st, OTC_SUCCESS);
        ids.push(id);
    }
    let evs = done.wait_until_within("every signal answered", Duration::from_secs(60), |e| {
        completions(e).len() >= N
    });
    let mut answered = completions(&evs);
    assert!(
        answered.iter().all(|&(_, r)| r == OTC_SUCCESS),
        "refused: {:?}",
        answered
            .iter()
            .filter(|&&(_, r)| r != OTC_SUCCESS)
            .take(3)
            .collect::<Vec<_>>()
    );
    answered.sort_unstable();
    answered.dedup();
    assert_eq!(answered.len(), N, "each answered once");
    let got = b
        .rec
        .wait_until_within("b got the burst", Duration::from_secs(60), |e| {
            e.iter()
                .filter(|x| matches!(x, Ev::Signal { t, .. } if t == "burst"))
                .count()
                >= N
        });
    let order: Vec<usize> = got
        .iter()
        .filter_map(|e| match e {
            Ev::Signal { t, d, .. } if t == "burst" => d.split(':').next()?.parse().ok(),
            _ => None,
        })
        .collect();
    assert_eq!(order, (0..N).collect::<Vec<_>>(), "in order, each once");
}

#[test]
fn disconnecting_with_signals_still_waiting_for_the_wire_fails_them_once() {
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    const N: usize = 1200;
    let payload = "z".repeat(8000);
    let done = Recorder::default();
    for i in 0..N {
        let (st, _) = a.send_to_ids("late", &format!("{i}:{payload}"), &[&b.id], &done);
        assert_eq!(st, OTC_SUCCESS);
    }
    assert_eq!(otc_session_disconnect(a.session), OTC_SUCCESS);
    a.rec.wait_for("a disconnected", &Ev::Disconnected);
    let evs = done.wait_until_within("every signal answered", Duration::from_secs(60), |e| {
        completions(e).len() >= N
    });
    let mut answered = completions(&evs);
    answered.sort_unstable_by_key(|&(id, _)| id);
    answered.dedup_by_key(|&mut (id, _)| id);
    assert_eq!(answered.len(), N, "each answered once");
    // Every signal the server acknowledged reached b, in order, each once.
    let acked = answered.iter().filter(|&&(_, r)| r == OTC_SUCCESS).count();
    let late = |e: &[Ev]| {
        e.iter()
            .filter(|x| matches!(x, Ev::Signal { t, .. } if t == "late"))
            .count()
    };
    let got = b.rec.wait_until_within(
        "b got what was acknowledged",
        Duration::from_secs(60),
        |e| late(e) >= acked,
    );
    let order: Vec<usize> = got
        .iter()
        .filter_map(|e| match e {
            Ev::Signal { t, d, .. } if t == "late" => d.split(':').next()?.parse().ok(),
            _ => None,
        })
        .collect();
    assert_eq!(order, (0..order.len()).collect::<Vec<_>>());
}
