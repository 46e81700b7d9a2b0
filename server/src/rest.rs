//! The REST API (OpenTok paths and OpenVidu's signal endpoint).
//!
//! Placeholder hook: the routes are added by the REST issue, built on the
//! hub's [`crate::hub::Hub::signal_from_server`],
//! [`crate::hub::Hub::force_disconnect`] and
//! [`crate::hub::Hub::list_connections`]. The router returned here is merged
//! into the server's single listener.

use std::sync::Arc;

use axum::Router;

use crate::server::App;

/// The REST routes (none yet).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
}
