//! The listener: one address serving both the WebSocket endpoint
//! ([`protocol::WS_PATH`]) and the HTTP (REST) routes, and its graceful
//! shutdown.
//!
//! Connections are accepted and served here (hyper's HTTP/1 server, the
//! axum router as its service) rather than by `axum::serve`, which cannot
//! bound how long a peer takes to send its request: every accepted
//! connection takes a pending slot ([`crate::admission`]) or is closed at
//! once, its request head must arrive within
//! [`ServerLimits::http_header_timeout`](crate::ServerLimits), and its HTTP
//! phase ends at its authentication deadline.
//!
//! With TLS configured ([`crate::tls`]) the same listener serves https and
//! wss: the handshake runs inside the connection's pending slot and must
//! end within the header timeout (and before the authentication deadline),
//! so a peer that connects and stays silent holds its slot no longer than
//! one that never sends a request head. A peer speaking plain HTTP to the
//! TLS port gets a 400 saying so, in clear text, and is closed. The
//! lingering close wraps the TLS stream, so the server's last records and
//! its `close_notify` reach the peer before the socket closes.
//!
//! Shutdown happens in a fixed order so nothing is cut mid-frame:
//! stop accepting (HTTP connections finish their current response), tell
//! every client (`disconnected { server_shutdown }` after the frames already
//! queued for it), then wait — bounded — for every link task to finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use protocol::limits::{MAX_FRAME_BYTES, MAX_HTTP_REQUEST_HEAD_BYTES};
use protocol::{SUBPROTOCOL, WS_PATH};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admission::{Gate, Pending, Refusal};
use crate::config::{Config, ConfigError, Project};
use crate::hub::{LocalHub, SharedHub};
use crate::linger::Lingering;
use crate::rest::ApiError;
use crate::tls::{CertInfo, Tls, TlsError};

/// Initial size of each link's WebSocket read buffer. tungstenite's default
/// (128 KiB) is allocated and zero-filled for every connection, idle or not,
/// which made it nearly all of the memory per connection. Client frames are
/// small; a larger one still fits, as the buffer grows to the length its
/// header announces (up to the frame cap). This size also caps each read
/// call, which `otc-bench` shows does not slow the server down.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Longest wait for links to finish during a graceful shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections the kernel completes and queues for `accept` before it drops
/// new ones (clamped to `net.core.somaxconn`). The standard library's 128
/// overflows as soon as a few hundred clients connect at once (say, all
/// reconnecting after a restart, or a flood of sockets that will be refused
/// anyway), and a dropped SYN costs the client a one-second retransmit.
const LISTEN_BACKLOG: u32 = 1024;

/// Pause after a failed `accept` (typically: out of file descriptors, which
/// fails every accept until one is closed) instead of retrying at once.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Longest time an HTTP connection told to close (its deadline passed, or
/// the server is shutting down) gets to finish the request it is serving,
/// at most; shorter if the header timeout is.
const HTTP_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// At most one warning per this interval about refused connections (and one
/// about failed accepts), each with the number it stands for.
const WARN_INTERVAL: Duration = Duration::from_secs(1);

/// State shared by every handler.
pub struct App {
    pub config: Config,
    pub hub: SharedHub,
    pub(crate) shutdown: CancellationToken,
    pub(crate) links: TaskTracker,
    pub(crate) pending: Arc<Gate>,
    /// The certificate new handshakes use, when serving TLS.
    pub(crate) tls: Option<Tls>,
}

impl App {
    /// The configured project with this API key.
    pub fn project(&self, api_key: &str) -> Option<&Project> {
        self.config.project(api_key)
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(
        "refusing to serve the development project on {addr}: its API secret is public \
         (it is in the README), so anyone who can reach this address could mint tokens \
         and call the REST API for it. Configure a project of your own (--api-key and \
         --api-secret, OTC_API_KEY and OTC_API_SECRET, or [[projects]] in the config \
         file), or listen on a loopback address such as 127.0.0.1, or, if exposing it \
         is really meant (a throw-away test machine), pass --allow-dev-project \
         (OTC_ALLOW_DEV_PROJECT=true, allow_dev_project = true in the config file)"
    )]
    DevProjectExposed { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    app: Arc<App>,
    serve: JoinHandle<()>,
    /// The separate metrics listener, if configured.
    ops: Option<crate::ops::OpsServer>,
}

/// Binds `config.listen`, spawns the server on the current tokio runtime and
/// returns once it is listening.
///
/// Refuses a configuration that [`Config::validate`] refuses, one that
/// would expose the development project ([`Config::dev_project_exposed`]),
/// and TLS files that do not load.
pub async fn start(config: Config) -> Result<ServerHandle, ServerError> {
    config.validate()?;
    if config.dev_project_exposed() {
        return Err(ServerError::DevProjectExposed {
            addr: config.listen,
        });
    }
    let tls = match &config.tls {
        Some(files) => {
            let (tls, info) = Tls::load(files.clone())?;
            tracing::info!(
                cert = %files.cert.display(),
                key = %files.key.display(),
                "TLS certificate loaded: {info}"
            );
            warn_if_expired(&info);
            Some(tls)
        }
        None => None,
    };
    let listen = config.listen;
    let listener = bind(listen).map_err(|source| ServerError::Bind {
        addr: listen,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: listen,
        source,
    })?;
    let ops_listener = match config.metrics_listen {
        Some(at) => {
            let bind_err = |source| ServerError::Bind { addr: at, source };
            let l = TcpListener::bind(at).await.map_err(bind_err)?;
            let bound = l.local_addr().map_err(bind_err)?;
            Some((l, bound))
        }
        None => None,
    };
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let monitor = crate::monitor::Monitor::start(&config, Arc::clone(&metrics));
    let hub: SharedHub = match &config.cluster {
        None => LocalHub::new(config.limits.clone(), metrics, monitor),
        Some(c) => {
            crate::cluster::ClusterHub::start(config.limits.clone(), c, metrics, monitor).await?
        }
    };
    let app = Arc::new(App {
        hub,
        pending: Gate::new(&config.limits),
        config,
        shutdown: CancellationToken::new(),
        links: TaskTracker::new(),
        tls,
    });
    let router = router(Arc::clone(&app));
    let serve = tokio::spawn(accept_loop(listener, router, Arc::clone(&app)));
    let ops = ops_listener.map(|(l, at)| crate::ops::OpsServer::spawn(l, at, Arc::clone(&app)));
    crate::logging::log_start(
        &app.config,
        addr,
        ops.as_ref().map(|o| o.addr()),
        app.tls.is_some(),
    );
    Ok(ServerHandle {
        addr,
        app,
        serve,
        ops,
    })
}

/// Binds `addr` like [`TcpListener::bind`] (address reuse on Unix), with a
/// [`LISTEN_BACKLOG`] long accept queue.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Rate-limits a repeated warning: [`Throttle::due`] says when to log, and
/// how many occurrences the message stands for.
struct Throttle {
    last: Option<Instant>,
    count: u64,
}

impl Throttle {
    fn new() -> Self {
        Throttle {
            last: None,
            count: 0,
        }
    }

    /// Counts one occurrence at `now`; `Some(n)` (occurrences since the
    /// last log, this one included) if it is time to log again.
    fn due(&mut self, now: Instant) -> Option<u64> {
        self.count += 1;
        if self.last.is_some_and(|t| now < t + WARN_INTERVAL) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}

/// Accepts connections until shutdown, then waits for the HTTP phase of
/// every connection to end (upgraded links are waited for separately, see
/// [`ServerHandle::shutdown`]).
async fn accept_loop(listener: TcpListener, router: Router, app: Arc<App>) {
    let stop = app.shutdown.clone();
    let connections = TaskTracker::new();
    let mut refused = Throttle::new();
    let mut failed = Throttle::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                if let Some(n) = failed.due(Instant::now()) {
                    tracing::warn!("accept failed ({n} times since the last warning): {e}");
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        match app.pending.admit(peer) {
            Ok(pending) => {
                connections.spawn(serve_connection(
                    tcp,
                    pending,
                    router.clone(),
                    Arc::clone(&app),
                ));
            }
            Err(why) => {
                // Closed at once: the peer learns right away, and the slot
                // it would hold is not taken.
                drop(tcp);
                if let Some(n) = refused.due(Instant::now()) {
                    let limits = &app.config.limits;
                    let bound = match why {
                        Refusal::Total => format!(
                            "max_pending_connections ({}) reached",
                            limits.max_pending_connections
                        ),
                        Refusal::PerAddress => format!(
                            "max_pending_per_ip ({}) reached for {}",
                            limits.max_pending_per_ip,
                            peer.ip()
                        ),
                    };
                    tracing::warn!(
                        "closed {n} new connection(s) at once since the last warning, the latest as {bound}"
                    );
                }
            }
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Serves one accepted connection: its TLS handshake when serving TLS,
/// then its HTTP phase.
async fn serve_connection(tcp: TcpStream, pending: Pending, router: Router, app: Arc<App>) {
    // Signaling frames are small and latency-bound: without TCP_NODELAY a
    // frame written while an earlier one is still unacknowledged waits for
    // the peer's delayed ACK (tens of milliseconds). (The library's client
    // sockets set it too: `connect_async_with_config(.., true)`.)
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!("cannot set TCP_NODELAY on an accepted socket: {e}");
    }
    let Some(tls) = &app.tls else {
        return serve_http(tcp, pending, router, Arc::clone(&app)).await;
    };
    let acceptor = tls.acceptor();
    // The handshake must end within the header timeout, and before the
    // authentication deadline.
    let until = (Instant::now() + app.config.limits.http_header_timeout).min(pending.deadline());
    let handshake = async move {
        // A TLS connection starts with a handshake record (content type
        // 22); anything else is most likely plain HTTP sent to this port.
        let mut first = [0u8; 1];
        match tcp.peek(&mut first).await {
            Ok(0) | Err(_) => return None,
            Ok(_) if first[0] != TLS_HANDSHAKE_RECORD => {
                if first[0].is_ascii_alphabetic() {
                    refuse_plain_http(tcp).await;
                } else {
                    tracing::debug!("closed a connection that did not start a TLS handshake");
                }
                return None;
            }
            Ok(_) => {}
        }
        match acceptor.accept(tcp).await {
            Ok(stream) => Some(stream),
            Err(e) => {
                tracing::debug!("TLS handshake failed: {e}");
                None
            }
        }
    };
    let stop = app.shutdown.clone();
    let stream = tokio::select! {
        _ = stop.cancelled() => return,
        r = tokio::time::timeout_at(until, handshake) => match r {
            Ok(Some(stream)) => stream,
            Ok(None) => return,
            Err(_) => {
                tracing::debug!("TLS handshake did not finish in time");
                return;
            }
        },
    };
    serve_http(stream, pending, router, app).await
}

/// First byte of a TLS connection: a handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Answers a plain HTTP request on the TLS port with a 400 that says what
/// to use instead (written in clear, before reading the request, which the
/// lingering close then drains), and closes.
async fn refuse_plain_http(tcp: TcpStream) {
    let body = serde_json::json!({
        "code": 400,
        "message": "this port speaks TLS: use https:// (REST) or wss:// (WebSocket)",
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut io = Lingering::new(tcp);
    if let Err(e) = io.write_all(response.as_bytes()).await {
        tracing::debug!("cannot answer a plain HTTP request on the TLS port: {e}");
    }
    tracing::debug!("refused a plain HTTP request on the TLS port");
}

/// Serves one connection's HTTP phase: requests until it is upgraded to a
/// WebSocket (the link then runs on its own task, see [`ws_upgrade`]),
/// closes, breaks the header timeout, or reaches its authentication
/// deadline.
async fn serve_http<I>(io: I, pending: Pending, router: Router, app: Arc<App>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &app.config.limits;
    let deadline = pending.deadline();
    // Every request carries the connection's slot, so the WebSocket handler
    // can hand it to the link.
    let service = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(pending.clone());
        service.call(req)
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.http_header_timeout)
        // Also bounds what a slow peer makes the server buffer: a request
        // head that does not fit is refused (431).
        .max_header_size(MAX_HTTP_REQUEST_HEAD_BYTES)
        .keep_alive(true);
    // Every connection the server ends is drained before its socket
    // closes, so the peer reads the last frames instead of a reset.
    let io = TokioIo::new(Lingering::new(io));
    let conn = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    let stop = app.shutdown.clone();
    // Once told to close, the connection finishes its current response (an
    // idle one closes at once), within a grace period.
    let mut closing: Option<Instant> = None;
    loop {
        let told = async {
            match closing {
                None => tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep_until(deadline) => {
                        tracing::debug!("HTTP connection reached its authentication deadline");
                    }
                },
                Some(at) => tokio::time::sleep_until(at).await,
            }
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("HTTP connection ended: {e}");
                }
                return;
            }
            _ = told => {}
        }
        if closing.is_some() {
            tracing::debug!("HTTP connection closed at the end of its grace period");
            return;
        }
        conn.as_mut().graceful_shutdown();
        closing = Some(Instant::now() + HTTP_CLOSE_GRACE.min(limits.http_header_timeout));
    }
}

/// All routes: the WebSocket endpoint plus the REST API. Unknown paths (404) and known paths with another method (405) answer
/// with the REST API's JSON error body too.
fn router(app: Arc<App>) -> Router {
    let console = if app.config.console {
        crate::console::routes()
    } else {
        Router::new()
    };
    Router::new()
        .route(WS_PATH, get(ws_upgrade))
        .merge(console)
        .merge(crate::ops::routes(app.config.metrics_listen.is_none()))
        .merge(crate::rest::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not take that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            crate::ops::request_log,
        ))
        .with_state(app)
}

/// Accepts a WebSocket upgrade. The client may offer our subprotocol (then
/// it is selected) or none; a client offering only others is refused.
async fn ws_upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    State(app): State<Arc<App>>,
    pending: Option<Extension<Pending>>,
) -> Response {
    if app.shutdown.is_cancelled() || app.hub.is_shutting_down() {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down")
            .into_response();
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(r) => {
            return ApiError::new(
                r.status(),
                format!("{WS_PATH} takes a WebSocket upgrade: {}", r.body_text()),
            )
            .into_response()
        }
    };
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if !offered.is_empty() && !offered.iter().any(|p| p == SUBPROTOCOL) {
        return ApiError::bad_request(format!(
            "unsupported WebSocket subprotocol; this server speaks {SUBPROTOCOL}"
        ))
        .into_response();
    }
    // Counts as a running link until the upgraded socket's task ends.
    let tracked = app.links.token();
    ws.protocols([SUBPROTOCOL])
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_failed_upgrade(|e| tracing::debug!("WebSocket upgrade failed: {e}"))
        .on_upgrade(move |socket| async move {
            crate::connection::run(socket, app, pending.map(|Extension(p)| p)).await;
            drop(tracked);
        })
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, or `https://ADDR` when serving TLS: the base URL
    /// clients and REST callers use.
    pub fn base_url(&self) -> String {
        let scheme = if self.app.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Reads the TLS certificate and key files again (what the binary does
    /// on SIGHUP). On success, handshakes from now on use the new
    /// certificate, and connections already established go on with the
    /// one they have; on failure the server keeps the certificate it had.
    /// Either way the outcome is logged. `None` when not serving TLS.
    pub fn reload_tls(&self) -> Option<Result<CertInfo, TlsError>> {
        let tls = self.app.tls.as_ref()?;
        let files = tls.files();
        let result = tls.reload();
        match &result {
            Ok(info) => {
                tracing::info!(
                    cert = %files.cert.display(),
                    key = %files.key.display(),
                    "TLS certificate reloaded: {info}; new connections use it"
                );
                warn_if_expired(info);
            }
            Err(e) => {
                tracing::error!("TLS certificate not reloaded, still serving the previous one: {e}")
            }
        }
        Some(result)
    }

    /// The session hub (for embedding and tests).
    pub fn hub(&self) -> &SharedHub {
        &self.app.hub
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// The address of the separate metrics listener, if configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.ops.as_ref().map(|o| o.addr())
    }

    /// Connections accepted but not yet authenticated (the WebSocket
    /// `connect` not yet accepted), HTTP ones included.
    pub fn pending_connections(&self) -> usize {
        self.app.pending.pending()
    }

    /// Graceful shutdown: stop accepting, tell every client, drain, wait for
    /// the links (bounded by a timeout), return. `/readyz` answers 503 from
    /// the start of it (the cancelled token); the metrics listener, if any,
    /// stays up until the end.
    pub async fn shutdown(self) {
        tracing::info!("shutting down");
        self.app.shutdown.cancel();
        self.app.hub.shutdown().await;
        self.app.links.close();
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, self.app.links.wait())
            .await
            .is_err()
        {
            tracing::warn!("some links did not close in time");
        }
        let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, self.serve).await;
        if let Some(ops) = self.ops {
            ops.stop().await;
        }
        tracing::info!("stopped");
    }
}

fn warn_if_expired(info: &CertInfo) {
    if info.expired_at(std::time::SystemTime::now()) {
        tracing::warn!("the TLS certificate has expired ({info}); clients will refuse it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_logs_at_most_once_per_interval_and_counts_the_rest() {
        let t0 = Instant::now();
        let mut t = Throttle::new();
        assert_eq!(t.due(t0), Some(1), "the first one is logged");
        for i in 1..=5 {
            assert_eq!(t.due(t0 + Duration::from_millis(i * 100)), None);
        }
        assert_eq!(t.due(t0 + WARN_INTERVAL), Some(6), "then the count");
        assert_eq!(t.due(t0 + WARN_INTERVAL), None);
        assert_eq!(t.due(t0 + WARN_INTERVAL * 5), Some(2));
    }
}
