//! The REST API over real HTTP: every route, every status code it
//! documents, and what the connected clients see. The server runs
//! in-process on an ephemeral loopback port; raw protocol clients (shared
//! with the WebSocket tests) stand in for the client library.

#[allow(dead_code)] // shared helpers; not every test uses each one
#[path = "it/client.rs"]
mod client;

/// One node alone: no Redis.
fn cluster_redis_url() -> Option<String> {
    None
}

use std::time::Duration;

use base64::Engine;
use client::{destroyed, expect_close, Client, Next, WAIT};
use otc_server::cli::{CommonArgs, RestTokenArgs};
use otc_server::{create_session_id, mint_token, Config, Project, ServerHandle, TokenOptions};
use protocol::limits::{MAX_SIGNAL_DATA_BYTES, MAX_SIGNAL_TYPE_BYTES};
use protocol::messages::DisconnectReason;
use protocol::ServerMessage;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const KEY: &str = otc_server::DEV_API_KEY;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .no_proxy()
        .build()
        .expect("http client")
}

fn jwt() -> String {
    otc_server::rest::mint_rest_token(&Project::dev(), Duration::from_secs(120)).expect("jwt")
}

/// A JWT with arbitrary claims, signed HS256 with `secret`.
fn jwt_with(claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

/// A server with the development project and a second one, `777`.
async fn start_with_project_777() -> (ServerHandle, Project) {
    let other = Project::new("777", "other-secret-777-0123456789abcdef");
    let mut config = Config::dev();
    config.projects.push(other.clone());
    (client::start(config).await, other)
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn url(server: &ServerHandle, path: &str) -> String {
    format!("{}{path}", server.base_url())
}

fn signal_path(session: &str, connection: Option<&str>) -> String {
    match connection {
        Some(c) => format!("/v2/project/{KEY}/session/{session}/connection/{c}/signal"),
        None => format!("/v2/project/{KEY}/session/{session}/signal"),
    }
}

/// Sends a request with the dev project's JWT in `X-OPENTOK-AUTH`.
async fn call(
    server: &ServerHandle,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = http()
        .request(method, url(server, path))
        .header("X-OPENTOK-AUTH", jwt());
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

/// Expects `status` and a JSON error body `{code, message}`; returns the
/// message.
async fn expect_error(resp: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(resp.status(), status);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body: Value = resp.json().await.expect("json error body");
    assert_eq!(body["code"], json!(status.as_u16()), "{body}");
    let msg = body["message"].as_str().expect("message").to_string();
    assert!(!msg.is_empty());
    msg
}

/// The next signal a client gets, as (from, type, data).
async fn next_signal(c: &mut Client) -> (Option<String>, String, String) {
    c.signal_in().await
}

#[tokio::test]
async fn create_session_answers_like_opentok() {
    let server = client::start_dev().await;
    let resp = http()
        .post(url(&server, "/session/create"))
        .header("X-OPENTOK-AUTH", jwt())
        .header("Accept", "application/json")
        .form(&[
            ("p2p.preference", "enabled"),
            ("archiveMode", "manual"),
            ("location", "10.0.0.1"),
            ("e2ee", "false"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    // The Python SDK compares the content type with exactly this string.
    assert_eq!(
        resp.headers().get("content-type").expect("content type"),
        "application/json"
    );
    let body: Value = resp.json().await.expect("json");
    let arr = body.as_array().expect("an array");
    assert_eq!(arr.len(), 1);
    let sid = arr[0]["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    assert_eq!(arr[0]["project_id"], json!(KEY));
    assert_eq!(arr[0]["media_server_url"], json!(""));
    assert!(arr[0]["create_dt"]
        .as_str()
        .expect("create_dt")
        .contains("UTC"));
    assert!(otc_server::auth::verify_session_id(&Project::dev(), &sid).is_ok());

    // A client can join the new session with a token for it.
    let c = Client::join(&server, &sid).await;
    assert!(!c.id.is_empty());

    // An empty body is fine too; bad option values are not.
    let resp = http()
        .post(url(&server, "/session/create"))
        .header("X-OPENTOK-AUTH", jwt())
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    for bad in [
        ("p2p.preference", "sometimes"),
        ("location", "not-an-ip"),
        ("archiveMode", "forever"),
        ("e2ee", "yes"),
    ] {
        let resp = http()
            .post(url(&server, "/session/create"))
            .header("X-OPENTOK-AUTH", jwt())
            .form(&[bad])
            .send()
            .await
            .expect("request");
        expect_error(resp, StatusCode::BAD_REQUEST).await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn project_jwt_is_checked() {
    let server = client::start_dev().await;
    let secret = otc_server::DEV_API_SECRET;
    let good = json!({"iss": KEY, "ist": "project", "iat": now(), "exp": now() + 60, "jti": "x"});
    let mut cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("garbage", Some("not-a-jwt".into())),
        ("wrong secret", Some(jwt_with(good.clone(), "wrong"))),
        (
            "expired",
            Some(jwt_with(
                json!({"iss": KEY, "ist": "project", "iat": now() - 600, "exp": now() - 300}),
                secret,
            )),
        ),
        (
            "no exp",
            Some(jwt_with(json!({"iss": KEY, "ist": "project"}), secret)),
        ),
        (
            "ist not project",
            Some(jwt_with(
                json!({"iss": KEY, "ist": "account", "exp": now() + 60}),
                secret,
            )),
        ),
        (
            "no ist",
            Some(jwt_with(json!({"iss": KEY, "exp": now() + 60}), secret)),
        ),
        (
            "unknown key",
            Some(jwt_with(
                json!({"iss": "424242", "ist": "project", "exp": now() + 60}),
                secret,
            )),
        ),
    ];
    // HS512 with the right secret is still refused: HS256 only.
    cases.push((
        "HS512",
        Some(
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
                &good,
                &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
            )
            .expect("encode"),
        ),
    ));
    for (what, token) in &cases {
        let mut req = http().post(url(&server, "/session/create"));
        if let Some(t) = token {
            req = req.header("X-OPENTOK-AUTH", t);
        }
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{what}");
        expect_error(resp, StatusCode::FORBIDDEN).await;
    }
    // The same claims signed right work, in either header; a numeric iss too.
    for (name, value) in [
        ("X-OPENTOK-AUTH", jwt_with(good.clone(), secret)),
        (
            "Authorization",
            format!("Bearer {}", jwt_with(good.clone(), secret)),
        ),
        (
            "X-OPENTOK-AUTH",
            jwt_with(
                json!({"iss": 100000, "ist": "project", "exp": now() + 60}),
                secret,
            ),
        ),
    ] {
        let resp = http()
            .post(url(&server, "/session/create"))
            .header(name, value)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
    }
    // The CLI's `rest-token` mints one that works.
    let cli_token =
        otc_server::cli::rest_token(&CommonArgs::default(), &RestTokenArgs { expire: 60 })
            .expect("rest-token");
    let resp = http()
        .post(url(&server, "/session/create"))
        .header("X-OPENTOK-AUTH", cli_token)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn signal_to_the_session_reaches_everyone_without_sender() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let _ = a.event().await; // b's connection_created
    let resp = call(
        &server,
        Method::POST,
        &signal_path(&sid, None),
        Some(json!({"type": "news", "data": "héllo ✓"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for c in [&mut a, &mut b] {
        assert_eq!(
            next_signal(c).await,
            (None, "news".to_string(), "héllo ✓".to_string())
        );
    }
    // Missing or null fields mean "".
    for body in [json!({}), json!({"type": null, "data": null})] {
        let resp = call(&server, Method::POST, &signal_path(&sid, None), Some(body)).await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        for c in [&mut a, &mut b] {
            assert_eq!(next_signal(c).await, (None, String::new(), String::new()));
        }
    }
    // The largest type and data pass intact.
    let ty = "t".repeat(MAX_SIGNAL_TYPE_BYTES);
    let data = "é".repeat(MAX_SIGNAL_DATA_BYTES / 2);
    let resp = call(
        &server,
        Method::POST,
        &signal_path(&sid, None),
        Some(json!({"type": ty, "data": data})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(next_signal(&mut a).await, (None, ty.clone(), data.clone()));
    assert_eq!(next_signal(&mut b).await, (None, ty, data));
    server.shutdown().await;
}

#[tokio::test]
async fn signal_to_one_connection_reaches_only_it() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let _ = a.event().await; // b's connection_created
    let resp = call(
        &server,
        Method::POST,
        &signal_path(&sid, Some(&b.id)),
        Some(json!({"type": "dm", "data": "just you"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        next_signal(&mut b).await,
        (None, "dm".to_string(), "just you".to_string())
    );
    // a's next event is the following broadcast, not the private one.
    let resp = call(
        &server,
        Method::POST,
        &signal_path(&sid, None),
        Some(json!({"type": "all", "data": "everyone"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        next_signal(&mut a).await,
        (None, "all".to_string(), "everyone".to_string())
    );
    assert_eq!(next_signal(&mut b).await.1, "all");
    server.shutdown().await;
}

#[tokio::test]
async fn rest_signals_keep_their_order() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let n = 50;
    for i in 0..n {
        let target = if i % 2 == 0 {
            Some(a.id.as_str())
        } else {
            None
        };
        let resp = call(
            &server,
            Method::POST,
            &signal_path(&sid, target),
            Some(json!({"type": "seq", "data": i.to_string()})),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    for i in 0..n {
        assert_eq!(next_signal(&mut a).await.2, i.to_string());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn signal_refusals_have_opentok_status_codes() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let post = |path: String, body: Value| {
        let server = &server;
        async move { call(server, Method::POST, &path, Some(body)).await }
    };
    let bcast = signal_path(&sid, None);

    // 400: invalid type characters, non-string fields, not JSON.
    expect_error(
        post(bcast.clone(), json!({"type": "no spaces", "data": "x"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        post(bcast.clone(), json!({"type": "t", "data": 5})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        post(bcast.clone(), json!(["type", "data"])).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let resp = http()
        .post(url(&server, &bcast))
        .header("X-OPENTOK-AUTH", jwt())
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::BAD_REQUEST).await;

    // 413: type or data over the limits, or a body over the cap.
    expect_error(
        post(
            bcast.clone(),
            json!({"type": "t".repeat(MAX_SIGNAL_TYPE_BYTES + 1), "data": ""}),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    expect_error(
        post(
            bcast.clone(),
            json!({"type": "t", "data": "d".repeat(MAX_SIGNAL_DATA_BYTES + 1)}),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let huge = "d".repeat(otc_server::rest::MAX_BODY_BYTES + 1);
    expect_error(
        post(bcast.clone(), json!({"type": "t", "data": huge})).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;

    // 404: a connection not in the session, a session with nobody in it, a
    // session of another project, a forged session id.
    expect_error(
        post(
            signal_path(&sid, Some("0123456789abcdef")),
            json!({"data": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let empty = client::session();
    expect_error(
        post(signal_path(&empty, None), json!({"data": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let other = Project::new("777", "other-secret-0123456789abcdef01234567");
    let foreign = create_session_id(&other);
    expect_error(
        post(signal_path(&foreign, None), json!({"data": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let forged = create_session_id(&Project::new(KEY, "not-the-secret-0123456789abcdef012345"));
    expect_error(
        post(signal_path(&forged, None), json!({"data": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // 400: a session id that is not one at all.
    expect_error(
        post(signal_path("1_garbage", None), json!({"data": "x"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    // 403: no credentials, or credentials for another project than the path's.
    let resp = http()
        .post(url(&server, &bcast))
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::FORBIDDEN).await;
    let resp = http()
        .post(url(
            &server,
            &format!("/v2/project/777/session/{sid}/signal"),
        ))
        .header("X-OPENTOK-AUTH", jwt())
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::FORBIDDEN).await;

    // None of the refused signals reached the client: its next signal is
    // this one.
    let resp = post(bcast.clone(), json!({"type": "ok", "data": "after"})).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        next_signal(&mut a).await,
        (None, "ok".to_string(), "after".to_string())
    );
    server.shutdown().await;
}

#[tokio::test]
async fn force_disconnect_ends_one_connection() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let _ = a.event().await; // b's connection_created
    let path = format!("/v2/project/{KEY}/session/{sid}/connection/{}", b.id);

    // Without credentials nothing happens.
    let resp = http()
        .delete(url(&server, &path))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::FORBIDDEN).await;

    let resp = call(&server, Method::DELETE, &path, None).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    match b.event().await {
        ServerMessage::Disconnected { reason, .. } => {
            assert_eq!(reason, DisconnectReason::ForceDisconnected)
        }
        other => panic!("expected disconnected, got {other:?}"),
    }
    expect_close(&mut b.ws).await;
    assert_eq!(
        destroyed(&a.event().await),
        (b.id.clone(), DisconnectReason::ForceDisconnected)
    );

    // Gone now, and unknown ids were never there.
    let resp = call(&server, Method::DELETE, &path, None).await;
    expect_error(resp, StatusCode::NOT_FOUND).await;
    let resp = call(
        &server,
        Method::DELETE,
        &format!("/v2/project/{KEY}/session/{sid}/connection/nobody"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND).await;
    // The last one out empties the session: 404 too.
    let last = format!("/v2/project/{KEY}/session/{sid}/connection/{}", a.id);
    assert_eq!(
        call(&server, Method::DELETE, &last, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(matches!(
        a.next().await,
        Next::Msg(ServerMessage::Disconnected { .. })
    ));
    let resp = call(&server, Method::DELETE, &last, None).await;
    expect_error(resp, StatusCode::NOT_FOUND).await;
    server.shutdown().await;
}

#[tokio::test]
async fn connections_are_listed() {
    let server = client::start_dev().await;
    let sid = client::session();
    let path = format!("/v2/project/{KEY}/session/{sid}/connection");
    let list = |server: &ServerHandle| {
        let u = url(server, &path);
        async move {
            let resp = http()
                .get(u)
                .header("X-OPENTOK-AUTH", jwt())
                .send()
                .await
                .expect("request");
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.expect("json")
        }
    };
    let empty = list(&server).await;
    assert_eq!(empty["count"], json!(0));
    assert_eq!(empty["items"], json!([]));

    let tok = mint_token(
        &Project::dev(),
        &sid,
        &TokenOptions {
            data: Some("name=Ann".into()),
            ..Default::default()
        },
    )
    .expect("mint");
    let a = Client::join_with(&server, &sid, &tok, false).await;
    let b = Client::join(&server, &sid).await;
    let body = list(&server).await;
    assert_eq!(body["count"], json!(2));
    assert_eq!(body["sessionId"], json!(sid));
    assert_eq!(body["projectId"], json!(KEY));
    let items = body["items"].as_array().expect("items");
    assert_eq!(items[0]["connectionId"], json!(a.id));
    assert_eq!(items[0]["data"], json!("name=Ann"));
    assert_eq!(items[1]["connectionId"], json!(b.id));
    assert_eq!(items[1]["connectionState"], json!("Connected"));
    assert!(items[0]["createdAt"].as_i64().expect("createdAt") > 1_600_000_000_000);

    let resp = http()
        .get(url(&server, &path))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::FORBIDDEN).await;
    let resp = call(
        &server,
        Method::GET,
        &format!("/v2/project/{KEY}/session/nonsense/connection"),
        None,
    )
    .await;
    expect_error(resp, StatusCode::BAD_REQUEST).await;
    server.shutdown().await;
}

/// Refusals outside the routes' own checks have the same JSON body: an
/// unknown path (404), a known path with another method (405), a plain GET
/// of the WebSocket endpoint, bodies that are not JSON objects.
#[tokio::test]
async fn every_refusal_has_the_json_error_body() {
    let server = client::start_dev().await;
    let sid = client::session();
    let _a = Client::join(&server, &sid).await;
    let cases: Vec<(Method, String, Option<&str>, StatusCode)> = vec![
        (Method::GET, "/nope".into(), None, StatusCode::NOT_FOUND),
        (
            Method::POST,
            "/v2/project/100000/whatever".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/session/create".into(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::PUT,
            signal_path(&sid, None),
            Some("{}"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::GET,
            signal_path(&sid, Some("c")),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            protocol::WS_PATH.into(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::POST,
            signal_path(&sid, None),
            Some(r#"["t", "x"]"#),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            signal_path(&sid, None),
            Some("{"),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            signal_path(&sid, None),
            Some(r#"{"type": 5}"#),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, path, body, status) in cases {
        let mut req = http()
            .request(method.clone(), url(&server, &path))
            .header("X-OPENTOK-AUTH", jwt());
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        assert_eq!(resp.status(), status, "{method} {path}");
        expect_error(resp, status).await;
    }
    // The WebSocket endpoint without an upgrade: a 4xx with the same body.
    let resp = http()
        .get(url(&server, protocol::WS_PATH))
        .send()
        .await
        .expect("request");
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let status = resp.status();
    expect_error(resp, status).await;
    server.shutdown().await;
}

/// Project JWTs as each official server SDK writes them: all accepted.
#[tokio::test]
async fn project_jwts_as_every_sdk_writes_them() {
    let server = client::start_dev().await;
    let secret = otc_server::DEV_API_SECRET;
    let t = now();
    let signed = |typ: Option<&str>, extra: Option<(&str, &str)>, claims: Value| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.typ = typ.map(str::to_string);
        let mut token = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encode");
        if let Some((k, v)) = extra {
            // A header field jsonwebtoken cannot write: re-sign by hand.
            use hmac::Mac;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let head = b64.encode(json!({"alg": "HS256", k: v}).to_string());
            let body = token.split('.').nth(1).expect("claims").to_string();
            let mut mac =
                <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
            mac.update(format!("{head}.{body}").as_bytes());
            token = format!("{head}.{body}.{}", b64.encode(mac.finalize().into_bytes()));
        }
        token
    };
    let cases = [
        (
            "Node",
            signed(
                Some("JWT"),
                None,
                json!({"iss": KEY, "ist": "project", "iat": t, "exp": t + 300}),
            ),
        ),
        (
            "Python: float exp, jti",
            signed(
                Some("JWT"),
                None,
                json!({"iss": KEY, "ist": "project", "iat": t, "exp": t as f64 + 180.5, "jti": "0.8138"}),
            ),
        ),
        (
            "Ruby: ist in the header, no typ",
            signed(
                None,
                Some(("ist", "project")),
                json!({"iss": KEY, "iat": t, "exp": t + 300}),
            ),
        ),
        (
            "PHP: numeric iss, uniqid jti",
            signed(
                Some("JWT"),
                None,
                json!({"iss": 100000, "ist": "project", "iat": t, "exp": t + 300, "jti": "6564f1a2b3c4d.12345678"}),
            ),
        ),
        (
            "Java: alg only",
            signed(
                None,
                None,
                json!({"iss": KEY, "ist": "project", "iat": t, "exp": t + 180, "jti": "q8Kp3xkP1Xq0t3u5mXaZ2g"}),
            ),
        ),
    ];
    for (what, token) in cases {
        let resp = http()
            .post(url(&server, "/session/create"))
            .header("X-OPENTOK-AUTH", token)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK, "{what}");
    }
    // Still strict: ist elsewhere in the header, a bad exp, an old float exp.
    for (what, token) in [
        (
            "ist: account in the header",
            signed(
                None,
                Some(("ist", "account")),
                json!({"iss": KEY, "iat": t, "exp": t + 300}),
            ),
        ),
        (
            "exp not a date",
            signed(
                Some("JWT"),
                None,
                json!({"iss": KEY, "ist": "project", "exp": "later"}),
            ),
        ),
        (
            "float exp in the past",
            signed(
                Some("JWT"),
                None,
                json!({"iss": KEY, "ist": "project", "exp": t as f64 - 0.5}),
            ),
        ),
    ] {
        let resp = http()
            .post(url(&server, "/session/create"))
            .header("X-OPENTOK-AUTH", token)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{what}");
        expect_error(resp, StatusCode::FORBIDDEN).await;
    }
    server.shutdown().await;
}

/// Every credential that is not this project's project JWT, on every
/// OpenTok route: 403 with a JSON body, and nothing happens. Client tokens
/// come first: every participant holds one, so none may administer the
/// project (they are signed with the same secret and carry `iss` and
/// `ist: "project"` too).
#[tokio::test]
async fn only_a_project_jwt_calls_rest() {
    let (server, other) = start_with_project_777().await;
    let secret = otc_server::DEV_API_SECRET;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    assert_eq!(client::created(&a.event().await).id, b.id);

    let client_token = |role, legacy| {
        mint_token(
            &Project::dev(),
            &sid,
            &TokenOptions {
                role,
                legacy,
                data: Some("name=mallory".into()),
                ..Default::default()
            },
        )
        .expect("mint")
    };
    let project_claims =
        || json!({"iss": KEY, "ist": "project", "iat": now(), "exp": now() + 60, "jti": "j"});
    let with_claim = |name: &str, value: Value| {
        let mut c = project_claims();
        c[name] = value;
        jwt_with(c, secret)
    };
    let mut cases: Vec<(String, String)> = Vec::new();
    for role in [
        otc_server::Role::Subscriber,
        otc_server::Role::Publisher,
        otc_server::Role::Moderator,
        otc_server::Role::PublisherOnly,
    ] {
        cases.push((format!("{role:?} client token"), client_token(role, false)));
    }
    cases.push((
        "legacy T1 client token".into(),
        client_token(otc_server::Role::Moderator, true),
    ));
    // A client token of the kind the official SDKs mint, claim by claim.
    for (name, value) in [
        ("scope", json!("session.connect")),
        ("scope", json!("anything")),
        ("session_id", json!(sid)),
        ("role", json!("moderator")),
        ("connection_data", json!("")),
        ("initial_layout_class_list", json!(["focus"])),
    ] {
        cases.push((format!("project JWT + {name}"), with_claim(name, value)));
    }
    cases.push((
        "project 777's JWT on project 100000's path".into(),
        otc_server::rest::mint_rest_token(&other, Duration::from_secs(60)).expect("jwt"),
    ));
    cases.push((
        "iss 100000 signed with project 777's secret".into(),
        jwt_with(project_claims(), other.secret().expect("a project secret")),
    ));
    cases.push((
        "expired".into(),
        jwt_with(
            json!({"iss": KEY, "ist": "project", "iat": now() - 600, "exp": now() - 1}),
            secret,
        ),
    ));
    // An unsigned token ("alg": "none") with good claims.
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    cases.push((
        "alg none".into(),
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&project_claims())
        ),
    ));

    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            signal_path(&sid, None),
            Some(json!({"type": "t", "data": "x"})),
        ),
        (
            Method::POST,
            signal_path(&sid, Some(&b.id)),
            Some(json!({"type": "t", "data": "x"})),
        ),
        (
            Method::DELETE,
            format!("/v2/project/{KEY}/session/{sid}/connection/{}", b.id),
            None,
        ),
        (
            Method::GET,
            format!("/v2/project/{KEY}/session/{sid}/connection"),
            None,
        ),
    ];
    for (what, token) in &cases {
        for (method, path, body) in &routes {
            for bearer in [false, true] {
                let mut req = http().request(method.clone(), url(&server, path));
                req = if bearer {
                    req.header("Authorization", format!("Bearer {token}"))
                } else {
                    req.header("X-OPENTOK-AUTH", token)
                };
                if let Some(b) = body {
                    req = req.json(b);
                }
                let resp = req.send().await.expect("request");
                assert_eq!(
                    resp.status(),
                    StatusCode::FORBIDDEN,
                    "{what}: {method} {path}"
                );
                expect_error(resp, StatusCode::FORBIDDEN).await;
            }
        }
    }
    // Session creation takes no project from the path: any client token,
    // of either project, is refused there too.
    let other_sid = create_session_id(&other);
    let other_client = mint_token(&other, &other_sid, &TokenOptions::default()).expect("mint");
    cases.push(("project 777's client token".into(), other_client));
    for (what, token) in &cases {
        if what.starts_with("project 777's JWT") {
            continue; // a valid project JWT of project 777: creating is its right
        }
        let resp = http()
            .post(url(&server, "/session/create"))
            .header("X-OPENTOK-AUTH", token)
            .send()
            .await
            .expect("request");
        expect_error(resp, StatusCode::FORBIDDEN).await;
    }
    // A client token is refused with a message that says what to use.
    let resp = http()
        .post(url(&server, &signal_path(&sid, None)))
        .header(
            "X-OPENTOK-AUTH",
            client_token(otc_server::Role::Moderator, false),
        )
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("request");
    let msg = expect_error(resp, StatusCode::FORBIDDEN).await;
    assert!(
        msg.contains("client token") && msg.contains("project JWT"),
        "{msg}"
    );

    // Nothing happened: both still connected, no signal arrived; the real
    // project JWT still works and its signal is the first thing either sees.
    let resp = call(
        &server,
        Method::GET,
        &format!("/v2/project/{KEY}/session/{sid}/connection"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let listing: Value = resp.json().await.expect("json");
    assert_eq!(listing["count"], json!(2));
    let resp = call(
        &server,
        Method::POST,
        &signal_path(&sid, None),
        Some(json!({"type": "ok", "data": "real"})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    for c in [&mut a, &mut b] {
        assert_eq!(
            next_signal(c).await,
            (None, "ok".to_string(), "real".to_string())
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn projects_stay_apart() {
    let (server, other) = start_with_project_777().await;
    let sid = client::session(); // the dev project's
    let _a = Client::join(&server, &sid).await;
    let other_jwt =
        otc_server::rest::mint_rest_token(&other, Duration::from_secs(60)).expect("jwt");
    // Project 777's token on project 100000's path: 403.
    let resp = http()
        .post(url(&server, &signal_path(&sid, None)))
        .header("X-OPENTOK-AUTH", &other_jwt)
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::FORBIDDEN).await;
    // On its own path, the dev project's session is not one of its own: 404.
    let resp = http()
        .post(url(
            &server,
            &format!("/v2/project/777/session/{sid}/signal"),
        ))
        .header("X-OPENTOK-AUTH", &other_jwt)
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("request");
    expect_error(resp, StatusCode::NOT_FOUND).await;
    // Sessions it creates are its own.
    let resp = http()
        .post(url(&server, "/session/create"))
        .header("X-OPENTOK-AUTH", &other_jwt)
        .send()
        .await
        .expect("request");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body[0]["project_id"], json!("777"));
    let new_sid = body[0]["session_id"].as_str().expect("sid");
    assert!(otc_server::auth::verify_session_id(&other, new_sid).is_ok());
    server.shutdown().await;
}

// --- OpenVidu ---------------------------------------------------------------

fn basic(user: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

async fn openvidu(server: &ServerHandle, auth: Option<String>, body: Value) -> reqwest::Response {
    let mut req = http().post(url(server, "/openvidu/api/signal")).json(&body);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    req.send().await.expect("request")
}

fn dev_basic() -> Option<String> {
    Some(basic("OPENVIDUAPP", otc_server::DEV_API_SECRET))
}

#[tokio::test]
async fn openvidu_signal_delivers() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;
    let mut b = Client::join(&server, &sid).await;
    let _ = a.event().await; // b's connection_created

    // No `to`, or an empty one: everyone.
    for body in [
        json!({"session": sid, "type": "ov", "data": "all"}),
        json!({"session": sid, "to": [], "type": "ov", "data": "all"}),
    ] {
        let resp = openvidu(&server, dev_basic(), body).await;
        assert_eq!(resp.status(), StatusCode::OK);
        for c in [&mut a, &mut b] {
            assert_eq!(
                next_signal(c).await,
                (None, "ov".to_string(), "all".to_string())
            );
        }
    }
    // To a list: only those.
    let resp = openvidu(
        &server,
        dev_basic(),
        json!({"session": sid, "to": [b.id], "type": "ov", "data": "b only"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(next_signal(&mut b).await.2, "b only");
    let resp = openvidu(
        &server,
        dev_basic(),
        json!({"session": sid, "to": [a.id, b.id], "data": "both"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(next_signal(&mut a).await.2, "both");
    assert_eq!(next_signal(&mut b).await.2, "both");
    server.shutdown().await;
}

#[tokio::test]
async fn openvidu_refusals() {
    let server = client::start_dev().await;
    let sid = client::session();
    let mut a = Client::join(&server, &sid).await;

    // 401, with a Basic challenge.
    for auth in [
        None,
        Some(basic("OPENVIDUAPP", "wrong")),
        Some(basic("someone", otc_server::DEV_API_SECRET)),
        Some(format!("Bearer {}", jwt())),
    ] {
        let resp = openvidu(&server, auth, json!({"session": sid, "data": "x"})).await;
        assert!(resp.headers().contains_key("www-authenticate"));
        expect_error(resp, StatusCode::UNAUTHORIZED).await;
    }
    // 400: bad body parameters.
    for body in [
        json!({"data": "x"}),
        json!({"session": 5}),
        json!({"session": sid, "to": "not-a-list"}),
        json!({"session": sid, "type": "bad type"}),
        json!({"session": sid, "type": "t".repeat(MAX_SIGNAL_TYPE_BYTES + 1)}),
        json!({"session": sid, "data": "d".repeat(MAX_SIGNAL_DATA_BYTES + 1)}),
    ] {
        let resp = openvidu(&server, dev_basic(), body.clone()).await;
        expect_error(resp, StatusCode::BAD_REQUEST).await;
    }
    // 404: no such session, or a target not in it (nothing is delivered).
    let resp = openvidu(
        &server,
        dev_basic(),
        json!({"session": "1_nothing", "data": "x"}),
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND).await;
    let resp = openvidu(
        &server,
        dev_basic(),
        json!({"session": sid, "to": [a.id, "ghost"], "data": "x"}),
    )
    .await;
    expect_error(resp, StatusCode::NOT_FOUND).await;
    // 406: a real session with nobody connected.
    let empty = client::session();
    let resp = openvidu(&server, dev_basic(), json!({"session": empty, "data": "x"})).await;
    expect_error(resp, StatusCode::NOT_ACCEPTABLE).await;

    // Nothing refused reached the client.
    let resp = openvidu(
        &server,
        dev_basic(),
        json!({"session": sid, "data": "fine"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(next_signal(&mut a).await.2, "fine");
    server.shutdown().await;
}

/// A Vonage application over real HTTP and WebSocket: RS256 JWTs made the
/// way `@vonage/video` and Python `vonage` make them, with the test keys of
/// the unit tests (`server/src/auth/testdata`).
mod application {
    use super::*;
    use otc_server::config::ApplicationKey;

    const APP: &str = "0b5e8d2c-3f3a-4a4e-9c21-6f1f2b7d9a10";
    const PRIVATE: &str = include_str!("../src/auth/testdata/app_a.key");
    const PUBLIC: &str = include_str!("../src/auth/testdata/app_a.pub.pem");

    fn rs256(claims: &Value) -> String {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE).expect("private key");
        let der = key.to_pkcs1_der().expect("der");
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
        )
        .expect("sign")
    }

    fn rest_jwt() -> String {
        rs256(&json!({"application_id": APP, "iat": now(), "exp": now() + 900, "jti": "x"}))
    }

    async fn start() -> ServerHandle {
        let mut config = Config::dev();
        let key = ApplicationKey::from_pem(PUBLIC).expect("public key");
        config.projects.push(Project::application(APP, key));
        client::start(config).await
    }

    async fn create(server: &ServerHandle, content_type: &str, body: &str) -> reqwest::Response {
        http()
            .post(url(server, "/session/create"))
            .header("Authorization", format!("Bearer {}", rest_jwt()))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    #[tokio::test]
    async fn sessions_tokens_and_signals_of_an_application() {
        let server = start().await;
        // @vonage/video's form, Python vonage's form labelled JSON, and a
        // JSON body labelled a form.
        let mut sids = Vec::new();
        for (ct, body) in [
            (
                "application/x-www-form-urlencoded",
                "archiveMode=manual&location=null&p2p.preference=routed",
            ),
            (
                "application/json",
                "e2ee=True&media_mode=routed&p2p.preference=disabled",
            ),
            (
                "application/x-www-form-urlencoded",
                r#"{"archiveMode":"manual","location":null}"#,
            ),
        ] {
            let resp = create(&server, ct, body).await;
            assert_eq!(resp.status(), StatusCode::OK, "{ct}: {body}");
            let answer: Value = resp.json().await.expect("json");
            assert_eq!(answer[0]["project_id"], json!(APP));
            sids.push(
                answer[0]["session_id"]
                    .as_str()
                    .expect("session_id")
                    .to_string(),
            );
        }
        let sid = &sids[0];

        // A client joins with the application id as its API key.
        let token = rs256(&json!({
            "application_id": APP, "scope": "session.connect", "session_id": sid,
            "role": "publisher", "connection_data": "name=ann", "initial_layout_class_list": "",
            "sub": "video", "acl": {"paths": {"/session/**": {}}},
            "iat": now(), "exp": now() + 600, "jti": "y",
        }));
        let mut c = Client::join_as(client::open(&server).await, APP, sid, &token, false).await;
        assert_eq!(c.data, "name=ann");

        let resp = http()
            .post(url(
                &server,
                &format!("/v2/project/{APP}/session/{sid}/signal"),
            ))
            .header("Authorization", format!("Bearer {}", rest_jwt()))
            .json(&json!({"type": "news", "data": "from the application"}))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            next_signal(&mut c).await,
            (None, "news".into(), "from the application".into())
        );

        // The participant's token never administers; neither does an
        // HS256 token keyed by the public PEM; nor the application's JWT
        // for the development project's path.
        let hs = jwt_with(json!({"application_id": APP, "exp": now() + 60}), PUBLIC);
        for (bearer, path, why) in [
            (
                token.clone(),
                format!("/v2/project/{APP}/session/{sid}/signal"),
                "client token",
            ),
            (
                hs,
                format!("/v2/project/{APP}/session/{sid}/signal"),
                "RS256",
            ),
            (rest_jwt(), signal_path(sid, None), "another application"),
        ] {
            let resp = http()
                .post(url(&server, &path))
                .header("Authorization", format!("Bearer {bearer}"))
                .json(&json!({"type": "t", "data": "x"}))
                .send()
                .await
                .expect("request");
            let msg = expect_error(resp, StatusCode::FORBIDDEN).await;
            assert!(msg.contains(why), "{why}: {msg}");
        }

        // Force disconnect, as the SDKs' disconnectClient does.
        let resp = http()
            .delete(url(
                &server,
                &format!("/v2/project/{APP}/session/{sid}/connection/{}", c.id),
            ))
            .header("Authorization", format!("Bearer {}", rest_jwt()))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
}
