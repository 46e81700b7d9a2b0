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

/// A parsed body of `POST /openvidu/api/signal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSignal {
    pub session: String,
    /// `None` for everyone (`to` absent, `null` or empty).
    pub to: Option<Vec<String>>,
    /// "" when absent or `null`.
    pub signal_type: String,
    /// "" when absent or `null`.
    pub data: String,
}

/// Parses the route's JSON body (400 when it is not such an object). The
/// session and the limits are checked later, by the route and the hub.
/// Public so that the fuzz targets (`fuzz/`) run exactly the route's parsing.
pub fn parse_signal_body(body: &[u8]) -> Result<ParsedSignal, ApiError> {
    let parsed: SignalBody = super::json_object(
        body,
        "{\"session\": string, \"to\": [string], \"type\": string, \"data\": string}",
    )?;
    Ok(ParsedSignal {
        session: parsed.session,
        to: parsed.to.filter(|t| !t.is_empty()),
        signal_type: parsed.signal_type.unwrap_or_default(),
        data: parsed.data.unwrap_or_default(),
    })
}

/// `POST /openvidu/api/signal`.
pub async fn signal(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let project = project_from_basic(&app.config, &headers)?;
    let body = body.map_err(|e| ApiError::from_body_rejection(&e))?;
    let parsed = parse_signal_body(&body)?;
    if verify_session_id(project, &parsed.session).is_err() {
        return Err(ApiError::not_found("no such session"));
    }
    app.hub
        .signal_from_server(
            &project.api_key,
            &parsed.session,
            parsed.to,
            &parsed.signal_type,
            &parsed.data,
        )
        .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_reader_defaults_and_refusals() {
        let p = parse_signal_body(br#"{"session":"s","to":[],"data":null}"#).expect("parsed");
        assert_eq!(
            p,
            ParsedSignal {
                session: "s".into(),
                to: None,
                signal_type: String::new(),
                data: String::new(),
            }
        );
        let p = parse_signal_body(br#"{"session":"s","to":["c"]}"#).expect("parsed");
        assert_eq!(p.to, Some(vec!["c".to_string()]));
        for bad in [
            &br#"{"to":["c"]}"#[..],
            br#"["s"]"#,
            br#"{"session":"s","to":"c"}"#,
        ] {
            let e = parse_signal_body(bad).expect_err("refused");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
    }
}
