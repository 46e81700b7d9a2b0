//! Slow consumers, graceful shutdown, and the server half of reconnection
//! (resume, grace period, replay buffer, de-duplication).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use otc_server::{Config, ServerLimits};
use protocol::messages::DisconnectReason;
use protocol::{ClientMessage, ErrorCode, ServerMessage, PROTOCOL_VERSION};

use crate::client::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_dropped_and_others_are_not_held_up() {
    let server = start(Config {
        limits: ServerLimits {
            send_queue_frames: 32,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = session();
    let mut sender = Client::join(&server, &sid).await;
    let mut fast = Client::join(&server, &sid).await;
    let mut slow = Client::join(&server, &sid).await;
    created(&sender.event().await);
    created(&sender.event().await);
    created(&fast.event().await);
    let slow_id = slow.id.clone();
    let fast_id = fast.id.clone();

    // `fast` reads everything until it sees `slow` leave, and counts the
    // signals it got, which must be in order.
    let evicted = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&evicted);
    let reader = tokio::spawn(async move {
        let mut n = 0usize;
        loop {
            match fast.event().await {
                ServerMessage::Signal { data, .. } => {
                    assert!(data.starts_with(&format!("{n}:")), "in order");
                    n += 1;
                }
                m @ ServerMessage::ConnectionDestroyed { .. } => {
                    let (id, why) = destroyed(&m);
                    assert_eq!(id, slow_id);
                    assert_eq!(why, DisconnectReason::SlowConsumer);
                    seen.store(true, Ordering::SeqCst);
                    return (fast, n);
                }
                other => panic!("{other:?}"),
            }
        }
    });
    // `slow` never reads while the application server (REST signals: one
    // participant alone cannot fill another's queue, see the flood test)
    // fills its socket buffers and then its queue. Bounded: 40 MB at most.
    let pad = "x".repeat(8000);
    let mut sent = 0usize;
    while !evicted.load(Ordering::SeqCst) && sent < 5000 {
        let to = Some(vec![fast_id.clone(), slow.id.clone()]);
        let data = format!("{sent}:{pad}");
        match server
            .hub()
            .signal_from_server(otc_server::DEV_API_KEY, &sid, to, "bulk", &data)
            .await
        {
            Ok(()) => sent += 1,
            // Once slow is gone it is no longer a valid target.
            Err(e) => {
                assert_eq!(e.code, ErrorCode::SignalTargetNotConnected);
                break;
            }
        }
        // Paced like a REST caller (one request at a time), so `fast`,
        // which reads, keeps up.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (mut fast, got) = reader.await.expect("reader");
    assert!(sent < 5000, "the slow consumer was dropped");
    assert!(
        got <= sent,
        "fast got {got} of {sent} before the eviction event"
    );
    // The sender also saw it leave, and both keep talking.
    let seq = sender
        .signal("after", "still here", Some(vec![fast.id.clone()]))
        .await;
    sender.acked(seq).await;
    // Drain whatever fast still has up to the marker: all in order.
    let mut n = got;
    loop {
        let (_, ty, data) = fast.signal_in().await;
        if ty == "after" {
            assert_eq!(data, "still here");
            break;
        }
        assert!(data.starts_with(&format!("{n}:")));
        n += 1;
    }
    assert_eq!(n, sent, "fast received every accepted signal exactly once");

    // The slow client, reading at last, finds the reason after the frames
    // that were already on their way.
    slow.auto_ack = false;
    let mut reason = None;
    for _ in 0..10_000 {
        match slow.next().await {
            Next::Msg(ServerMessage::Disconnected { reason: r, .. }) => reason = Some(r),
            Next::Msg(_) => continue,
            Next::Closed(_) => break,
        }
    }
    assert_eq!(reason, Some(DisconnectReason::SlowConsumer));
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_drains_and_tells_clients() {
    let server = start_dev().await;
    let url = ws_url(&server);
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    for i in 0..20 {
        a.signal("s", &i.to_string(), Some(vec![b.id.clone()]))
            .await;
    }
    a.acked(20).await;
    // Every accepted signal is delivered before the shutdown notice.
    let stop = tokio::spawn(server.shutdown());
    for i in 0..20 {
        assert_eq!(b.signal_in().await.2, i.to_string());
    }
    for c in [&mut a, &mut b] {
        let mut reason = None;
        loop {
            match c.next().await {
                Next::Msg(ServerMessage::Disconnected { reason: r, .. }) => reason = Some(r),
                Next::Msg(other) => panic!("{other:?}"),
                Next::Closed(_) => break,
            }
        }
        assert_eq!(reason, Some(DisconnectReason::ServerShutdown));
    }
    tokio::time::timeout(WAIT, stop)
        .await
        .expect("shutdown returns")
        .expect("task");
    // Nothing listens any more.
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
}

fn quick_limits() -> ServerLimits {
    ServerLimits {
        reconnect_grace: Duration::from_secs(30),
        ..Default::default()
    }
}

async fn resume(server: &otc_server::ServerHandle, c: &Client, secret: &str, last_seq: u64) -> Ws {
    resume_ws(server, c, secret, last_seq, false).await
}

#[tokio::test]
async fn resume_replays_missed_events_exactly_once() {
    let server = start(Config {
        limits: quick_limits(),
        ..Config::dev()
    })
    .await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    let seq = a.signal("before", "1", None).await;
    a.acked(seq).await;
    assert_eq!(a.signal_in().await.2, "1");
    assert_eq!(b.signal_in().await.2, "1");

    // Cut a's link without a goodbye.
    let last_seen = a.last_seq;
    let secret = a.secret.clone();
    let a_id = a.id.clone();
    let old = std::mem::replace(&mut a.ws, open(&server).await);
    drop(old);
    for i in 0..3 {
        let seq = b.signal("missed", &i.to_string(), None).await;
        b.acked(seq).await;
        assert_eq!(b.signal_in().await.2, i.to_string());
    }
    let seq = b.signal("missed", "to a", Some(vec![a_id.clone()])).await;
    b.acked(seq).await;

    // Resume on a new link: the missed events, in order, once.
    a.ws = resume(&server, &a, &secret, last_seen).await;
    assert_eq!(
        a.msg().await,
        ServerMessage::Resumed {
            last_client_seq: 1,
            binary_signals: false
        }
    );
    for want in ["0", "1", "2", "to a"] {
        let (from, ty, data) = a.signal_in().await;
        assert_eq!(
            (from.as_deref(), ty.as_str(), data.as_str()),
            (Some(b.id.as_str()), "missed", want)
        );
    }
    // Live again, both ways; a continues its client seq.
    let seq = b.signal("live", "x", Some(vec![a_id.clone()])).await;
    b.acked(seq).await;
    assert_eq!(
        a.signal_in().await.2,
        "x",
        "nothing replayed twice before the live one"
    );
    let seq = a.signal("back", "y", Some(vec![b.id.clone()])).await;
    assert_eq!(seq, 2);
    a.acked(seq).await;
    // b saw no destroyed/created pair for a: its next event is a's signal.
    assert_eq!(b.signal_in().await, (Some(a_id), "back".into(), "y".into()));
    assert!(b.drained());
    server.shutdown().await;
}

#[tokio::test]
async fn resume_with_wrong_secret_or_foreign_connection_is_refused() {
    let server = start(Config {
        limits: quick_limits(),
        ..Config::dev()
    })
    .await;
    let sid = session();
    let a = Client::join(&server, &sid).await;
    let b = Client::join(&server, &sid).await;
    let mut ws = resume(&server, &a, "0000", 0).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
    // b's secret does not open a's connection.
    let mut ws = resume(&server, &a, &b.secret, 0).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
    // The right secret takes over a half-open link: the old one is closed.
    let mut a = a;
    let mut ws = resume(&server, &a, &a.secret.clone(), a.last_seq).await;
    assert!(matches!(
        next_msg(&mut ws).await,
        ServerMessage::Resumed { .. }
    ));
    expect_close(&mut a.ws).await;
    server.shutdown().await;
}

#[tokio::test]
async fn grace_expiry_tells_peers_and_ends_the_connection() {
    let server = start(Config {
        limits: ServerLimits {
            reconnect_grace: Duration::from_millis(200),
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = session();
    let a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let (a_id, secret, session_id) = (a.id.clone(), a.secret.clone(), a.session.clone());
    drop(a.ws);
    assert_eq!(
        destroyed(&b.event().await),
        (a_id.clone(), DisconnectReason::NetworkDisconnected)
    );
    let mut ws = open(&server).await;
    send(
        &mut ws,
        &ClientMessage::Resume {
            version: PROTOCOL_VERSION,
            api_key: otc_server::DEV_API_KEY.into(),
            session_id,
            connection_id: a_id,
            resume_secret: secret,
            last_seq: 0,
            ack_runs: false,
            binary_signals: false,
        },
    )
    .await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
    server.shutdown().await;
}

#[tokio::test]
async fn replay_overflow_is_reported() {
    let server = start(Config {
        limits: ServerLimits {
            replay_buffer_frames: 5,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = session();
    let mut lazy = Client::join(&server, &sid).await;
    lazy.auto_ack = false;
    let mut b = Client::join(&server, &sid).await;
    let mut overflowed = false;
    for i in 0..20 {
        let to = Some(vec![lazy.id.clone()]);
        match server
            .hub()
            .signal_from_server(otc_server::DEV_API_KEY, &sid, to, "s", &i.to_string())
            .await
        {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.code, ErrorCode::SignalTargetNotConnected);
                overflowed = true;
                break;
            }
        }
    }
    assert!(overflowed, "lazy was dropped");
    assert_eq!(
        destroyed(&b.event().await),
        (lazy.id.clone(), DisconnectReason::ReplayOverflow)
    );
    let mut reason = None;
    loop {
        match lazy.next().await {
            Next::Msg(ServerMessage::Disconnected { reason: r, .. }) => reason = Some(r),
            Next::Msg(_) => {}
            Next::Closed(_) => break,
        }
    }
    assert_eq!(reason, Some(DisconnectReason::ReplayOverflow));
    server.shutdown().await;
}

#[tokio::test]
async fn duplicate_client_seq_is_answered_not_routed() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    let to_b = Some(vec![b.id.clone()]);
    let s1 = a.signal("once", "first", to_b.clone()).await;
    a.acked(s1).await;
    // Re-sent with the same seq (as after a resume): acked again, not routed.
    a.signal_seq(s1, "once", "first").await;
    a.acked(s1).await;
    // A refused one is refused again the same way.
    let s2 = a.signal("bad type", "x", to_b.clone()).await;
    a.refused(s2, ErrorCode::InvalidSignalType).await;
    a.signal_seq(s2, "bad type", "x").await;
    a.refused(s2, ErrorCode::InvalidSignalType).await;
    let s3 = a.signal("once", "marker", to_b).await;
    a.acked(s3).await;
    assert_eq!(b.signal_in().await.2, "first");
    assert_eq!(
        b.signal_in().await.2,
        "marker",
        "the duplicate was not delivered"
    );
    server.shutdown().await;
}

/// Every signal is either routed and acknowledged or refused: a seq of 0, a
/// gap, a back-fill below a gap, or a huge seq are refused with 1604 and
/// delivered to nobody, and the connection carries on from where it was.
#[tokio::test]
async fn out_of_order_client_seqs_are_refused_not_acknowledged() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    let b_id = b.id.clone();
    let to_b = || Some(vec![b_id.clone()]);
    // Sent raw: the helper's own numbering stays where the server's is.
    async fn raw(c: &mut Client, seq: u64, data: &str) {
        let m = ClientMessage::Signal {
            seq,
            signal_type: "lost".into(),
            data: data.into(),
            to: None,
        };
        send(&mut c.ws, &m).await;
    }
    // Zero: seqs start at 1.
    raw(&mut a, 0, "zero").await;
    a.refused(0, ErrorCode::ProtocolError).await;
    // A gap (3 before 1 and 2), then the back-fill below it: 1 and 2 are
    // new and routed, 3 was refused and is not remembered as processed.
    raw(&mut a, 3, "gap").await;
    a.refused(3, ErrorCode::ProtocolError).await;
    let s1 = a.signal("ok", "one", to_b()).await;
    a.acked(s1).await;
    let s2 = a.signal("ok", "two", to_b()).await;
    a.acked(s2).await;
    // A very large seq, and the largest: refused; the next seq still works.
    for huge in [1_000_000, u64::MAX] {
        raw(&mut a, huge, "huge").await;
        a.refused(huge, ErrorCode::ProtocolError).await;
    }
    let s3 = a.signal("ok", "three", to_b()).await;
    assert_eq!(s3, 3);
    a.acked(s3).await;
    // The re-sent ones are answered as before and not routed again.
    a.signal_seq(2, "ok", "two").await;
    a.acked(2).await;
    for want in ["one", "two", "three"] {
        let (from, ty, data) = b.signal_in().await;
        assert_eq!(
            (from.as_deref(), ty.as_str(), data.as_str()),
            (Some(a.id.as_str()), "ok", want)
        );
    }
    // Nothing else reached b: the next thing it sees is this marker.
    let s4 = a.signal("ok", "marker", to_b()).await;
    a.acked(s4).await;
    assert_eq!(b.signal_in().await.2, "marker");
    assert!(b.drained());
    server.shutdown().await;
}
