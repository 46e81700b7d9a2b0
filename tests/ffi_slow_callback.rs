//! A callback that blocks must not stall network I/O: the session's link
//! keeps reading (so the server never sees a slow consumer), events pile up
//! in the dispatch queue, and are all delivered once the callback returns.
//!
//! This file holds one test so that its sessions are created in a known
//! order: sessions are pinned to dispatch threads round-robin, so the first
//! two sessions of the process get different threads and the sender's own
//! callbacks keep running while the receiver's thread is blocked.

mod ffi_support;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use ffi_support::*;
use opentok::ffi::*;

/// Upper bound on moving the whole flood (48 MB through a debug build): a
/// bound for a busy machine, not a performance assertion.
const FLOOD_WAIT: Duration = Duration::from_secs(90);

#[test]
fn a_blocked_callback_does_not_stall_the_link() {
    let sid = server().new_session_id();
    let release = Arc::new((Mutex::new(false), Condvar::new()));
    let r2 = release.clone();
    let slow = Client::join(
        &sid,
        Opts {
            action: Some(Box::new(move |_s, ev| {
                if matches!(ev, Ev::Signal { t, .. } if t == "flood") {
                    let (lock, cv) = &*r2;
                    let released = lock.lock().unwrap();
                    // Bounded: never blocks the test run for more than FLOOD_WAIT.
                    let _ = cv
                        .wait_timeout_while(released, FLOOD_WAIT, |r| !*r)
                        .unwrap();
                }
            })),
            ..Default::default()
        },
    );
    let sender = Client::join(&sid, Opts::default());

    // Far more data than the server queues for one recipient plus what the
    // kernel buffers: if the slow session stopped reading, the server would
    // drop it as a slow consumer and discard the rest. Also far more than
    // the server holds back for a sender (MAX_UNANSWERED_SIGNAL_BYTES): the
    // sender's outbox must pace the flood, or the server refuses (1603)
    // whatever its recipients have not acknowledged in time and the sender
    // never sees all of it back.
    const N: usize = 6000;
    let payload = "x".repeat(8000);
    for i in 0..N {
        assert_eq!(
            sender.broadcast("flood", &format!("{i}:{payload}")),
            OTC_SUCCESS
        );
    }
    let count = |e: &[Ev]| e.iter().filter(|x| matches!(x, Ev::Signal { .. })).count();
    sender
        .rec
        .wait_until_within("sender got its own flood back", FLOOD_WAIT, |e| {
            count(e) == N
        });
    assert!(
        slow.rec.signals().len() <= 1,
        "the slow session's callback should still be blocked"
    );

    *release.0.lock().unwrap() = true;
    release.1.notify_all();
    let evs = slow
        .rec
        .wait_until_within("slow session got everything", FLOOD_WAIT, |e| count(e) == N);
    assert!(
        evs.iter()
            .all(|e| !matches!(e, Ev::Error { .. } | Ev::Disconnected)),
        "the slow session was cut off: {:?}",
        evs.iter()
            .filter(|e| !matches!(e, Ev::Signal { .. }))
            .collect::<Vec<_>>()
    );
    let order: Vec<usize> = slow
        .rec
        .signals()
        .iter()
        .map(|(_, d, _)| d.split(':').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(order, (0..N).collect::<Vec<_>>());
    assert!(!sender.rec.snapshot().contains(&Ev::Dropped {
        id: slow.id.clone()
    }));
}
