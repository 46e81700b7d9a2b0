//! `otc-server`: a self-hosted signaling server for Vonage Video (OpenTok)
//! apps.
//!
//! Modules, one concept each:
//!
//! * [`config`] — projects, limits, the TOML file and the dev project;
//! * [`auth`] — session ids and tokens (OpenTok formats);
//! * [`server`] — the listener (WebSocket + HTTP), start and graceful shutdown;
//! * [`tls`] — TLS termination on that listener: certificate loading and reload;
//! * `admission` — bounds on connections not yet authenticated;
//! * [`connection`] — one WebSocket link's task: handshake, then the
//!   client's frames to the hub;
//! * [`wire`] — that link's socket: reads the next frame and, in the same
//!   task, writes the link's queue;
//! * [`linger`] — lingering close: drain before closing, so the peer gets the last frames;
//! * [`link`] — the hub's handle on a link: bounded queue and close switch;
//! * [`client_seq`] — the client seq rules: route, answer again, or refuse;
//! * [`held`] — signals held back by their sender's share (back-pressure);
//! * [`cluster`] — cluster mode: nodes sharing sessions through Redis;
//! * [`hub`] — the session hub interface; `hub::local`: sessions, membership,
//!   routing, slow consumers, resume on one node; `hub::policy`: the checks
//!   a signal passes first;
//! * [`replay`] — one member's un-acknowledged events, their bytes and senders;
//! * [`rate`] — the per-connection signal rate limit;
//! * [`rest`] — the REST API routes;
//! * [`metrics`] — what `/metrics` reports; `ops` — `/healthz`, `/readyz`,
//!   `/metrics`, the request log, the optional metrics listener;
//! * [`logging`] — log filter and format, the start-up line;
//! * [`cli`] — the command line of the `otc-server` binary.
//!
//! Embedding (tests, benchmarks):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let server = otc_server::start(otc_server::Config::dev()).await?;
//! let project = otc_server::Project::dev();
//! let session = otc_server::create_session_id(&project);
//! let token = otc_server::mint_token(&project, &session, &Default::default())?;
//! println!("{} {session} {token}", server.base_url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod admission;
pub mod auth;
pub mod cli;
pub mod client_seq;
pub mod cluster;
pub mod config;
mod connection;
pub mod console;
pub mod held;
pub mod hub;
pub mod issues;
pub mod linger;
pub mod link;
pub mod logging;
pub mod metrics;
pub mod monitor;
mod ops;
pub mod rate;
pub mod replay;
pub mod rest;
pub mod server;
pub mod tls;
mod wire;

pub use auth::{create_session_id, mint_token, verify_token, Role, TokenError, TokenOptions};
pub use config::{Config, Project, ServerLimits, DEV_API_KEY, DEV_API_SECRET};
pub use server::{start, ServerError, ServerHandle};
pub use tls::{CertInfo, TlsError, TlsFiles};
