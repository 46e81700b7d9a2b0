//! The listener: one address serving both the WebSocket endpoint
//! ([`protocol::WS_PATH`]) and the HTTP (REST) routes, and its graceful
//! shutdown.
//!
//! Shutdown happens in a fixed order so nothing is cut mid-frame:
//! stop accepting (axum's graceful shutdown), tell every client
//! (`disconnected { server_shutdown }` after the frames already queued for it),
//! then wait — bounded — for every link task to finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use protocol::limits::MAX_FRAME_BYTES;
use protocol::{SUBPROTOCOL, WS_PATH};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, ConfigError, Project};
use crate::hub::Hub;
use crate::rest::ApiError;

/// Initial size of each link's WebSocket read buffer. tungstenite's default
/// (128 KiB) is allocated and zero-filled for every connection, idle or not,
/// which made it nearly all of the memory per connection. Client frames are
/// small; a larger one still fits, as the buffer grows to the length its
/// header announces (up to the frame cap). This size also caps each read
/// call, which `otc-bench` shows does not slow the server down.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Longest wait for links to finish during a graceful shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// State shared by every handler.
pub struct App {
    pub config: Config,
    pub hub: Arc<Hub>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) links: TaskTracker,
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
}

/// Binds `config.listen`, spawns the server on the current tokio runtime and
/// returns once it is listening.
pub async fn start(config: Config) -> Result<ServerHandle, ServerError> {
    config.validate()?;
    let listen = config.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: listen,
        source,
    })?;
    let app = Arc::new(App {
        hub: Arc::new(Hub::new(config.limits.clone())),
        config,
        shutdown: CancellationToken::new(),
        links: TaskTracker::new(),
    });
    let router = router(Arc::clone(&app));
    let stop = app.shutdown.clone();
    // Signaling frames are small and latency-bound: without TCP_NODELAY a
    // frame written while an earlier one is still unacknowledged waits for
    // the peer's delayed ACK (tens of milliseconds). (The library's client
    // sockets set it too: `connect_async_with_config(.., true)`.)
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on an accepted socket: {e}");
        }
    });
    // Every connection the server ends is drained before its socket
    // closes, so the peer reads the last frames instead of a reset.
    let listener = crate::linger::LingeringListener(listener);
    let serve = tokio::spawn(async move {
        let r = axum::serve(listener, router)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
        if let Err(e) = r {
            tracing::error!("server stopped: {e}");
        }
    });
    tracing::info!(%addr, "listening (WebSocket at {WS_PATH})");
    Ok(ServerHandle { addr, app, serve })
}

/// All routes: the WebSocket endpoint plus the REST API.
/// Unknown paths (404) and known paths with another method (405) answer
/// with the REST API's JSON error body too.
fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(WS_PATH, get(ws_upgrade))
        .route("/health", get(|| async { "ok" }))
        .merge(crate::rest::routes())
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not take that method",
            )
        })
        .with_state(app)
}

/// Accepts a WebSocket upgrade. The client may offer our subprotocol (then
/// it is selected) or none; a client offering only others is refused.
async fn ws_upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    headers: HeaderMap,
    State(app): State<Arc<App>>,
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
            crate::connection::run(socket, app).await;
            drop(tracked);
        })
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL clients and REST callers use.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The session hub (for embedding and tests).
    pub fn hub(&self) -> &Arc<Hub> {
        &self.app.hub
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// Graceful shutdown: stop accepting, tell every client, drain, wait for
    /// the links (bounded by a timeout), return.
    pub async fn shutdown(self) {
        tracing::info!("shutting down");
        self.app.shutdown.cancel();
        self.app.hub.shutdown();
        self.app.links.close();
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, self.app.links.wait())
            .await
            .is_err()
        {
            tracing::warn!("some links did not close in time");
        }
        let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, self.serve).await;
        tracing::info!("stopped");
    }
}
