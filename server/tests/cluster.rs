//! Cluster mode with several nodes on one real redis-server (loopback):
//! clients on different nodes share sessions exactly as on one node.
//! (One node against the whole integration suite: `tests/it_cluster.rs`;
//! nodes killed with SIGKILL, and Redis restarted: `tests/cluster_failover.rs`.)

#[allow(dead_code)]
#[path = "support/redis.rs"]
mod redis_server;

#[allow(dead_code)] // shared helpers; not every test uses each one
#[path = "it/client.rs"]
mod client;

#[allow(dead_code)]
#[path = "support/receiver.rs"]
mod receiver;

use std::time::Duration;

use client::*;
use otc_server::cluster::ClusterConfig;
use otc_server::{Config, ServerHandle, ServerLimits};
use protocol::messages::DisconnectReason;
use protocol::{ErrorCode, ServerMessage};

/// The nodes here are started by this file, not by `client::start`.
fn cluster_redis_url() -> Option<String> {
    None
}

fn quick() -> ServerLimits {
    ServerLimits {
        reconnect_grace: Duration::from_secs(30),
        ..Default::default()
    }
}

/// A node of the cluster on `redis`, ready (it reaches Redis).
async fn node(redis: &redis_server::Redis, name: &str, limits: ServerLimits) -> ServerHandle {
    node_from(
        redis,
        name,
        Config {
            limits,
            ..Config::dev()
        },
    )
    .await
}

/// A node of the cluster on `redis` with `config` otherwise, ready.
async fn node_from(redis: &redis_server::Redis, name: &str, mut config: Config) -> ServerHandle {
    config.cluster = Some(ClusterConfig {
        redis_url: redis.url(),
        node_id: Some(name.into()),
    });
    let server = start(config).await;
    for _ in 0..500 {
        if server.hub().is_ready() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("node {name} never became ready");
}

async fn nodes(redis: &redis_server::Redis, n: usize, limits: ServerLimits) -> Vec<ServerHandle> {
    let mut v = Vec::new();
    for i in 1..=n {
        v.push(node(redis, &format!("n{i}"), limits.clone()).await);
    }
    v
}

/// Reads until the server closes the link; the reason of the last
/// `disconnected` it sent first, if any.
async fn told_why(c: &mut Client) -> Option<DisconnectReason> {
    let mut reason = None;
    loop {
        match c.next().await {
            Next::Msg(ServerMessage::Disconnected { reason: r, .. }) => reason = Some(r),
            Next::Msg(_) => {}
            Next::Closed(_) => return reason,
        }
    }
}

/// The next signal with its seq.
async fn signal_with_seq(c: &mut Client) -> (u64, String) {
    match c.event().await {
        ServerMessage::Signal { seq, data, .. } => (seq, data),
        other => panic!("expected a signal, got {other:?}"),
    }
}

#[tokio::test]
async fn clients_on_three_nodes_share_one_session() {
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 3, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    let mut c = Client::join_with(&n[2], &sid, &token(&sid), true).await;
    // The list and the connection events cross nodes; c asked for none.
    assert_eq!(b.others.iter().map(|i| &i.id).collect::<Vec<_>>(), [&a.id]);
    assert!(c.others.is_empty());
    assert_eq!(created(&a.event().await).id, b.id);
    assert_eq!(created(&a.event().await).id, c.id);
    assert_eq!(created(&b.event().await).id, c.id);

    // A broadcast reaches every node, under one seq.
    let s = a.signal("hello", "all", None).await;
    a.acked(s).await;
    let (sa, _) = signal_with_seq(&mut a).await;
    let (sb, db) = signal_with_seq(&mut b).await;
    let (sc, dc) = signal_with_seq(&mut c).await;
    assert_eq!((db.as_str(), dc.as_str()), ("all", "all"));
    assert!(sa == sb && sb == sc, "one seq for everyone: {sa} {sb} {sc}");

    // Targeted and list signals go only where they are addressed.
    let s = a.signal("t", "to-c", Some(vec![c.id.clone()])).await;
    a.acked(s).await;
    let s = a
        .signal("t", "to-b-and-c", Some(vec![b.id.clone(), c.id.clone()]))
        .await;
    a.acked(s).await;
    assert_eq!(c.signal_in().await.2, "to-c");
    assert_eq!(c.signal_in().await.2, "to-b-and-c");
    assert_eq!(b.signal_in().await.2, "to-b-and-c");
    // A target on no node is refused, whole.
    let s = a
        .signal("t", "x", Some(vec![b.id.clone(), "f".repeat(32)]))
        .await;
    a.refused(s, ErrorCode::SignalTargetNotConnected).await;

    // Broadcasts from two nodes at once: every recipient sees one order.
    for i in 0..20 {
        a.signal("race", &format!("a{i}"), None).await;
        b.signal("race", &format!("b{i}"), None).await;
    }
    let mut seen = Vec::new();
    for cl in [&mut a, &mut b, &mut c] {
        let mut order = Vec::new();
        while order.len() < 40 {
            order.push(signal_with_seq(cl).await);
        }
        seen.push(order);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1], seen[2]);
    for (name, k) in [("a", 0), ("b", 1)] {
        let mine: Vec<_> = seen[k]
            .iter()
            .filter(|(_, d)| d.starts_with(name))
            .map(|(_, d)| d.clone())
            .collect();
        let want: Vec<_> = (0..20).map(|i| format!("{name}{i}")).collect();
        assert_eq!(mine, want, "each sender's signals in its order, once");
    }

    // Leaving is seen on the other nodes; c still hears no connection events.
    let b_id = b.id.clone();
    b.disconnect().await;
    let (gone, why) = destroyed(&a.event().await);
    assert_eq!((gone, why), (b_id, DisconnectReason::ClientDisconnected));
    let s = a.signal("after", "x", None).await;
    a.acked(s).await;
    assert_eq!(c.signal_in().await.2, "x");
}

/// Hundreds of members joining one session at once, over two nodes, all
/// get in (none is refused because the session moved on while it joined),
/// and a member watching sees each arrive exactly once, in one order.
#[tokio::test]
async fn a_crowd_joining_one_session_at_once_all_gets_in() {
    const CROWD: usize = 300;
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 2, quick()).await;
    let sid = session();
    let mut watcher = Client::join(&n[0], &sid).await;
    let mut joins = tokio::task::JoinSet::new();
    // Links first, then every `connect` at once.
    for i in 0..CROWD {
        let ws = open(&n[i % 2]).await;
        let sid = sid.clone();
        joins.spawn(async move { Client::join_on(ws, &sid, &token(&sid), true).await });
    }
    let mut crowd = Vec::new();
    while let Some(c) = joins.join_next().await {
        crowd.push(c.expect("every member of the crowd joins"));
    }
    let mut want: Vec<String> = crowd.iter().map(|c| c.id.clone()).collect();
    let mut seen = Vec::new();
    while seen.len() < CROWD {
        seen.push(created(&watcher.event().await).id);
    }
    seen.sort();
    want.sort();
    assert_eq!(seen, want, "each arrival seen once");
    // Everyone is a working member: a broadcast reaches the whole crowd.
    let s = watcher.signal("all", "x", None).await;
    watcher.acked(s).await;
    for c in &mut crowd {
        assert_eq!(c.signal_in().await.2, "x");
    }
}

#[tokio::test]
async fn the_application_server_reaches_every_node() {
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 3, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    created(&a.event().await);
    let key = otc_server::DEV_API_KEY;
    // Through node 3, which holds nobody in the session.
    let hub = n[2].hub();
    hub.signal_from_server(key, &sid, None, "news", "to all")
        .await
        .expect("broadcast");
    hub.signal_from_server(key, &sid, Some(vec![b.id.clone()]), "news", "to b")
        .await
        .expect("to b");
    assert_eq!(a.signal_in().await, (None, "news".into(), "to all".into()));
    assert_eq!(b.signal_in().await.2, "to all");
    assert_eq!(b.signal_in().await.2, "to b");
    let e = hub
        .signal_from_server(key, &sid, Some(vec!["f".repeat(32)]), "n", "x")
        .await
        .expect_err("no such target");
    assert_eq!(e.code, ErrorCode::SignalTargetNotConnected);
    let e = hub
        .signal_from_server(key, &session(), None, "n", "x")
        .await
        .expect_err("nobody there");
    assert_eq!(e.code, ErrorCode::InvalidSession);
    let listed = hub.list_connections(key, &sid).await.expect("list");
    assert_eq!(
        listed.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
        [a.id.clone(), b.id.clone()]
    );
    assert!(hub
        .list_connections("other-project", &sid)
        .await
        .expect("list")
        .is_empty());
    // Force disconnect from node 3 of a client on node 2.
    hub.force_disconnect(key, &sid, &b.id).await.expect("force");
    let reason = told_why(&mut b).await;
    assert_eq!(reason, Some(DisconnectReason::ForceDisconnected));
    assert_eq!(
        destroyed(&a.event().await),
        (b.id.clone(), DisconnectReason::ForceDisconnected)
    );
    let e = hub
        .force_disconnect(key, &sid, &b.id)
        .await
        .expect_err("gone");
    assert_eq!(e.code, ErrorCode::SignalTargetNotConnected);
}

#[tokio::test]
async fn the_connection_limit_holds_across_nodes() {
    let redis = redis_server::Redis::start();
    let limits = ServerLimits {
        max_connections_per_session: 2,
        ..quick()
    };
    let n = nodes(&redis, 3, limits).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let b = Client::join(&n[1], &sid).await;
    let mut ws = open(&n[2]).await;
    send(&mut ws, &connect_msg(&sid, &token(&sid), false)).await;
    expect_refusal(&mut ws, ErrorCode::ConnectionLimitExceeded).await;
    created(&a.event().await);
    b.disconnect().await;
    destroyed(&a.event().await);
    let c = Client::join(&n[2], &sid).await;
    assert_eq!(c.others.len(), 1);
}

async fn resume_on(server: &ServerHandle, c: &Client, last_seq: u64) -> Ws {
    resume_ws(server, c, &c.secret, last_seq, false).await
}

#[tokio::test]
async fn a_connection_resumes_on_another_node_with_nothing_lost_or_doubled() {
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 3, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    created(&a.event().await);
    let s = b.signal("m", "before", None).await;
    b.acked(s).await;
    assert_eq!(a.signal_in().await.2, "before");
    assert_eq!(b.signal_in().await.2, "before");

    // a's link to node 1 is cut; meanwhile b keeps signalling, and a sent
    // one signal whose answer it never read.
    a.auto_ack = false;
    let pending = a.signal("m", "from-a", None).await;
    let last_seen = a.last_seq;
    let old = std::mem::replace(&mut a.ws, open(&n[2]).await);
    drop(old);
    for i in 0..3 {
        let s = b.signal("m", &format!("missed{i}"), None).await;
        b.acked(s).await;
    }
    // It resumes on node 3, and sends its unanswered signal again.
    a.ws = resume_on(&n[2], &a, last_seen).await;
    match a.msg().await {
        ServerMessage::Resumed {
            last_client_seq, ..
        } => assert!(last_client_seq <= pending),
        other => panic!("expected resumed, got {other:?}"),
    }
    a.auto_ack = true;
    a.signal_seq(pending, "m", "from-a").await;
    a.acked(pending).await;
    let mut got = Vec::new();
    while got.len() < 4 {
        got.push(a.signal_in().await.2);
    }
    // Its own broadcast is among them once, wherever it fell in the order.
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, ["from-a", "missed0", "missed1", "missed2"]);
    let missed: Vec<_> = got.iter().filter(|d| d.starts_with("missed")).collect();
    assert_eq!(missed, ["missed0", "missed1", "missed2"]);
    // b saw a's signal once, and nobody saw a leave.
    let mut b_got = Vec::new();
    while b_got.len() < 4 {
        b_got.push(b.signal_in().await.2);
    }
    assert_eq!(b_got.iter().filter(|d| *d == "from-a").count(), 1);
    let s = a.signal("m", "live", Some(vec![b.id.clone()])).await;
    a.acked(s).await;
    assert_eq!(b.signal_in().await.2, "live");
    // The old node let it go: the session on node 1 is empty there, and
    // node 1 soon stops noting the session as one of its own.
    let mut conn = redis_conn(&redis).await;
    let mut noted = true;
    for _ in 0..100 {
        noted = redis::cmd("SISMEMBER")
            .arg("otc:node:n1:sessions")
            .arg(&sid)
            .query_async(&mut conn)
            .await
            .expect("SISMEMBER");
        if !noted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!noted, "node 1 forgot the session it no longer hosts");
    for _ in 0..200 {
        if n[0].hub().session_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(n[0].hub().session_count(), 0);
    // A wrong secret is refused on any node.
    a.secret = "0".repeat(64);
    let mut ws = resume_on(&n[1], &a, 0).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
}

/// Signals a node refused after the last one that entered the log are not
/// in the shared state; a connection resuming on another node, or on the
/// same one, goes on numbering its signals from where it was, and they are
/// routed (not refused as a gap), while a refused one sent again is not.
#[tokio::test]
async fn signals_refused_before_a_resume_do_not_block_the_next_ones() {
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 2, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    created(&a.event().await);
    for hop in [1usize, 1, 0] {
        let s = a.signal("m", "ok", None).await;
        a.acked(s).await;
        assert_eq!(b.signal_in().await.2, "ok");
        assert_eq!(a.signal_in().await.2, "ok");
        // Refused by a's node itself, so never written to the shared state.
        let mut refused = 0;
        for _ in 0..2 {
            refused = a.signal("not a valid type!", "x", None).await;
            a.refused(refused, ErrorCode::InvalidSignalType).await;
        }
        let last_seen = a.last_seq;
        let ws = resume_on(&n[hop], &a, last_seen).await;
        drop(std::mem::replace(&mut a.ws, ws));
        match a.msg().await {
            ServerMessage::Resumed { .. } => {}
            other => panic!("expected resumed, got {other:?}"),
        }
        let s = a.signal("m", "after", None).await;
        a.acked(s).await;
        assert_eq!(b.signal_in().await.2, "after");
        assert_eq!(a.signal_in().await.2, "after");
        // A refused one sent again is still not routed.
        a.signal_seq(refused, "m", "again").await;
        let answer = a.answer(refused).await;
        assert!(
            matches!(answer, ServerMessage::SignalError { .. }),
            "a refused signal is never acknowledged: {answer:?}"
        );
    }
}

#[tokio::test]
async fn a_node_that_stops_lets_the_others_see_its_members_leave() {
    let redis = redis_server::Redis::start();
    let mut n = nodes(&redis, 2, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let b = Client::join(&n[1], &sid).await;
    created(&a.event().await);
    let second = n.pop().expect("node 2");
    second.shutdown().await;
    assert_eq!(
        destroyed(&a.event().await),
        (b.id.clone(), DisconnectReason::ServerShutdown)
    );
}

/// A plain Redis connection, to look at what the cluster keeps.
async fn redis_conn(r: &redis_server::Redis) -> redis::aio::MultiplexedConnection {
    redis::Client::open(r.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection")
}

#[tokio::test]
async fn the_log_is_trimmed_as_everyone_acknowledges() {
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 2, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    created(&a.event().await);
    for i in 0..50 {
        let s = a.signal("m", &i.to_string(), None).await;
        a.acked(s).await;
    }
    for _ in 0..50 {
        a.signal_in().await;
        b.signal_in().await;
    }
    let mut conn = redis_conn(&redis).await;
    let log = format!("otc:{{{sid}}}:log");
    let mut len: u64 = u64::MAX;
    for _ in 0..100 {
        len = redis::cmd("XLEN")
            .arg(&log)
            .query_async(&mut conn)
            .await
            .expect("XLEN");
        if len == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(len, 0, "every event acknowledged by everyone is trimmed");
    // A member that does not acknowledge holds the log from where it is.
    b.auto_ack = false;
    for i in 0..5 {
        let s = a.signal("m", &i.to_string(), None).await;
        a.acked(s).await;
        b.signal_in().await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let len: u64 = redis::cmd("XLEN")
        .arg(&log)
        .query_async(&mut conn)
        .await
        .expect("XLEN");
    assert_eq!(len, 5, "kept for b, which has not acknowledged them");
}

/// XLEN of the session's log, once it stops changing (the nodes write
/// their members' positions back every 250 ms).
async fn log_len_settles_to(r: &redis_server::Redis, sid: &str, want: u64) -> u64 {
    let mut conn = redis_conn(r).await;
    let log = format!("otc:{{{sid}}}:log");
    let mut len = u64::MAX;
    for _ in 0..100 {
        len = redis::cmd("XLEN")
            .arg(&log)
            .query_async(&mut conn)
            .await
            .expect("XLEN");
        if len == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    len
}

#[tokio::test]
async fn a_member_that_gets_nothing_neither_holds_the_log_nor_fails_to_resume() {
    let redis = redis_server::Redis::start();
    let n = nodes(&redis, 3, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    // c sees nobody's arrival and is sent nothing: it never acknowledges.
    let mut c = Client::join_with(&n[2], &sid, &token(&sid), true).await;
    created(&a.event().await);
    created(&a.event().await);
    created(&b.event().await);
    for i in 0..20 {
        let s = a
            .signal("m", &i.to_string(), Some(vec![b.id.clone()]))
            .await;
        a.acked(s).await;
        b.signal_in().await;
    }
    assert_eq!(
        log_len_settles_to(&redis, &sid, 0).await,
        0,
        "trimmed all the same"
    );
    // Its node dies, say: it resumes elsewhere from where it was.
    let last = c.last_seq;
    let old = std::mem::replace(&mut c.ws, open(&n[0]).await);
    drop(old);
    c.ws = resume_on(&n[0], &c, last).await;
    assert!(matches!(c.msg().await, ServerMessage::Resumed { .. }));
    let s = a.signal("m", "now c", Some(vec![c.id.clone()])).await;
    a.acked(s).await;
    assert_eq!(c.signal_in().await.2, "now c");
}

#[tokio::test]
async fn without_redis_a_node_is_not_ready_refuses_with_1503_and_recovers() {
    let mut redis = redis_server::Redis::start();
    let n = nodes(&redis, 2, quick()).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    created(&a.event().await);
    redis.kill();
    for _ in 0..300 {
        if !n[0].hub().is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!n[0].hub().is_ready(), "/readyz says not ready");
    let resp = reqwest::get(format!("{}/readyz", n[0].base_url()))
        .await
        .expect("readyz");
    assert_eq!(resp.status(), 503);
    // A signal fails, said so; a new connection is refused.
    let s = a.signal("m", "lost?", None).await;
    a.refused(s, ErrorCode::NoMessagingServer).await;
    let mut ws = open(&n[1]).await;
    send(&mut ws, &connect_msg(&sid, &token(&sid), false)).await;
    expect_refusal(&mut ws, ErrorCode::NoMessagingServer).await;
    let e = n[1]
        .hub()
        .signal_from_server(otc_server::DEV_API_KEY, &sid, None, "n", "x")
        .await
        .expect_err("no Redis");
    assert_eq!(e.code, ErrorCode::NoMessagingServer);
    // Redis is back (empty: this one keeps nothing): the nodes are ready
    // again by themselves and new sessions work across them.
    redis.restart();
    for node in &n {
        for _ in 0..500 {
            if node.hub().is_ready() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(node.hub().is_ready(), "ready again");
    }
    let sid2 = session();
    let mut c = Client::join(&n[0], &sid2).await;
    let mut d = Client::join(&n[1], &sid2).await;
    created(&c.event().await);
    let s = d.signal("m", "after", None).await;
    d.acked(s).await;
    assert_eq!(c.signal_in().await.2, "after");
    // a and b were forgotten with Redis' data: their nodes tell them to
    // connect again (they would otherwise talk into a session nobody
    // else can see).
    for cl in [&mut a, &mut b] {
        assert_eq!(
            told_why(cl).await,
            Some(DisconnectReason::NetworkDisconnected),
            "told its connection was lost"
        );
    }
}

#[tokio::test]
async fn a_slow_consumer_is_evicted_by_its_own_node_and_slows_nobody() {
    let redis = redis_server::Redis::start();
    let limits = ServerLimits {
        replay_buffer_frames: 20,
        ..quick()
    };
    let n = nodes(&redis, 3, limits).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    let mut c = Client::join(&n[2], &sid).await;
    created(&a.event().await);
    created(&a.event().await);
    created(&b.event().await);
    // b reads but never acknowledges: its node holds everything for it.
    b.auto_ack = false;
    // c, on a third node, reads (and acknowledges) as they come: it gets
    // all of them, in order, and a is never held back. Meanwhile it sees b
    // go (checked below with a's view).
    let mut c_saw = Vec::new();
    for i in 0..40 {
        let s = a.signal("m", &i.to_string(), None).await;
        a.acked(s).await;
        loop {
            match c.event().await {
                ServerMessage::Signal { data, .. } => {
                    assert_eq!(data, i.to_string());
                    break;
                }
                other => c_saw.push(other),
            }
        }
    }
    let reason = told_why(&mut b).await;
    assert_eq!(reason, Some(DisconnectReason::ReplayOverflow));
    assert!(
        matches!(&c_saw[..], [ServerMessage::ConnectionDestroyed { connection_id, reason: DisconnectReason::ReplayOverflow, .. }] if *connection_id == b.id),
        "c saw b evicted: {c_saw:?}"
    );
    loop {
        match a.event().await {
            ServerMessage::ConnectionDestroyed {
                connection_id,
                reason,
                ..
            } => {
                assert_eq!(
                    (connection_id, reason),
                    (b.id.clone(), DisconnectReason::ReplayOverflow)
                );
                break;
            }
            ServerMessage::Signal { .. } => {}
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn each_join_and_departure_is_posted_once_and_streamed_from_every_node() {
    let redis = redis_server::Redis::start();
    let mut rx = receiver::Receiver::start().await;
    let n = monitored_nodes(&redis, &rx.url, &["m1", "m2"]).await;
    // The application server holds a stream open on the second node only.
    let mut stream = receiver::Sse::ready(&n[1]).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let b = Client::join(&n[1], &sid).await;
    assert_eq!(created(&a.event().await).id, b.id);
    let b_id = b.id.clone();
    b.disconnect().await;
    assert_eq!(destroyed(&a.event().await).0, b_id);
    // a is removed by the application server, through the other node.
    n[1].hub()
        .force_disconnect(otc_server::DEV_API_KEY, &sid, &a.id)
        .await
        .expect("force disconnect");
    let want = [
        ("connectionCreated", a.id.clone(), None),
        ("connectionCreated", b_id.clone(), None),
        (
            "connectionDestroyed",
            b_id.clone(),
            Some("clientDisconnected".to_string()),
        ),
        (
            "connectionDestroyed",
            a.id.clone(),
            Some("forceDisconnected".to_string()),
        ),
    ];
    let mut posted = Vec::new();
    for _ in 0..want.len() {
        let got = rx.next().await;
        got.check_signature(otc_server::DEV_API_SECRET, otc_server::DEV_API_KEY);
        let e = got.event();
        posted.push((e.event.clone(), e.connection.id.clone(), e.reason.clone()));
    }
    let mut streamed = Vec::new();
    for _ in 0..want.len() {
        let (name, data) = stream.next().await;
        let e: otc_server::monitor::MonitorEvent = serde_json::from_str(&data).expect("json");
        assert_eq!(name, e.event);
        streamed.push((e.event, e.connection.id, e.reason));
    }
    for (event, id, reason) in &want {
        let one = |v: &Vec<(String, String, Option<String>)>| {
            v.iter()
                .filter(|(e, i, r)| e == event && i == id && r == reason)
                .count()
        };
        assert_eq!(one(&posted), 1, "{event} {id}: posted {posted:?}");
        assert_eq!(one(&streamed), 1, "{event} {id}: streamed {streamed:?}");
    }
    assert!(
        rx.quiet_for(Duration::from_millis(500)).await,
        "no node POSTs an event twice"
    );
    for s in n {
        s.shutdown().await;
    }
    rx.stop();
}

#[tokio::test]
async fn a_signal_to_the_server_from_any_node_is_posted_once_and_reported_to_its_sender() {
    let redis = redis_server::Redis::start();
    let mut rx = receiver::Receiver::start().await;
    let n = monitored_nodes(&redis, &rx.url, &["s1", "s2"]).await;
    let sid = session();
    let mut a = Client::join(&n[0], &sid).await;
    let mut b = Client::join(&n[1], &sid).await;
    let _ = a.event().await; // b's connection_created
    for _ in 0..2 {
        let _ = rx.next().await; // the two connectionCreated
    }
    let seq = b.signal_to_server("vote", "yes").await;
    b.acked(seq).await;
    let e = rx.next().await.event();
    assert_eq!(
        (e.event.as_str(), e.connection.id.as_str()),
        ("signal", b.id.as_str())
    );
    match b.event().await {
        ServerMessage::SignalDelivered { signal_seq, .. } => assert_eq!(signal_seq, seq),
        other => panic!("expected the delivery report, got {other:?}"),
    }
    // Nobody else hears it, and it is posted once.
    a.signal("t", "after", None).await;
    match a.event().await {
        ServerMessage::Signal { data, .. } => assert_eq!(data, "after"),
        other => panic!("a got {other:?}"),
    }
    assert!(rx.quiet_for(Duration::from_millis(500)).await);
    for s in n {
        s.shutdown().await;
    }
    rx.stop();
}

/// Nodes on `redis`, ready, each with the development project's callbacks
/// going to `url` (every node has the same configuration).
async fn monitored_nodes(
    redis: &redis_server::Redis,
    url: &str,
    names: &[&str],
) -> Vec<ServerHandle> {
    let mut n = Vec::new();
    for name in names {
        let mut config = receiver::config_with_callback(url, None);
        config.limits = quick();
        n.push(node_from(redis, name, config).await);
    }
    n
}
