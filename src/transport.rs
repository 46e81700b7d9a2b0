//! The WebSocket link to `otc-server`.
//!
//! [`open`] connects (offering the protocol's subprotocol, capping frame and
//! message size at [`MAX_FRAME_BYTES`] so an oversize frame is refused before
//! it is buffered), then splits the socket: a writer task drains an unbounded
//! channel of frames (everything queued, then one flush), so API calls and
//! the reader can queue a frame without ever waiting on the network; the
//! caller keeps the [`Reader`].
//!
//! The link knows nothing about sessions: it moves `protocol::messages`
//! frames. Replacing a link under a session (reconnection) is therefore just
//! opening another one.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use protocol::limits::MAX_FRAME_BYTES;
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::{Error, Result};
use crate::log;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Initial size of the WebSocket read buffer. tungstenite's default (128 KiB)
/// is allocated and zero-filled per socket, which made it most of a
/// session's memory. A larger frame still fits (the buffer grows to the
/// length a frame header announces), but this size also caps each read
/// call: 16 KiB keeps a stream of 8 KB signals at a read or two per frame
/// (4 KiB cost about a fifth of the 8 KB throughput in `otc-bench`).
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// How long the writer may take to flush its last frames when closing.
const CLOSE_FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// Turns the server's base URL (`http://host:port`, or `ws://host:port`)
/// into the URL of its WebSocket endpoint.
pub fn ws_url(base: &str) -> Result<String> {
    let mut url = url::Url::parse(base.trim())
        .map_err(|e| Error::invalid(format!("server URL {base:?} is not a URL: {e}")))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => {
            return Err(Error::invalid(format!(
                "server URL {base:?}: TLS (https/wss) is not supported by this build"
            )))
        }
        other => {
            return Err(Error::invalid(format!(
                "server URL {base:?}: scheme {other:?} is not http or ws"
            )))
        }
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!("server URL {base:?} has no host")));
    }
    url.set_scheme(scheme)
        .map_err(|_| Error::invalid(format!("server URL {base:?}: cannot use scheme ws")))?;
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with(protocol::WS_PATH) {
        url.set_path(&format!("{path}{}", protocol::WS_PATH));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.to_string())
}

/// What the writer task is asked to do.
enum Outgoing {
    Frame(Utf8Bytes),
    Close,
}

/// Queues frames for the writer task. Cheap to clone; sending never blocks.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<Outgoing>,
    /// Its sender lives inside the writer task, so it closes when the task
    /// has ended: that is how [`Writer::finished`] knows the goodbye is out.
    done: watch::Receiver<()>,
}

impl Writer {
    /// Queues one frame. Returns false if the link is already gone.
    pub fn send(&self, msg: &ClientMessage) -> bool {
        self.send_frame(Utf8Bytes::from(msg.encode()))
    }

    /// Queues one already serialized frame (a signal kept by the outbox).
    pub fn send_frame(&self, frame: Utf8Bytes) -> bool {
        self.tx.send(Outgoing::Frame(frame)).is_ok()
    }

    /// Asks the writer to flush what is queued, send a close frame and stop.
    pub fn close(&self) {
        let _ = self.tx.send(Outgoing::Close);
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
                Some(Ok(Message::Binary(_))) => {
                    return Err(ReadEnd::Malformed("binary frame".into()))
                }
            }
        }
    }
}

/// Connects to `url` and starts the writer task on the current runtime.
pub async fn open(url: &str) -> Result<(Writer, Reader)> {
    let mut request = url
        .into_client_request()
        .map_err(|e| Error::invalid(format!("bad server URL {url:?}: {e}")))?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(protocol::SUBPROTOCOL),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
        .read_buffer_size(READ_BUFFER_BYTES);
    let (ws, _response) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .map_err(|e| {
            Error::new(
                ErrorCode::ConnectionFailed,
                format!("cannot open a WebSocket to {url}: {e}"),
            )
        })?;
    let (sink, stream) = ws.split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (done_tx, done) = watch::channel(());
    tokio::spawn(async move {
        write_loop(sink, rx).await;
        drop(done_tx);
    });
    Ok((Writer { tx, done }, Reader { stream }))
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
                Outgoing::Frame(text) => {
                    if let Err(e) = sink.feed(Message::Text(text)).await {
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
        for bad in ["", "nonsense", "ftp://h:1", "https://h:1", "http://"] {
            assert!(ws_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}
