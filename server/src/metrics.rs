//! What the server counts, for `/metrics` (Prometheus / OpenMetrics text).
//!
//! # Cheap on the hot path
//!
//! Every metric the routing path touches is created up front and held
//! here as a handle on its atomic: counting a signal, a delivery or a
//! refusal is one relaxed atomic add, with no lock, no label lookup and no
//! allocation. A label value a counter can take on that path (an error
//! code, a source, a reason) is a fixed set, so each of its counters exists
//! from the start (and shows as 0 until it moves, which also makes rates
//! well defined from the first scrape). The hub counts a fan-out once per
//! signal (the number of recipients), not once per recipient.
//!
//! The routing latency histogram is this module's own [`LatencyHistogram`]:
//! `prometheus-client`'s histogram takes a lock per observation, this one
//! is an array of atomic buckets.
//!
//! Only the REST request counter looks its labels up per request (a read
//! lock and a small allocation): REST calls are not the signal path.
//!
//! Values that are cheaper to read than to track (sessions, connections
//! not yet authenticated) are read when `/metrics` is scraped.
//!
//! The full list, with types and labels, is in `server/README.md`
//! (section *Metrics*).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use protocol::messages::DisconnectReason;
use protocol::ErrorCode;

/// The `Content-Type` of the `/metrics` answer.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where a signal came from: a participant, or the application server (REST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Client,
    Rest,
}

impl Source {
    const ALL: [Source; 2] = [Source::Client, Source::Rest];

    fn as_str(self) -> &'static str {
        match self {
            Source::Client => "client",
            Source::Rest => "rest",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    source: &'static str,
    code: i32,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

/// Every reason a connection leaves its session, in a fixed order.
const REASONS: [DisconnectReason; 7] = DisconnectReason::ALL;

fn reason_index(r: DisconnectReason) -> usize {
    match r {
        DisconnectReason::ClientDisconnected => 0,
        DisconnectReason::NetworkDisconnected => 1,
        DisconnectReason::ForceDisconnected => 2,
        DisconnectReason::ServerShutdown => 3,
        DisconnectReason::SlowConsumer => 4,
        DisconnectReason::ReplayOverflow => 5,
        DisconnectReason::ProtocolViolation => 6,
    }
}

/// Why the hub evicts a member (a subset of [`DisconnectReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionReason {
    SlowConsumer,
    ReplayOverflow,
}

/// Upper bounds of the routing latency buckets, in seconds: from tens of
/// microseconds (an uncontended route) up to past `sender_share_wait`
/// (a signal held back by its recipients' pace).
pub const LATENCY_BUCKETS: [f64; 17] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A histogram of durations on atomic buckets (see the module docs).
/// Observing is a scan of [`LATENCY_BUCKETS`] and two relaxed atomic adds.
/// Clones share the buckets.
#[derive(Debug, Clone)]
pub struct LatencyHistogram(std::sync::Arc<Buckets>);

#[derive(Debug)]
struct Buckets {
    bounds_ns: [u64; LATENCY_BUCKETS.len()],
    /// One more than the bounds: the last is `+Inf`.
    counts: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram(std::sync::Arc::new(Buckets {
            bounds_ns: LATENCY_BUCKETS.map(|s| (s * 1e9).round() as u64),
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_ns: AtomicU64::new(0),
        }))
    }
}

impl LatencyHistogram {
    pub fn observe(&self, d: Duration) {
        let h = &self.0;
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = h
            .bounds_ns
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(h.bounds_ns.len());
        h.counts[i].fetch_add(1, Ordering::Relaxed);
        h.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.0
            .counts
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum()
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // The count is the sum of the buckets as read, so `+Inf` always
        // equals `_count` even while observations land mid-scrape.
        let h = &self.0;
        let mut buckets: Vec<(f64, u64)> = Vec::with_capacity(h.counts.len());
        for (i, b) in h.counts.iter().enumerate() {
            let bound = LATENCY_BUCKETS.get(i).copied().unwrap_or(f64::MAX);
            buckets.push((bound, b.load(Ordering::Relaxed)));
        }
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = h.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Per-source counters of one signal metric.
#[derive(Debug)]
struct BySource([Counter; 2]);

impl BySource {
    fn register(family: &Family<SourceLabel, Counter>) -> Self {
        BySource(
            Source::ALL.map(|s| family.get_or_create_owned(&SourceLabel { source: s.as_str() })),
        )
    }

    fn get(&self, s: Source) -> &Counter {
        &self.0[s.index()]
    }
}

/// Everything the server counts (see the module docs). One per hub.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Members of sessions, those waiting for a resume included.
    connections: Gauge,
    /// Open WebSocket links, authenticated or not.
    links: Gauge,
    sessions: Gauge,
    pending: Gauge,
    ready: Gauge,
    received: BySource,
    routed: BySource,
    delivered: BySource,
    refused: [Vec<(ErrorCode, Counter)>; 2],
    repeated: Counter,
    evictions: [Counter; 2],
    left: [Counter; REASONS.len()],
    connects: [Counter; 2],
    resumes: [Counter; 2],
    replay_bytes: Gauge,
    replay_frames: Gauge,
    routing: LatencyHistogram,
    http: Family<HttpLabels, Counter>,
    callbacks: [Counter; 3],
    callback_attempts: Counter,
    callback_queue: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("otc");
        r.register(
            "build",
            "Version of this otc-server",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        let ready = Gauge::default();
        r.register(
            "ready",
            "1 while the server accepts connections, 0 once it drains for shutdown",
            ready.clone(),
        );
        let connections = Gauge::default();
        r.register(
            "connections",
            "Connections in sessions (those waiting for a resume included)",
            connections.clone(),
        );
        let links = Gauge::default();
        r.register(
            "websocket_links",
            "Open WebSocket links, authenticated or not",
            links.clone(),
        );
        let pending = Gauge::default();
        r.register(
            "pending_connections",
            "TCP connections not yet authenticated (HTTP ones included)",
            pending.clone(),
        );
        let sessions = Gauge::default();
        r.register("sessions", "Sessions the hub holds", sessions.clone());

        let family = |r: &mut Registry, name: &str, help: &str| {
            let f = Family::<SourceLabel, Counter>::default();
            r.register(name, help, f.clone());
            BySource::register(&f)
        };
        let received = family(
            &mut r,
            "signals_received",
            "Signals the hub processed: each is then routed, refused or repeated",
        );
        let routed = family(
            &mut r,
            "signals_routed",
            "Signals accepted and queued to all their recipients",
        );
        let delivered = family(
            &mut r,
            "signals_delivered",
            "Signal copies queued to recipients (a broadcast to n connections counts n)",
        );
        let refused_family = Family::<RefusedLabels, Counter>::default();
        r.register(
            "signals_refused",
            "Signals refused, by the error code the sender got",
            refused_family.clone(),
        );
        let refused = Source::ALL.map(|s| {
            ErrorCode::ALL
                .iter()
                .filter(|c| is_signal_refusal(s, **c))
                .map(|&code| {
                    let labels = RefusedLabels {
                        source: s.as_str(),
                        code: code.as_i32(),
                    };
                    (code, refused_family.get_or_create_owned(&labels))
                })
                .collect::<Vec<_>>()
        });
        let repeated = Counter::default();
        r.register(
            "signals_repeated",
            "Client signals sent again after a resume: answered again, not routed again",
            repeated.clone(),
        );

        let reasons = Family::<ReasonLabel, Counter>::default();
        r.register(
            "evictions",
            "Connections the server ended because they could not keep up, by reason",
            reasons.clone(),
        );
        let evictions = [
            DisconnectReason::SlowConsumer,
            DisconnectReason::ReplayOverflow,
        ]
        .map(|d| reasons.get_or_create_owned(&ReasonLabel { reason: d.as_str() }));
        let left_family = Family::<ReasonLabel, Counter>::default();
        r.register(
            "connections_left",
            "Connections that left their session, by reason",
            left_family.clone(),
        );
        let left =
            REASONS.map(|d| left_family.get_or_create_owned(&ReasonLabel { reason: d.as_str() }));
        let results = |r: &mut Registry, name: &str, help: &str| {
            let f = Family::<ResultLabel, Counter>::default();
            r.register(name, help, f.clone());
            ["ok", "refused"].map(|result| f.get_or_create_owned(&ResultLabel { result }))
        };
        let connects = results(
            &mut r,
            "connects",
            "WebSocket connect handshakes, accepted or refused",
        );
        let resumes = results(
            &mut r,
            "resumes",
            "WebSocket resume handshakes, accepted or refused",
        );

        let replay_bytes = Gauge::default();
        r.register(
            "replay_buffered_bytes",
            "Bytes of events waiting for acknowledgement in all replay buffers",
            replay_bytes.clone(),
        );
        let replay_frames = Gauge::default();
        r.register(
            "replay_buffered_frames",
            "Events waiting for acknowledgement in all replay buffers",
            replay_frames.clone(),
        );
        let routing = LatencyHistogram::default();
        r.register(
            "signal_routing_seconds",
            "Time from reading a client signal to having queued it to all its recipients",
            routing.clone(),
        );
        let http = Family::<HttpLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests (REST, WebSocket upgrades, health, metrics) by route template and status",
            http.clone(),
        );
        let callback_family = Family::<ResultLabel, Counter>::default();
        r.register(
            "callbacks",
            "Session-monitoring events for callback URLs: delivered (2xx), failed (refused, or every attempt failed) or dropped (the project's queue was full)",
            callback_family.clone(),
        );
        let callbacks = crate::monitor::webhook::Outcome::ALL
            .map(|o| callback_family.get_or_create_owned(&ResultLabel { result: o.as_str() }));
        let callback_attempts = Counter::default();
        r.register(
            "callback_attempts",
            "POSTs to callback URLs, retries included",
            callback_attempts.clone(),
        );
        let callback_queue = Gauge::default();
        r.register(
            "callback_queued_events",
            "Session-monitoring events waiting to be POSTed, all projects together",
            callback_queue.clone(),
        );
        Metrics {
            callbacks,
            callback_attempts,
            callback_queue,
            registry: r,
            connections,
            links,
            sessions,
            pending,
            ready,
            received,
            routed,
            delivered,
            refused,
            repeated,
            evictions,
            left,
            connects,
            resumes,
            replay_bytes,
            replay_frames,
            routing,
            http,
        }
    }

    /// An event was queued for a callback URL.
    pub fn callback_queued(&self) {
        self.callback_queue.inc();
    }

    /// A delivery task took an event from its queue.
    pub fn callback_dequeued(&self) {
        self.callback_queue.dec();
    }

    /// A POST to a callback URL is about to be made.
    pub fn callback_attempt(&self) {
        self.callback_attempts.inc();
    }

    /// How one event's callback ended.
    pub fn callback_result(&self, o: crate::monitor::webhook::Outcome) {
        let i = crate::monitor::webhook::Outcome::ALL
            .iter()
            .position(|x| *x == o)
            .unwrap_or(0);
        self.callbacks[i].inc();
    }

    /// A signal reached the hub.
    pub fn signal_received(&self, s: Source) {
        self.received.get(s).inc();
    }

    /// A signal was routed to `recipients` connections.
    pub fn signal_routed(&self, s: Source, recipients: usize) {
        self.routed.get(s).inc();
        self.delivered.get(s).inc_by(recipients as u64);
    }

    /// A signal was refused with `code`.
    pub fn signal_refused(&self, s: Source, code: ErrorCode) {
        if let Some((_, c)) = self.refused[s.index()].iter().find(|(k, _)| *k == code) {
            c.inc();
        }
    }

    /// A client signal was answered again after a resume.
    pub fn signal_repeated(&self) {
        self.repeated.inc();
    }

    /// Time from a client signal's receipt to its routing.
    pub fn routing_latency(&self, d: Duration) {
        self.routing.observe(d);
    }

    /// The routing latency histogram (for tests).
    pub fn routing_histogram(&self) -> &LatencyHistogram {
        &self.routing
    }

    pub fn evicted(&self, why: EvictionReason) {
        self.evictions[why as usize].inc();
    }

    /// `n` members left their session for `reason`.
    pub fn left(&self, reason: DisconnectReason, n: usize) {
        self.left[reason_index(reason)].inc_by(n as u64);
        self.connections.dec_by(n as i64);
    }

    /// A WebSocket link opened; it counts until the guard is dropped.
    pub fn link_opened(self: &std::sync::Arc<Self>) -> LinkGuard {
        self.links.inc();
        LinkGuard(std::sync::Arc::clone(self))
    }

    /// A member joined a session.
    pub fn joined(&self) {
        self.connections.inc();
    }

    pub fn connect(&self, ok: bool) {
        self.connects[usize::from(!ok)].inc();
    }

    pub fn resume(&self, ok: bool) {
        self.resumes[usize::from(!ok)].inc();
    }

    /// Counts one HTTP request (`route`: the route template, or a fixed
    /// word for requests no route matched).
    pub fn http_request(&self, method: &str, route: &str, status: u16) {
        self.http
            .get_or_create(&HttpLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
    }

    /// Replay buffers grew by `frames` events of `bytes` in all.
    pub fn buffered(&self, frames: usize, bytes: usize) {
        self.replay_frames.inc_by(frames as i64);
        self.replay_bytes.inc_by(bytes as i64);
    }

    /// Replay buffers gave back `frames` events of `bytes` in all.
    pub fn released(&self, frames: usize, bytes: usize) {
        self.replay_frames.dec_by(frames as i64);
        self.replay_bytes.dec_by(bytes as i64);
    }

    /// The text answer of `/metrics`, with the values read at scrape time.
    pub fn render(&self, sampled: Sampled) -> Result<String, std::fmt::Error> {
        self.sessions.set(sampled.sessions as i64);
        self.pending.set(sampled.pending as i64);
        self.ready.set(i64::from(sampled.ready));
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Counts one open WebSocket link in `otc_websocket_links` while it lives.
#[derive(Debug)]
pub struct LinkGuard(std::sync::Arc<Metrics>);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        self.0.links.dec();
    }
}

/// Values read when `/metrics` is scraped.
#[derive(Debug, Clone, Copy)]
pub struct Sampled {
    pub sessions: usize,
    pub pending: usize,
    pub ready: bool,
}

/// Can a signal from `source` be refused with `code`? (The label sets of
/// `otc_signals_refused_total`.)
fn is_signal_refusal(source: Source, code: ErrorCode) -> bool {
    use ErrorCode as E;
    let common = matches!(
        code,
        E::NullOrInvalidParameter
            | E::SignalDataTooLong
            | E::SignalTypeTooLong
            | E::InvalidSignalType
            | E::SignalTargetNotConnected
    );
    common
        || match source {
            Source::Client => matches!(
                code,
                E::PermissionDenied | E::RateLimited | E::BufferFull | E::ProtocolError
            ),
            // Nobody connected to the session, or another project's.
            Source::Rest => code == E::InvalidSession,
        }
}
