//! Raw WebSocket clients: the load generators of the fan-out, connection and
//! client-scale scenarios, and the baseline's clients everywhere.
//!
//! The same code drives both systems. Against `otc-server` a client speaks
//! the real protocol (`connect`, `ack`, `pong`, via the `protocol` crate);
//! against the relay it sends the very same `signal` frames and reads frames
//! of the same shape, so both sides parse and allocate alike.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientMessage, PROTOCOL_VERSION, SUBPROTOCOL, WS_PATH};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<TcpStream>;

/// Our client acknowledges events this often (as the library does).
const ACK_EVERY: u64 = 64;
/// Longest wait for `connected`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Which system a client talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Ours,
    Baseline,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Ours => "ours",
            System::Baseline => "baseline",
        }
    }
}

/// Signal data of `size` bytes whose first ten digits are the index, so a
/// receiver knows which send it answers.
pub fn payload(index: u64, size: usize) -> String {
    let mut s = format!("{index:010}");
    let pad = size.saturating_sub(s.len());
    s.push_str(&"x".repeat(pad));
    s
}

/// The index written by [`payload`].
pub fn index_of(data: &[u8]) -> Option<u64> {
    std::str::from_utf8(data.get(..10)?).ok()?.parse().ok()
}

/// A `signal` frame as a client sends it (to either system).
pub fn signal_frame(seq: u64, data: String) -> String {
    ClientMessage::Signal {
        seq,
        signal_type: "bench".into(),
        data,
        to: None,
    }
    .encode()
}

/// The parts of an incoming frame a load generator needs.
#[derive(Deserialize)]
struct Incoming {
    kind: String,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    id: u64,
    #[serde(default)]
    data: String,
}

/// Opens a WebSocket to `addr` at `path`, from `source` if given (to spread
/// many connections over several loopback addresses). `lean` shrinks the
/// client's buffers for scenarios holding tens of thousands of sockets.
pub async fn open(
    addr: SocketAddr,
    path: &str,
    system: System,
    source: Option<IpAddr>,
    lean: bool,
) -> Result<Ws, String> {
    open_with(addr, path, system, source, lean, |_| Ok(())).await
}

/// [`open`], with `configure` applied to the socket before it connects
/// (socket options such as the receive buffer).
pub async fn open_with(
    addr: SocketAddr,
    path: &str,
    system: System,
    source: Option<IpAddr>,
    lean: bool,
    configure: impl FnOnce(&TcpSocket) -> std::io::Result<()>,
) -> Result<Ws, String> {
    let sock = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    configure(&sock).map_err(|e| format!("socket options: {e}"))?;
    if let Some(ip) = source {
        // Let connect() pick the port (IP_BIND_ADDRESS_NO_PORT): binding
        // port 0 first makes the kernel search the port space on every bind,
        // which grows slow with tens of thousands of sockets.
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket descriptor and a c_int option value.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                &one as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        sock.bind(SocketAddr::new(ip, 0))
            .map_err(|e| format!("bind {ip}: {e}"))?;
    }
    let stream = sock
        .connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let mut req = format!("ws://{addr}{path}")
        .into_client_request()
        .map_err(|e| format!("request: {e}"))?;
    if system == System::Ours {
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    let mut config = WebSocketConfig::default();
    if lean {
        config = config.read_buffer_size(4096).write_buffer_size(0);
    }
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    Ok(ws)
}

/// Where a client of `system` connects for room / session `name`.
pub fn path_for(system: System, room: &str) -> String {
    match system {
        System::Ours => WS_PATH.to_string(),
        System::Baseline => format!("/room/{room}"),
    }
}

/// Sends `connect` and waits for `connected`; returns the connection id.
pub async fn join(
    ws: &mut Ws,
    session_id: &str,
    token: &str,
    suppress_connection_events: bool,
) -> Result<String, String> {
    let hello = ClientMessage::Connect {
        version: PROTOCOL_VERSION,
        api_key: otc_server::DEV_API_KEY.to_string(),
        session_id: session_id.to_string(),
        token: token.to_string(),
        suppress_connection_events,
        ack_runs: false,
        binary_signals: false,
    };
    ws.send(Message::text(hello.encode()))
        .await
        .map_err(|e| format!("send connect: {e}"))?;
    let wait = async {
        while let Some(m) = ws.next().await {
            let text = match m {
                Ok(Message::Text(t)) => t,
                Ok(_) => continue,
                Err(e) => return Err(format!("while joining: {e}")),
            };
            match protocol::ServerMessage::decode(text.as_str()) {
                Ok(protocol::ServerMessage::Connected { connection, .. }) => {
                    return Ok(connection.id)
                }
                Ok(protocol::ServerMessage::Error { code, message }) => {
                    return Err(format!("refused: {code}: {message}"))
                }
                _ => continue,
            }
        }
        Err("closed while joining".to_string())
    };
    tokio::time::timeout(JOIN_TIMEOUT, wait)
        .await
        .map_err(|_| "timed out waiting for connected".to_string())?
}

/// What [`Receiver::handle`] asks its caller to send back.
pub enum Reply {
    None,
    Frame(String),
}

/// Per-connection receive state: parses frames, reports signals, and (for
/// our server) acknowledges events and answers pings like the library does.
pub struct Receiver {
    system: System,
    last_seq: u64,
    acked: u64,
}

impl Receiver {
    pub fn new(system: System) -> Receiver {
        Receiver {
            system,
            last_seq: 0,
            acked: 0,
        }
    }

    /// Handles one text frame; calls `on_signal` with the payload index.
    pub fn handle(&mut self, text: &str, mut on_signal: impl FnMut(u64)) -> Reply {
        let Ok(m) = serde_json::from_str::<Incoming>(text) else {
            return Reply::None;
        };
        match m.kind.as_str() {
            "signal" => {
                if let Some(i) = index_of(m.data.as_bytes()) {
                    on_signal(i);
                }
                if self.system == System::Ours {
                    self.last_seq = self.last_seq.max(m.seq);
                    if self.last_seq - self.acked >= ACK_EVERY {
                        self.acked = self.last_seq;
                        return Reply::Frame(ClientMessage::Ack { seq: self.acked }.encode());
                    }
                }
                Reply::None
            }
            "ping" if self.system == System::Ours => {
                Reply::Frame(ClientMessage::Pong { id: m.id }.encode())
            }
            _ => Reply::None,
        }
    }
}

/// Reads until `expect` signals arrived (`None`: until the link ends),
/// replying inline. Returns how many signals arrived.
pub async fn receive(
    ws: &mut Ws,
    system: System,
    expect: Option<usize>,
    mut on_signal: impl FnMut(u64),
) -> Result<usize, String> {
    let mut rx = Receiver::new(system);
    let mut got = 0usize;
    if expect == Some(0) {
        return Ok(0);
    }
    while let Some(m) = ws.next().await {
        let text = match m {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(e) => return Err(format!("receive: {e}")),
        };
        let reply = rx.handle(text.as_str(), |i| {
            got += 1;
            on_signal(i)
        });
        if let Reply::Frame(f) = reply {
            ws.send(Message::text(f))
                .await
                .map_err(|e| format!("reply: {e}"))?;
        }
        if expect.is_some_and(|n| got >= n) {
            return Ok(got);
        }
    }
    match expect {
        Some(n) => Err(format!("link ended after {got} of {n} signals")),
        None => Ok(got),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_index_and_size() {
        let p = payload(42, 100);
        assert_eq!(p.len(), 100);
        assert_eq!(index_of(p.as_bytes()), Some(42));
        assert_eq!(payload(7, 8192).len(), 8192);
        assert_eq!(index_of(b"short"), None);
    }

    #[test]
    fn receiver_acks_every_64_events_and_answers_pings() {
        let mut r = Receiver::new(System::Ours);
        let mut seen = Vec::new();
        for seq in 1..=64u64 {
            let f = format!(
                r#"{{"kind":"signal","seq":{seq},"from":"c","type":"bench","data":"{}"}}"#,
                payload(seq, 20)
            );
            let reply = r.handle(&f, |i| seen.push(i));
            match (seq, reply) {
                (64, Reply::Frame(a)) => assert_eq!(a, r#"{"kind":"ack","seq":64}"#),
                (64, Reply::None) => panic!("no ack after 64 events"),
                (_, Reply::Frame(a)) => panic!("early ack {a}"),
                (_, Reply::None) => {}
            }
        }
        assert_eq!(seen, (1..=64).collect::<Vec<_>>());
        match r.handle(r#"{"kind":"ping","id":3}"#, |_| {}) {
            Reply::Frame(p) => assert_eq!(p, r#"{"kind":"pong","id":3}"#),
            Reply::None => panic!("ping not answered"),
        }
        // The baseline relay speaks no protocol: no acks, no pongs.
        let mut b = Receiver::new(System::Baseline);
        assert!(matches!(
            b.handle(r#"{"kind":"ping","id":3}"#, |_| {}),
            Reply::None
        ));
    }
}
