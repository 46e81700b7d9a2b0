//! The WebSocket link to `otc-server`.
//!
//! A session's [`Route`]s are fixed when it connects, one per server URL
//! (see [`Route::list`]): the endpoint (`ws://` or `wss://`), the TLS
//! configuration, the proxy if any. Which route an attempt takes is the
//! session's choice; [`open`] follows it for the first link and for every
//! reconnection attempt alike: TCP to the server or to the proxy (TLS to an
//! `https://` proxy, then `CONNECT`), TLS to the server for `wss://` (see
//! [`crate::tls`]), then the WebSocket upgrade (offering the protocol's
//! subprotocol, capping frame and message size at [`MAX_FRAME_BYTES`] so an
//! oversize frame is refused before it is buffered). Every failure on the way is `OTC_SESSION_CONNECTION_FAILED`
//! with a sentence naming the step and the cause; the caller bounds the
//! whole in time and tells which step ([`Stage`]) a timeout caught.
//!
//! Then the socket is split: a writer task drains an unbounded channel of
//! frames (everything queued, then one flush), so API calls and the reader
//! can queue a frame without ever waiting on the network; the caller keeps
//! the [`Reader`].
//!
//! The link knows nothing about sessions: it moves `protocol::messages`
//! frames. Replacing a link under a session (reconnection) is therefore just
//! opening another one.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use protocol::limits::MAX_FRAME_BYTES;
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use rustls::client::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::error::{Error, Result};
use crate::log;
use crate::proxy::{self, ProxyConfig};
use crate::tls::{self, CaBundle};

type Ws = WebSocketStream<Stream>;

/// Initial size of the WebSocket read buffer. tungstenite's default (128 KiB)
/// is allocated and zero-filled per socket, which made it most of a
/// session's memory. A larger frame still fits (the buffer grows to the
/// length a frame header announces), but this size also caps each read
/// call: 16 KiB keeps a stream of 8 KB signals at a read or two per frame
/// (4 KiB cost about a fifth of the 8 KB throughput in `otc-bench`).
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// How long the writer may take to flush its last frames when closing.
const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// The server's base URL (`http://`, `https://`, `ws://` or `wss://`) as
/// the URL of its WebSocket endpoint (`ws://` or `wss://`).
fn endpoint(base: &str) -> Result<url::Url> {
    let mut url = url::Url::parse(base.trim())
        .map_err(|e| Error::invalid(format!("server URL {base:?} is not a URL: {e}")))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(Error::invalid(format!(
                "server URL {base:?}: scheme {other:?} is not http, https, ws or wss"
            )))
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!("server URL {base:?} has no host")));
    }
    url.set_scheme(scheme)
        .map_err(|_| Error::invalid(format!("server URL {base:?}: cannot use scheme {scheme}")))?;
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with(protocol::WS_PATH) {
        url.set_path(&format!("{path}{}", protocol::WS_PATH));
    }
    url.set_query(None);
    url.set_fragment(None);
    // Credentials in a server URL mean nothing to otc-server (the token
    // authenticates); dropped so that no log line shows them.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// Turns the server's base URL (`http://host:port`, `https://host:port`,
/// or the same with `ws`/`wss`) into the URL of its WebSocket endpoint.
pub fn ws_url(base: &str) -> Result<String> {
    endpoint(base).map(String::from)
}

/// Where a session's links go, and how.
#[derive(Clone)]
pub struct Route {
    /// The WebSocket endpoint, `ws://` or `wss://`.
    url: String,
    host: url::Host<String>,
    port: u16,
    /// Set for `wss://`.
    tls: Option<Arc<ClientConfig>>,
    proxy: Option<(ProxyConfig, Option<Arc<ClientConfig>>)>,
}

impl Route {
    /// The routes to each of `base_urls`, in order, every one through
    /// `proxy` if given. `ca` gives the extra trusted certificates; it is
    /// asked once, and only when TLS is used, so all routes share one TLS
    /// configuration.
    pub fn list(
        base_urls: &[String],
        proxy: Option<&ProxyConfig>,
        ca: impl FnOnce() -> Result<Option<CaBundle>>,
    ) -> Result<Vec<Route>> {
        if base_urls.is_empty() {
            return Err(Error::invalid("no server URL"));
        }
        let urls = base_urls
            .iter()
            .map(|base| endpoint(base).map(|url| (base, url)))
            .collect::<Result<Vec<_>>>()?;
        let wants_tls =
            proxy.is_some_and(|p| p.tls) || urls.iter().any(|(_, url)| url.scheme() == "wss");
        let config = if wants_tls {
            Some(tls::client_config(ca()?.as_ref())?)
        } else {
            None
        };
        urls.into_iter()
            .map(|(base, url)| Route::at(base, url, proxy, config.as_ref()))
            .collect()
    }

    /// The route to the endpoint `url` (from `base_url`), with the TLS
    /// configuration `config` where TLS is used.
    fn at(
        base_url: &str,
        url: url::Url,
        proxy: Option<&ProxyConfig>,
        config: Option<&Arc<ClientConfig>>,
    ) -> Result<Route> {
        let host = url
            .host()
            .map(|h| h.to_owned())
            .ok_or_else(|| Error::invalid(format!("server URL {base_url:?} has no host")))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Error::invalid(format!("server URL {base_url:?} has no port")))?;
        Ok(Route {
            tls: if url.scheme() == "wss" {
                config.cloned()
            } else {
                None
            },
            proxy: proxy.map(|p| (p.clone(), if p.tls { config.cloned() } else { None })),
            url: url.into(),
            host,
            port,
        })
    }

    /// The server's `host:port`.
    fn authority(&self) -> String {
        proxy::authority(&self.host, self.port)
    }

    /// What a timeout at `stage` was waiting for, as the end of "timed out
    /// ...".
    pub fn waiting_for(&self, stage: Stage) -> String {
        let server = self.authority();
        let proxy = self.proxy.as_ref().map(|(p, _)| p.authority());
        let proxy = proxy.as_deref().unwrap_or("?");
        match stage {
            Stage::Tcp if self.proxy.is_some() => {
                format!("connecting to the proxy {proxy}")
            }
            Stage::Tcp => format!("connecting to {server}"),
            Stage::ProxyTls => format!("in the TLS handshake with the proxy {proxy}"),
            Stage::ProxyConnect => {
                format!("waiting for the proxy {proxy} to answer CONNECT to {server}")
            }
            Stage::Tls => format!("in the TLS handshake with {server}"),
            Stage::Upgrade => format!("waiting for {server} to answer the WebSocket upgrade"),
            Stage::Answer => format!("waiting for the server at {} to answer", self.url),
        }
    }
}

/// For the log: `wss://h:p/v1/ws through the proxy http://p:3128` (never
/// the proxy's credentials).
impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)?;
        if let Some((p, _)) = &self.proxy {
            write!(f, " through the proxy {p}")?;
        }
        Ok(())
    }
}

/// The step a link is at while it opens (what a timeout interrupted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Resolving and connecting TCP (to the server, or to the proxy).
    #[default]
    Tcp,
    /// TLS with an `https://` proxy.
    ProxyTls,
    /// Waiting for the proxy's answer to `CONNECT`.
    ProxyConnect,
    /// TLS with the server (`wss://`).
    Tls,
    /// The WebSocket upgrade.
    Upgrade,
    /// The link is open; waiting for the server's first frame (set by the
    /// caller).
    Answer,
}

/// The byte stream under a WebSocket: TCP, or TLS over a stream (the
/// server's TLS may run inside an `https://` proxy's TLS).
pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<Stream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

fn failed(why: String) -> Error {
    Error::new(ErrorCode::ConnectionFailed, why)
}

/// Resolves `host` and connects to the first address that accepts.
async fn tcp(host: &url::Host<String>, port: u16, what: &str) -> Result<TcpStream> {
    let addrs: Vec<std::net::SocketAddr> = match host {
        url::Host::Ipv4(ip) => vec![(*ip, port).into()],
        url::Host::Ipv6(ip) => vec![(*ip, port).into()],
        url::Host::Domain(d) => tokio::net::lookup_host((d.as_str(), port))
            .await
            .map_err(|e| failed(format!("cannot resolve the host name {what} {d:?}: {e}")))?
            .collect(),
    };
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // Signals are small and latency-bound: no Nagle delay.
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((addr, e)),
        }
    }
    let shown = proxy::authority(host, port);
    Err(match last {
        Some((addr, e)) => {
            let why = if e.kind() == io::ErrorKind::ConnectionRefused {
                "connection refused".to_string()
            } else {
                e.to_string()
            };
            // The address too when the URL names a host.
            let at = if addr.to_string() == shown {
                String::new()
            } else {
                format!(" (at {addr})")
            };
            failed(format!("cannot connect to {what} {shown}: {why}{at}"))
        }
        None => failed(format!(
            "the host name {what} {host} resolves to no address"
        )),
    })
}

async fn tls_over(
    config: &Arc<ClientConfig>,
    host: &url::Host<String>,
    peer: &str,
    stream: Stream,
) -> Result<Stream> {
    let name = tls::server_name(host)?;
    let shown = name.to_str().into_owned();
    TlsConnector::from(config.clone())
        .connect(name, stream)
        .await
        .map(|s| Stream::Tls(Box::new(s)))
        .map_err(|e| tls::handshake_error(e, peer, &shown))
}

/// The WebSocket upgrade failed: say how.
fn upgrade_error(e: tokio_tungstenite::tungstenite::Error, route: &Route) -> Error {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        WsError::Http(response) => failed(format!(
            "{} answered the WebSocket upgrade with HTTP {} (is {} an otc-server?)",
            route.authority(),
            response.status(),
            route.url
        )),
        WsError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => failed(format!(
            "{} closed the connection during the WebSocket upgrade",
            route.authority()
        )),
        other => failed(format!(
            "the WebSocket upgrade with {} failed: {other}",
            route.url
        )),
    }
}

/// Opens a link along `route` and starts the writer task on the current
/// runtime. `stage` follows the steps, so that a caller whose timeout
/// dropped this future can say where it stopped.
pub async fn open(route: &Route, stage: &mut Stage) -> Result<(Writer, Reader)> {
    *stage = Stage::Tcp;
    let mut stream = match &route.proxy {
        None => Stream::Tcp(tcp(&route.host, route.port, "the server").await?),
        Some((p, tls)) => {
            let mut s = Stream::Tcp(tcp(&p.host, p.port, "the proxy").await?);
            if let Some(config) = tls {
                *stage = Stage::ProxyTls;
                s = tls_over(config, &p.host, &format!("the proxy {}", p.authority()), s).await?;
            }
            *stage = Stage::ProxyConnect;
            p.connect(&mut s, &route.authority()).await?;
            s
        }
    };
    if let Some(config) = &route.tls {
        *stage = Stage::Tls;
        stream = tls_over(config, &route.host, &route.authority(), stream).await?;
    }
    *stage = Stage::Upgrade;
    let mut request = route
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::invalid(format!("bad server URL {:?}: {e}", route.url)))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(protocol::SUBPROTOCOL),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
        .read_buffer_size(READ_BUFFER_BYTES);
    let (ws, _response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| upgrade_error(e, route))?;
    let (sink, stream) = ws.split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (done_tx, done) = watch::channel(());
    tokio::spawn(async move {
        write_loop(sink, rx).await;
        drop(done_tx);
    });
    let binary = Arc::new(AtomicBool::new(false));
    let writer = Writer {
        tx,
        done,
        binary: Arc::clone(&binary),
    };
    Ok((writer, Reader { stream, binary }))
}

/// What the writer task is asked to do.
enum Outgoing {
    Frame(Message),
    Close,
}

/// A signal frame as the outbox keeps it, serialized once: binary (see
/// [`protocol::binary`]: the data raw, behind a small JSON header), and as
/// JSON text only if a link that did not agree to binary frames needs it.
pub struct SignalFrame {
    binary: Bytes,
    text: OnceLock<Utf8Bytes>,
}

impl SignalFrame {
    /// The frame of a `signal` or `signal_to_server` message; `None` for
    /// other kinds.
    pub fn new(msg: &ClientMessage) -> Option<SignalFrame> {
        Some(SignalFrame {
            binary: Bytes::from(protocol::binary::encode_client(msg)?),
            text: OnceLock::new(),
        })
    }

    /// The message for a link: binary if it agreed to binary signals.
    /// Cloning either encoding is a reference count, not a copy.
    fn message(&self, binary: bool) -> Message {
        if binary {
            return Message::Binary(self.binary.clone());
        }
        let text = self.text.get_or_init(|| {
            // Our own encoding: it decodes.
            protocol::binary::decode_client(&self.binary)
                .map(|m| Utf8Bytes::from(m.encode()))
                .unwrap_or_default()
        });
        Message::Text(text.clone())
    }
}

#[cfg(test)]
impl SignalFrame {
    /// The message, read back from the binary frame.
    pub(crate) fn decoded(&self) -> ClientMessage {
        protocol::binary::decode_client(&self.binary).expect("our own frame decodes")
    }
}

/// Queues frames for the writer task. Cheap to clone; sending never blocks.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Outgoing>,
    /// Its sender lives inside the writer task, so it closes when the task
    /// has ended: that is how [`Writer::finished`] knows the goodbye is out.
    done: watch::Receiver<()>,
    /// The server agreed to binary signal frames on this link (shared with
    /// the link's [`Reader`]).
    binary: Arc<AtomicBool>,
}

impl Writer {
    /// Queues one frame. Returns false if the link is already gone.
    pub fn send(&self, msg: &ClientMessage) -> bool {
        self.queue(Message::Text(Utf8Bytes::from(msg.encode())))
    }

    /// Queues a signal the outbox keeps, in the link's encoding.
    pub fn send_signal(&self, frame: &SignalFrame) -> bool {
        self.queue(frame.message(self.binary.load(Ordering::Acquire)))
    }

    fn queue(&self, m: Message) -> bool {
        self.tx.send(Outgoing::Frame(m)).is_ok()
    }

    /// The server's `connected` or `resumed` said whether this link carries
    /// binary signal frames; set before any signal is sent on it.
    pub fn set_binary_signals(&self, on: bool) {
        self.binary.store(on, Ordering::Release);
    }

    /// Asks the writer to flush what is queued, send a close frame and stop.
    pub fn close(&self) {
        let _ = self.tx.send(Outgoing::Close);
    }

    /// Has the writer task ended?
    pub fn is_finished(&self) -> bool {
        self.done.has_changed().is_err()
    }

    /// Resolves once the writer task has ended (everything queued before
    /// [`Writer::close`] written and the close frame sent, or the link gone).
    /// `otc_destroy` waits on this, bounded, before stopping the runtime, so
    /// the server hears a clean goodbye instead of a drop it must wait out.
    pub async fn finished(mut self) {
        while self.done.changed().await.is_ok() {}
    }
}

/// The receiving half of a link.
pub struct Reader {
    stream: SplitStream<Ws>,
    /// As the link's [`Writer`]'s: binary frames are read only once agreed.
    binary: Arc<AtomicBool>,
}

/// Why reading stopped.
#[derive(Debug)]
pub enum ReadEnd {
    /// The peer closed the link (close frame or end of stream).
    Closed,
    /// A transport error (reset, broken pipe, oversize frame, …).
    Failed(String),
    /// A frame that is not a valid server message.
    Malformed(String),
}

impl Reader {
    /// The next server message, or why there is none.
    pub async fn next(&mut self) -> std::result::Result<ServerMessage, ReadEnd> {
        loop {
            match self.stream.next().await {
                None => return Err(ReadEnd::Closed),
                Some(Err(e)) => return Err(ReadEnd::Failed(e.to_string())),
                Some(Ok(Message::Text(t))) => {
                    return ServerMessage::decode(t.as_str())
                        .map_err(|e| ReadEnd::Malformed(e.to_string()))
                }
                Some(Ok(Message::Close(_))) => return Err(ReadEnd::Closed),
                // WebSocket-level pings are answered by tungstenite itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(b))) if self.binary.load(Ordering::Acquire) => {
                    return protocol::binary::decode_server(&b)
                        .map_err(|e| ReadEnd::Malformed(e.to_string()))
                }
                Some(Ok(Message::Binary(_))) => {
                    return Err(ReadEnd::Malformed(
                        "a binary frame on a link that did not agree to them".into(),
                    ))
                }
            }
        }
    }
}

/// Most frames written between two flushes (bounds one burst's hold on
/// the I/O thread).
const MAX_BATCH: usize = 256;

/// Writes every frame already queued, then flushes once: a burst of signals
/// (or of acks) costs one `write`, not one per frame.
async fn write_loop(mut sink: SplitSink<Ws, Message>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut fed = 0usize;
        let mut close = false;
        while let Some(out) = next.take() {
            match out {
                Outgoing::Frame(m) => {
                    if let Err(e) = sink.feed(m).await {
                        log::debug!("link writer stops: {e}");
                        return;
                    }
                }
                Outgoing::Close => {
                    close = true;
                    break;
                }
            }
            fed += 1;
            if fed < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if let Err(e) = sink.flush().await {
            log::debug!("link writer stops: {e}");
            return;
        }
        if close {
            break;
        }
    }
    // Either asked to close or every Writer is gone: say goodbye, bounded.
    let _ = tokio::time::timeout(CLOSE_FLUSH_TIMEOUT, sink.close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_frame_is_the_same_message_as_binary_and_as_text() {
        let msg = ClientMessage::Signal {
            seq: 3,
            signal_type: "chat".into(),
            data: "\"quoted\" é\n".repeat(100),
            to: Some(vec!["c1".into()]),
        };
        let f = SignalFrame::new(&msg).unwrap();
        let Message::Binary(b) = f.message(true) else {
            panic!("a binary link gets a text frame");
        };
        assert_eq!(protocol::binary::decode_client(&b).unwrap(), msg);
        let Message::Text(t) = f.message(false) else {
            panic!("a text link gets a binary frame");
        };
        assert_eq!(ClientMessage::decode(t.as_str()).unwrap(), msg);
        assert!(SignalFrame::new(&ClientMessage::Disconnect).is_none());
    }

    #[test]
    fn base_urls_become_websocket_urls() {
        assert_eq!(
            ws_url("http://127.0.0.1:4443").unwrap(),
            "ws://127.0.0.1:4443/v1/ws"
        );
        assert_eq!(ws_url("ws://[::1]:4443/").unwrap(), "ws://[::1]:4443/v1/ws");
        assert_eq!(
            ws_url("http://h:1/prefix/").unwrap(),
            "ws://h:1/prefix/v1/ws"
        );
        assert_eq!(ws_url("ws://h:1/v1/ws").unwrap(), "ws://h:1/v1/ws");
        assert_eq!(ws_url("https://h:1").unwrap(), "wss://h:1/v1/ws");
        assert_eq!(ws_url("wss://h/x").unwrap(), "wss://h/x/v1/ws");
        assert_eq!(ws_url("https://u:p@h:1").unwrap(), "wss://h:1/v1/ws");
        for bad in ["", "nonsense", "ftp://h:1", "http://"] {
            assert!(ws_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}
