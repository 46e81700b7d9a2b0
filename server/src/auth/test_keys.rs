//! Test-only RSA keys (`testdata/`, see its README) and helpers that sign
//! JWTs the way the Vonage SDKs do, for the unit tests of applications.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::config::{ApplicationKey, Config, Project};

pub const APP_ID: &str = "0b5e8d2c-3f3a-4a4e-9c21-6f1f2b7d9a10";
pub const OTHER_APP_ID: &str = "7d1c4e2a-9b8f-4c3d-a1e0-5f6b7c8d9e0f";

pub const A_PRIVATE: &str = include_str!("testdata/app_a.key");
pub const A_PUBLIC: &str = include_str!("testdata/app_a.pub.pem");
pub const A_PUBLIC_PKCS1: &str = include_str!("testdata/app_a.pkcs1.pub.pem");
pub const B_PRIVATE: &str = include_str!("testdata/app_b.key");
pub const B_PUBLIC: &str = include_str!("testdata/app_b.pub.pem");
pub const SMALL_PUBLIC: &str = include_str!("testdata/small.pub.pem");

/// Application [`APP_ID`] with key A.
pub fn app() -> Project {
    Project::application(APP_ID, ApplicationKey::from_pem(A_PUBLIC).expect("key A"))
}

/// The development project, application [`APP_ID`] (key A) and
/// application [`OTHER_APP_ID`] (key B).
pub fn config() -> Config {
    let mut c = Config::dev();
    c.projects.push(app());
    c.projects.push(Project::application(
        OTHER_APP_ID,
        ApplicationKey::from_pem(B_PUBLIC).expect("key B"),
    ));
    c.validate().expect("valid");
    c
}

pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// `claims` signed RS256 with a PEM private key, header as the SDKs write it.
pub fn rs256(claims: &Value, private_pem: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.typ = Some("JWT".into());
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem).expect("private key");
    let der = private.to_pkcs1_der().expect("PKCS#1 DER");
    let key = EncodingKey::from_rsa_der(der.as_bytes());
    jsonwebtoken::encode(&h, claims, &key).expect("sign")
}

/// `claims` signed HS256 with `secret` (the algorithm-confusion attack
/// when the secret is an application's public PEM).
pub fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

/// The claims of `@vonage/video`'s REST JWT (`@vonage/jwt`'s defaults).
pub fn rest_claims(app: &str) -> Value {
    json!({
        "application_id": app,
        "iat": now(),
        "exp": now() + 900,
        "jti": "6b8d4b1e-2a7c-4c2e-9d1a-3b5e7f9a0c1d",
    })
}

/// The claims of `@vonage/video`'s client token for `session_id`.
pub fn client_claims(app: &str, session_id: &str) -> Value {
    json!({
        "application_id": app,
        "scope": "session.connect",
        "session_id": session_id,
        "role": "moderator",
        "initial_layout_class_list": "",
        "connection_data": "name=ann",
        "sub": "video",
        "acl": {"paths": {"/session/**": {}}},
        "iat": now(),
        "exp": now() + 86400,
        "jti": "0f1e2d3c-4b5a-4968-8776-655443322110",
    })
}
