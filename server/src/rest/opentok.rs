//! The OpenTok REST routes, answering exactly as the official server SDKs
//! expect (paths, bodies, status codes, `Content-Type`).
//!
//! | route | success |
//! | --- | --- |
//! | `POST /session/create` (form) | 200, `[{"session_id", ...}]` |
//! | `POST /v2/project/{key}/session/{sid}/signal` | 204 |
//! | `POST /v2/project/{key}/session/{sid}/connection/{cid}/signal` | 204 |
//! | `DELETE /v2/project/{key}/session/{sid}/connection/{cid}` | 204 |
//! | `GET /v2/project/{key}/session/{sid}/connection` (our extension) | 200 |
//!
//! Every route first checks the project JWT (403), then the request, then
//! asks the hub. The hub owns the signal limits ([`protocol::validate`]) and
//! delivery, so a REST signal obeys exactly what a client's signal obeys and
//! is delivered with no sender. Each call has finished queueing its signal
//! for every recipient before it answers 204, so signals sent one after the
//! other through the REST API arrive in that order.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::project_from_jwt;
use super::error::ApiError;
use crate::auth::{create_session_id, verify_session_id, SessionIdError};
use crate::config::Project;
use crate::server::App;

/// Answer of `POST /session/create`: a one-element array, as OpenTok sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct CreatedSession {
    pub session_id: String,
    pub project_id: String,
    pub partner_id: String,
    /// Creation time, e.g. `Tue Jan 02 15:04:05 UTC 2024`.
    pub create_dt: String,
    /// Always empty: this server relays no media.
    pub media_server_url: String,
}

/// Body of the signal routes. Absent or `null` fields mean "".
#[derive(Debug, Deserialize)]
struct SignalBody {
    #[serde(rename = "type", default)]
    signal_type: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

/// One connection in the listing (our extension).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedConnection {
    pub connection_id: String,
    /// Always `Connected`: only members of the session are listed.
    pub connection_state: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The token's connection data.
    pub data: String,
}

/// Answer of the connection listing (our extension).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionList {
    pub count: usize,
    pub project_id: String,
    pub session_id: String,
    pub items: Vec<ListedConnection>,
}

fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(v)| v)
        .map_err(|_| ApiError::bad_request("invalid path parameters"))
}

/// A session id must be well formed (else 400) and one of this project's
/// (else 404: there is no such session).
fn check_session(project: &Project, sid: &str) -> Result<(), ApiError> {
    match verify_session_id(project, sid) {
        Ok(()) => Ok(()),
        Err(SessionIdError::Malformed) => Err(ApiError::bad_request("invalid session id")),
        Err(SessionIdError::ForeignProject | SessionIdError::BadSignature) => {
            Err(ApiError::not_found("no such session in this project"))
        }
    }
}

fn check_connection_id(cid: &str) -> Result<(), ApiError> {
    protocol::validate::id("connection id", cid).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// OpenTok's date style, in UTC: `Tue Jan 02 15:04:05 UTC 2024`.
fn create_dt(now: std::time::SystemTime) -> String {
    // httpdate writes the fixed form `Tue, 02 Jan 2024 15:04:05 GMT`.
    let http = httpdate::fmt_http_date(now);
    let f: Vec<&str> = http.split_whitespace().collect();
    match f.as_slice() {
        [day, dd, mon, year, time, _gmt] => {
            format!("{} {mon} {dd} {time} UTC {year}", day.trim_end_matches(','))
        }
        _ => http,
    }
}

/// The fields of a `POST /session/create` body, whatever it is labelled:
/// a form (what every SDK sends; Python `vonage` labels it
/// `application/json` once its client has sent one JSON request), or a
/// JSON object. The body decides, not `Content-Type`: one starting with `{`
/// is JSON. JSON values are read as the form would write them (`true`,
/// `null`, numbers as text).
fn create_fields(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    if body.trim_ascii_start().starts_with(b"{") {
        let map: serde_json::Map<String, serde_json::Value> =
            super::json_object(body, "of session options, or a form")?;
        return map
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => "null".into(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return Err(ApiError::bad_request(format!("invalid value for {k}"))),
                };
                Ok((k, text))
            })
            .collect();
    }
    Ok(url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// Checks the body of `POST /session/create` (400 on a bad value). What
/// the SDKs send is accepted: `location` an IPv4 address, or `null` or
/// empty (`@vonage/video` sends `location=null` when none is given);
/// `p2p.preference` `enabled`, `disabled`, `always` (Python `vonage`'s
/// relayed mode), or `routed` or `relayed` (`@vonage/video` 1.28 puts its
/// media mode there); `archiveMode` `manual` or `always`; `e2ee` `true` or
/// `false` in any case (Python writes `True`); `media_mode`/`mediaMode`
/// `routed` or `relayed`. Other fields are ignored. Public so that the fuzz
/// targets (`fuzz/`) run exactly the route's check.
pub fn check_create_form(body: &[u8]) -> Result<(), ApiError> {
    for (k, v) in create_fields(body)? {
        let any = |words: &[&str]| words.iter().any(|w| v.eq_ignore_ascii_case(w));
        let ok = match k.as_str() {
            "location" => v.is_empty() || v == "null" || v.parse::<std::net::Ipv4Addr>().is_ok(),
            "p2p.preference" => any(&["enabled", "disabled", "always", "routed", "relayed"]),
            "archiveMode" | "archive_mode" => any(&["manual", "always"]),
            "e2ee" => any(&["true", "false"]),
            "media_mode" | "mediaMode" => any(&["routed", "relayed"]),
            _ => true,
        };
        if !ok {
            return Err(ApiError::bad_request(format!("invalid value for {k}")));
        }
    }
    Ok(())
}

/// The `(type, data)` of a signal route's JSON body, absent or `null`
/// fields read as "" (400 when the body is not such an object). The limits
/// are checked later, by the hub. Public so that the fuzz targets (`fuzz/`)
/// run exactly the route's parsing.
pub fn parse_signal_body(body: &[u8]) -> Result<(String, String), ApiError> {
    let parsed: SignalBody = super::json_object(body, "{\"type\": string, \"data\": string}")?;
    Ok((
        parsed.signal_type.unwrap_or_default(),
        parsed.data.unwrap_or_default(),
    ))
}

/// `POST /session/create`. The fields the SDKs send (`location`,
/// `p2p.preference`, `archiveMode`, `e2ee`, ...; see [`check_create_form`])
/// are checked for valid values; they choose media features this signaling
/// server does not have, so they change nothing else. The project JWT may
/// be an OpenTok project's or a Vonage application's.
pub async fn create_session(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let project = project_from_jwt(&app.config, &headers, None)?;
    let body = body.map_err(|e| ApiError::from_body_rejection(&e))?;
    check_create_form(&body)?;
    let sid = create_session_id(project);
    tracing::info!(project = %project.api_key, session = %sid, "session created over REST");
    let created = CreatedSession {
        session_id: sid,
        project_id: project.api_key.clone(),
        partner_id: project.api_key.clone(),
        create_dt: create_dt(std::time::SystemTime::now()),
        media_server_url: String::new(),
    };
    Ok(Json([created]).into_response())
}

async fn signal(
    app: &App,
    headers: &HeaderMap,
    key: &str,
    sid: &str,
    cid: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let project = project_from_jwt(&app.config, headers, Some(key))?;
    let body = body.map_err(|e| ApiError::from_body_rejection(&e))?;
    let (signal_type, data) = parse_signal_body(&body)?;
    check_session(project, sid)?;
    if let Some(c) = &cid {
        check_connection_id(c)?;
    }
    app.hub
        .signal_from_server(
            &project.api_key,
            sid,
            cid.map(|c| vec![c]),
            &signal_type,
            &data,
        )
        .await
        .map_err(ApiError::from_hub)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v2/project/{key}/session/{sid}/signal`: to everyone in the session.
pub async fn signal_session(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    p: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let (key, sid) = path(p)?;
    signal(&app, &headers, &key, &sid, None, body).await
}

/// `POST /v2/project/{key}/session/{sid}/connection/{cid}/signal`: to one
/// connection.
pub async fn signal_connection(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    p: Result<Path<(String, String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let (key, sid, cid) = path(p)?;
    signal(&app, &headers, &key, &sid, Some(cid), body).await
}

/// `DELETE /v2/project/{key}/session/{sid}/connection/{cid}`: the client
/// gets `on_disconnected`, the others `on_connection_dropped`.
pub async fn force_disconnect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    p: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (key, sid, cid) = path(p)?;
    let project = project_from_jwt(&app.config, &headers, Some(&key))?;
    check_session(project, &sid)?;
    check_connection_id(&cid)?;
    app.hub
        .force_disconnect(&project.api_key, &sid, &cid)
        .await
        .map_err(ApiError::from_hub)?;
    tracing::info!(session = %sid, connection = %cid, "force disconnect over REST");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2/project/{key}/session/{sid}/connection` (our extension): the
/// connections now in the session, in joining order. A valid session with
/// nobody connected lists none.
pub async fn list_connections(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<ConnectionList>, ApiError> {
    let (key, sid) = path(p)?;
    let project = project_from_jwt(&app.config, &headers, Some(&key))?;
    check_session(project, &sid)?;
    let items: Vec<ListedConnection> = app
        .hub
        .list_connections(&project.api_key, &sid)
        .await
        .map_err(ApiError::from_hub)?
        .into_iter()
        .map(|c| ListedConnection {
            connection_id: c.id,
            connection_state: "Connected".into(),
            created_at: c.created_at_ms,
            data: c.data,
        })
        .collect();
    Ok(Json(ConnectionList {
        count: items.len(),
        project_id: project.api_key.clone(),
        session_id: sid,
        items,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_dt_reads_like_opentok() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_704_207_845);
        assert_eq!(create_dt(t), "Tue Jan 02 15:04:05 UTC 2024");
    }

    #[test]
    fn body_readers_take_objects_and_valid_form_values() {
        let ok = parse_signal_body(br#"{"type":"chat","data":"hi","extra":1}"#);
        assert_eq!(ok, Ok(("chat".into(), "hi".into())));
        assert_eq!(
            parse_signal_body(br#"{"type":null}"#),
            Ok((String::new(), String::new()))
        );
        for bad in [&br#"["chat","hi"]"#[..], b"", b"{", br#"{"data":5}"#] {
            let e = parse_signal_body(bad).expect_err("refused");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
        assert!(check_create_form(b"location=10.0.0.1&e2ee=true&other=x").is_ok());
        let e = check_create_form(b"archiveMode=sometimes").expect_err("refused");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    /// What `@vonage/video`, Python `vonage` and opentok send, in either
    /// label.
    #[test]
    fn create_bodies_of_the_vonage_sdks() {
        for ok in [
            &b"archiveMode=manual&location=null&p2p.preference=routed"[..],
            b"archiveMode=always&location=10.0.0.1&p2p.preference=relayed",
            b"e2ee=True&media_mode=routed&p2p.preference=disabled",
            b"e2ee=FALSE&media_mode=relayed&p2p.preference=always&archiveMode=always",
            b"location=&mediaMode=routed",
            b"",
            br#"{"archiveMode":"manual","location":null,"e2ee":true,"p2p.preference":"enabled"}"#,
            br#"  {"location":"10.1.2.3","x":5}"#,
        ] {
            assert!(
                check_create_form(ok).is_ok(),
                "{}",
                String::from_utf8_lossy(ok)
            );
        }
        for bad in [
            &b"e2ee=yes"[..],
            b"location=nowhere",
            b"media_mode=direct",
            b"p2p.preference=sometimes",
            br#"{"e2ee":"maybe"}"#,
            br#"{"location":[1]}"#,
            b"{not json",
        ] {
            let e = check_create_form(bad).expect_err("refused");
            assert_eq!(
                e.status,
                StatusCode::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
