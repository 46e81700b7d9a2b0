//! Automatic reconnection, end to end through the C ABI: library clients
//! talk to an in-process `otc-server` through fault-injecting proxies
//! (`tests/proxy`) that cut, stall and delay their links.
//!
//! What is checked is what an application would check: every signal a send
//! call accepted reaches every receiver exactly once and in its sender's
//! order; the faulted client hears `on_reconnection_started` then
//! `on_reconnected`; nobody else hears of it; and when a connection cannot
//! be saved, the loss is reported (`on_error`, failed completions,
//! `on_disconnected`), never silent.
//!
//! The server's ping interval and grace are shortened by configuration; the
//! library takes its dead-link interval (three pings) and its window from
//! them. Every wait is on a condition with a deadline, never a fixed sleep.

mod ffi_support;
mod proxy;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ffi_support::*;
use opentok::ffi::*;
use otc_server::{Config, Project, ServerLimits};
use proxy::{Dir, Mode, Proxy};

/// A server with its own limits, and proxies in front of it.
struct Net {
    rt: tokio::runtime::Runtime,
    server: Option<otc_server::ServerHandle>,
    addr: SocketAddr,
}

impl Net {
    fn start(limits: ServerLimits) -> Net {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt
            .block_on(otc_server::start(Config {
                limits,
                ..Config::dev()
            }))
            .expect("start otc-server");
        let addr = server.local_addr();
        Net {
            rt,
            server: Some(server),
            addr,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn proxy(&self) -> Proxy {
        Proxy::start(self.rt.handle(), self.addr)
    }

    fn session_id(&self) -> String {
        otc_server::create_session_id(&Project::dev())
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// Short intervals: the server pings every 100 ms, so a client declares a
/// silent link dead after 300 ms.
fn quick(grace: Duration) -> ServerLimits {
    ServerLimits {
        ping_interval: Duration::from_millis(100),
        idle_timeout: Duration::from_secs(1),
        reconnect_grace: grace,
        ..Default::default()
    }
}

fn join(url: &str, sid: &str, window_ms: Option<i64>) -> Client {
    Client::new_at(url, sid, false, window_ms).connect_and_wait(sid, Opts::default())
}

fn count(evs: &[Ev], ev: &Ev) -> usize {
    evs.iter().filter(|e| *e == ev).count()
}

fn started(c: &Client) -> usize {
    count(&c.rec.snapshot(), &Ev::ReconnectionStarted)
}

fn reconnected(c: &Client) -> usize {
    count(&c.rec.snapshot(), &Ev::Reconnected)
}

fn send_with(c: &Client, t: &str, d: &str, retry: bool) -> otc_status {
    let (t, d) = (cs(t), cs(d));
    unsafe {
        otc_session_send_signal_with_options(
            c.session,
            t.as_ptr(),
            d.as_ptr(),
            otc_signal_options {
                retry_after_reconnect: if retry { OTC_TRUE } else { OTC_FALSE },
            },
        )
    }
}

/// The numbers `from` sent of type "n", in the order `rec` received them.
fn numbers_from(rec: &Recorder, from: &str) -> Vec<u64> {
    rec.signals()
        .into_iter()
        .filter(|(t, _, f)| t == "n" && f.as_deref() == Some(from))
        .map(|(_, d, _)| d.parse().expect("numbered signal"))
        .collect()
}

/// The numbered signals `rec` got from the application server (no sender).
fn numbers_from_server(rec: &Recorder) -> Vec<u64> {
    rec.signals()
        .into_iter()
        .filter(|(t, _, f)| t == "n" && f.is_none())
        .map(|(_, d, _)| d.parse().expect("numbered signal"))
        .collect()
}

/// Sends numbered broadcasts until told to stop; returns the numbers whose
/// send call was accepted.
fn spawn_sender(c: Arc<Client>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<u64>> {
    std::thread::spawn(move || {
        let mut accepted = Vec::new();
        // Bounded: at most 20000 signals, one every 2 ms.
        for n in 0..20_000u64 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let st = c.broadcast("n", &n.to_string());
            match st {
                OTC_SUCCESS => accepted.push(n),
                other => panic!("send #{n} returned {other} (queue full or not connected?)"),
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        accepted
    })
}

/// Waits until `pred` holds, polling (bounded by [`WAIT`]).
fn wait_until(what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// One fault of the scripted sequence.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Close the current links.
    Cut,
    /// Blackhole the current links both ways until the client gives up on
    /// them.
    Stall,
    /// Blackhole only client-to-server: the client still hears the server,
    /// the server hears nothing and drops the link after its idle timeout.
    StallUp,
    /// Cut, then cut the first new link too (a fault during the resume).
    CutTwice,
}

#[test]
fn every_signal_arrives_exactly_once_in_order_across_cuts_and_stalls() {
    let net = Net::start(quick(Duration::from_secs(20)));
    let sid = net.session_id();
    let proxies: Vec<Proxy> = (0..3).map(|_| net.proxy()).collect();
    // a and b send and receive; c only receives.
    let clients: Vec<Arc<Client>> = proxies
        .iter()
        .map(|p| Arc::new(join(&p.base_url(), &sid, None)))
        .collect();
    for c in &clients {
        c.rec.wait_until("everyone sees the two others", |e| {
            e.iter().filter(|x| matches!(x, Ev::Created { .. })).count() == 2
        });
    }
    let initial: Vec<usize> = clients.iter().map(|c| c.rec.snapshot().len()).collect();
    let ids: Vec<String> = clients.iter().map(|c| c.id.clone()).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let senders = [
        spawn_sender(clients[0].clone(), stop.clone()),
        spawn_sender(clients[1].clone(), stop.clone()),
    ];

    // (who, fault): the sender's link, the receiver's link, both, all.
    use Fault::*;
    let script: [(&[usize], Fault); 11] = [
        (&[0], Cut),
        (&[2], Cut),
        (&[1], Stall),
        (&[0, 1], Cut),
        (&[2], Stall),
        (&[0, 2], Stall),
        (&[1], StallUp),
        (&[0, 1, 2], Cut),
        (&[0], CutTwice),
        (&[1, 2], Stall),
        (&[0, 1, 2], Stall),
    ];
    let total = |c: &Client| c.rec.signals().len();
    for (round, (who, fault)) in script.iter().enumerate() {
        let before: Vec<usize> = who.iter().map(|&i| reconnected(&clients[i])).collect();
        let old_links: Vec<Vec<u64>> = who.iter().map(|&i| proxies[i].live()).collect();
        let opened: Vec<u64> = who.iter().map(|&i| proxies[i].accepted()).collect();
        for &i in *who {
            let p = &proxies[i];
            match fault {
                Cut | CutTwice => p.cut_all(),
                Stall => p.stall_all(),
                StallUp => p.set_all(Dir::Up, Mode::Stall),
            }
        }
        if let CutTwice = fault {
            for (k, &i) in who.iter().enumerate() {
                wait_until("a new link", || proxies[i].accepted() > opened[k]);
                proxies[i].cut_all();
            }
        }
        for (k, &i) in who.iter().enumerate() {
            let c = &clients[i];
            wait_until(
                &format!("round {round} ({fault:?}): client {i} reconnected"),
                || reconnected(c) > before[k] && started(c) == reconnected(c),
            );
            // Stalled links stay open until cut; clean them up.
            for id in &old_links[k] {
                proxies[i].cut(*id);
            }
        }
        // Traffic flows again everywhere before the next fault.
        let seen: Vec<usize> = clients.iter().map(|c| total(c)).collect();
        for (i, c) in clients.iter().enumerate() {
            wait_until(&format!("round {round}: client {i} receives again"), || {
                total(c) >= seen[i] + 20
            });
        }
    }

    // A short delay on every link is only latency: no reconnection.
    let calm: Vec<usize> = clients.iter().map(|c| started(c)).collect();
    for p in &proxies {
        p.set_all(Dir::Both, Mode::Delay(Duration::from_millis(30)));
    }
    let seen: Vec<usize> = clients.iter().map(|c| total(c)).collect();
    for (i, c) in clients.iter().enumerate() {
        wait_until("signals flow under latency", || total(c) >= seen[i] + 50);
    }
    for p in &proxies {
        p.set_all(Dir::Both, Mode::Pass);
    }

    stop.store(true, Ordering::SeqCst);
    let sent: Vec<Vec<u64>> = senders.into_iter().map(|h| h.join().unwrap()).collect();
    for (s, accepted) in sent.iter().enumerate() {
        assert!(
            accepted.len() > 100,
            "sender {s} sent only {}",
            accepted.len()
        );
    }
    for (r, c) in clients.iter().enumerate() {
        for (s, accepted) in sent.iter().enumerate() {
            wait_until(&format!("client {r} has all of sender {s}"), || {
                numbers_from(&c.rec, &ids[s]).len() >= accepted.len()
            });
        }
    }
    // Let anything doubled or stray show up before judging.
    let marker_from = &clients[0];
    assert_eq!(marker_from.broadcast("end", ""), OTC_SUCCESS);
    for c in &clients {
        c.rec.wait_until("the end marker", |e| {
            e.iter()
                .any(|x| matches!(x, Ev::Signal { t, .. } if t == "end"))
        });
    }

    for (r, c) in clients.iter().enumerate() {
        for (s, accepted) in sent.iter().enumerate() {
            let got = numbers_from(&c.rec, &ids[s]);
            assert_eq!(
                got.len(),
                accepted.len(),
                "client {r} got {} signals of sender {s}, {} were accepted",
                got.len(),
                accepted.len()
            );
            assert_eq!(&got, accepted, "client {r}: sender {s}'s order");
        }
        let evs = c.rec.snapshot();
        let after: Vec<&Ev> = evs[initial[r]..]
            .iter()
            .filter(|e| !matches!(e, Ev::Signal { .. }))
            .collect();
        assert!(
            after
                .iter()
                .all(|e| matches!(e, Ev::ReconnectionStarted | Ev::Reconnected)),
            "client {r}: only reconnection callbacks, no drop/create/error/disconnect: {after:?}"
        );
        // Started and finished alternate.
        for pair in after.chunks(2) {
            assert_eq!(pair, [&Ev::ReconnectionStarted, &Ev::Reconnected]);
        }
        let faults = script.iter().filter(|(w, _)| w.contains(&r)).count();
        assert!(
            started(c) >= faults,
            "client {r}: {} reconnections for {faults} faults",
            started(c)
        );
        assert!(
            started(c) == calm[r],
            "client {r} reconnected because of mere latency"
        );
    }
}

#[test]
fn while_reconnecting_retry_false_fails_with_1010_and_the_rest_is_queued() {
    let net = Net::start(quick(Duration::from_secs(20)));
    let sid = net.session_id();
    let pa = net.proxy();
    let a = join(&pa.base_url(), &sid, None);
    let b = join(&net.base_url(), &sid, None);
    a.rec.wait_until("a sees b", |e| {
        e.iter().any(|x| matches!(x, Ev::Created { .. }))
    });

    // While connected, retry_after_reconnect = false is an ordinary send.
    assert_eq!(send_with(&a, "q", "connected-false", false), OTC_SUCCESS);
    b.rec.wait_until("the first signal", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { d, .. } if d == "connected-false"))
    });

    pa.refuse_new(true);
    pa.cut_all();
    a.rec
        .wait_for("reconnection started", &Ev::ReconnectionStarted);

    // The own connection is kept while reconnecting.
    let own = otc_session_get_connection(a.session);
    assert!(!own.is_null());
    assert_eq!(unsafe { conn_id(own) }, a.id);

    let not_connected = code(otc_session_error_code::OTC_SESSION_NOT_CONNECTED);
    assert_eq!(send_with(&a, "q", "never-1", false), not_connected);
    let bc = unsafe { otc_connection_copy(otc_session_get_connection(b.session)) };
    let (t, d) = (cs("q"), cs("never-2"));
    assert_eq!(
        unsafe {
            otc_session_send_signal_to_connection_with_options(
                a.session,
                t.as_ptr(),
                d.as_ptr(),
                bc,
                otc_signal_options {
                    retry_after_reconnect: OTC_FALSE,
                },
            )
        },
        not_connected
    );
    assert_eq!(a.broadcast("q", "queued-1"), OTC_SUCCESS);
    assert_eq!(send_with(&a, "q", "queued-2", true), OTC_SUCCESS);
    let done = Recorder::default();
    let (st, id) = a.send_to_ids("q", "queued-3", &[b.id.as_str()], &done);
    assert_eq!(st, OTC_SUCCESS);
    let (t, d) = (cs("q"), cs("queued-4"));
    assert_eq!(
        unsafe { otc_session_send_signal_to_connection(a.session, t.as_ptr(), d.as_ptr(), bc) },
        OTC_SUCCESS
    );
    unsafe { otc_connection_delete(bc) };
    assert!(
        done.snapshot().is_empty(),
        "a queued signal completes only once sent"
    );

    pa.refuse_new(false);
    a.rec.wait_for("reconnected", &Ev::Reconnected);
    done.wait_for(
        "the queued signal's completion",
        &Ev::Complete {
            id,
            result: OTC_SUCCESS,
        },
    );
    b.rec.wait_until("the queued signals", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { d, .. } if d == "queued-4"))
    });
    // A marker after them proves nothing else is on its way.
    assert_eq!(a.broadcast("q", "marker"), OTC_SUCCESS);
    b.rec.wait_until("marker", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { d, .. } if d == "marker"))
    });
    let got: Vec<String> = b
        .rec
        .signals()
        .into_iter()
        .filter(|(t, _, f)| t == "q" && f.as_deref() == Some(a.id.as_str()))
        .map(|(_, d, _)| d)
        .collect();
    assert_eq!(
        got,
        [
            "connected-false",
            "queued-1",
            "queued-2",
            "queued-3",
            "queued-4",
            "marker"
        ]
    );
    let b_evs = b.rec.snapshot();
    assert!(!b_evs.iter().any(|e| matches!(e, Ev::Dropped { .. })));
    assert_eq!(count(&b_evs, &Ev::ReconnectionStarted), 0);
    let a_evs = a.rec.snapshot();
    assert!(
        !a_evs
            .iter()
            .any(|e| matches!(e, Ev::Error { .. } | Ev::Disconnected)),
        "{a_evs:?}"
    );
    assert_eq!(done.completions(), vec![(id, OTC_SUCCESS)]);
}

fn errors(c: &Client) -> Vec<(i32, String)> {
    c.rec
        .snapshot()
        .into_iter()
        .filter_map(|e| match e {
            Ev::Error { code, msg } => Some((code, msg)),
            _ => None,
        })
        .collect()
}

#[test]
fn past_the_grace_period_peers_see_the_drop_and_the_client_is_disconnected() {
    let net = Net::start(quick(Duration::from_millis(500)));
    let sid = net.session_id();
    let observer = join(&net.base_url(), &sid, None);
    // `a` keeps the default window (a little longer than the grace) and the
    // server stays out of reach: the window runs out.
    let pa = net.proxy();
    let a = join(&pa.base_url(), &sid, None);
    // `c` would wait 20 s; it reaches the server again after the grace and
    // is refused.
    let pc = net.proxy();
    let c = join(&pc.base_url(), &sid, Some(20_000));
    observer.rec.wait_until("observer sees a and c", |e| {
        e.iter().filter(|x| matches!(x, Ev::Created { .. })).count() == 2
    });

    for p in [&pa, &pc] {
        p.refuse_new(true);
        p.cut_all();
    }
    a.rec.wait_for("a reconnecting", &Ev::ReconnectionStarted);
    c.rec.wait_for("c reconnecting", &Ev::ReconnectionStarted);
    // Accepted while reconnecting, never delivered: failed loudly.
    assert_eq!(a.broadcast("lost", "plain"), OTC_SUCCESS);
    let done = Recorder::default();
    let (st, id) = a.send_to_ids("lost", "with-completion", &[], &done);
    assert_eq!(st, OTC_SUCCESS);

    observer.rec.wait_for(
        "a dropped after the grace",
        &Ev::Dropped { id: a.id.clone() },
    );
    observer.rec.wait_for(
        "c dropped after the grace",
        &Ev::Dropped { id: c.id.clone() },
    );
    pc.refuse_new(false);

    let dropped = code(otc_session_error_code::OTC_SESSION_CONNECTION_DROPPED);
    for (name, cl) in [("a", &a), ("c", &c)] {
        let evs = cl.rec.wait_for("disconnected", &Ev::Disconnected);
        assert_eq!(evs.last(), Some(&Ev::Disconnected), "{name}: {evs:?}");
        assert_eq!(count(&evs, &Ev::Reconnected), 0, "{name}: {evs:?}");
        assert!(
            errors(cl).iter().any(|(code, _)| *code == dropped),
            "{name}: on_error(CONNECTION_DROPPED) before on_disconnected: {evs:?}"
        );
        assert!(otc_session_get_connection(cl.session).is_null());
        assert_eq!(
            cl.broadcast("t", "d"),
            code(otc_session_error_code::OTC_SESSION_NOT_CONNECTED)
        );
    }
    // c heard the server's refusal; a ran out of time.
    assert!(
        errors(&c).iter().any(|(_, m)| m.contains("refused")),
        "{:?}",
        errors(&c)
    );
    assert!(
        errors(&a)
            .iter()
            .any(|(_, m)| m.contains("could not be resumed within")),
        "{:?}",
        errors(&a)
    );
    // a's two queued signals: the completion failed, on_error counted both.
    assert_eq!(done.completions(), vec![(id, dropped)]);
    assert!(
        errors(&a)
            .iter()
            .any(|(code, m)| *code == dropped && m.starts_with("2 signal(s)")),
        "{:?}",
        errors(&a)
    );
    assert!(!observer.rec.signals().iter().any(|(t, _, _)| t == "lost"));

    // The session can join again, as a new connection.
    pa.refuse_new(false);
    let old_id = a.id.clone();
    let a = a.connect_and_wait(&sid, Opts::default());
    assert_ne!(a.id, old_id);
    observer.rec.wait_until("the new a arrives", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Created { id, .. } if *id == a.id))
    });
}

#[test]
fn replay_buffer_overflow_is_reported_to_the_client_and_its_peers() {
    let net = Net::start(ServerLimits {
        replay_buffer_frames: 16,
        idle_timeout: Duration::from_secs(20),
        ..quick(Duration::from_secs(20))
    });
    let sid = net.session_id();
    let sender = join(&net.base_url(), &sid, None);
    let pr = net.proxy();
    let r = join(&pr.base_url(), &sid, None);
    sender.rec.wait_until("sender sees r", |e| {
        e.iter().any(|x| matches!(x, Ev::Created { .. }))
    });
    // r keeps hearing the server but its acknowledgements never arrive, so
    // the server must keep everything it sends r for a replay. The signals
    // come from the application server: one participant alone could fill
    // only its share of r's buffer (it would be held back, then refused).
    pr.set_all(Dir::Up, Mode::Stall);
    let hub = net.server.as_ref().expect("server").hub();
    for n in 0..40 {
        let to = Some(vec![r.id.clone()]);
        if net
            .rt
            .block_on(hub.signal_from_server(
                otc_server::DEV_API_KEY,
                &sid,
                to,
                "n",
                &n.to_string(),
            ))
            .is_err()
        {
            break; // r is gone
        }
    }
    sender
        .rec
        .wait_for("r dropped", &Ev::Dropped { id: r.id.clone() });
    let evs = r.rec.wait_for("r disconnected", &Ev::Disconnected);
    let full = sig_code(otc_signal_error_code::OTC_SIGNAL_BUFFER_FULL);
    assert!(
        errors(&r)
            .iter()
            .any(|(code, m)| *code == full && m.contains("replay_overflow")),
        "{evs:?}"
    );
    assert_eq!(count(&evs, &Ev::ReconnectionStarted), 0, "{evs:?}");
    // What r did receive is a gap-free prefix, each once. (It may be empty:
    // the server ends an evicted link without writing what was still queued
    // for it, and says why instead.)
    let got = numbers_from_server(&r.rec);
    assert!(
        got.len() <= 16,
        "r got {} signals before the overflow (replay buffer 16): {got:?}; r's events: {evs:?}",
        got.len()
    );
    assert_eq!(got, (0..got.len() as u64).collect::<Vec<_>>());
}

#[test]
fn with_a_zero_window_a_lost_link_ends_the_session() {
    let net = Net::start(quick(Duration::from_secs(20)));
    let sid = net.session_id();
    let p = net.proxy();
    let a = join(&p.base_url(), &sid, Some(0));
    p.cut_all();
    let evs = a.rec.wait_for("disconnected", &Ev::Disconnected);
    assert_eq!(count(&evs, &Ev::ReconnectionStarted), 0, "{evs:?}");
    assert!(matches!(&evs[evs.len() - 2], Ev::Error { code: 1022, .. }));
    let settings = otc_session_settings_new();
    assert_eq!(
        unsafe { otc_session_settings_set_reconnection_window_ms(settings, -1) },
        code(otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
    assert_eq!(
        unsafe { otc_session_settings_set_reconnection_window_ms(std::ptr::null_mut(), 5) },
        code(otc_session_error_code::OTC_SESSION_NULL_OR_INVALID_PARAMETER)
    );
    unsafe { otc_session_settings_delete(settings) };
}
