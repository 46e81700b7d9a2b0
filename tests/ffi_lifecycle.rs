//! The library's lifetime and logging: calls before `otc_init`, a second
//! init, `otc_destroy` with live sessions (no callback afterwards, the server
//! sees them leave) or just after a delete (its goodbye still goes out),
//! calls after destroy, re-initialization, the logger
//! callback, and a server that goes away under connected sessions.
//!
//! One test, because init/destroy and the log settings are process-wide.

mod ffi_support;

use std::ffi::{c_char, CStr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ffi_support::*;
use opentok::ffi::otc_session_error_code::*;
use opentok::ffi::*;

static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

extern "C" fn logger(msg: *const c_char) {
    let m = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    LOGS.lock().unwrap().push(m);
}

fn logs_mentioning(what: &str) -> usize {
    LOGS.lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(what))
        .count()
}

/// Polls the server until `sid` has `n` connections (bounded).
fn wait_connections(sid: &str, n: usize) {
    let deadline = Instant::now() + WAIT;
    loop {
        let count = {
            let g = server().handle.lock().unwrap();
            let hub = g.as_ref().unwrap().hub();
            server()
                .rt
                .block_on(hub.list_connections(otc_server::DEV_API_KEY, sid))
                .expect("list")
                .len()
        };
        if count == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "server still has {count} connections, want {n}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn lifecycle_logging_and_server_loss() {
    let illegal = code(OTC_SESSION_ILLEGAL_STATE);
    let sid = server().new_session_id();
    let key = cs(otc_server::DEV_API_KEY);
    let sidc = cs(&sid);
    let rec = Recorder::default();
    let cb = callbacks(&rec);

    // --- Logging works before init and goes to the callback.
    otc_log_set_logger_callback(Some(logger));
    otc_log_enable(OTC_LOG_LEVEL_ALL);
    assert_eq!(otc_get_log_level(), OTC_LOG_LEVEL_ALL);
    otc_log_enable(42); // not a level: ignored
    assert_eq!(otc_get_log_level(), OTC_LOG_LEVEL_ALL);

    // --- Before otc_init.
    assert!(unsafe { otc_session_new(key.as_ptr(), sidc.as_ptr(), &cb) }.is_null());
    assert!(
        logs_mentioning("otc_init") >= 1,
        "the refusal is logged: {:?}",
        LOGS.lock().unwrap()
    );
    let stray = 0x1000 as *mut otc_session;
    let t = cs("t");
    assert_eq!(
        unsafe { otc_session_send_signal(stray, t.as_ptr(), t.as_ptr()) },
        illegal
    );
    assert_eq!(otc_session_disconnect(stray), illegal);
    assert_eq!(otc_destroy(), illegal);

    // --- Init (twice is harmless).
    assert_eq!(otc_init(std::ptr::null_mut()), OTC_SUCCESS);
    assert_eq!(otc_init(std::ptr::null_mut()), OTC_SUCCESS);

    // Invalid input is logged with the function's name and the reason.
    assert_eq!(
        unsafe { otc_session_send_signal(std::ptr::null_mut(), t.as_ptr(), t.as_ptr()) },
        code(OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
    assert!(
        LOGS.lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("otc_session_send_signal") && m.contains("NULL")),
        "{:?}",
        LOGS.lock().unwrap()
    );
    // Disabled: silence.
    otc_log_enable(OTC_LOG_LEVEL_DISABLED);
    assert_eq!(otc_get_log_level(), OTC_LOG_LEVEL_DISABLED);
    let before = LOGS.lock().unwrap().len();
    unsafe { otc_session_send_signal(std::ptr::null_mut(), t.as_ptr(), t.as_ptr()) };
    assert_eq!(LOGS.lock().unwrap().len(), before);
    otc_log_set_logger_callback(None);

    // --- Destroy with live, connected sessions.
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    a.rec.wait_for(
        "a sees b",
        &Ev::Created {
            id: b.id.clone(),
            data: String::new(),
        },
    );
    wait_connections(&sid, 2);
    assert_eq!(otc_destroy(), OTC_SUCCESS);
    let (a_after, b_after) = (a.rec.snapshot(), b.rec.snapshot());
    // The server sees both leave...
    wait_connections(&sid, 0);
    // ...and the application hears nothing more.
    assert_eq!(a.rec.snapshot(), a_after);
    assert_eq!(b.rec.snapshot(), b_after);

    // --- After destroy every call is refused with 1015 / NULL.
    assert_eq!(a.broadcast("t", "d"), illegal);
    assert_eq!(otc_session_delete(a.session), illegal);
    assert!(otc_session_get_id(a.session).is_null());
    assert!(unsafe { otc_session_new(key.as_ptr(), sidc.as_ptr(), &cb) }.is_null());
    assert_eq!(otc_destroy(), illegal);
    drop((a, b));

    // --- A session deleted just before otc_destroy still says goodbye:
    // destroy waits for its link too, so the server sees it leave at once
    // rather than keeping it for the reconnect grace (30 s, beyond WAIT).
    assert_eq!(otc_init(std::ptr::null_mut()), OTC_SUCCESS);
    let mut d = Client::join(&sid, Opts::default());
    wait_connections(&sid, 1);
    assert_eq!(d.delete(), OTC_SUCCESS);
    assert_eq!(otc_destroy(), OTC_SUCCESS);
    wait_connections(&sid, 0);
    drop(d);

    // --- Re-init, connect, then the server goes away.
    assert_eq!(otc_init(std::ptr::null_mut()), OTC_SUCCESS);
    let c = Client::join(&sid, Opts::default());
    let done = Recorder::default();
    let (st, id) = c.send_to_ids("t", "d", &[], &done);
    assert_eq!(st, OTC_SUCCESS);
    done.wait_for(
        "acked",
        &Ev::Complete {
            id,
            result: OTC_SUCCESS,
        },
    );
    server().shutdown();
    let evs = c.rec.wait_for("disconnected", &Ev::Disconnected);
    let n = evs.len();
    assert!(
        matches!(&evs[n - 2], Ev::Error { code: 1022, .. }),
        "a lost server is on_error(CONNECTION_DROPPED) then on_disconnected: {evs:?}"
    );
    assert_eq!(c.broadcast("t", "d"), code(OTC_SESSION_NOT_CONNECTED));
    drop(c);
    assert_eq!(otc_destroy(), OTC_SUCCESS);
}
