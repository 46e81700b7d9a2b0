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
//! once; the owner check makes the second removal a no-op. A node taken
//! for dead that is alive after all (it was cut off from Redis, or too busy
//! for a while) clears the marks on its own members at its next audit
//! (`Store::owners`), so a later real death gets the full grace again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::store::{Left, Store, StoreError};
use super::ClusterHub;
use crate::hub::node::Departure;

/// How often a node refreshes its liveness key.
pub const HEARTBEAT: Duration = Duration::from_millis(500);
/// How long a liveness key lives without a refresh: after that the node is
/// taken for dead.
pub const ALIVE_TTL: Duration = Duration::from_millis(2000);
/// How often settled positions (acknowledgements) are written back.
pub const ACK_FLUSH: Duration = Duration::from_millis(250);
/// How often dead nodes are looked for.
pub const REAP: Duration = Duration::from_millis(500);
/// How often this node checks that the shared state still holds its
/// members as its own (it may not after Redis restarted without its data,
/// or when a takeover notice was missed).
pub const AUDIT: Duration = Duration::from_secs(2);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Refreshes this node's liveness key every [`HEARTBEAT`] until `stop`.
///
/// A task of its own: the other duties scan every session here and may
/// take a while on a busy node (tens of thousands of members); behind them
/// the heartbeat could miss [`ALIVE_TTL`], and the other nodes would take
/// a live node for dead and start reaping its connections.
pub async fn heartbeat(hub: Arc<ClusterHub>, stop: CancellationToken) {
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = beat.tick() => {
                let ok = hub.store.heartbeat(&hub.node, ALIVE_TTL).await;
                hub.set_reachable(ok.is_ok());
            }
        }
    }
}

/// Runs the reaper, the audit and the ack writer until `stop`.
pub async fn run(hub: Arc<ClusterHub>, stop: CancellationToken) {
    let mut flush = tokio::time::interval(ACK_FLUSH);
    let mut reap = tokio::time::interval(REAP);
    let mut audit = tokio::time::interval(AUDIT);
    // Members found missing once; closed when still missing the next time
    // (a departure in flight is not a loss).
    let mut suspects: HashSet<(String, String)> = HashSet::new();
    let mut written = PendingAcks::new();
    for t in [&mut flush, &mut reap, &mut audit] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = flush.tick() => flush_acks(&hub, &mut written).await,
            _ = reap.tick() => {
                if let Err(e) = reap_dead(&hub).await {
                    tracing::debug!("reaper: {e}");
                }
            }
            _ = audit.tick() => {
                if let Err(e) = audit_members(&hub, &mut suspects).await {
                    tracing::debug!("audit: {e}");
                }
            }
        }
    }
}

/// Writes back how far each member here is settled (see
/// `LocalHub::settled`), only what changed since the last write, so the log
/// can be trimmed below the lowest and a resume elsewhere starts right.
async fn flush_acks(hub: &ClusterHub, written: &mut PendingAcks) {
    let sessions = hub.local.session_ids();
    written.retain(|s, _| sessions.contains(s));
    for s in sessions {
        let now: HashMap<String, u64> = hub.local.settled(&s).into_iter().collect();
        let before = written.get(&s);
        let changed: Vec<(String, u64)> = now
            .iter()
            .filter(|(c, n)| before.and_then(|b| b.get(*c)) != Some(*n))
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        if changed.is_empty() {
            written.insert(s, now);
            continue;
        }
        match hub.store.ack(&s, &changed).await {
            Ok(()) => {
                written.insert(s, now);
            }
            Err(e) => tracing::debug!(session = %s, "settled positions not written yet: {e}"),
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

/// Compares this node's members with the shared state: one the state no
/// longer holds (twice in a row) is closed; one another node owns now was
/// taken over (the notice was missed) and is let go.
async fn audit_members(
    hub: &ClusterHub,
    suspects: &mut HashSet<(String, String)>,
) -> Result<(), StoreError> {
    let mut still = HashSet::new();
    for s in hub.local.session_ids() {
        let members = hub.local.local_members(&s);
        let ids: Vec<String> = members.iter().map(|(id, _)| id.clone()).collect();
        let owners = hub.store.owners(&s, &ids).await?;
        for ((id, gen), owner) in members.iter().zip(owners) {
            match owner {
                None => {
                    let key = (s.clone(), id.clone());
                    if suspects.contains(&key) {
                        hub.local.forgotten(&s, id);
                    } else {
                        still.insert(key);
                    }
                }
                Some(o) if o != Store::owner(&hub.node, *gen) => {
                    let taken = o
                        .rsplit_once('|')
                        .and_then(|(_, g)| g.parse::<u64>().ok())
                        .unwrap_or(u64::MAX);
                    hub.local.taken_over(&s, id, taken);
                }
                Some(_) => {}
            }
        }
    }
    *suspects = still;
    // Sessions noted under this node's name that it no longer takes part
    // in are dropped from the note (the reaper reads it if this node dies).
    for s in hub.store.node_sessions(&hub.node).await? {
        if hub.local.cursor(&s).is_none()
            && !hub.is_pinned(&s)
            && !hub.store.owns_any(&s, &hub.node).await?
        {
            hub.store.forget_node_session(&hub.node, Some(&s)).await?;
            // A join that started meanwhile noted it again before its
            // script: put the note back.
            if hub.is_pinned(&s) || hub.local.cursor(&s).is_some() {
                hub.store.note_session(&hub.node, &s).await?;
            }
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

/// Settled positions last written: session → connection → seq.
type PendingAcks = HashMap<String, HashMap<String, u64>>;
