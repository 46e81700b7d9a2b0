//! Session monitoring: what the application server hears about its
//! sessions without being in them.
//!
//! Every connection that joins or leaves a session becomes a
//! [`MonitorEvent`] in the JSON shape of OpenTok's session-monitoring
//! callbacks (`connectionCreated`, `connectionDestroyed` with its reason),
//! and so does every participant's signal to the application server
//! (`signal`, our extension: [`Monitor::emit_signal`] also reports back
//! whether the application server got it). Each goes two ways:
//!
//! * **callbacks** ([`webhook`]): POSTed to the project's callback URL,
//!   signed, with a timeout and retries;
//! * **event streams** ([`stream`]): written to every
//!   `GET /v2/project/{key}/events` (Server-Sent Events) the project's
//!   application server holds open.
//!
//! # Invariants
//!
//! * **Routing never waits for monitoring.** [`Monitor::emit`] is called
//!   under the session's lock; it only moves an `Arc` into a bounded queue
//!   and a broadcast channel. A full queue drops the event (counted in
//!   `otc_callbacks_total{result="dropped"}` and logged, at most once a
//!   second), it never blocks.
//! * **One event, one report.** The event is emitted by the code that
//!   changed the membership: in one process, the hub under the session's
//!   lock; in a cluster, the node whose join or leave script changed the
//!   shared membership in Redis (the script runs once), so each event is
//!   POSTed once, by one node. Event streams in a cluster get every node's
//!   events through Redis (see `crate::cluster`).
//! * **Per project, in order.** One delivery task per project POSTs its
//!   events one after the other, so a receiver sees a connection created
//!   before it sees it destroyed. A receiver that stays down holds up its
//!   own project's callbacks only, for at most the retries of one event.

pub mod stream;
pub mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use protocol::limits::{CALLBACK_QUEUE_EVENTS, EVENT_STREAM_BUFFER};
use protocol::messages::DisconnectReason;
use protocol::ConnectionInfo;
use protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::config::Config;
use crate::metrics::Metrics;

/// One session-monitoring event, as POSTed and streamed (OpenTok's JSON:
/// `sessionId`, `projectId`, `event`, `timestamp`, `reason` for a
/// departure, and the `connection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorEvent {
    pub session_id: String,
    pub project_id: String,
    /// `connectionCreated` or `connectionDestroyed`.
    pub event: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Of `connectionDestroyed`: `clientDisconnected`, `forceDisconnected`
    /// or `networkDisconnected` (OpenTok's three).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub connection: MonitorConnection,
    /// Of a `signal` (a participant's signal to the application server):
    /// its type and data; `connection` is its sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<MonitorSignal>,
}

/// The type and data of a signal to the application server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorSignal {
    #[serde(rename = "type")]
    pub signal_type: String,
    pub data: String,
}

/// How a signal to the application server ended: `Ok` once it has it, else
/// the code and message its sender is told (see
/// [`protocol::ServerMessage::SignalUndelivered`]).
pub type Delivery = Result<(), (protocol::ErrorCode, String)>;

/// The event that tells a signal's sender how its delivery to the
/// application server ended (`signal_seq`: the signal's client seq).
pub fn delivery_message(seq: u64, signal_seq: u64, result: Delivery) -> protocol::ServerMessage {
    match result {
        Ok(()) => protocol::ServerMessage::SignalDelivered { seq, signal_seq },
        Err((code, message)) => protocol::ServerMessage::SignalUndelivered {
            seq,
            signal_seq,
            code,
            message,
        },
    }
}

/// The connection an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorConnection {
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The token's connection data.
    pub data: String,
}

impl MonitorEvent {
    /// `connectionCreated` of `info` in `session_id` of project `project`.
    pub fn created(project: &str, session_id: &str, info: &ConnectionInfo) -> Self {
        Self::of(project, session_id, "connectionCreated", None, info)
    }

    /// `connectionDestroyed` of `info`, which left for `reason`.
    pub fn destroyed(
        project: &str,
        session_id: &str,
        info: &ConnectionInfo,
        reason: DisconnectReason,
    ) -> Self {
        let why = match reason {
            DisconnectReason::ClientDisconnected => "clientDisconnected",
            DisconnectReason::ForceDisconnected => "forceDisconnected",
            // A link that dropped, a server that shut down, a client too
            // slow or broken: OpenTok has one word for "the network".
            _ => "networkDisconnected",
        };
        Self::of(
            project,
            session_id,
            "connectionDestroyed",
            Some(why.into()),
            info,
        )
    }

    /// `signal`: participant `from` sent `signal_type` / `data` to the
    /// application server.
    pub fn signal(
        project: &str,
        session_id: &str,
        from: &ConnectionInfo,
        signal_type: &str,
        data: &str,
    ) -> Self {
        let mut e = Self::of(project, session_id, "signal", None, from);
        e.signal = Some(MonitorSignal {
            signal_type: signal_type.to_string(),
            data: data.to_string(),
        });
        e
    }

    fn of(
        project: &str,
        session_id: &str,
        event: &str,
        reason: Option<String>,
        info: &ConnectionInfo,
    ) -> Self {
        MonitorEvent {
            session_id: session_id.to_string(),
            project_id: project.to_string(),
            event: event.to_string(),
            timestamp: crate::hub::now_ms(),
            reason,
            connection: MonitorConnection {
                id: info.id.clone(),
                created_at: info.created_at_ms,
                data: info.data.clone(),
            },
            signal: None,
        }
    }
}

/// One event on its way to a callback URL, with whom to tell how it went
/// (a signal's sender).
pub struct Queued {
    pub event: Arc<MonitorEvent>,
    pub done: Option<oneshot::Sender<Delivery>>,
}

/// Where one project's events go.
struct ProjectSinks {
    /// To its callback delivery task, if it has a callback URL.
    callback: Option<mpsc::Sender<Queued>>,
    /// To its event streams (nobody listening is fine).
    streams: broadcast::Sender<Arc<MonitorEvent>>,
    /// Open event streams of this project on this node.
    open_streams: Arc<std::sync::atomic::AtomicUsize>,
}

struct Inner {
    projects: HashMap<String, ProjectSinks>,
    metrics: Arc<Metrics>,
    /// In a cluster, events for the streams go through Redis (every node's
    /// streams get every node's events); else straight to `streams`.
    relay: OnceLock<mpsc::Sender<Arc<MonitorEvent>>>,
    /// When the last "queue full" warning was logged, and how many drops
    /// it has not reported yet.
    dropped_warning: Mutex<(Option<Instant>, u64)>,
}

/// The handle the hub reports membership changes to (cheap to clone).
#[derive(Clone)]
pub struct Monitor(Arc<Inner>);

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("projects", &self.0.projects.len())
            .finish()
    }
}

impl Monitor {
    /// Sets up the sinks of every configured project and spawns a callback
    /// delivery task for each project with a callback URL (on the current
    /// tokio runtime; they end when the monitor is dropped and their queue
    /// is empty).
    pub fn start(config: &Config, metrics: Arc<Metrics>) -> Monitor {
        let client = webhook::client();
        let mut projects = HashMap::new();
        for p in &config.projects {
            let callback = config
                .callbacks
                .iter()
                .find(|c| c.api_key == p.api_key)
                .and_then(|c| {
                    // A Vonage application has no API secret: its callback
                    // needs one of its own (Config::validate insists).
                    let Some(secret) = c.secret.clone().or_else(|| p.secret().map(str::to_string))
                    else {
                        tracing::warn!(
                            project = %p.api_key,
                            "callback URL ignored: a Vonage application's callback needs a secret"
                        );
                        return None;
                    };
                    let (tx, rx) = mpsc::channel(CALLBACK_QUEUE_EVENTS);
                    let target = webhook::Target {
                        project: p.api_key.clone(),
                        url: c.url.clone(),
                        secret,
                    };
                    tokio::spawn(webhook::deliver(
                        rx,
                        target,
                        client.clone(),
                        Arc::clone(&metrics),
                    ));
                    Some(tx)
                });
            let (streams, _) = broadcast::channel(EVENT_STREAM_BUFFER);
            projects.insert(
                p.api_key.clone(),
                ProjectSinks {
                    callback,
                    streams,
                    open_streams: Default::default(),
                },
            );
        }
        Monitor(Arc::new(Inner {
            projects,
            metrics,
            relay: OnceLock::new(),
            dropped_warning: Mutex::new((None, 0)),
        }))
    }

    /// Sends the stream copies of events to `relay` (the cluster's Redis
    /// channel) instead of this node's streams; what comes back from it goes
    /// to [`Monitor::to_streams`]. Set once, when the cluster starts.
    pub fn set_relay(&self, relay: mpsc::Sender<Arc<MonitorEvent>>) {
        let _ = self.0.relay.set(relay);
    }

    /// Reports `event`: queues it for the project's callback URL and its
    /// event streams. Never blocks (see the module docs).
    pub fn emit(&self, event: MonitorEvent) {
        let _ = self.send(event, None);
    }

    /// Reports a participant's signal to the application server (a
    /// [`MonitorEvent::signal`]); the receiver resolves once it is known
    /// whether the application server has it: its callback URL's answer
    /// when it has one, else whether an event stream took it. Never blocks.
    pub fn emit_signal(&self, event: MonitorEvent) -> oneshot::Receiver<Delivery> {
        let (tx, rx) = oneshot::channel();
        if let Some(tx) = self.send(event, Some(tx)) {
            let _ = tx.send(Err((
                ErrorCode::SignalTargetNotConnected,
                "the project is not configured on this server".into(),
            )));
        }
        rx
    }

    /// Queues `event` for the callback URL and the streams. `done` is told
    /// the outcome (by the delivery task, or here); it is handed back when
    /// the project is unknown.
    fn send(
        &self,
        event: MonitorEvent,
        mut done: Option<oneshot::Sender<Delivery>>,
    ) -> Option<oneshot::Sender<Delivery>> {
        let Some(sinks) = self.0.projects.get(&event.project_id) else {
            return done;
        };
        let event = Arc::new(event);
        if let Some(tx) = &sinks.callback {
            let queued = Queued {
                event: Arc::clone(&event),
                done: done.take(),
            };
            match tx.try_send(queued) {
                Ok(()) => self.0.metrics.callback_queued(),
                Err(e) => {
                    self.dropped(&event);
                    if let Some(d) = e.into_inner().done {
                        let _ = d.send(Err((
                            ErrorCode::BufferFull,
                            format!(
                                "the application server's callback queue is full \
                                 ({CALLBACK_QUEUE_EVENTS} events)"
                            ),
                        )));
                    }
                }
            }
        }
        let streamed = match self.0.relay.get() {
            // The relay's queue is as long as a stream's buffer; if Redis
            // is that far behind, the streams miss this one. Whether any
            // node has a stream open is not known here: published counts
            // as delivered (docs/rest.md).
            Some(relay) => relay.try_send(event).is_ok(),
            None => self.to_streams(event) > 0,
        };
        if let Some(d) = done {
            // No callback URL: the streams are the only way.
            let _ = d.send(if streamed {
                Ok(())
            } else {
                Err((
                    ErrorCode::SignalTargetNotConnected,
                    "the application server is not listening: the project has no callback \
                     URL and no event stream open"
                        .into(),
                ))
            });
        }
        None
    }

    /// Hands an event to this node's event streams of its project; how many
    /// took it.
    pub fn to_streams(&self, event: Arc<MonitorEvent>) -> usize {
        match self.0.projects.get(&event.project_id) {
            Some(sinks) => sinks.streams.send(event).unwrap_or(0),
            None => 0,
        }
    }

    /// A new event stream of `project`, unless it has
    /// [`protocol::limits::MAX_EVENT_STREAMS_PER_PROJECT`] open already.
    pub fn subscribe(&self, project: &str) -> Option<stream::Subscription> {
        let sinks = self.0.projects.get(project)?;
        stream::Subscription::open(sinks.streams.subscribe(), Arc::clone(&sinks.open_streams))
    }

    fn dropped(&self, event: &MonitorEvent) {
        self.0.metrics.callback_result(webhook::Outcome::Dropped);
        let mut w = match self.0.dropped_warning.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        w.1 += 1;
        let now = Instant::now();
        if w.0.is_none_or(|t| now.duration_since(t).as_secs() >= 1) {
            tracing::warn!(
                project = %event.project_id,
                dropped = w.1,
                "session-monitoring callback queue full ({CALLBACK_QUEUE_EVENTS} events): \
                 events dropped; is the callback URL answering?"
            );
            *w = (Some(now), 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ConnectionInfo {
        ConnectionInfo {
            id: "c1".into(),
            created_at_ms: 1_700_000_000_000,
            data: "name=ann".into(),
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let metrics = Arc::new(Metrics::new());
        let (tx, mut rx) = mpsc::channel::<Queued>(2);
        let (streams, mut listening) = broadcast::channel(8);
        let mut projects = HashMap::new();
        projects.insert(
            "p".to_string(),
            ProjectSinks {
                callback: Some(tx),
                streams,
                open_streams: Default::default(),
            },
        );
        let m = Monitor(Arc::new(Inner {
            projects,
            metrics: Arc::clone(&metrics),
            relay: OnceLock::new(),
            dropped_warning: Mutex::new((None, 0)),
        }));
        for i in 0..5 {
            let mut c = info();
            c.id = format!("c{i}");
            m.emit(MonitorEvent::created("p", "s", &c));
        }
        // Another project's events, and unknown ones, go nowhere.
        m.emit(MonitorEvent::created("other", "s", &info()));
        assert_eq!(
            rx.try_recv().map(|q| q.event.connection.id.clone()).ok(),
            Some("c0".into())
        );
        assert_eq!(
            rx.try_recv().map(|q| q.event.connection.id.clone()).ok(),
            Some("c1".into())
        );
        assert!(rx.try_recv().is_err(), "the rest was dropped");
        let text = metrics
            .render(crate::metrics::Sampled {
                sessions: 0,
                pending: 0,
                ready: true,
            })
            .expect("render");
        assert!(
            text.contains("otc_callbacks_total{result=\"dropped\"} 3"),
            "{text}"
        );
        // The streams got all five: they have their own buffer.
        let streamed: Vec<String> = std::iter::from_fn(|| listening.try_recv().ok())
            .map(|e| e.connection.id.clone())
            .collect();
        assert_eq!(streamed, ["c0", "c1", "c2", "c3", "c4"]);
    }

    #[test]
    fn events_have_opentoks_shape() {
        let e = MonitorEvent::destroyed("123", "s1", &info(), DisconnectReason::SlowConsumer);
        let v: serde_json::Value = serde_json::to_value(&e).expect("json");
        assert_eq!(v["sessionId"], "s1");
        assert_eq!(v["projectId"], "123");
        assert_eq!(v["event"], "connectionDestroyed");
        assert_eq!(v["reason"], "networkDisconnected");
        assert_eq!(v["connection"]["id"], "c1");
        assert_eq!(v["connection"]["createdAt"], 1_700_000_000_000i64);
        assert_eq!(v["connection"]["data"], "name=ann");
        assert!(v["timestamp"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000_000));
        let c = serde_json::to_value(MonitorEvent::created("123", "s1", &info())).expect("json");
        assert_eq!(c["event"], "connectionCreated");
        assert!(c.get("reason").is_none(), "{c}");
        for (r, want) in [
            (DisconnectReason::ClientDisconnected, "clientDisconnected"),
            (DisconnectReason::ForceDisconnected, "forceDisconnected"),
            (DisconnectReason::NetworkDisconnected, "networkDisconnected"),
        ] {
            let e = MonitorEvent::destroyed("1", "s", &info(), r);
            assert_eq!(e.reason.as_deref(), Some(want));
        }
    }
}
