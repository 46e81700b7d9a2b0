//! TLS termination: https REST and wss on the one port, with certificates
//! signed by a CA the test makes (rcgen) and clients that trust only it;
//! plain HTTP and silent peers on the TLS port; certificate reload on
//! SIGHUP (the real binary); and the start-up refusals (bad files, only one
//! of the two, the development project off loopback, short secrets).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use otc_server::{Config, ServerError, ServerHandle, ServerLimits, TlsError, TlsFiles};
use protocol::{SUBPROTOCOL, WS_PATH};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{Connector, MaybeTlsStream};

use crate::client::*;

const BIN: &str = env!("CARGO_BIN_EXE_otc-server");

// --- certificates -------------------------------------------------------

/// A private CA.
struct Ca {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

/// A server certificate and its key, as PEM, and the certificate's DER.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

impl Ca {
    fn new() -> Ca {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "otc-server test CA");
        let cert = params.self_signed(&key).expect("CA certificate");
        Ca { cert, key }
    }

    /// A certificate for 127.0.0.1 and localhost.
    fn issue(&self, common_name: &str, serial: u64) -> Leaf {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params.serial_number = Some(rcgen::SerialNumber::from(serial));
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("signed");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.der().clone()).expect("root");
        Arc::new(
            ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("otc-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Writes `leaf` as `dir/cert.pem` and `dir/key.pem`, each replaced whole
/// (written aside, then renamed over), as a certificate renewal would.
fn install(dir: &Path, leaf: &Leaf) -> TlsFiles {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    for (path, text) in [(&files.cert, &leaf.cert_pem), (&files.key, &leaf.key_pem)] {
        let aside = path.with_extension("new");
        std::fs::write(&aside, text).expect("write");
        std::fs::rename(&aside, path).expect("rename");
    }
    files
}

async fn start_tls(files: TlsFiles, limits: ServerLimits) -> ServerHandle {
    start(Config {
        tls: Some(files),
        limits,
        ..Config::dev()
    })
    .await
}

// --- clients --------------------------------------------------------------

/// Opens a wss link to `host` (a name or an address the certificate
/// covers) on `addr`'s port; returns it with the certificate the server
/// presented.
async fn open_wss(addr: SocketAddr, host: &str, tls: &Arc<ClientConfig>) -> (Ws, Vec<u8>) {
    let url = format!("wss://{host}:{}{WS_PATH}", addr.port());
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async_tls_with_config(
            req,
            None,
            true,
            Some(Connector::Rustls(Arc::clone(tls))),
        ),
    )
    .await
    .expect("wss opens in time")
    .expect("wss opens");
    let presented = match ws.get_ref() {
        MaybeTlsStream::Rustls(s) => s
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec())
            .expect("the server presented a certificate"),
        _ => panic!("not a TLS stream"),
    };
    (ws, presented)
}

/// The certificate a new TLS connection to `addr` is shown (no HTTP).
async fn presented_cert(addr: SocketAddr, tls: &Arc<ClientConfig>) -> Vec<u8> {
    let tcp = tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let stream = tokio::time::timeout(
        WAIT,
        tokio_rustls::TlsConnector::from(Arc::clone(tls)).connect(name, tcp),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    let der = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .expect("a certificate");
    der
}

fn https(ca: &Ca) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).expect("CA"))
        .timeout(WAIT)
        .no_proxy()
        .build()
        .expect("https client")
}

fn rest_jwt() -> String {
    otc_server::rest::mint_rest_token(&otc_server::Project::dev(), Duration::from_secs(120))
        .expect("jwt")
}

/// Sends a signal from `a` to `b` only and checks it arrives.
async fn exchange(a: &mut Client, b: &mut Client, data: &str) {
    let seq = a.signal("tls", data, Some(vec![b.id.clone()])).await;
    a.acked(seq).await;
    let (from, ty, got) = b.signal_in().await;
    assert_eq!(
        (from.as_deref(), ty.as_str(), got.as_str()),
        (Some(a.id.as_str()), "tls", data)
    );
}

// --- in-process server ---------------------------------------------------

#[tokio::test]
async fn https_rest_and_wss_signals_share_the_tls_port() {
    let ca = Ca::new();
    let leaf = ca.issue("otc-test-server", 1);
    let dir = scratch("serve");
    let server = start_tls(install(&dir, &leaf), ServerLimits::default()).await;
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    let addr = server.local_addr();
    let client_tls = ca.client_config();

    // REST over https, by name and by address.
    let http = https(&ca);
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}/health", addr.port());
        let r = http.get(&url).send().await.expect("GET /health");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        assert_eq!(r.text().await.expect("body"), "ok");
    }
    let made: Value = http
        .post(format!("{}/session/create", server.base_url()))
        .header("X-OPENTOK-AUTH", rest_jwt())
        .header("Accept", "application/json")
        .send()
        .await
        .expect("POST /session/create")
        .error_for_status()
        .expect("201/200")
        .json()
        .await
        .expect("json");
    let sid = made[0]["session_id"]
        .as_str()
        .expect("a session id")
        .to_string();

    // Two wss clients with tokens, signals both ways.
    let (ws_a, seen) = open_wss(addr, "localhost", &client_tls).await;
    assert_eq!(seen, leaf.der, "the configured certificate");
    let mut a = Client::join_on(ws_a, &sid, &token(&sid), false).await;
    let (ws_b, _) = open_wss(addr, "127.0.0.1", &client_tls).await;
    let mut b = Client::join_on(ws_b, &sid, &token(&sid), false).await;
    created(&a.event().await);
    exchange(&mut a, &mut b, "a to b over wss").await;
    exchange(&mut b, &mut a, "b to a over wss").await;

    // A REST signal over https reaches both.
    let r = http
        .post(format!(
            "{}/v2/project/{}/session/{sid}/signal",
            server.base_url(),
            otc_server::DEV_API_KEY
        ))
        .header("X-OPENTOK-AUTH", rest_jwt())
        .json(&serde_json::json!({"type": "news", "data": "from https"}))
        .send()
        .await
        .expect("POST signal");
    assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT);
    for c in [&mut a, &mut b] {
        assert_eq!(
            c.signal_in().await,
            (None, "news".into(), "from https".into())
        );
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn plain_http_and_silent_peers_on_the_tls_port_are_closed() {
    let ca = Ca::new();
    let dir = scratch("plain");
    let header = Duration::from_millis(400);
    let server = start_tls(
        install(&dir, &ca.issue("otc-test-server", 7)),
        ServerLimits {
            http_header_timeout: header,
            ..Default::default()
        },
    )
    .await;
    let addr = server.local_addr();

    // Plain HTTP gets a 400 that says to use https, and a clean close.
    let plain = reqwest::Client::builder()
        .timeout(WAIT)
        .no_proxy()
        .build()
        .expect("http client");
    let r = plain
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("an answer, not a reset");
    assert_eq!(r.status(), reqwest::StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.expect("json body");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("https://")),
        "{body}"
    );

    // Bytes that are neither TLS nor HTTP: closed without an answer.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(&[0u8; 16]).await.expect("write");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(n, Ok(0) | Err(_)), "no answer: {n:?}");

    // A peer that connects and says nothing holds its slot only until the
    // handshake deadline (the header timeout).
    let t0 = Instant::now();
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let n = tokio::time::timeout(WAIT, silent.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(n, Ok(0) | Err(_)), "closed: {n:?}");
    assert!(
        t0.elapsed() + Duration::from_millis(50) >= header,
        "by the deadline"
    );

    // One that completes the handshake and then sends no request is closed
    // at the header timeout too, with a TLS close_notify first.
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut tls = tokio::time::timeout(
        WAIT,
        tokio_rustls::TlsConnector::from(ca.client_config())
            .connect(ServerName::try_from("localhost").expect("name"), tcp),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    let n = tokio::time::timeout(WAIT, tls.read(&mut buf))
        .await
        .expect("closed in time")
        .expect("an orderly TLS close");
    assert_eq!(n, 0);

    let end = Instant::now() + WAIT;
    while server.pending_connections() > 0 {
        assert!(Instant::now() < end, "every slot is given back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // And the port still serves TLS.
    let r = https(&ca)
        .get(format!("{}/health", server.base_url()))
        .send()
        .await
        .expect("https still works");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn bad_certificate_files_are_refused_at_start() {
    let ca = Ca::new();
    let dir = scratch("bad");
    let good = install(&dir, &ca.issue("one", 1));
    let other = ca.issue("two", 2);
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let other_key = write("other-key.pem", &other.key_pem);
    let garbage = write("garbage.pem", "not a certificate\n");
    let broken = write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let missing = dir.join("missing.pem");
    let cases: Vec<(TlsFiles, &str)> = vec![
        (
            TlsFiles {
                cert: missing.clone(),
                key: good.key.clone(),
            },
            "cannot read the TLS certificate file",
        ),
        (
            TlsFiles {
                cert: good.cert.clone(),
                key: missing.clone(),
            },
            "cannot read the TLS key file",
        ),
        (
            TlsFiles {
                cert: garbage.clone(),
                key: good.key.clone(),
            },
            "holds no certificate",
        ),
        (
            TlsFiles {
                cert: broken.clone(),
                key: good.key.clone(),
            },
            "is not valid PEM",
        ),
        (
            // A certificate where the key should be.
            TlsFiles {
                cert: good.cert.clone(),
                key: good.cert.clone(),
            },
            "holds no private key",
        ),
        (
            TlsFiles {
                cert: good.cert.clone(),
                key: other_key.clone(),
            },
            "does not belong to the certificate",
        ),
    ];
    for (files, want) in cases {
        let config = Config {
            tls: Some(files.clone()),
            ..Config::dev()
        };
        let e = match otc_server::start(config).await {
            Ok(s) => {
                s.shutdown().await;
                panic!("{files:?} was accepted");
            }
            Err(e) => e,
        };
        assert!(matches!(e, ServerError::Tls(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(want), "{files:?}: {text}");
        let named = if matches!(e, ServerError::Tls(TlsError::NoKey { .. })) {
            &files.key
        } else {
            &files.cert
        };
        assert!(
            text.contains(&*named.to_string_lossy())
                || text.contains(&*files.key.to_string_lossy()),
            "names the file: {text}"
        );
    }
    // Cert and key in one file works.
    let both = write("both.pem", &format!("{}{}", other.cert_pem, other.key_pem));
    let server = start_tls(
        TlsFiles {
            cert: both.clone(),
            key: both,
        },
        ServerLimits::default(),
    )
    .await;
    assert_eq!(
        presented_cert(server.local_addr(), &ca.client_config()).await,
        other.der
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

// --- the binary -------------------------------------------------------------

/// The lines a child process writes to one of its streams.
struct Lines(mpsc::Receiver<String>);

impl Lines {
    fn of(stream: impl std::io::Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines(rx)
    }

    /// The first new line containing `want` (blocking, bounded).
    fn expect(&self, want: &str) -> String {
        let end = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(line) if line.contains(want) => return line,
                Ok(line) => seen.push(line),
                Err(_) => panic!("no line with {want:?} in time; got {seen:#?}"),
            }
        }
    }
}

/// `otc-server serve ARGS` with none of the OTC_ environment.
fn otc_server(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve").args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("OTC_") {
            cmd.env_remove(k);
        }
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {sig}");
}

/// Waits (bounded) for the child to exit; kills it if it does not.
fn exit_status(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("otc-server did not exit in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `otc-server serve ARGS`, expecting it to refuse to start; returns
/// what it wrote to stderr.
fn refused(args: &[&str]) -> String {
    let mut child = otc_server(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let status = exit_status(&mut child);
    let text = reader.join().expect("stderr reader");
    assert!(!status.success(), "{args:?} started: {text}");
    text
}

#[test]
fn start_up_refusals_say_why_and_what_to_do() {
    // The development project off loopback, without the flag.
    let e = refused(&["--listen", "0.0.0.0:0"]);
    assert!(
        e.contains("refusing to serve the development project on 0.0.0.0:0")
            && e.contains("--allow-dev-project")
            && e.contains("--api-key"),
        "{e}"
    );
    // A short secret, naming its project.
    let e = refused(&[
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        "4711",
        "--api-secret",
        "too-short",
    ]);
    assert!(
        e.contains("project 4711") && e.contains("at least 32"),
        "{e}"
    );
    // One of the two TLS files.
    let e = refused(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
    ]);
    assert!(e.contains("--tls-cert needs --tls-key"), "{e}");
    let e = refused(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(e.contains("--tls-key needs --tls-cert"), "{e}");
    // A file that is not there.
    let e = refused(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert!(
        e.contains("cannot read the TLS certificate file /nonexistent/cert.pem"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_certificate_without_dropping_connections() {
    let ca = Ca::new();
    let dir = scratch("reload");
    let first = ca.issue("otc-first", 101);
    let files = install(&dir, &first);
    let mut child = otc_server(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        &files.cert.to_string_lossy(),
        "--tls-key",
        &files.key.to_string_lossy(),
        "--log-level",
        "info",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    let out = Lines::of(child.stdout.take().expect("stdout"));
    let log = Lines::of(child.stderr.take().expect("stderr"));
    let wait_for = |lines: &Lines, want: &str| tokio::task::block_in_place(|| lines.expect(want));
    let line = wait_for(&out, "listening on https://127.0.0.1:");
    let addr: SocketAddr = line
        .split("https://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an address in {line:?}"));
    let tls = ca.client_config();

    let sid = session();
    let (ws_a, seen) = open_wss(addr, "localhost", &tls).await;
    assert_eq!(seen, first.der);
    let mut a = Client::join_on(ws_a, &sid, &token(&sid), false).await;
    let (ws_b, _) = open_wss(addr, "localhost", &tls).await;
    let mut b = Client::join_on(ws_b, &sid, &token(&sid), false).await;
    created(&a.event().await);
    exchange(&mut a, &mut b, "before the reload").await;

    // Renewal: new files, then SIGHUP.
    let second = ca.issue("otc-second", 202);
    install(&dir, &second);
    signal(&child, "-HUP");
    let line = wait_for(&log, "TLS certificate reloaded");
    assert!(
        line.contains("CN=otc-second") && line.contains("serial ca"),
        "subject and serial are logged: {line}"
    );
    assert_eq!(
        presented_cert(addr, &tls).await,
        second.der,
        "new connections get the new certificate"
    );
    // The links made before keep working, both ways, and with a new one.
    exchange(&mut a, &mut b, "after the reload").await;
    exchange(&mut b, &mut a, "after the reload, back").await;
    let (ws_c, seen) = open_wss(addr, "localhost", &tls).await;
    assert_eq!(seen, second.der);
    let mut c = Client::join_on(ws_c, &sid, &token(&sid), false).await;
    created(&a.event().await);
    created(&b.event().await);
    exchange(&mut c, &mut a, "new link to old link").await;

    // A bad renewal (a key that is not the certificate's) is refused and
    // the server keeps the certificate it has.
    let third = ca.issue("otc-third", 303);
    std::fs::write(&files.cert, &third.cert_pem).expect("write cert");
    signal(&child, "-HUP");
    let line = wait_for(&log, "TLS certificate not reloaded");
    assert!(
        line.contains("does not belong to the certificate"),
        "{line}"
    );
    assert_eq!(presented_cert(addr, &tls).await, second.der);
    // Unreadable PEM likewise.
    std::fs::write(&files.cert, "garbage").expect("write cert");
    signal(&child, "-HUP");
    wait_for(&log, "TLS certificate not reloaded");
    assert_eq!(presented_cert(addr, &tls).await, second.der);
    exchange(&mut a, &mut c, "after the failed reloads").await;

    signal(&child, "-TERM");
    let status = tokio::task::block_in_place(|| exit_status(&mut child));
    assert!(status.success(), "graceful exit: {status:?}");
    drop((a, b, c));
    let _ = std::fs::remove_dir_all(dir);
}
