//! Shared by the TLS and proxy tests: certificates made here (a private CA
//! and server certificates, with `rcgen`), a TLS terminator in front of a
//! plain TCP service (the in-process otc-server, or tinyproxy), tinyproxy
//! started on a free loopback port with a generated configuration, and
//! tiny hand-written endpoints that misbehave on purpose. Loopback only.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The runtime that drives the test endpoints.
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

/// A directory of this test process for the files it writes.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        let name = exe
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or("test")
            .to_string();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    })
}

/// Writes `text` to a file of the scratch directory; returns its path.
pub fn write_file(name: &str, text: &str) -> String {
    let path = scratch().join(name);
    std::fs::write(&path, text).expect("write scratch file");
    path.to_str().expect("UTF-8 path").to_string()
}

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// Its certificate as a PEM file.
    pub pem_path: String,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer =
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA");
        let pem_path = write_file(&format!("{}.pem", name.replace(' ', "-")), &issuer.pem());
        Ca { issuer, pem_path }
    }

    /// A server certificate for `names` (DNS names or IP addresses),
    /// valid from `not_before` to `not_after` (year, month, day).
    pub fn issue_dated(
        &self,
        names: &[&str],
        not_before: (i32, u8, u8),
        not_after: (i32, u8, u8),
    ) -> ServerCert {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<String>>())
                .expect("server params");
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("server"),
        );
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        ServerCert {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }

    /// A server certificate for `names`, valid from 2020 to 2999.
    pub fn issue(&self, names: &[&str]) -> ServerCert {
        self.issue_dated(names, (2020, 1, 1), (2999, 1, 1))
    }
}

/// The private CA the tests trust (through a CA file).
pub fn ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| Ca::new("otc test CA"))
}

/// A CA nobody trusts.
pub fn rogue_ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| Ca::new("otc rogue CA"))
}

/// A certificate chain and its key.
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// The usual good certificate: 127.0.0.1 and localhost, by the test CA.
pub fn good_cert() -> ServerCert {
    ca().issue(&["127.0.0.1", "localhost"])
}

/// A TLS terminator: accepts TLS on a loopback port and pipes the
/// plaintext to `upstream` (one upstream connection per client).
pub struct TlsFront {
    pub addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl TlsFront {
    pub fn start(upstream: SocketAddr, cert: ServerCert) -> TlsFront {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(cert.chain, cert.key)
            .expect("server certificate");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = rt()
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind TLS front");
        let addr = listener.local_addr().expect("address");
        let accepted = Arc::new(AtomicU64::new(0));
        let count = accepted.clone();
        let task = rt().spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let hs = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                    // A client that refuses our certificate ends here.
                    let Ok(Ok(mut tls)) = hs.await else { return };
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = up.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        TlsFront {
            addr,
            accepted,
            task,
        }
    }

    /// `https://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TCP endpoint that accepts and then, for each connection, reads what
/// comes and writes `answer` once something arrived (never, if `answer`
/// is None: a silent peer).
pub struct Scripted {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Scripted {
    pub fn start(answer: Option<&'static [u8]>) -> Scripted {
        let listener = rt()
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind scripted endpoint");
        let addr = listener.local_addr().expect("address");
        let task = rt().spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    // Bounded: the test's own timeout is shorter.
                    let read = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut buf));
                    if !matches!(read.await, Ok(Ok(n)) if n > 0) {
                        return;
                    }
                    match answer {
                        Some(a) => {
                            use tokio::io::AsyncWriteExt;
                            let _ = tcp.write_all(a).await;
                            let _ = tcp.shutdown().await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        Scripted { addr, task }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The socket address of an `http://host:port` URL.
pub fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .parse()
        .expect("host:port")
}

/// A loopback port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    let l = StdListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address").port()
}

/// The tinyproxy binary, or a failure saying how to install it.
fn tinyproxy_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("tinyproxy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "tinyproxy is not installed; the proxy tests need it: run scripts/ensure-tools.sh \
                 (as root it runs apt-get install tinyproxy)"
            )
        })
}

/// How a tinyproxy is configured.
#[derive(Default)]
pub struct TinyOpts<'a> {
    /// Ports CONNECT may reach (tinyproxy refuses the others with 403).
    pub connect_ports: Vec<u16>,
    /// `BasicAuth user password`.
    pub basic_auth: Option<(&'a str, &'a str)>,
}

/// A tinyproxy process of this test, on a free loopback port.
pub struct Tinyproxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Tinyproxy {
    pub fn start(opts: TinyOpts<'_>) -> Tinyproxy {
        let bin = tinyproxy_bin();
        static N: AtomicU64 = AtomicU64::new(0);
        let mut problems = Vec::new();
        // A port found free may be taken before tinyproxy binds it: retry.
        for _ in 0..5 {
            let n = N.fetch_add(1, Ordering::SeqCst);
            let port = free_port();
            let conf = scratch().join(format!("tinyproxy-{n}.conf"));
            let log = scratch().join(format!("tinyproxy-{n}.log"));
            let mut text = format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nAllow 127.0.0.1\n\
                 LogLevel Info\nDisableViaHeader Yes\n"
            );
            for p in &opts.connect_ports {
                text.push_str(&format!("ConnectPort {p}\n"));
            }
            if let Some((u, p)) = opts.basic_auth {
                text.push_str(&format!("BasicAuth {u} {p}\n"));
            }
            std::fs::File::create(&conf)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .expect("write tinyproxy config");
            let out = std::fs::File::create(&log).expect("tinyproxy log");
            let err = out.try_clone().expect("tinyproxy log");
            let mut child = Command::new(&bin)
                .arg("-d")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Tinyproxy { child, port, log };
                }
                if let Ok(Some(status)) = child.try_wait() {
                    problems.push(format!(
                        "tinyproxy exited ({status}): {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    ));
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    problems.push(format!("tinyproxy did not listen on {port} within 10 s"));
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("could not start tinyproxy: {problems:?}");
    }

    /// `http://127.0.0.1:port`, with `user:password@` if given.
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("http://{c}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// What tinyproxy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A session (through the C ABI) at `url`, trusting `ca_file` if given.
pub fn client(url: &str, sid: &str, ca_file: Option<&str>) -> crate::ffi_support::Client {
    use crate::ffi_support::{cs, Client};
    use opentok::ffi::*;
    Client::new_with(sid, |s| unsafe {
        let u = cs(url);
        assert_eq!(
            otc_session_settings_set_server_url(s, u.as_ptr()),
            OTC_SUCCESS
        );
        if let Some(f) = ca_file {
            let f = cs(f);
            assert_eq!(otc_session_settings_set_ca_file(s, f.as_ptr()), OTC_SUCCESS);
        }
    })
}
