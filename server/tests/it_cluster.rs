//! The integration suite of `tests/it` again, each server a cluster node
//! (`--redis`) on a real redis-server: one node must behave exactly as the
//! server alone does. (Several nodes at once: `tests/cluster.rs`.)

use std::sync::OnceLock;

#[allow(dead_code)] // shared with tests/cluster.rs
#[path = "support/redis.rs"]
mod redis_server;

#[allow(dead_code)] // shared helpers; not every test uses each one
#[path = "it/client.rs"]
mod client;

#[path = "it/auth.rs"]
mod auth;
#[path = "it/bad_input.rs"]
mod bad_input;
#[path = "it/binary.rs"]
mod binary;
#[path = "it/binary_frames.rs"]
mod binary_frames;
#[path = "it/connect.rs"]
mod connect;
#[path = "it/flow.rs"]
mod flow;
#[path = "it/lifecycle.rs"]
mod lifecycle;
#[path = "it/raw_ws.rs"]
mod raw_ws;
#[path = "it/signals.rs"]
mod signals;
#[path = "it/slow_clients.rs"]
mod slow_clients;

/// One redis-server for the whole suite (sessions never collide: their ids
/// are random), stopped once the test process exits.
fn cluster_redis_url() -> Option<String> {
    static REDIS: OnceLock<redis_server::Redis> = OnceLock::new();
    Some(REDIS.get_or_init(redis_server::Redis::start_shared).url())
}
