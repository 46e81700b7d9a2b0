//! Token and session checks at connect, with tokens built exactly the way
//! the official OpenTok server SDKs build them (here: the Python `opentok`
//! package's `generate_token`, reproduced step by step).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use otc_server::{create_session_id, Config, Project, ServerLimits};
use protocol::{ClientMessage, ErrorCode, ServerMessage};
use sha1::Sha1;

use crate::client::*;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The Python SDK's JWT: header {alg: HS256, typ: JWT}; claims session_id,
/// role, iat, exp, scope, connection_data, iss, ist, nonce.
fn sdk_jwt(
    key: &str,
    secret: &str,
    session: &str,
    role: &str,
    exp: u64,
    data: Option<&str>,
) -> String {
    let mut claims = serde_json::json!({
        "session_id": session,
        "role": role,
        "iat": now(),
        "exp": exp,
        "scope": "session.connect",
        "iss": key,
        "ist": "project",
        "nonce": 424242,
    });
    if let Some(d) = data {
        claims["connection_data"] = serde_json::Value::String(d.into());
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

/// The Python SDK's legacy token: urlencode(session_id, create_time,
/// expire_time, role, nonce, initial_layout_class_list[, connection_data]),
/// HMAC-SHA1 hex under the secret, `partner_id=KEY&sig=SIG:DATA`, base64,
/// prefixed with `T1==`.
fn sdk_t1(
    key: &str,
    secret: &str,
    session: &str,
    role: &str,
    exp: u64,
    data: Option<&str>,
) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("session_id", session)
        .append_pair("create_time", &now().to_string())
        .append_pair("expire_time", &exp.to_string())
        .append_pair("role", role)
        .append_pair("nonce", "123456")
        .append_pair("initial_layout_class_list", "");
    if let Some(d) = data {
        form.append_pair("connection_data", d);
    }
    let data_string = form.finish();
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(data_string.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let raw = format!("partner_id={key}&sig={sig}:{data_string}");
    format!("T1=={}", STANDARD.encode(raw))
}

fn dev() -> Project {
    Project::dev()
}

async fn connect_raw(server: &otc_server::ServerHandle, msg: ClientMessage) -> Ws {
    let mut ws = open(server).await;
    send(&mut ws, &msg).await;
    ws
}

#[tokio::test]
async fn sdk_built_tokens_are_accepted() {
    let server = start_dev().await;
    let p = dev();
    let sid = create_session_id(&p);
    let exp = now() + 3600;
    for (i, token) in [
        sdk_jwt(
            &p.api_key,
            &p.api_secret,
            &sid,
            "publisher",
            exp,
            Some("user=jwt & co"),
        ),
        sdk_t1(
            &p.api_key,
            &p.api_secret,
            &sid,
            "moderator",
            exp,
            Some("user=t1 & co"),
        ),
        sdk_jwt(&p.api_key, &p.api_secret, &sid, "subscriber", exp, None),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = Client::join_with(&server, &sid, &token, false).await;
        match i {
            0 => assert_eq!(c.data, "user=jwt & co"),
            1 => assert_eq!(c.data, "user=t1 & co"),
            _ => assert_eq!(c.data, ""),
        }
        // Every role but publisher-only may signal.
        let seq = c.signal("t", "d", Some(vec![c.id.clone()])).await;
        c.acked(seq).await;
    }
    // The Python SDK spells the publisher-only role "publisheronly".
    let t = sdk_t1(&p.api_key, &p.api_secret, &sid, "publisheronly", exp, None);
    let mut c = Client::join_with(&server, &sid, &t, false).await;
    let seq = c.signal("t", "d", None).await;
    c.refused(seq, ErrorCode::PermissionDenied).await;
    server.shutdown().await;
}

#[tokio::test]
async fn altered_expired_and_foreign_tokens_are_refused() {
    let other = Project {
        api_key: "200000".into(),
        api_secret: "another-secret".into(),
    };
    let mut config = Config::dev();
    config.projects.push(other.clone());
    let server = start(config).await;
    let p = dev();
    let sid = create_session_id(&p);
    let other_sid = create_session_id(&dev());
    let exp = now() + 3600;
    let good_jwt = sdk_jwt(&p.api_key, &p.api_secret, &sid, "publisher", exp, None);
    let good_t1 = sdk_t1(&p.api_key, &p.api_secret, &sid, "publisher", exp, None);

    // Flip one character of the signature / of the signed data.
    let mut altered_jwt = good_jwt.clone();
    let last = altered_jwt.pop().expect("char");
    altered_jwt.push(if last == 'A' { 'B' } else { 'A' });
    let decoded = String::from_utf8(STANDARD.decode(&good_t1[4..]).expect("b64")).expect("utf8");
    let altered_t1 = format!(
        "T1=={}",
        STANDARD.encode(decoded.replace("role=publisher", "role=moderator"))
    );

    let refused = [
        ("altered jwt", altered_jwt),
        ("altered t1", altered_t1),
        (
            "expired jwt",
            sdk_jwt(
                &p.api_key,
                &p.api_secret,
                &sid,
                "publisher",
                now() - 10,
                None,
            ),
        ),
        (
            "expired t1",
            sdk_t1(
                &p.api_key,
                &p.api_secret,
                &sid,
                "publisher",
                now() - 10,
                None,
            ),
        ),
        (
            "wrong secret",
            sdk_jwt(&p.api_key, "not-the-secret", &sid, "publisher", exp, None),
        ),
        (
            "other project's jwt",
            sdk_jwt(
                &other.api_key,
                &other.api_secret,
                &sid,
                "publisher",
                exp,
                None,
            ),
        ),
        (
            "other project's t1",
            sdk_t1(
                &other.api_key,
                &other.api_secret,
                &sid,
                "publisher",
                exp,
                None,
            ),
        ),
        (
            "token of another session",
            sdk_jwt(
                &p.api_key,
                &p.api_secret,
                &other_sid,
                "publisher",
                exp,
                None,
            ),
        ),
        (
            "unknown role",
            sdk_jwt(&p.api_key, &p.api_secret, &sid, "admin", exp, None),
        ),
        (
            "data too long",
            sdk_jwt(
                &p.api_key,
                &p.api_secret,
                &sid,
                "publisher",
                exp,
                Some(&"x".repeat(1001)),
            ),
        ),
        ("garbage", "not a token".to_string()),
        ("garbage t1", "T1==%%%".to_string()),
    ];
    for (what, token) in refused {
        let mut ws = connect_raw(&server, connect_msg(&sid, &token, false)).await;
        let msg = expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
        assert!(!msg.is_empty(), "{what}");
    }
    // The server still serves everyone after all that.
    let mut ok = Client::join_with(&server, &sid, &good_jwt, false).await;
    let seq = ok.signal("still", "here", None).await;
    ok.acked(seq).await;
    let _ = Client::join_with(&server, &sid, &good_t1, false).await;
    server.shutdown().await;
}

#[tokio::test]
async fn bad_sessions_keys_and_versions_are_refused() {
    let other = Project {
        api_key: "200000".into(),
        api_secret: "another-secret".into(),
    };
    let mut config = Config::dev();
    config.projects.push(other.clone());
    let server = start(config).await;
    let sid = session();
    let tok = token(&sid);

    // Malformed session id.
    let mut ws = connect_raw(&server, connect_msg("1_garbage", &tok, false)).await;
    expect_refusal(&mut ws, ErrorCode::InvalidSession).await;
    // A session of another project, joined with this project's key.
    let foreign = create_session_id(&other);
    let mut ws = connect_raw(&server, connect_msg(&foreign, &tok, false)).await;
    expect_refusal(&mut ws, ErrorCode::InvalidSession).await;
    // Unknown API key.
    let msg = ClientMessage::Connect {
        version: protocol::PROTOCOL_VERSION,
        api_key: "999".into(),
        session_id: sid.clone(),
        token: tok.clone(),
        suppress_connection_events: false,
    };
    let mut ws = connect_raw(&server, msg).await;
    expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
    // Wrong protocol version.
    let msg = ClientMessage::Connect {
        version: 99,
        api_key: otc_server::DEV_API_KEY.into(),
        session_id: sid.clone(),
        token: tok.clone(),
        suppress_connection_events: false,
    };
    let mut ws = connect_raw(&server, msg).await;
    let m = expect_refusal(&mut ws, ErrorCode::ProtocolError).await;
    assert!(m.contains("version"), "{m}");
    server.shutdown().await;
}

#[tokio::test]
async fn full_session_is_refused_with_1027() {
    let server = start(Config {
        limits: ServerLimits {
            max_connections_per_session: 2,
            ..Default::default()
        },
        ..Config::dev()
    })
    .await;
    let sid = session();
    let _a = Client::join(&server, &sid).await;
    let b = Client::join(&server, &sid).await;
    let mut ws = connect_raw(&server, connect_msg(&sid, &token(&sid), false)).await;
    expect_refusal(&mut ws, ErrorCode::ConnectionLimitExceeded).await;
    // Another session is not affected, and a freed seat can be taken.
    let _other = Client::join(&server, &session()).await;
    b.disconnect().await;
    let c = Client::join(&server, &sid).await;
    assert!(matches!(c.others.len(), 1));
    server.shutdown().await;
}

#[tokio::test]
async fn foreign_subprotocol_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let server = start_dev().await;
    let mut req = ws_url(&server).into_client_request().expect("req");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("chat.v9"),
    );
    let r = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("in time");
    assert!(r.is_err(), "upgrade must be refused");
    // Without any subprotocol the upgrade is accepted.
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(&server))
        .await
        .expect("plain");
    let sid = session();
    send(&mut ws, &connect_msg(&sid, &token(&sid), false)).await;
    assert!(matches!(
        next_msg(&mut ws).await,
        ServerMessage::Connected { .. }
    ));
    server.shutdown().await;
}
