//! The node's reader of the shared logs: one Redis pub/sub connection,
//! subscribed to the feed channel of every session with members here.
//!
//! # Why a feed and a log
//!
//! A published message reaches whoever is subscribed at that instant and
//! nobody else, so pub/sub alone would lose events across any gap (a
//! reconnect to Redis, a session this node just started hosting). The log
//! (a stream) keeps every event under its seq; the feed is only the fast
//! path. Each event carries its seq, and this node's cursor per session is
//! the last seq it delivered: an event at `cursor + 1` is delivered, an
//! older one skipped, and a newer one means events were missed, which are
//! read from the log first. After a reconnect every session is caught up
//! from the log the same way. So an event is delivered once, in seq order,
//! whatever pub/sub lost.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::entry::{parse_feed, FeedMessage};
use super::keys::{feed_channel, session_of_channel};
use super::store::{Store, StoreError, CALL_TIMEOUT};
use crate::hub::node::Event;
use crate::hub::LocalHub;

/// How often subscriptions of sessions no longer here are dropped, and
/// sessions whose catching up failed are tried again.
const SWEEP: Duration = Duration::from_secs(1);

/// Sessions a join or resume is in the middle of attaching: their
/// subscription must not be dropped though nobody is attached yet.
#[derive(Default)]
pub struct Pins(Mutex<HashMap<String, usize>>);

/// Holds a session pinned until dropped.
pub struct Pin {
    pins: Arc<Pins>,
    session_id: String,
}

impl Pins {
    pub fn pin(self: &Arc<Self>, session_id: &str) -> Pin {
        *lock(&self.0).entry(session_id.to_string()).or_insert(0) += 1;
        Pin {
            pins: Arc::clone(self),
            session_id: session_id.to_string(),
        }
    }

    pub fn is_pinned(&self, session_id: &str) -> bool {
        lock(&self.0).contains_key(session_id)
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let mut map = lock(&self.pins.0);
        if let Some(n) = map.get_mut(&self.session_id) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.session_id);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Command {
    Subscribe(String, oneshot::Sender<Result<(), StoreError>>),
}

/// The handle the hub uses.
#[derive(Clone)]
pub struct Feed {
    tx: mpsc::UnboundedSender<Command>,
    connected: Arc<AtomicBool>,
}

impl Feed {
    /// Starts the reader task.
    pub fn spawn(
        client: redis::Client,
        hub: Arc<LocalHub>,
        store: Store,
        pins: Arc<Pins>,
        stop: CancellationToken,
    ) -> Feed {
        let (tx, rx) = mpsc::unbounded_channel();
        let connected = Arc::new(AtomicBool::new(false));
        let reader = Reader {
            client,
            hub,
            store,
            pins,
            subscribed: HashSet::new(),
            lagging: HashSet::new(),
            connected: Arc::clone(&connected),
        };
        tokio::spawn(reader.run(rx, stop));
        Feed { tx, connected }
    }

    /// Returns once this node is subscribed to the session's feed (so
    /// every event appended from now on reaches it).
    pub async fn subscribe(&self, session_id: &str) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Subscribe(session_id.to_string(), reply))
            .map_err(|_| StoreError::Unavailable("the feed reader stopped".into()))?;
        match tokio::time::timeout(CALL_TIMEOUT * 2, answer).await {
            Ok(Ok(r)) => r,
            _ => Err(StoreError::Unavailable(
                "the feed reader did not answer".into(),
            )),
        }
    }

    /// Is the pub/sub connection up?
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }
}

struct Reader {
    client: redis::Client,
    hub: Arc<LocalHub>,
    store: Store,
    pins: Arc<Pins>,
    subscribed: HashSet<String>,
    /// Sessions whose catching up from the log failed (tried again).
    lagging: HashSet<String>,
    connected: Arc<AtomicBool>,
}

impl Reader {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(50);
        while !stop.is_cancelled() {
            let pubsub = tokio::select! {
                _ = stop.cancelled() => return,
                p = tokio::time::timeout(CALL_TIMEOUT, self.client.get_async_pubsub()) => p,
            };
            let Ok(Ok(pubsub)) = pubsub else {
                self.connected.store(false, Ordering::Release);
                // Nobody can be subscribed meanwhile: answer at once.
                while let Ok(Command::Subscribe(_, reply)) = rx.try_recv() {
                    let _ = reply.send(Err(StoreError::Unavailable("cannot reach Redis".into())));
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            };
            backoff = Duration::from_millis(50);
            let (mut sink, mut stream) = pubsub.split();
            let mut ok = true;
            for s in self.subscribed.clone() {
                if sink.subscribe(feed_channel(&s)).await.is_err() {
                    ok = false;
                    break;
                }
            }
            if !ok {
                continue;
            }
            self.connected.store(true, Ordering::Release);
            tracing::info!(sessions = self.subscribed.len(), "cluster feed connected");
            // Whatever was published while disconnected is in the logs.
            self.lagging.extend(self.hub.session_ids());
            self.catch_up().await;
            let mut sweep = tokio::time::interval(SWEEP);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    cmd = rx.recv() => {
                        let Some(Command::Subscribe(s, reply)) = cmd else { return };
                        if self.subscribed.contains(&s) {
                            let _ = reply.send(Ok(()));
                            continue;
                        }
                        match sink.subscribe(feed_channel(&s)).await {
                            Ok(()) => {
                                self.subscribed.insert(s);
                                let _ = reply.send(Ok(()));
                            }
                            Err(e) => {
                                let _ = reply.send(Err(e.into()));
                                break;
                            }
                        }
                    }
                    msg = stream.next() => {
                        let Some(msg) = msg else { break };
                        let channel = msg.get_channel_name().to_string();
                        let Ok(payload) = msg.get_payload::<String>() else { continue };
                        if let Some(s) = session_of_channel(&channel) {
                            self.on_message(s, &payload).await;
                        }
                    }
                    _ = sweep.tick() => {
                        let gone: Vec<String> = self
                            .subscribed
                            .iter()
                            .filter(|s| self.hub.cursor(s).is_none() && !self.pins.is_pinned(s))
                            .cloned()
                            .collect();
                        for s in gone {
                            if sink.unsubscribe(feed_channel(&s)).await.is_ok() {
                                self.subscribed.remove(&s);
                            }
                        }
                        self.catch_up().await;
                    }
                }
            }
            self.connected.store(false, Ordering::Release);
            tracing::warn!("cluster feed lost its Redis connection; reconnecting");
        }
    }

    async fn on_message(&mut self, session_id: &str, payload: &str) {
        match parse_feed(payload) {
            Some(FeedMessage::Event(ev)) => self.deliver(session_id, ev).await,
            Some(FeedMessage::Takeover {
                connection_id,
                owner_gen,
            }) => self.hub.taken_over(session_id, &connection_id, owner_gen),
            None => tracing::warn!(session = session_id, "unreadable cluster feed message"),
        }
    }

    /// Delivers `ev`, reading any events before it this node missed from
    /// the log first.
    async fn deliver(&mut self, session_id: &str, ev: Event) {
        let Some(cursor) = self.hub.cursor(session_id) else {
            return; // nobody here (an attach in progress checks the log itself)
        };
        if ev.seq <= cursor {
            return;
        }
        if ev.seq > cursor + 1 {
            match self.store.range(session_id, cursor, ev.seq - 1).await {
                Ok(missed) => {
                    for m in &missed {
                        self.hub.deliver_event(session_id, m);
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        session = session_id,
                        "cannot read missed events from the log: {e}"
                    );
                    self.lagging.insert(session_id.to_string());
                    return;
                }
            }
        }
        self.hub.deliver_event(session_id, &ev);
    }

    /// Reads from the log what the lagging sessions have not delivered.
    async fn catch_up(&mut self) {
        for s in std::mem::take(&mut self.lagging) {
            let Some(cursor) = self.hub.cursor(&s) else {
                continue;
            };
            match self.store.range(&s, cursor, u64::MAX).await {
                Ok(missed) => {
                    for m in &missed {
                        self.hub.deliver_event(&s, m);
                    }
                }
                Err(e) => {
                    tracing::warn!(session = %s, "cannot catch up from the log: {e}");
                    self.lagging.insert(s);
                }
            }
        }
    }
}
