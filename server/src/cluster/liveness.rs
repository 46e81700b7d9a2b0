//! The node's background duties in a cluster: its heartbeat, the reaper
//! of dead nodes' connections, acknowledgements written back (so the log
//! can be trimmed), and local departures written to the log.
//!
//! # Dead nodes
//!
//! A node refreshes `otc:node:{id}:alive` every [`HEARTBEAT`], with an
//! expiry of [`ALIVE_TTL`]. Every node also reaps: for each announced node
//! whose key has expired, each of its sessions is scanned (the reap
//! script): a connection it still owns is marked orphaned when first seen,
//! and removed with `network_disconnected` once the reconnect grace has
//! passed since, unless it was resumed elsewhere meanwhile (resuming takes
//! ownership, and the removal checks the owner). Several nodes may reap at
//! once; the owner check makes the second removal a no-op.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::store::{Left, Store, StoreError};
use super::ClusterHub;
use crate::hub::local::Departure;

/// How often a node refreshes its liveness key.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// How long a liveness key lives without a refresh: after that the node is
/// taken for dead.
pub const ALIVE_TTL: Duration = Duration::from_millis(2000);
/// How often acknowledgements are written back.
pub const ACK_FLUSH: Duration = Duration::from_millis(200);
/// How often dead nodes are looked for.
pub const REAP: Duration = Duration::from_millis(500);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs the heartbeat, the reaper and the ack writer until `stop`.
pub async fn run(hub: Arc<ClusterHub>, stop: CancellationToken) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    let mut flush = tokio::time::interval(ACK_FLUSH);
    let mut reap = tokio::time::interval(REAP);
    for t in [&mut beat, &mut flush, &mut reap] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = beat.tick() => {
                let ok = hub.store.heartbeat(&hub.node, ALIVE_TTL).await;
                hub.set_reachable(ok.is_ok());
            }
            _ = flush.tick() => flush_acks(&hub).await,
            _ = reap.tick() => {
                if let Err(e) = reap_dead(&hub).await {
                    tracing::debug!("reaper: {e}");
                }
            }
        }
    }
}

async fn flush_acks(hub: &ClusterHub) {
    let pending = hub.take_acks();
    for (session, acks) in pending {
        let list: Vec<(String, u64)> = acks.into_iter().collect();
        if let Err(e) = hub.store.ack(&session, &list).await {
            tracing::debug!(session = %session, "acknowledgements not written yet: {e}");
            hub.return_acks(&session, list);
        }
    }
}

async fn reap_dead(hub: &ClusterHub) -> Result<(), StoreError> {
    let grace = hub.limits.reconnect_grace;
    for (node, alive) in hub.store.nodes().await? {
        if alive || node == hub.node {
            continue;
        }
        let sessions = hub.store.node_sessions(&node).await?;
        let mut owns_any = false;
        for s in &sessions {
            let (left, expired) = hub.store.reap(s, &node, now_ms(), grace).await?;
            for (conn, owner) in &expired {
                let gone = hub
                    .store
                    .leave(
                        s,
                        conn,
                        Some(owner),
                        protocol::messages::DisconnectReason::NetworkDisconnected,
                        None,
                    )
                    .await?;
                if gone != Left::NotOwner {
                    tracing::info!(session = %s, connection = %conn, dead_node = %node, "not resumed in time after its node died");
                }
            }
            if left > expired.len() as u64 {
                owns_any = true;
            } else {
                hub.store.forget_node_session(&node, Some(s)).await?;
            }
        }
        if !owns_any {
            tracing::info!(dead_node = %node, "a dead node has no connections left");
            hub.store.forget_node_session(&node, None).await?;
        }
    }
    Ok(())
}

/// Writes local departures to the log, in order, retrying while Redis is
/// unreachable (a departure is never dropped: until it is written the
/// others still see the member, and the owner check keeps a late write
/// from removing a connection resumed elsewhere).
pub async fn departures(
    hub: Arc<ClusterHub>,
    mut rx: mpsc::UnboundedReceiver<Departure>,
    stop: CancellationToken,
) {
    while let Some(d) = tokio::select! {
        _ = stop.cancelled() => None,
        d = rx.recv() => d,
    } {
        let owner = Store::owner(&hub.node, d.owner_gen);
        let mut wait = Duration::from_millis(50);
        loop {
            match hub
                .store
                .leave(
                    &d.session_id,
                    &d.connection_id,
                    Some(&owner),
                    d.reason,
                    None,
                )
                .await
            {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(session = %d.session_id, connection = %d.connection_id, "departure not written yet: {e}");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// Acks waiting to be written: session → connection → highest seq.
pub type PendingAcks = HashMap<String, HashMap<String, u64>>;
