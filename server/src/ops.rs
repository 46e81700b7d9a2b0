//! What operators and orchestrators talk to: `/healthz`, `/readyz`,
//! `/metrics`, the HTTP request log and request counts, and the optional
//! separate metrics listener (`--metrics-listen`).
//!
//! * `/healthz`: 200 `ok` as long as the process serves HTTP at all
//!   (liveness). `/health` is the same, kept for existing probes.
//! * `/readyz`: 200 `ready` while the server accepts connections, 503
//!   `draining` from the first moment of a graceful shutdown (the
//!   shutdown token this reads is the first thing
//!   [`crate::ServerHandle::shutdown`] cancels).
//! * `/metrics`: the text exposition of [`crate::metrics::Metrics`].
//!
//! # Where `/metrics` is served
//!
//! By default on the main listener, next to the REST API, so a one-port
//! set-up needs nothing more. It tells anyone who can reach the port how
//! busy the server is (never a secret, an id or a token); an operator who
//! exposes the port publicly should block `/metrics` at the proxy, or
//! give `--metrics-listen ADDR` (say `127.0.0.1:9464`): then `/metrics` is
//! served only there (the main listener answers 404 for it), plain HTTP,
//! together with `/healthz` and `/readyz`. That listener also stays up
//! until a graceful shutdown has finished, so probes see `/readyz` turn
//! 503 while the main listener no longer accepts connections.
//!
//! # The request log
//!
//! Every HTTP request on either listener is counted in
//! `otc_http_requests_total` (by route template, method and status) and
//! logged when it has been answered: REST calls at INFO (method, route,
//! status, duration, peer), refusals of credentials (401, 403) at WARN with
//! the reason, project and session the path names; WebSocket upgrades
//! and the probe and metrics routes, which arrive all the time, and the
//! files of the developer's console, at DEBUG.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{ConnectInfo, MatchedPath, RawPathParams, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admission::Pending;
use crate::metrics::{Sampled, CONTENT_TYPE};
use crate::rest::error::RefusalReason;
use crate::rest::ApiError;
use crate::server::App;

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// Routes requested all the time by machines; their request log lines are
/// DEBUG.
const QUIET_ROUTES: [&str; 4] = ["/healthz", "/readyz", "/health", "/metrics"];

/// Most connections the metrics listener serves at once; more are closed
/// as soon as they are accepted.
const OPS_MAX_CONNECTIONS: usize = 64;

/// The metrics listener's bound on reading a request head (and on an idle
/// kept-alive connection).
const OPS_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a metrics-listener connection may take to finish its response
/// once the listener stops.
const OPS_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Is the server accepting connections: not draining for shutdown, and
/// (in a cluster) reaching Redis?
pub(crate) fn is_ready(app: &App) -> bool {
    !app.shutdown.is_cancelled() && app.hub.is_ready()
}

/// `/healthz`, `/health`, `/readyz`, and `/metrics` when `with_metrics`.
pub(crate) fn routes(with_metrics: bool) -> Router<Arc<App>> {
    let r = Router::new()
        .route("/healthz", get(healthz))
        .route("/health", get(healthz))
        .route("/readyz", get(readyz));
    if with_metrics {
        r.route("/metrics", get(metrics))
    } else {
        r
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if is_ready(&app) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let sampled = Sampled {
        sessions: app.hub.session_count(),
        pending: app.pending.pending(),
        ready: is_ready(&app),
    };
    match app.hub.metrics().render(sampled) {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => ApiError::internal(format!("cannot render metrics: {e}")).into_response(),
    }
}

/// The method as a label: the standard ones by name, any other as `OTHER`
/// (so a client cannot make up label values).
fn method_label(m: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|k| *k == m)
        .map_or("OTHER", |k| k.as_str())
}

/// Counts and logs every request (see the module docs). A middleware of
/// both listeners' routers.
pub(crate) async fn request_log(
    State(app): State<Arc<App>>,
    params: Result<RawPathParams, RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let peer = req
        .extensions()
        .get::<Pending>()
        .map(Pending::peer)
        .or_else(|| {
            req.extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0)
        });
    let param = |name: &str| {
        params.as_ref().ok().and_then(|p| {
            p.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| crate::logging::clip(v).to_string())
        })
    };
    let (project, session) = (param("key"), param("sid"));
    let resp = next.run(req).await;
    let status = resp.status();
    let route = route.as_deref().unwrap_or(UNMATCHED);
    app.hub
        .metrics()
        .http_request(method, route, status.as_u16());
    // Milliseconds, to the microsecond.
    let ms = (start.elapsed().as_secs_f64() * 1e6).round() / 1e3;
    let peer = crate::logging::peer(peer);
    let reason = resp
        .extensions()
        .get::<RefusalReason>()
        .map(|r| crate::logging::clip_long(&r.0).to_string());
    let reason = reason.as_deref().unwrap_or("-");
    // The console's static files (a page load is a dozen of them) too.
    let quiet = QUIET_ROUTES.contains(&route)
        || (route == protocol::WS_PATH && status == StatusCode::SWITCHING_PROTOCOLS)
        || (route.starts_with("/console") && status.is_success());
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        tracing::warn!(
            %peer,
            method,
            route,
            status = status.as_u16(),
            project = project.as_deref().unwrap_or("-"),
            session = session.as_deref().unwrap_or("-"),
            reason,
            duration_ms = ms,
            "REST request refused"
        );
    } else if quiet {
        tracing::debug!(%peer, method, route, status = status.as_u16(), duration_ms = ms, "HTTP request");
    } else {
        tracing::info!(
            %peer,
            method,
            route,
            status = status.as_u16(),
            duration_ms = ms,
            reason,
            "REST request"
        );
    }
    resp
}

/// The separate metrics listener (`--metrics-listen`).
pub(crate) struct OpsServer {
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl OpsServer {
    /// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until
    /// [`OpsServer::stop`].
    pub(crate) fn spawn(listener: TcpListener, addr: SocketAddr, app: Arc<App>) -> Self {
        let router = routes(true)
            .fallback(|| async { ApiError::not_found("no such route") })
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&app),
                request_log,
            ))
            .with_state(app);
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, router, stop.clone()));
        OpsServer { addr, stop, task }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open requests finish (bounded), returns.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(OPS_CLOSE_GRACE * 2, self.task).await;
    }
}

async fn accept_loop(listener: TcpListener, router: Router, stop: CancellationToken) {
    let slots = Arc::new(Semaphore::new(OPS_MAX_CONNECTIONS));
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!("metrics listener: accept failed: {e}");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!(%peer, "metrics listener: too many connections; closed");
            continue;
        };
        let router = router.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            let service = TowerToHyperService::new(router);
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                service.call(req)
            });
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(OPS_HEADER_TIMEOUT)
                .keep_alive(true);
            let conn = http.serve_connection(TokioIo::new(tcp), service);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("metrics listener: connection ended: {e}");
                    }
                }
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(OPS_CLOSE_GRACE, conn).await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    connections.close();
    let _ = tokio::time::timeout(OPS_CLOSE_GRACE, connections.wait()).await;
}
