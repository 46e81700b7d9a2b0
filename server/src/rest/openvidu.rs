//! OpenVidu's server-side signal: `POST /openvidu/api/signal`.
//!
//! Body `{"session": id, "to": [connection ids], "type": t, "data": d}`;
//! `to` absent or empty means everyone. HTTP Basic `OPENVIDUAPP:<secret>`
//! names the project. Answers, as OpenVidu's: 200 sent; 400 a body
//! parameter is wrong (including a type or data over the limits, which are
//! the same as for every signal); 401 bad credentials; 404 no such session,
//! or a `to` connection is not in it; 406 the session has nobody connected.
//!
//! Session ids are this server's (OpenTok-shaped) ids, the same ones the
//! OpenTok routes and the client library use.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use protocol::ErrorCode;
use serde::Deserialize;

use super::auth::project_from_basic;
use super::error::ApiError;
use crate::auth::verify_session_id;
use crate::server::App;

#[derive(Debug, Deserialize)]
struct SignalBody {
    session: String,
    #[serde(default)]
    to: Option<Vec<String>>,
    #[serde(rename = "type", default)]
    signal_type: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

/// `POST /openvidu/api/signal`.
pub async fn signal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let project = project_from_basic(&app.config, &headers)?;
    let body = body.map_err(|e| ApiError::from_body_rejection(&e))?;
    let parsed: SignalBody = super::json_object(
        &body,
        "{\"session\": string, \"to\": [string], \"type\": string, \"data\": string}",
    )?;
    if verify_session_id(project, &parsed.session).is_err() {
        return Err(ApiError::not_found("no such session"));
    }
    let to = parsed.to.filter(|t| !t.is_empty());
    let signal_type = parsed.signal_type.unwrap_or_default();
    let data = parsed.data.unwrap_or_default();
    app.hub
        .signal_from_server(&project.api_key, &parsed.session, to, &signal_type, &data)
        .map_err(|e| match e.code {
            ErrorCode::InvalidSession => ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "the session has no connected participants",
            ),
            ErrorCode::SignalTargetNotConnected => ApiError::not_found(e.message),
            ErrorCode::SignalTypeTooLong
            | ErrorCode::SignalDataTooLong
            | ErrorCode::InvalidSignalType
            | ErrorCode::NullOrInvalidParameter => ApiError::bad_request(e.message),
            _ => ApiError::from_hub(e),
        })?;
    Ok(StatusCode::OK)
}
