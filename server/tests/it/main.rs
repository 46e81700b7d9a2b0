//! Integration tests: the server runs in-process on an ephemeral loopback
//! port and raw protocol clients drive it over WebSocket.

#[allow(dead_code)] // shared helpers; not every test binary uses each one
mod client;

mod connect;
