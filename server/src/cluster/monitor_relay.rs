//! Event streams across the cluster: every node publishes the monitoring
//! events it emits on one Redis channel and hands what it hears there to
//! its own event streams, so an application server holding a stream open
//! on any node hears the joins and departures of every node.
//!
//! Callbacks do not go this way: the node that emitted an event POSTs it
//! (see [`crate::monitor`]). Pub/sub is at-most-once: a node cut off from
//! Redis misses what was published meanwhile, and its streams with it (a
//! reader that must not miss anything uses callbacks, which are retried).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::store::CALL_TIMEOUT;
use crate::monitor::{Monitor, MonitorEvent};

/// The channel of every node's monitoring events.
pub const CHANNEL: &str = "otc:monitor";

/// Publishes what `rx` gets and delivers what the channel carries, until
/// `stop`.
pub async fn run(
    client: redis::Client,
    rx: mpsc::Receiver<Arc<MonitorEvent>>,
    monitor: Monitor,
    stop: CancellationToken,
) {
    tokio::spawn(publish(client.clone(), rx, stop.clone()));
    let mut backoff = Duration::from_millis(50);
    while !stop.is_cancelled() {
        let pubsub = tokio::select! {
            _ = stop.cancelled() => return,
            p = tokio::time::timeout(CALL_TIMEOUT, client.get_async_pubsub()) => p,
        };
        let mut pubsub = match pubsub {
            Ok(Ok(p)) => p,
            _ => {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        if pubsub.subscribe(CHANNEL).await.is_err() {
            continue;
        }
        backoff = Duration::from_millis(50);
        let mut messages = pubsub.on_message();
        loop {
            let msg = tokio::select! {
                _ = stop.cancelled() => return,
                m = messages.next() => m,
            };
            let Some(msg) = msg else { break };
            let Ok(payload) = msg.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<MonitorEvent>(&payload) {
                Ok(ev) => {
                    monitor.to_streams(Arc::new(ev));
                }
                Err(e) => tracing::debug!("cluster: unreadable monitoring event: {e}"),
            }
        }
        tracing::warn!("cluster: the monitoring channel lost its Redis connection; reconnecting");
    }
}

async fn publish(
    client: redis::Client,
    mut rx: mpsc::Receiver<Arc<MonitorEvent>>,
    stop: CancellationToken,
) {
    let mut conn = None;
    loop {
        let ev = tokio::select! {
            _ = stop.cancelled() => return,
            ev = rx.recv() => ev,
        };
        let Some(ev) = ev else { return };
        let Ok(payload) = serde_json::to_string(&*ev) else {
            continue;
        };
        // One try, and one more on a fresh connection: the streams are
        // best effort (see the module docs); a lost event is not retried
        // behind newer ones.
        for _ in 0..2 {
            if conn.is_none() {
                conn =
                    tokio::time::timeout(CALL_TIMEOUT, client.get_multiplexed_async_connection())
                        .await
                        .ok()
                        .and_then(Result::ok);
            }
            let Some(c) = conn.as_mut() else { break };
            let sent: Result<Result<i64, _>, _> =
                tokio::time::timeout(CALL_TIMEOUT, c.publish(CHANNEL, &payload)).await;
            if matches!(sent, Ok(Ok(_))) {
                break;
            }
            conn = None;
        }
    }
}
