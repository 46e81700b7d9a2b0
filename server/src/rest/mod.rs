//! The REST API that application servers call: OpenTok's paths (so the
//! official OpenTok server SDKs work unchanged with their API URL pointed
//! here) and OpenVidu's signal endpoint.
//!
//! * [`auth`] — project JWTs (OpenTok) and Basic credentials (OpenVidu);
//! * [`opentok`] — session creation, signals, force disconnect, and a
//!   connection listing of our own;
//! * [`openvidu`] — `POST /openvidu/api/signal`;
//! * [`error`] — JSON error bodies with the status codes the SDKs expect.
//!
//! The handlers only translate HTTP to the hub's REST-facing calls
//! ([`crate::hub::SessionHub::signal_from_server`],
//! [`crate::hub::SessionHub::force_disconnect`],
//! [`crate::hub::SessionHub::list_connections`]), so a cluster node
//! ([`crate::cluster`]) serves these routes unchanged. Request bodies are capped at
//! [`MAX_BODY_BYTES`] before they are buffered.

pub mod auth;
pub mod error;
pub mod opentok;
pub mod openvidu;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;

pub use auth::mint_rest_token;
pub use error::ApiError;

use crate::server::App;

/// Parses a JSON request body that must be an object. (Deriving
/// `Deserialize` would also take an array, filling fields in order.)
pub(crate) fn json_object<T: serde::de::DeserializeOwned>(
    body: &[u8],
    expected: &'static str,
) -> Result<T, ApiError> {
    let refuse = || ApiError::bad_request(format!("body must be a JSON object {expected}"));
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| refuse())?;
    if !value.is_object() {
        return Err(refuse());
    }
    serde_json::from_value(value).map_err(|_| refuse())
}

/// Largest request body accepted, in bytes. A maximal signal (8 KiB of data
/// that JSON escaping may grow up to six times, plus a type) fits; an
/// OpenVidu `to` list of [`protocol::limits::MAX_SIGNAL_TARGETS`] ids of
/// this server fits too.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The REST routes, merged into the server's single listener.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/session/create", post(opentok::create_session))
        .route(
            "/v2/project/{key}/session/{sid}/signal",
            post(opentok::signal_session),
        )
        .route(
            "/v2/project/{key}/session/{sid}/connection",
            get(opentok::list_connections),
        )
        .route(
            "/v2/project/{key}/session/{sid}/connection/{cid}",
            delete(opentok::force_disconnect),
        )
        .route(
            "/v2/project/{key}/session/{sid}/connection/{cid}/signal",
            post(opentok::signal_connection),
        )
        .route(
            "/v2/project/{key}/events",
            get(crate::monitor::stream::events),
        )
        .route("/openvidu/api/signal", post(openvidu::signal))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}
