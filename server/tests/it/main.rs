//! Integration tests: the server runs in-process on an ephemeral loopback
//! port and raw protocol clients drive it over WebSocket.

#[allow(dead_code)] // shared helpers; not every test uses each one
mod client;

mod auth;
mod bad_input;
mod binary;
mod binary_frames;
mod connect;
mod console;
mod flow;
mod lifecycle;
mod raw_ws;
mod settings;
mod signals;
mod slow_clients;
mod tls;

/// One node alone: no Redis.
fn cluster_redis_url() -> Option<String> {
    None
}
