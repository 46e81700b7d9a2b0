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
            p.secret().expect("a project secret"),
            &sid,
            "publisher",
            exp,
            Some("user=jwt & co"),
        ),
        sdk_t1(
            &p.api_key,
            p.secret().expect("a project secret"),
            &sid,
            "moderator",
            exp,
            Some("user=t1 & co"),
        ),
        sdk_jwt(
            &p.api_key,
            p.secret().expect("a project secret"),
            &sid,
            "subscriber",
            exp,
            None,
        ),
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
    let t = sdk_t1(
        &p.api_key,
        p.secret().expect("a project secret"),
        &sid,
        "publisheronly",
        exp,
        None,
    );
    let mut c = Client::join_with(&server, &sid, &t, false).await;
    let seq = c.signal("t", "d", None).await;
    c.refused(seq, ErrorCode::PermissionDenied).await;
    server.shutdown().await;
}

#[tokio::test]
async fn altered_expired_and_foreign_tokens_are_refused() {
    let other = Project::new("200000", "another-secret-0123456789abcdef0123");
    let mut config = Config::dev();
    config.projects.push(other.clone());
    let server = start(config).await;
    let p = dev();
    let sid = create_session_id(&p);
    let other_sid = create_session_id(&dev());
    let exp = now() + 3600;
    let good_jwt = sdk_jwt(
        &p.api_key,
        p.secret().expect("a project secret"),
        &sid,
        "publisher",
        exp,
        None,
    );
    let good_t1 = sdk_t1(
        &p.api_key,
        p.secret().expect("a project secret"),
        &sid,
        "publisher",
        exp,
        None,
    );

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
                p.secret().expect("a project secret"),
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
                p.secret().expect("a project secret"),
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
                other.secret().expect("a project secret"),
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
                other.secret().expect("a project secret"),
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
                p.secret().expect("a project secret"),
                &other_sid,
                "publisher",
                exp,
                None,
            ),
        ),
        (
            "unknown role",
            sdk_jwt(
                &p.api_key,
                p.secret().expect("a project secret"),
                &sid,
                "admin",
                exp,
                None,
            ),
        ),
        (
            "data too long",
            sdk_jwt(
                &p.api_key,
                p.secret().expect("a project secret"),
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
    let other = Project::new("200000", "another-secret-0123456789abcdef0123");
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
        ack_runs: false,
        binary_signals: false,
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
        ack_runs: false,
        binary_signals: false,
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

/// A JWT with exactly these claims and header fields, signed HS256.
fn raw_jwt(secret: &str, typ: Option<&str>, claims: serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = typ.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

/// A T1 token over `form` (already url-encoded), with `engine`'s base64.
fn raw_t1(key: &str, secret: &str, form: &str, engine: &impl Engine) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(form.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    format!(
        "T1=={}",
        engine.encode(format!("partner_id={key}&sig={sig}:{form}"))
    )
}

/// Client tokens as each official server SDK writes them (claim types,
/// extras and omissions taken from their token code): every one joins.
#[tokio::test]
async fn tokens_as_every_official_sdk_writes_them_are_accepted() {
    use base64::engine::general_purpose::URL_SAFE;
    use serde_json::json;
    let server = start_dev().await;
    let p = dev();
    let (key, secret) = (p.api_key.as_str(), p.secret().expect("a project secret"));
    let sid = create_session_id(&p);
    let t = now();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "Node 2.x: float nonce, layout string, create/expire_time, no data",
            raw_jwt(secret, Some("JWT"), json!({
                "iss": key, "ist": "project", "iat": t, "exp": t + 86400,
                "nonce": 0.160_192_935_4, "role": "publisher", "scope": "session.connect",
                "session_id": sid, "initial_layout_class_list": "",
                "create_time": t + 1, "expire_time": t + 86400,
            })),
            "",
        ),
        (
            "Node 2.x with expire_time: a float exp",
            raw_jwt(secret, Some("JWT"), json!({
                "iss": key, "ist": "project", "iat": t, "exp": (t + 600) as f64 + 0.25,
                "nonce": 0.5, "role": "moderator", "scope": "session.connect",
                "session_id": sid, "connection_data": "name=node",
            })),
            "name=node",
        ),
        (
            "Ruby: float nonce, no exp",
            raw_jwt(secret, Some("JWT"), json!({
                "iss": key, "ist": "project", "iat": t, "nonce": 0.93,
                "role": "subscriber", "scope": "session.connect", "session_id": sid,
                "connection_data": "",
            })),
            "",
        ),
        (
            "PHP: numeric iss, no exp, data/expireTime null, url-encoded layout",
            raw_jwt(secret, Some("JWT"), json!({
                "iss": key.parse::<u64>().expect("numeric dev key"), "ist": "project",
                "iat": t, "nonce": 1_897_234_211u64, "role": "publisher",
                "scope": "session.connect", "session_id": sid, "data": null,
                "expireTime": null, "initial_layout_class_list": "focus+main",
                "connection_data": "name=php",
            })),
            "name=php",
        ),
        (
            "PHP: exp as a numeric string",
            raw_jwt(secret, Some("JWT"), json!({
                "iss": key, "ist": "project", "iat": t, "exp": format!("{}", t + 600),
                "nonce": 7, "role": "publisher", "scope": "session.connect", "session_id": sid,
            })),
            "",
        ),
        (
            "Java: no typ, negative nonce, jti",
            raw_jwt(secret, None, json!({
                "session_id": sid, "nonce": -1_234_567_890, "role": "publisher",
                "scope": "session.connect", "connection_data": "name=java", "ist": "project",
                "iss": key, "jti": "q8Kp3xkP1Xq0t3u5mXaZ2g", "exp": t + 86400, "iat": t,
            })),
            "name=java",
        ),
        (
            ".NET 3.16: nbf, initial_layout_list, null data, base64 jti",
            raw_jwt(secret, Some("JWT"), json!({
                "iss": key, "ist": "project", "iat": t, "nbf": t, "exp": t + 300,
                "nonce": 99, "role": "publisher", "scope": "session.connect",
                "session_id": sid, "initial_layout_list": "", "connection_data": null,
                "jti": "aGVsbG8+d29ybGQ/Zm9vYmFy==",
            })),
            "",
        ),
        (
            "Java T1: URL-safe base64, negative nonce, scope, raw spaces in the layout",
            raw_t1(key, secret, &format!(
                "create_time={t}&expire_time={}&session_id={sid}&nonce=-42&role=publisher\
                 &scope=session.connect&initial_layout_class_list=a b&connection_data=name%3Djava-t1",
                t + 600
            ), &URL_SAFE),
            "name=java-t1",
        ),
        (
            "Ruby/PHP T1: float nonce, no expire_time",
            raw_t1(key, secret, &format!(
                "session_id={sid}&create_time={t}&role=moderator&nonce=1796172384.4267"
            ), &STANDARD),
            "",
        ),
    ];
    for (what, token, data) in cases {
        let mut ws = connect_raw(&server, connect_msg(&sid, &token, false)).await;
        match next_msg(&mut ws).await {
            ServerMessage::Connected { connection, .. } => {
                assert_eq!(connection.data, data, "{what}");
            }
            other => panic!("{what}: expected connected, got {other:?}"),
        }
        send(&mut ws, &ClientMessage::Disconnect).await;
        expect_close(&mut ws).await;
    }
    server.shutdown().await;
}

/// Dates are still enforced in every shape, and what the client is told
/// depends on whether the signature was good (see auth/token.rs).
#[tokio::test]
async fn token_dates_and_refusal_messages() {
    use serde_json::json;
    let server = start_dev().await;
    let p = dev();
    let (key, secret) = (p.api_key.as_str(), p.secret().expect("a project secret"));
    let sid = create_session_id(&p);
    let other_sid = create_session_id(&p);
    let t = now();
    let claims = |extra: serde_json::Value| {
        let mut c = json!({"iss": key, "ist": "project", "role": "publisher",
            "scope": "session.connect", "session_id": sid, "nonce": 0.25});
        for (k, v) in extra.as_object().expect("object") {
            c[k] = v.clone();
        }
        c
    };
    let jwt = |extra| raw_jwt(secret, Some("JWT"), claims(extra));
    let generic = |m: &str| m.contains("not a token of this project");
    type Says = fn(&str) -> bool;
    let refused: Vec<(&str, String, Says)> = vec![
        (
            "no exp, iat two days ago",
            jwt(json!({"iat": t - 2 * 86400})),
            |m| m.contains("expired"),
        ),
        (
            "float exp in the past",
            jwt(json!({"iat": t - 100, "exp": (t - 1) as f64 + 0.9})),
            |m| m.contains("expired"),
        ),
        ("neither exp nor iat", jwt(json!({})), |m| {
            m.contains("neither an expiry")
        }),
        (
            "exp is not a date",
            jwt(json!({"iat": t, "exp": "soon"})),
            |m| m.contains("exp"),
        ),
        (
            "nbf a day ahead",
            jwt(json!({"iat": t, "exp": t + 2 * 86400, "nbf": t + 86400})),
            |m| m.contains("not valid before"),
        ),
        (
            "T1 without expire_time, created two days ago",
            raw_t1(
                key,
                secret,
                &format!(
                    "session_id={sid}&create_time={}&role=publisher&nonce=1",
                    t - 2 * 86400
                ),
                &STANDARD,
            ),
            |m| m.contains("expired"),
        ),
        (
            "another session",
            raw_jwt(
                secret,
                Some("JWT"),
                json!({"iss": key, "scope": "session.connect",
            "session_id": other_sid, "iat": t, "exp": t + 60}),
            ),
            |m| m.contains("another session"),
        ),
        (
            "wrong secret",
            raw_jwt(
                "not-the-secret",
                Some("JWT"),
                claims(json!({"iat": t, "exp": t + 60})),
            ),
            generic,
        ),
        ("not a JWT", "a.b.c".to_string(), generic),
        (
            "T1 with a bad signature",
            raw_t1(
                key,
                "not-the-secret",
                &format!("session_id={sid}&create_time={t}&role=publisher"),
                &STANDARD,
            ),
            generic,
        ),
    ];
    for (what, token, says) in refused {
        let mut ws = connect_raw(&server, connect_msg(&sid, &token, false)).await;
        let msg = expect_refusal(&mut ws, ErrorCode::AuthorizationFailure).await;
        assert!(says(&msg), "{what}: told {msg:?}");
        if !generic(&msg) {
            // Reasons are only told for genuine tokens; never "signature".
            assert!(!msg.contains("signature"), "{what}: {msg}");
        }
    }
    server.shutdown().await;
}
