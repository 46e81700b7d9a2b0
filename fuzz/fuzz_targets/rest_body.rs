//! The REST API's readers of request bodies and credentials, exactly as the
//! routes in server/src/rest/ call them, followed by the checks the routes
//! and the hub then apply to what was read.
//!
//! The first input byte picks the reader (the committed seeds start with
//! the ASCII digit of their mode):
//!
//! | mode | reader |
//! | --- | --- |
//! | 0 | OpenTok signal body (`POST .../signal`), then the signal limits |
//! | 1 | `POST /session/create` form |
//! | 2 | OpenVidu signal body (`POST /openvidu/api/signal`), then the session id and the limits |
//! | 3 | project JWT: the bytes as the `X-OPENTOK-AUTH` header |
//! | 4 | project JWT: the text as claims (or `header\nclaims`), signed, as `Authorization: Bearer` |
//! | 5 | OpenVidu credentials: `Authorization: Basic` + base64(text) |
//!
//! Beyond "never panics": an accepted signal body is a JSON object, and a
//! refusal is a 400; an accepted credential names the dev project, and a
//! refused one answers 403 (JWT) or 401 (Basic).
#![no_main]

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use otc_server::auth::verify_session_id;
use otc_server::rest::auth::{project_from_basic, project_from_jwt};
use otc_server::rest::{opentok, openvidu, ApiError};
use otc_server::{Config, Project};

fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(Config::dev)
}

fn jwt(secret: &str, text: &str) -> String {
    let (header, claims) = text
        .split_once('\n')
        .unwrap_or((r#"{"alg":"HS256","typ":"JWT"}"#, text));
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn is_json_object(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object())
}

fn expect_status(r: Result<impl Sized, ApiError>, status: StatusCode) {
    if let Err(e) = r {
        assert_eq!(e.status, status, "refusal {e:?}");
    }
}

fn headers(name: &'static str, value: &[u8]) -> Option<HeaderMap> {
    let value = HeaderValue::from_bytes(value).ok()?;
    let mut h = HeaderMap::new();
    h.insert(name, value);
    Some(h)
}

fn check_credential(r: Result<&Project, ApiError>, status: StatusCode) {
    match r {
        Ok(p) => assert_eq!(p.api_key, otc_server::DEV_API_KEY),
        Err(e) => assert_eq!(e.status, status, "refusal {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let project = Project::dev();
    match mode % 6 {
        0 => match opentok::parse_signal_body(body) {
            Ok((signal_type, data)) => {
                assert!(is_json_object(body), "accepted a body that is no object");
                if let Err(e) = protocol::validate::signal(&signal_type, &data, None) {
                    let _ = (e.code(), e.to_string());
                }
            }
            Err(e) => assert_eq!(e.status, StatusCode::BAD_REQUEST),
        },
        1 => expect_status(opentok::check_create_form(body), StatusCode::BAD_REQUEST),
        2 => match openvidu::parse_signal_body(body) {
            Ok(s) => {
                assert!(is_json_object(body), "accepted a body that is no object");
                assert!(s.to.as_ref().is_none_or(|t| !t.is_empty()));
                let _ = verify_session_id(&project, &s.session);
                if let Err(e) = protocol::validate::signal(&s.signal_type, &s.data, s.to.as_deref())
                {
                    let _ = (e.code(), e.to_string());
                }
            }
            Err(e) => assert_eq!(e.status, StatusCode::BAD_REQUEST),
        },
        3 => {
            if let Some(h) = headers("x-opentok-auth", body) {
                check_credential(project_from_jwt(config(), &h, None), StatusCode::FORBIDDEN);
            }
        }
        4 => {
            let text = String::from_utf8_lossy(body);
            let value = format!(
                "Bearer {}",
                jwt(project.secret().expect("a project secret"), &text)
            );
            if let Some(h) = headers("authorization", value.as_bytes()) {
                let key = Some(project.api_key.as_str());
                check_credential(project_from_jwt(config(), &h, key), StatusCode::FORBIDDEN);
            }
        }
        _ => {
            let value = format!("Basic {}", STANDARD.encode(body));
            if let Some(h) = headers("authorization", value.as_bytes()) {
                check_credential(project_from_basic(config(), &h), StatusCode::UNAUTHORIZED);
            }
        }
    }
});
