//! Routing: broadcast and targeted delivery, order, limits, rate limit,
//! connection-event suppression, signals from the application server.

use otc_server::{Config, ServerLimits};
use protocol::limits::{MAX_SIGNAL_DATA_BYTES, MAX_SIGNAL_TARGETS, MAX_SIGNAL_TYPE_BYTES};
use protocol::{ErrorCode, ServerMessage};

use crate::client::*;

#[tokio::test]
async fn targeted_signals_reach_only_their_targets() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let mut c = Client::join(&server, &sid).await;
    created(&a.event().await);
    created(&a.event().await);
    created(&b.event().await);

    // To b and c, b named twice: each gets it once; a (the sender) does not.
    let seq = a
        .signal(
            "dm",
            "for b and c",
            Some(vec![b.id.clone(), c.id.clone(), b.id.clone()]),
        )
        .await;
    a.acked(seq).await;
    // To b only.
    let seq = a.signal("dm", "for b", Some(vec![b.id.clone()])).await;
    a.acked(seq).await;
    // A broadcast as a marker everyone receives.
    let seq = a.signal("all", "marker", None).await;
    a.acked(seq).await;

    let got_b = [
        b.signal_in().await.2,
        b.signal_in().await.2,
        b.signal_in().await.2,
    ];
    assert_eq!(
        got_b,
        ["for b and c".to_string(), "for b".into(), "marker".into()]
    );
    let got_c = [c.signal_in().await.2, c.signal_in().await.2];
    assert_eq!(got_c, ["for b and c".to_string(), "marker".into()]);
    assert_eq!(
        a.signal_in().await.2,
        "marker",
        "the sender got only the broadcast"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn order_per_sender_is_kept() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let mut r = Client::join(&server, &sid).await;
    created(&a.event().await);
    created(&a.event().await);
    created(&b.event().await);
    const N: usize = 200;
    // Two senders interleave; the receiver must see each sender's own
    // numbers in order.
    for i in 0..N {
        a.signal("n", &format!("a{i}"), Some(vec![r.id.clone()]))
            .await;
        b.signal("n", &format!("b{i}"), Some(vec![r.id.clone()]))
            .await;
    }
    let (mut next_a, mut next_b) = (0usize, 0usize);
    for _ in 0..2 * N {
        let (from, _, data) = r.signal_in().await;
        if from.as_deref() == Some(a.id.as_str()) {
            assert_eq!(data, format!("a{next_a}"));
            next_a += 1;
        } else {
            assert_eq!(from.as_deref(), Some(b.id.as_str()));
            assert_eq!(data, format!("b{next_b}"));
            next_b += 1;
        }
    }
    assert_eq!((next_a, next_b), (N, N));
    let last = a.signal("n", "done", None).await;
    a.acked(last).await;
    server.shutdown().await;
}

#[tokio::test]
async fn every_signal_limit_has_its_error() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);

    let too_many: Vec<String> = (0..=MAX_SIGNAL_TARGETS).map(|_| b.id.clone()).collect();
    let cases: Vec<(String, String, Option<Vec<String>>, ErrorCode)> = vec![
        (
            "t".repeat(MAX_SIGNAL_TYPE_BYTES + 1),
            "d".into(),
            None,
            ErrorCode::SignalTypeTooLong,
        ),
        ("a b".into(), "d".into(), None, ErrorCode::InvalidSignalType),
        ("é".into(), "d".into(), None, ErrorCode::InvalidSignalType),
        (
            "t".into(),
            "x".repeat(MAX_SIGNAL_DATA_BYTES + 1),
            None,
            ErrorCode::SignalDataTooLong,
        ),
        (
            "t".into(),
            "d".into(),
            Some(vec![]),
            ErrorCode::NullOrInvalidParameter,
        ),
        (
            "t".into(),
            "d".into(),
            Some(too_many),
            ErrorCode::NullOrInvalidParameter,
        ),
        (
            "t".into(),
            "d".into(),
            Some(vec!["no-such-connection".into()]),
            ErrorCode::SignalTargetNotConnected,
        ),
        // All-or-nothing: one unknown target refuses the whole signal.
        (
            "t".into(),
            "d".into(),
            Some(vec![b.id.clone(), "ghost".into()]),
            ErrorCode::SignalTargetNotConnected,
        ),
    ];
    for (ty, data, to, code) in cases {
        let seq = a.signal(&ty, &data, to).await;
        a.refused(seq, code).await;
    }
    // The largest legal values go through.
    let max_type = "T".repeat(MAX_SIGNAL_TYPE_BYTES);
    let max_data = "é".repeat(MAX_SIGNAL_DATA_BYTES / 2);
    let seq = a
        .signal(&max_type, &max_data, Some(vec![b.id.clone()]))
        .await;
    a.acked(seq).await;
    let (_, ty, data) = b.signal_in().await;
    assert_eq!(
        (ty, data),
        (max_type, max_data),
        "b saw nothing of the refused ones"
    );
    // Empty type and data are fine too.
    let seq = a.signal("", "", Some(vec![b.id.clone()])).await;
    a.acked(seq).await;
    assert_eq!(
        b.signal_in().await,
        (Some(a.id.clone()), String::new(), String::new())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn connection_ids_of_another_session_are_not_targets() {
    let server = start_dev().await;
    let s1 = session();
    let s2 = session();
    let mut a = Client::join(&server, &s1).await;
    let mut x = Client::join(&server, &s2).await;
    let seq = a.signal("t", "cross", Some(vec![x.id.clone()])).await;
    a.refused(seq, ErrorCode::SignalTargetNotConnected).await;
    // x receives only what is meant for its own session.
    let seq = x.signal("t", "own", None).await;
    x.acked(seq).await;
    assert_eq!(x.signal_in().await.2, "own");
    server.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_every_excess_signal() {
    let server = start(Config {
        limits: ServerLimits {
            signal_rate_per_sec: 1,
            signal_burst: 3,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    const N: u64 = 12;
    for i in 0..N {
        a.signal("burst", &i.to_string(), Some(vec![b.id.clone()]))
            .await;
    }
    let mut accepted = Vec::new();
    let mut limited = 0;
    for seq in 1..=N {
        match a.answer(seq).await {
            ServerMessage::SignalAck { .. } => accepted.push(seq),
            ServerMessage::SignalError { code, .. } => {
                assert_eq!(code, ErrorCode::RateLimited);
                limited += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(&accepted[..3], &[1, 2, 3], "the burst goes through");
    assert!(limited > 0, "the excess is refused");
    assert_eq!(
        accepted.len() + limited,
        N as usize,
        "every signal answered"
    );
    // b got exactly the accepted ones, in order.
    for seq in &accepted {
        assert_eq!(b.signal_in().await.2, (seq - 1).to_string());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn suppressed_clients_get_no_connection_events() {
    let server = start_dev().await;
    let sid = session();
    let mut a = Client::join(&server, &sid).await;
    let mut quiet = Client::join_with(&server, &sid, &token(&sid), true).await;
    assert!(
        quiet.others.is_empty(),
        "no connection list when suppressed"
    );
    assert_eq!(created(&a.event().await).id, quiet.id);

    let d = Client::join(&server, &sid).await;
    assert_eq!(d.others.len(), 2);
    assert_eq!(created(&a.event().await).id, d.id);
    let d_id = d.id.clone();
    d.disconnect().await;
    assert_eq!(destroyed(&a.event().await).0, d_id);

    // quiet's first event is the marker: no created/destroyed came before.
    let seq = a.signal("m", "marker", None).await;
    a.acked(seq).await;
    assert_eq!(
        quiet.signal_in().await,
        (Some(a.id.clone()), "m".into(), "marker".into())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn server_signals_arrive_without_sender() {
    let server = start_dev().await;
    let sid = session();
    let key = otc_server::DEV_API_KEY;
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    let hub = server.hub();
    hub.signal_from_server(key, &sid, None, "news", "to all")
        .await
        .expect("broadcast");
    hub.signal_from_server(key, &sid, Some(vec![b.id.clone()]), "news", "to b")
        .await
        .expect("targeted");
    assert_eq!(
        hub.signal_from_server(key, &sid, Some(vec!["ghost".into()]), "n", "x")
            .await
            .map_err(|e| e.code),
        Err(ErrorCode::SignalTargetNotConnected)
    );
    assert_eq!(
        hub.signal_from_server(key, &session(), None, "n", "x")
            .await
            .map_err(|e| e.code),
        Err(ErrorCode::InvalidSession),
        "nobody in that session"
    );
    assert_eq!(
        hub.signal_from_server(key, &sid, None, "bad type", "x")
            .await
            .map_err(|e| e.code),
        Err(ErrorCode::InvalidSignalType)
    );
    assert_eq!(a.signal_in().await, (None, "news".into(), "to all".into()));
    assert_eq!(b.signal_in().await, (None, "news".into(), "to all".into()));
    assert_eq!(b.signal_in().await, (None, "news".into(), "to b".into()));
    let listed: Vec<String> = hub
        .list_connections(key, &sid)
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![a.id.clone(), b.id.clone()]);

    hub.force_disconnect(key, &sid, &b.id).await.expect("force");
    match b.msg().await {
        ServerMessage::Disconnected { reason, .. } => {
            assert_eq!(
                reason,
                protocol::messages::DisconnectReason::ForceDisconnected
            )
        }
        other => panic!("{other:?}"),
    }
    expect_close(&mut b.ws).await;
    assert_eq!(
        destroyed(&a.event().await),
        (
            b.id.clone(),
            protocol::messages::DisconnectReason::ForceDisconnected
        )
    );
    server.shutdown().await;
}

#[tokio::test]
async fn ack_runs_answer_every_signal_once_and_never_cover_a_refused_one() {
    let server = start(Config::dev()).await;
    let sid = session();
    let mut msg = connect_msg(&sid, &token(&sid), false);
    if let protocol::ClientMessage::Connect { ack_runs, .. } = &mut msg {
        *ack_runs = true;
    }
    let mut a = Client::join_msg(open(&server).await, &sid, &msg).await;
    let mut b = Client::join(&server, &sid).await;
    created(&a.event().await);
    // Sent without reading in between, so the answers queue up together;
    // #100 names a connection that is not in the session (refused).
    const N: u64 = 300;
    for i in 1..=N {
        let to = if i == 100 {
            "nobody".to_string()
        } else {
            b.id.clone()
        };
        a.signal("run", &i.to_string(), Some(vec![to])).await;
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    let mut frames = 0;
    while acked.len() + refused.len() < N as usize {
        match a.msg().await {
            ServerMessage::SignalAck { seq, first } => {
                frames += 1;
                let first = first.unwrap_or(seq);
                assert!(first <= seq, "a run goes up: {first}..={seq}");
                acked.extend(first..=seq);
            }
            ServerMessage::SignalError { seq, .. } => refused.push(seq),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(refused, vec![100]);
    let want: Vec<u64> = (1..=N).filter(|&s| s != 100).collect();
    assert_eq!(acked, want, "each accepted seq once, in order");
    assert!(frames <= want.len());
    // A client that did not ask (b) keeps one signal_ack per seq: its own
    // signals are answered without `first`.
    for i in 1..=3u64 {
        b.signal("one", &i.to_string(), Some(vec![a.id.clone()]))
            .await;
    }
    for seq in 1..=3 {
        assert_eq!(
            b.answer(seq).await,
            ServerMessage::SignalAck { seq, first: None }
        );
    }
    server.shutdown().await;
}
