//! One WebSocket link, from upgrade to close.
//!
//! Each link is one task (this module's [`run`]): it parses client frames,
//! does the `connect`/`resume` handshake and hands everything else to the
//! hub, and decides how the link ended (clean `disconnect`, protocol
//! violation, or an unexpected drop that starts the reconnect grace
//! period). The socket itself is a [`Wire`]: while the task waits for the
//! next frame, or on the hub, the same poll writes the link's queue, so a
//! client that stops reading only fills its own queue and the hub never
//! waits on a socket (see [`crate::wire`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use protocol::messages::DisconnectReason;
use protocol::{ClientMessage, ErrorCode, ServerMessage, PROTOCOL_VERSION};

use crate::admission::Pending;
use crate::auth::{verify_session_id, verify_token};
use crate::held::Held;
use crate::hub::{JoinRequest, Membership};
use crate::link::{close_code, frame, Closing, Link};
use crate::logging::{clip, clip_long};
use crate::server::App;
use crate::wire::{Read, Waited, Wire};

/// Drives one upgraded WebSocket until it ends. `pending` is the
/// connection's not-yet-authenticated slot: the handshake must succeed by its
/// deadline, and the slot is given back once it has.
pub(crate) async fn run(socket: WebSocket, app: Arc<App>, pending: Option<Pending>) {
    let _open = app.hub.metrics().link_opened();
    // Borrowed, not cloned: nothing kept across an await weighs on every
    // idle link's task.
    let limits = app.hub.limits();
    let generation = app.hub.next_generation();
    let peer = pending.as_ref().map(Pending::peer);
    // Room for a full replay (plus `resumed`) on top of the live queue, so
    // a resume can queue its backlog at once.
    let (link, rx) = Link::new(
        limits.send_queue_frames,
        limits.send_queue_bytes,
        limits.replay_buffer_frames + 1,
        generation,
    );
    let link = link.with_peer(peer);
    let mut wire = Wire::new(socket, rx, limits.ping_interval, limits.idle_timeout);

    let joined = match pending.as_ref().map(Pending::deadline) {
        None => handshake(&mut wire, &link, &app).await,
        Some(deadline) => tokio::time::timeout_at(deadline, handshake(&mut wire, &link, &app))
            .await
            .unwrap_or_else(|_| {
                let within = app.hub.limits().auth_timeout.as_millis();
                let message = format!("no connect accepted within {within} ms of connecting");
                Attempt::unknown(peer).warn(&Refused::new(ErrorCode::TimedOut, message.clone()));
                refuse(&link, ErrorCode::TimedOut, message, close_code::POLICY);
                None
            }),
    };
    if let Some(who) = joined {
        if let Some(p) = &pending {
            p.authenticated();
        }
        session_loop(&mut wire, &link, &who, &app).await;
    }
    // Whatever happened, the link ends here; if nobody asked for a
    // particular close, close normally.
    link.close(Closing {
        drain: true,
        frame: None,
        code: close_code::NORMAL,
        reason: String::new(),
    });
    // Boxed: its state would otherwise be part of every link's task for
    // the link's whole life (about 1.1 KB of 3.3).
    Box::pin(wire.finish()).await;
}

/// A refused handshake: what the client is told, and the precise reason
/// for the log when the client is told less (a token refused before its
/// signature proved it genuine, see [`crate::auth::TokenError`]).
struct Refused {
    code: ErrorCode,
    message: String,
    detail: Option<String>,
}

impl Refused {
    fn new(code: ErrorCode, message: String) -> Self {
        Refused {
            code,
            message,
            detail: None,
        }
    }
}

impl From<(ErrorCode, String)> for Refused {
    fn from((code, message): (ErrorCode, String)) -> Self {
        Refused::new(code, message)
    }
}

impl From<crate::hub::HubError> for Refused {
    fn from(e: crate::hub::HubError) -> Self {
        Refused::new(e.code, e.message)
    }
}

/// Who tried to connect or resume, as far as the log is concerned: every
/// refusal is logged at WARN with the peer, project, session and reason.
struct Attempt<'a> {
    kind: &'static str,
    peer: Option<SocketAddr>,
    project: &'a str,
    session: &'a str,
    connection: &'a str,
}

impl<'a> Attempt<'a> {
    /// A link refused before it named a project or session.
    fn unknown(peer: Option<SocketAddr>) -> Self {
        Attempt {
            kind: "handshake",
            peer,
            project: "-",
            session: "-",
            connection: "-",
        }
    }

    fn warn(&self, r: &Refused) {
        tracing::warn!(
            peer = %crate::logging::peer(self.peer),
            project = %clip(self.project),
            session = %clip(self.session),
            connection = %clip(self.connection),
            code = r.code.as_i32(),
            reason = %clip_long(r.detail.as_deref().unwrap_or(&r.message)),
            "{} refused",
            self.kind
        );
    }
}

/// Sends `Error { code, message }` and closes the link.
fn refuse(link: &Link, code: ErrorCode, message: String, close: u16) {
    tracing::debug!(code = code.as_i32(), "refusing client: {message}");
    let reason = message.clone();
    link.close_with(&ServerMessage::Error { code, message }, close, &reason);
}

/// What the next client frame turned out to be.
enum Incoming {
    Message(Box<ClientMessage>),
    /// Broke the protocol: code, message, WebSocket close code.
    Violation(ErrorCode, String, u16),
    /// Ping/pong at the WebSocket level: nothing to do.
    Nothing,
    /// Closed, errored or silent too long.
    Gone(&'static str),
}

/// What the client's next frame (or its absence) means. `binary` says
/// whether the link agreed to binary signal frames (see
/// [`protocol::binary`]); elsewhere a binary frame is a violation.
async fn next_frame(wire: &mut Wire, binary: bool, read: bool) -> Incoming {
    let item = match wire.next_frame(read).await {
        Waited::Idle => return Incoming::Gone("idle timeout"),
        Waited::WriteFailed => return Incoming::Gone("link write failed"),
        Waited::Read(item) => item,
    };
    classify(item, binary)
}

fn classify(item: Read, binary: bool) -> Incoming {
    let item = match item {
        None => return Incoming::Gone("link closed"),
        Some(item) => item,
    };
    match item {
        Ok(Message::Text(text)) => match ClientMessage::decode(text.as_str()) {
            Ok(m) => Incoming::Message(Box::new(m)),
            Err(e) => Incoming::Violation(e.code(), e.to_string(), close_code::PROTOCOL_ERROR),
        },
        Ok(Message::Binary(bytes)) if binary => match protocol::binary::decode_client(&bytes) {
            Ok(m) => Incoming::Message(Box::new(m)),
            Err(e) => Incoming::Violation(e.code(), e.to_string(), close_code::PROTOCOL_ERROR),
        },
        Ok(Message::Binary(_)) => Incoming::Violation(
            ErrorCode::ProtocolError,
            "binary frames need binary_signals agreed in connected or resumed; send JSON text"
                .into(),
            close_code::PROTOCOL_ERROR,
        ),
        Ok(Message::Ping(_) | Message::Pong(_)) => Incoming::Nothing,
        Ok(Message::Close(_)) => Incoming::Gone("client closed the link"),
        Err(e) => read_error(e),
    }
}

/// What a failed read means: a broken frame is the client's protocol
/// violation, reported with the RFC 6455 close code that fits (1002 for
/// framing, 1007 for invalid UTF-8 in a text frame, 1009 for a frame over
/// the size limit, refused before it is buffered); anything else (reset,
/// end of stream) is the link going away.
fn read_error(e: axum::Error) -> Incoming {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let inner = e.into_inner();
    let Some(ws) = inner.downcast_ref::<WsError>() else {
        tracing::debug!("link error: {inner}");
        return Incoming::Gone("link error");
    };
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match ws {
        // The TCP connection ended without a close frame: a dropped link
        // (reconnect grace), not a broken frame.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            Incoming::Gone("link closed without a close frame")
        }
        WsError::Capacity(_) => Incoming::Violation(
            ErrorCode::ProtocolError,
            format!(
                "frame larger than {} bytes refused",
                protocol::limits::MAX_FRAME_BYTES
            ),
            close_code::TOO_BIG,
        ),
        WsError::Protocol(p) => Incoming::Violation(
            ErrorCode::ProtocolError,
            format!("WebSocket protocol violation: {p}"),
            close_code::PROTOCOL_ERROR,
        ),
        WsError::Utf8(_) => Incoming::Violation(
            ErrorCode::ProtocolError,
            "text frame is not valid UTF-8".into(),
            close_code::INVALID_DATA,
        ),
        other => {
            tracing::debug!("link error: {other}");
            Incoming::Gone("link error")
        }
    }
}

/// Waits for `connect` or `resume` and joins. `None` if the link ended.
async fn handshake(wire: &mut Wire, link: &Link, app: &Arc<App>) -> Option<Membership> {
    // Bounded: each non-message frame is a ping/pong; give up after many.
    for _ in 0..64 {
        let msg = tokio::select! {
            biased;
            _ = link.ctl().ended() => return None,
            m = next_frame(wire, false, true) => m,
        };
        let peer = link.peer();
        let msg = match msg {
            Incoming::Nothing => continue,
            Incoming::Gone(_) => return None,
            Incoming::Violation(code, message, close) => {
                refuse_logged(link, &Attempt::unknown(peer), (code, message).into(), close);
                return None;
            }
            Incoming::Message(m) => *m,
        };
        let metrics = app.hub.metrics();
        return match msg {
            ClientMessage::Connect {
                version,
                api_key,
                session_id,
                token,
                suppress_connection_events,
                ack_runs,
                binary_signals,
            } => {
                link.ctl().set_ack_runs(ack_runs);
                link.ctl().set_binary_signals(binary_signals);
                wire.agreed();
                let attempt = Attempt {
                    kind: "connect",
                    peer,
                    project: &api_key,
                    session: &session_id,
                    connection: "-",
                };
                let req = check_connect(
                    app,
                    version,
                    &api_key,
                    &session_id,
                    &token,
                    suppress_connection_events,
                );
                let joined = match req {
                    Ok(req) => wire
                        .alongside(app.hub.join(req, link.clone()))
                        .await
                        .map_err(Refused::from),
                    Err(r) => Err(r),
                };
                metrics.connect(joined.is_ok());
                match joined {
                    Ok(who) => Some(who),
                    Err(r) => {
                        refuse_logged(link, &attempt, r, close_code::POLICY);
                        None
                    }
                }
            }
            ClientMessage::Resume {
                version,
                api_key,
                session_id,
                connection_id,
                resume_secret,
                last_seq,
                ack_runs,
                binary_signals,
            } => {
                link.ctl().set_ack_runs(ack_runs);
                link.ctl().set_binary_signals(binary_signals);
                wire.agreed();
                let attempt = Attempt {
                    kind: "resume",
                    peer,
                    project: &api_key,
                    session: &session_id,
                    connection: &connection_id,
                };
                let checked = match check_version(version)
                    .and_then(|()| check_session(app, &api_key, &session_id))
                {
                    Ok(()) => wire
                        .alongside(app.hub.resume(
                            &session_id,
                            &connection_id,
                            &resume_secret,
                            last_seq,
                            link.clone(),
                        ))
                        .await
                        .map_err(|e| (e.code, e.message)),
                    Err(e) => Err(e),
                };
                metrics.resume(checked.is_ok());
                match checked {
                    Ok(who) => Some(who),
                    Err(e) => {
                        refuse_logged(link, &attempt, e.into(), close_code::POLICY);
                        None
                    }
                }
            }
            ClientMessage::Signal { .. } => {
                refuse_logged(
                    link,
                    &Attempt::unknown(peer),
                    Refused::new(
                        ErrorCode::NotConnected,
                        "signal before connect: send connect first".into(),
                    ),
                    close_code::PROTOCOL_ERROR,
                );
                None
            }
            other => {
                refuse_logged(
                    link,
                    &Attempt::unknown(peer),
                    Refused::new(
                        ErrorCode::ProtocolError,
                        format!("expected connect or resume, got {}", kind_of(&other)),
                    ),
                    close_code::PROTOCOL_ERROR,
                );
                None
            }
        };
    }
    refuse_logged(
        link,
        &Attempt::unknown(link.peer()),
        Refused::new(ErrorCode::ProtocolError, "no connect received".into()),
        close_code::PROTOCOL_ERROR,
    );
    None
}

/// Logs a refused handshake (see [`Attempt`]) and refuses the client.
fn refuse_logged(link: &Link, attempt: &Attempt<'_>, r: Refused, close: u16) {
    attempt.warn(&r);
    refuse(link, r.code, r.message, close);
}

fn kind_of(m: &ClientMessage) -> &'static str {
    match m {
        ClientMessage::Connect { .. } => "connect",
        ClientMessage::Resume { .. } => "resume",
        ClientMessage::Signal { .. } => "signal",
        ClientMessage::SignalToServer { .. } => "signal_to_server",
        ClientMessage::Ack { .. } => "ack",
        ClientMessage::Ping { .. } => "ping",
        ClientMessage::Pong { .. } => "pong",
        ClientMessage::Disconnect => "disconnect",
        ClientMessage::ReportIssue { .. } => "report_issue",
    }
}

fn check_version(version: u32) -> Result<(), (ErrorCode, String)> {
    if version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err((
            ErrorCode::ProtocolError,
            format!("protocol version {version} is not supported; this server speaks {PROTOCOL_VERSION}"),
        ))
    }
}

fn check_session(app: &App, api_key: &str, session_id: &str) -> Result<(), (ErrorCode, String)> {
    let project = app.project(api_key).ok_or((
        ErrorCode::AuthorizationFailure,
        "unknown API key".to_string(),
    ))?;
    verify_session_id(project, session_id).map_err(|e| {
        (
            ErrorCode::InvalidSession,
            format!("invalid session id: {e}"),
        )
    })
}

fn check_connect(
    app: &App,
    version: u32,
    api_key: &str,
    session_id: &str,
    token: &str,
    suppress: bool,
) -> Result<JoinRequest, Refused> {
    check_version(version)?;
    check_session(app, api_key, session_id)?;
    let project = app.project(api_key).ok_or_else(|| {
        Refused::new(
            ErrorCode::AuthorizationFailure,
            "unknown API key".to_string(),
        )
    })?;
    let grant = verify_token(project, session_id, token).map_err(|e| {
        // The precise reason goes to the log; the client is told it only
        // once the signature proved the token genuine (TokenError docs).
        Refused {
            code: ErrorCode::AuthorizationFailure,
            message: e.client_message(),
            detail: Some(format!("token refused: {e}")),
        }
    })?;
    Ok(JoinRequest {
        project_key: project.api_key.clone(),
        session_id: session_id.to_string(),
        role: grant.role,
        connection_data: grant.connection_data,
        suppress_connection_events: suppress,
    })
}

/// Serves a joined member until its link ends.
async fn session_loop(wire: &mut Wire, link: &Link, who: &Membership, app: &Arc<App>) {
    let binary = link.ctl().binary_signals();
    let generation = link.generation;
    // Signals waiting for room at their recipients (back-pressure).
    let mut held = Held::default();
    // One wait for the end of the link, made once (see LinkCtl::ended).
    let ended = link.ctl().ended();
    tokio::pin!(ended);
    loop {
        let incoming = tokio::select! {
            biased;
            _ = &mut ended => {
                if !link.ctl().close_requested() {
                    // A write failed ([`Wire`]): the socket is dead.
                    app.hub.link_lost(who, generation);
                }
                // Otherwise the hub closed it (eviction, takeover, shutdown,
                // force disconnect) and has already dealt with the member.
                return;
            }
            _ = held.wake() => {
                wire.alongside(held.release(app.hub.as_ref(), who, false)).await;
                // This branch comes before the read; when it is ready on
                // every wake-up, the queue is still written.
                wire.write_now().await;
                continue;
            }
            // A full hold stops reading this link until its front moves
            // (the queue is still written).
            m = next_frame(wire, binary, !held.is_full()) => m,
        };
        let msg = match incoming {
            Incoming::Nothing => continue,
            Incoming::Gone(why) => {
                tracing::info!(connection = %who.connection_id, "link dropped: {why}");
                app.hub.link_lost(who, generation);
                return;
            }
            Incoming::Violation(code, message, close) => {
                violation(app, link, who, code, message, close);
                return;
            }
            Incoming::Message(m) => *m,
        };
        match msg {
            ClientMessage::Signal {
                seq,
                signal_type,
                data,
                to,
            } => {
                wire.alongside(held.signal(
                    app.hub.as_ref(),
                    who,
                    seq,
                    signal_type,
                    data,
                    to,
                    Instant::now(),
                ))
                .await
            }
            ClientMessage::SignalToServer {
                seq,
                signal_type,
                data,
            } => {
                wire.alongside(held.signal_to_server(
                    app.hub.as_ref(),
                    who,
                    seq,
                    signal_type,
                    data,
                    Instant::now(),
                ))
                .await
            }
            ClientMessage::Ack { seq } => app.hub.ack(who, seq),
            ClientMessage::Ping { id } => app.hub.send_control(who, &ServerMessage::Pong { id }),
            ClientMessage::Pong { .. } => {}
            ClientMessage::ReportIssue { id, description } => {
                let answer = app.hub.report_issue(who, id, &description);
                app.hub.send_control(who, &answer);
            }
            ClientMessage::Disconnect => {
                // What the client sent before its goodbye is answered first.
                wire.alongside(held.release(app.hub.as_ref(), who, true))
                    .await;
                app.hub.leave(
                    who,
                    generation,
                    DisconnectReason::ClientDisconnected,
                    Some(Closing {
                        drain: true,
                        frame: None,
                        code: close_code::NORMAL,
                        reason: DisconnectReason::ClientDisconnected.as_str().into(),
                    }),
                );
                return;
            }
            other @ (ClientMessage::Connect { .. } | ClientMessage::Resume { .. }) => {
                let message = format!("{} on a link that is already connected", kind_of(&other));
                violation(
                    app,
                    link,
                    who,
                    ErrorCode::ProtocolError,
                    message,
                    close_code::PROTOCOL_ERROR,
                );
                return;
            }
        }
    }
}

/// A joined client broke the protocol: it gets an error, leaves the session
/// (the others see `protocol_violation`) and its link is closed.
fn violation(
    app: &App,
    link: &Link,
    who: &Membership,
    code: ErrorCode,
    message: String,
    close: u16,
) {
    tracing::warn!(
        peer = %crate::logging::peer(link.peer()),
        session = %who.session_id,
        connection = %who.connection_id,
        reason = %clip_long(&message),
        "protocol violation; disconnecting it"
    );
    let reason = message.clone();
    let closing = Closing {
        drain: false,
        frame: Some(frame(&ServerMessage::Error { code, message })),
        code: close,
        reason,
    };
    app.hub.leave(
        who,
        link.generation,
        DisconnectReason::ProtocolViolation,
        Some(closing.clone()),
    );
    // If the hub no longer knew this link as current, close it anyway.
    link.close(closing);
}
