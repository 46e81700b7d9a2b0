//! `otc_session_settings_set_proxy_url` through a real forward proxy:
//! tinyproxy (Debian's package; `scripts/ensure-tools.sh` installs it),
//! started by each test on a free loopback port with its own configuration.
//! Plain and TLS links through it, an `https://` proxy (a TLS terminator of
//! the test in front of tinyproxy), a proxy that refuses CONNECT (403), one
//! that wants credentials (407, then Basic auth that works), one that never
//! answers (1021), and reconnection through the proxy after the tunnel is
//! cut (the fault-injecting TCP proxy of `tests/proxy` sits between
//! tinyproxy and the server).

mod ffi_support;
mod proxy;
mod tls_support;

use std::time::Duration;

use ffi_support::*;
use opentok::ffi::*;
use tls_support::*;

const FAILED: i32 = otc_session_error_code::OTC_SESSION_CONNECTION_FAILED as i32;
const TIMED_OUT: i32 = otc_session_error_code::OTC_SESSION_CONNECTION_TIMED_OUT as i32;

/// A session at `url` through `proxy_url`, trusting the test CA.
fn client(url: &str, proxy_url: &str, sid: &str) -> Client {
    client_with(url, proxy_url, sid, None)
}

fn client_with(url: &str, proxy_url: &str, sid: &str, window_ms: Option<i64>) -> Client {
    Client::new_with(sid, |s| unsafe {
        let (u, p, f) = (cs(url), cs(proxy_url), cs(&ca().pem_path));
        assert_eq!(
            otc_session_settings_set_server_url(s, u.as_ptr()),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_session_settings_set_proxy_url(s, p.as_ptr()),
            OTC_SUCCESS
        );
        assert_eq!(otc_session_settings_set_ca_file(s, f.as_ptr()), OTC_SUCCESS);
        if let Some(ms) = window_ms {
            assert_eq!(
                otc_session_settings_set_reconnection_window_ms(s, ms),
                OTC_SUCCESS
            );
        }
    })
}

fn server_addr() -> std::net::SocketAddr {
    addr_of(&server().base_url)
}

/// Connects `c` expecting a failure; returns the one `on_error`, after
/// checking `on_disconnected` followed.
fn connect_fails(c: &Client, sid: &str, limit: Duration) -> (i32, String) {
    let token = cs(&server().token(sid, None));
    assert_eq!(
        unsafe { otc_session_connect(c.session, token.as_ptr()) },
        OTC_SUCCESS
    );
    let evs = c
        .rec
        .wait_until_within("on_error then on_disconnected", limit, |e| {
            e.contains(&Ev::Disconnected)
        });
    assert!(!evs.contains(&Ev::Connected), "{evs:?}");
    assert_eq!(evs.last(), Some(&Ev::Disconnected), "{evs:?}");
    let errors: Vec<(i32, String)> = evs
        .into_iter()
        .filter_map(|e| match e {
            Ev::Error { code, msg } => Some((code, msg)),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (code, msg) = errors.into_iter().next().unwrap_or_default();
    eprintln!("on_error {code}: {msg}");
    (code, msg)
}

/// A and B exchange one signal each way.
fn exchange(a: &Client, b: &Client, what: &str) {
    b.rec.wait_for(
        "B sees A",
        &Ev::Created {
            id: a.id.clone(),
            data: String::new(),
        },
    );
    assert_eq!(a.broadcast("hello", what), OTC_SUCCESS);
    b.rec.wait_for(
        "B gets A's signal",
        &Ev::Signal {
            t: "hello".into(),
            d: what.into(),
            from: Some(a.id.clone()),
        },
    );
    assert_eq!(b.broadcast("reply", what), OTC_SUCCESS);
    a.rec.wait_for(
        "A gets B's signal",
        &Ev::Signal {
            t: "reply".into(),
            d: what.into(),
            from: Some(b.id.clone()),
        },
    );
}

fn tunnels_in_log(tp: &Tinyproxy, to_port: u16) -> usize {
    tp.log()
        .matches(&format!("CONNECT 127.0.0.1:{to_port} HTTP/1.1"))
        .count()
}

#[test]
fn plain_ws_through_tinyproxy() {
    let tp = Tinyproxy::start(TinyOpts {
        connect_ports: vec![server_addr().port()],
        ..Default::default()
    });
    let sid = server().new_session_id();
    let a = client(&server().base_url, &tp.url(None), &sid).connect_and_wait(&sid, Opts::default());
    // B connects directly: the proxy is per session.
    let b = Client::join(&sid, Opts::default());
    exchange(&a, &b, "through tinyproxy");
    assert_eq!(
        tunnels_in_log(&tp, server_addr().port()),
        1,
        "A's link went through tinyproxy: {}",
        tp.log()
    );
}

#[test]
fn wss_through_tinyproxy_and_through_an_https_proxy() {
    let front = TlsFront::start(server_addr(), good_cert());
    let tp = Tinyproxy::start(TinyOpts {
        connect_ports: vec![front.addr.port()],
        ..Default::default()
    });
    let sid = server().new_session_id();
    // wss:// inside an http:// proxy's tunnel: TLS end to end with the
    // server, checked against its name.
    let a = client(&front.url(), &tp.url(None), &sid).connect_and_wait(&sid, Opts::default());
    // An https:// proxy (TLS to the proxy, then CONNECT, then TLS to the
    // server inside it).
    let tls_proxy = TlsFront::start(tp.addr(), good_cert());
    let https_proxy = format!("https://localhost:{}", tls_proxy.addr.port());
    let b = client(&front.url(), &https_proxy, &sid).connect_and_wait(&sid, Opts::default());
    assert_eq!(tls_proxy.accepted(), 1, "B went through the https proxy");
    exchange(&a, &b, "TLS through a proxy");
    assert_eq!(tunnels_in_log(&tp, front.addr.port()), 2, "{}", tp.log());
    // A plain ws:// link inside an https:// proxy works too.
    let tp_plain = Tinyproxy::start(TinyOpts {
        connect_ports: vec![server_addr().port()],
        ..Default::default()
    });
    let tls_proxy2 = TlsFront::start(tp_plain.addr(), good_cert());
    let c = client(
        &server().base_url,
        &format!("https://127.0.0.1:{}", tls_proxy2.addr.port()),
        &sid,
    )
    .connect_and_wait(&sid, Opts::default());
    exchange(&c, &a, "plain inside https");
    // The proxy's certificate is checked like the server's.
    let rogue = TlsFront::start(tp.addr(), rogue_ca().issue(&["127.0.0.1"]));
    let d = client(
        &front.url(),
        &format!("https://127.0.0.1:{}", rogue.addr.port()),
        &sid,
    );
    let (code, msg) = connect_fails(&d, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    assert!(
        msg.contains("the proxy 127.0.0.1:") && msg.contains("is not trusted"),
        "{msg}"
    );
}

#[test]
fn a_proxy_that_refuses_connect_fails_with_1006_and_its_answer() {
    // tinyproxy only lets CONNECT reach another port: 403 for ours.
    let tp = Tinyproxy::start(TinyOpts {
        connect_ports: vec![free_port()],
        ..Default::default()
    });
    let sid = server().new_session_id();
    let c = client(&server().base_url, &tp.url(None), &sid);
    let (code, msg) = connect_fails(&c, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    let expected = format!(
        "proxy 127.0.0.1:{} refused CONNECT to {}: 403",
        tp.port,
        server_addr()
    );
    assert!(msg.starts_with(&expected), "{msg}");
    // The same for a wss:// link.
    let c = client(&format!("wss://{}", server_addr()), &tp.url(None), &sid);
    let (code, msg) = connect_fails(&c, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("refused CONNECT"), "{msg}");
    // No proxy listening.
    let c = client(
        &server().base_url,
        &format!("http://127.0.0.1:{}", free_port()),
        &sid,
    );
    let (code, msg) = connect_fails(&c, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    assert!(
        msg.starts_with("cannot connect to the proxy 127.0.0.1:") && msg.contains("refused"),
        "{msg}"
    );
}

#[test]
fn basic_auth_with_tinyproxy() {
    let tp = Tinyproxy::start(TinyOpts {
        connect_ports: vec![server_addr().port()],
        basic_auth: Some(("otcuser", "s3cret")),
    });
    let sid = server().new_session_id();
    let no_creds = client(&server().base_url, &tp.url(None), &sid);
    let (code, msg) = connect_fails(&no_creds, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    assert!(
        msg.contains(": 407") && msg.contains("wants credentials"),
        "{msg}"
    );
    let wrong = client(&server().base_url, &tp.url(Some("otcuser:wrong")), &sid);
    let (code, msg) = connect_fails(&wrong, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    // tinyproxy answers wrong credentials with 401, not 407.
    assert!(
        (msg.contains(": 407") || msg.contains(": 401")) && msg.contains("were refused"),
        "{msg}"
    );
    assert!(!msg.contains("wrong"), "the password is never shown: {msg}");
    let a = client(&server().base_url, &tp.url(Some("otcuser:s3cret")), &sid)
        .connect_and_wait(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    exchange(&a, &b, "authenticated");
}

#[test]
fn a_proxy_that_never_answers_connect_times_out_with_1021() {
    let silent = Scripted::start(None);
    let sid = server().new_session_id();
    let c = client(&server().base_url, &format!("http://{}", silent.addr), &sid);
    let (code, msg) = connect_fails(&c, &sid, Duration::from_secs(20));
    assert_eq!(code, TIMED_OUT, "{msg}");
    assert!(
        msg.contains(&format!(
            "waiting for the proxy {} to answer CONNECT",
            silent.addr
        )),
        "{msg}"
    );
    // A proxy that answers something other than HTTP.
    let odd = Scripted::start(Some(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    let c = client(&server().base_url, &format!("http://{}", odd.addr), &sid);
    let (code, msg) = connect_fails(&c, &sid, WAIT);
    assert_eq!(code, FAILED, "{msg}");
    assert!(msg.contains("not HTTP"), "{msg}");
}

#[test]
fn reconnection_goes_through_the_proxy_again() {
    let rt = tls_support::rt();
    let front = TlsFront::start(server_addr(), good_cert());
    // tinyproxy -> cutter -> server (ws) or TLS front (wss).
    let to_plain = proxy::Proxy::start(rt.handle(), server_addr());
    let to_tls = proxy::Proxy::start(rt.handle(), front.addr);
    let ports = |p: &proxy::Proxy| addr_of(&p.base_url()).port();
    let tp = Tinyproxy::start(TinyOpts {
        connect_ports: vec![ports(&to_plain), ports(&to_tls)],
        ..Default::default()
    });
    let sid = server().new_session_id();
    let b = Client::join(&sid, Opts::default());
    for (cutter, url) in [
        (&to_plain, to_plain.base_url()),
        (&to_tls, format!("wss://127.0.0.1:{}", ports(&to_tls))),
    ] {
        let a = client_with(&url, &tp.url(None), &sid, Some(20_000))
            .connect_and_wait(&sid, Opts::default());
        exchange(&a, &b, &format!("before the cut ({url})"));
        let tunnels = tunnels_in_log(&tp, ports(cutter));
        cutter.cut_all();
        a.rec
            .wait_for("reconnection started", &Ev::ReconnectionStarted);
        a.rec.wait_for("reconnected", &Ev::Reconnected);
        assert!(
            tunnels_in_log(&tp, ports(cutter)) > tunnels,
            "the new link went through tinyproxy: {}",
            tp.log()
        );
        let after = format!("after the cut ({url})");
        assert_eq!(a.broadcast("hello", &after), OTC_SUCCESS);
        b.rec.wait_for(
            "B gets A's signal after the reconnection",
            &Ev::Signal {
                t: "hello".into(),
                d: after.clone(),
                from: Some(a.id.clone()),
            },
        );
        assert!(
            !b.rec.snapshot().contains(&Ev::Dropped { id: a.id.clone() }),
            "B saw no drop: the same connection was resumed"
        );
    }
}
