//! A raw protocol client for the tests: a WebSocket speaking
//! `protocol::messages` directly, with bounded waits everywhere.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use otc_server::{create_session_id, mint_token, Config, Project, ServerHandle, TokenOptions};
use protocol::messages::DisconnectReason;
use protocol::{
    ClientMessage, ConnectionInfo, ServerMessage, PROTOCOL_VERSION, SUBPROTOCOL, WS_PATH,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Upper bound on any single wait, so a broken server fails a test instead
/// of hanging it. Not a performance assertion.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn start(mut config: Config) -> ServerHandle {
    // Logs for debugging a failure: RUST_LOG=otc_server=debug.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    // The same suite runs against one cluster node (tests/it_cluster.rs).
    if let Some(redis_url) = crate::cluster_redis_url() {
        config.cluster = Some(otc_server::cluster::ClusterConfig {
            redis_url,
            node_id: None,
        });
    }
    let server = otc_server::start(config).await.expect("server starts");
    // A cluster node is ready once it reaches Redis.
    for _ in 0..500 {
        if server.hub().is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server
}

pub async fn start_dev() -> ServerHandle {
    start(Config::dev()).await
}

pub fn session() -> String {
    create_session_id(&Project::dev())
}

pub fn token(session: &str) -> String {
    mint_token(&Project::dev(), session, &TokenOptions::default()).expect("mint")
}

pub fn token_with(session: &str, opts: TokenOptions) -> String {
    mint_token(&Project::dev(), session, &opts).expect("mint")
}

pub fn ws_url(server: &ServerHandle) -> String {
    format!("ws://{}{}", server.local_addr(), WS_PATH)
}

/// Opens a WebSocket offering our subprotocol.
pub async fn open(server: &ServerHandle) -> Ws {
    let mut req = ws_url(server).into_client_request().expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let (ws, resp) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("open in time")
        .expect("open");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap_or("")),
        Some(SUBPROTOCOL)
    );
    ws
}

pub fn connect_msg(session: &str, token: &str, suppress: bool) -> ClientMessage {
    connect_msg_as(otc_server::DEV_API_KEY, session, token, suppress)
}

/// A `connect` with another API key (or a Vonage application's id).
pub fn connect_msg_as(api_key: &str, session: &str, token: &str, suppress: bool) -> ClientMessage {
    ClientMessage::Connect {
        version: PROTOCOL_VERSION,
        api_key: api_key.into(),
        session_id: session.into(),
        token: token.into(),
        suppress_connection_events: suppress,
        ack_runs: false,
        binary_signals: false,
    }
}

/// What the server did next.
#[derive(Debug)]
pub enum Next {
    Msg(ServerMessage),
    Closed(Option<CloseFrame>),
}

pub struct Client {
    pub ws: Ws,
    pub id: String,
    pub secret: String,
    pub session: String,
    pub others: Vec<ConnectionInfo>,
    pub data: String,
    pub last_seq: u64,
    seq: u64,
    /// Send `ack` automatically for every event received.
    pub auto_ack: bool,
    /// The server agreed to binary signal frames: signals go out as
    /// binary frames, and binary frames are read.
    pub binary: bool,
    /// The last message read came as a binary frame.
    pub last_binary: bool,
    /// Messages read while looking for something else, in arrival order.
    pending: std::collections::VecDeque<ServerMessage>,
}

pub async fn send_raw(ws: &mut Ws, m: Message) {
    tokio::time::timeout(WAIT, ws.send(m))
        .await
        .expect("send in time")
        .expect("send");
}

pub async fn send(ws: &mut Ws, m: &ClientMessage) {
    send_raw(ws, Message::text(m.encode())).await;
}

/// Next protocol message or the close, skipping server pings. A binary
/// frame is a test failure: only [`Client`]s that agreed to them read them.
pub async fn next(ws: &mut Ws) -> Next {
    let (n, binary) = next_frame(ws).await;
    assert!(
        !binary,
        "a binary frame on a link that did not ask for them"
    );
    n
}

/// As [`next`], reading binary signal frames too; says whether the message
/// came as one.
pub async fn next_frame(ws: &mut Ws) -> (Next, bool) {
    for _ in 0..10_000 {
        let item = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("server answered in time");
        match item {
            None => return (Next::Closed(None), false),
            Some(Err(_)) => return (Next::Closed(None), false),
            Some(Ok(Message::Close(c))) => return (Next::Closed(c), false),
            Some(Ok(Message::Text(t))) => {
                let m = ServerMessage::decode(t.as_str()).expect("server frames decode");
                if matches!(m, ServerMessage::Ping { .. }) {
                    continue;
                }
                return (Next::Msg(m), false);
            }
            Some(Ok(Message::Binary(b))) => {
                let m = protocol::binary::decode_server(&b).expect("binary frames decode");
                return (Next::Msg(m), true);
            }
            Some(Ok(_)) => continue,
        }
    }
    panic!("only pings");
}

pub async fn next_msg(ws: &mut Ws) -> ServerMessage {
    match next(ws).await {
        Next::Msg(m) => m,
        Next::Closed(c) => panic!("link closed: {c:?}"),
    }
}

/// A new link that sends `resume` for `c`'s connection (the answer is
/// left to the caller).
pub async fn resume_ws(
    server: &ServerHandle,
    c: &Client,
    secret: &str,
    last_seq: u64,
    binary_signals: bool,
) -> Ws {
    let mut ws = open(server).await;
    send(
        &mut ws,
        &ClientMessage::Resume {
            version: PROTOCOL_VERSION,
            api_key: otc_server::DEV_API_KEY.into(),
            session_id: c.session.clone(),
            connection_id: c.id.clone(),
            resume_secret: secret.into(),
            last_seq,
            ack_runs: false,
            binary_signals,
        },
    )
    .await;
    ws
}

/// Expects an `error` frame with `code`, then a close.
pub async fn expect_refusal(ws: &mut Ws, code: protocol::ErrorCode) -> String {
    let msg = match next(ws).await {
        Next::Msg(ServerMessage::Error { code: c, message }) => {
            assert_eq!(c, code, "error code ({message})");
            message
        }
        other => panic!("expected error {code:?}, got {other:?}"),
    };
    expect_close(ws).await;
    msg
}

/// Reads until the link closes; returns the close frame.
pub async fn expect_close(ws: &mut Ws) -> Option<CloseFrame> {
    for _ in 0..10_000 {
        match next(ws).await {
            Next::Closed(c) => return c,
            Next::Msg(_) => continue,
        }
    }
    panic!("link never closed");
}

impl Client {
    pub async fn join(server: &ServerHandle, session: &str) -> Client {
        Self::join_with(server, session, &token(session), false).await
    }

    pub async fn join_with(
        server: &ServerHandle,
        session: &str,
        token: &str,
        suppress: bool,
    ) -> Client {
        Self::join_on(open(server).await, session, token, suppress).await
    }

    /// Joins over a WebSocket opened elsewhere (over TLS, say).
    pub async fn join_on(ws: Ws, session: &str, token: &str, suppress: bool) -> Client {
        Self::join_as(ws, otc_server::DEV_API_KEY, session, token, suppress).await
    }

    /// Joins with another API key (or a Vonage application's id).
    pub async fn join_as(
        ws: Ws,
        api_key: &str,
        session: &str,
        token: &str,
        suppress: bool,
    ) -> Client {
        Self::join_msg(
            ws,
            session,
            &connect_msg_as(api_key, session, token, suppress),
        )
        .await
    }

    /// Joins with this `connect` frame.
    pub async fn join_msg(mut ws: Ws, session: &str, connect: &ClientMessage) -> Client {
        send(&mut ws, connect).await;
        match next_msg(&mut ws).await {
            ServerMessage::Connected {
                version,
                session_id,
                connection,
                connections,
                resume_secret,
                last_seq,
                binary_signals,
                ..
            } => {
                assert_eq!(version, PROTOCOL_VERSION);
                assert_eq!(session_id, session);
                Client {
                    ws,
                    id: connection.id,
                    data: connection.data,
                    secret: resume_secret,
                    session: session.into(),
                    others: connections,
                    last_seq,
                    seq: 0,
                    auto_ack: true,
                    binary: binary_signals,
                    last_binary: false,
                    pending: Default::default(),
                }
            }
            other => panic!("expected connected, got {other:?}"),
        }
    }

    /// Sends a signal with the next client seq; returns that seq.
    pub async fn signal(&mut self, ty: &str, data: &str, to: Option<Vec<String>>) -> u64 {
        self.seq += 1;
        let m = ClientMessage::Signal {
            seq: self.seq,
            signal_type: ty.into(),
            data: data.into(),
            to,
        };
        self.send_signal(&m).await;
        self.seq
    }

    /// Sends a signal frame, binary when the link agreed to them.
    async fn send_signal(&mut self, m: &ClientMessage) {
        match protocol::binary::encode_client(m) {
            Some(b) if self.binary => send_raw(&mut self.ws, Message::binary(b)).await,
            _ => send(&mut self.ws, m).await,
        }
    }

    /// Sends a signal to the application server with the next client seq;
    /// returns that seq.
    pub async fn signal_to_server(&mut self, ty: &str, data: &str) -> u64 {
        self.seq += 1;
        let m = ClientMessage::SignalToServer {
            seq: self.seq,
            signal_type: ty.into(),
            data: data.into(),
        };
        self.send_signal(&m).await;
        self.seq
    }

    /// Sends a signal with an explicit seq (for duplicates).
    pub async fn signal_seq(&mut self, seq: u64, ty: &str, data: &str) {
        let m = ClientMessage::Signal {
            seq,
            signal_type: ty.into(),
            data: data.into(),
            to: None,
        };
        self.send_signal(&m).await;
        self.seq = self.seq.max(seq);
    }

    pub async fn next(&mut self) -> Next {
        let (n, binary) = next_frame(&mut self.ws).await;
        assert!(
            self.binary || !binary,
            "a binary frame on a link that did not ask for them"
        );
        self.last_binary = binary;
        if let Next::Msg(m) = &n {
            if let Some(seq) = m.event_seq() {
                assert!(
                    seq > self.last_seq,
                    "event seqs increase: {seq} after {}",
                    self.last_seq
                );
                self.last_seq = seq;
                if self.auto_ack {
                    send(&mut self.ws, &ClientMessage::Ack { seq }).await;
                }
            }
        }
        n
    }

    pub async fn msg(&mut self) -> ServerMessage {
        if let Some(m) = self.pending.pop_front() {
            return m;
        }
        self.read().await
    }

    /// Reads from the socket, ignoring what is pending.
    async fn read(&mut self) -> ServerMessage {
        match self.next().await {
            Next::Msg(m) => m,
            Next::Closed(c) => panic!("link closed: {c:?}"),
        }
    }

    /// Next message that is not a signal ack (acks and deliveries of one's
    /// own broadcast may come in either order).
    pub async fn event(&mut self) -> ServerMessage {
        for _ in 0..10_000 {
            let m = self.msg().await;
            if !matches!(m, ServerMessage::SignalAck { .. }) {
                return m;
            }
        }
        panic!("only acks");
    }

    /// The ack or error for `seq`. Other messages read meanwhile stay
    /// pending for [`Client::msg`], in order.
    pub async fn answer(&mut self, seq: u64) -> ServerMessage {
        let is_answer = |m: &ServerMessage| match m {
            ServerMessage::SignalAck { seq: s, .. } | ServerMessage::SignalError { seq: s, .. } => {
                *s == seq
            }
            _ => false,
        };
        if let Some(i) = self.pending.iter().position(is_answer) {
            return self.pending.remove(i).expect("index");
        }
        for _ in 0..100_000 {
            let m = self.read().await;
            if is_answer(&m) {
                return m;
            }
            self.pending.push_back(m);
        }
        panic!("no answer for {seq}");
    }

    /// Expects an ack for `seq`.
    pub async fn acked(&mut self, seq: u64) {
        let m = self.answer(seq).await;
        assert_eq!(m, ServerMessage::SignalAck { seq, first: None });
    }

    /// Expects a signal error with `code` for `seq`.
    pub async fn refused(&mut self, seq: u64, code: protocol::ErrorCode) {
        match self.answer(seq).await {
            ServerMessage::SignalError { code: c, .. } => assert_eq!(c, code),
            other => panic!("expected error {code:?}, got {other:?}"),
        }
    }

    /// Next delivered signal as (from, type, data).
    pub async fn signal_in(&mut self) -> (Option<String>, String, String) {
        match self.event().await {
            ServerMessage::Signal {
                from,
                signal_type,
                data,
                ..
            } => (from, signal_type, data),
            other => panic!("expected a signal, got {other:?}"),
        }
    }

    /// Nothing pending (everything read was consumed).
    pub fn drained(&self) -> bool {
        self.pending.is_empty()
    }

    pub async fn disconnect(mut self) {
        send(&mut self.ws, &ClientMessage::Disconnect).await;
        expect_close(&mut self.ws).await;
    }
}

/// The connection id and reason of a `connection_destroyed`.
pub fn destroyed(m: &ServerMessage) -> (String, DisconnectReason) {
    match m {
        ServerMessage::ConnectionDestroyed {
            connection_id,
            reason,
            ..
        } => (connection_id.clone(), *reason),
        other => panic!("expected connection_destroyed, got {other:?}"),
    }
}

pub fn created(m: &ServerMessage) -> ConnectionInfo {
    match m {
        ServerMessage::ConnectionCreated { connection, .. } => connection.clone(),
        other => panic!("expected connection_created, got {other:?}"),
    }
}
