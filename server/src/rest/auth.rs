//! Who may call the REST API.
//!
//! * **OpenTok routes**: a *project JWT* in `X-OPENTOK-AUTH` (what the
//!   official server SDKs send) or `Authorization: Bearer`, and nothing else.
//!   A project JWT is HS256, signed with the project secret, and carries:
//!
//!   | claim | rule |
//!   | --- | --- |
//!   | `iss` | required: the API key (a string, or a number) of a configured project, and the project in the path when there is one |
//!   | `ist` | required: exactly `"project"`, in the claims or in the JOSE header (where the Ruby SDK puts it) |
//!   | `exp` | required: in the future (an integer, a float or a numeric string) |
//!   | `iat`, `jti` | optional, not checked (the SDKs send both) |
//!   | `scope`, `session_id`, `role`, `connection_data`, `initial_layout_class_list` | **must be absent** |
//!
//!   The last row is what tells a project JWT from a *client token*: the
//!   official SDKs' client tokens are signed with the same secret and carry
//!   `iss` and `ist: "project"` too, but always `scope: "session.connect"`
//!   and a `session_id`. A participant holds a client token, so accepting
//!   one here would let any participant administer the project (create
//!   sessions, send server signals, disconnect others). Legacy `T1==`
//!   tokens are client tokens and are not JWTs at all, so they fail too.
//!
//!   The project is found from `iss` (read before the signature is checked,
//!   only to pick the key to check it with). Every refusal is a 403 with a
//!   JSON body that says which rule failed, but never whether a secret was
//!   close.
//! * **OpenVidu route**: HTTP Basic `OPENVIDUAPP:<secret>`. The secret alone
//!   names the project, so it is compared, in constant time, with every
//!   configured secret.

use std::time::Duration;

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::auth::claims;
use crate::config::{Config, Project};

/// Header the official OpenTok server SDKs put their project JWT in.
pub const OPENTOK_AUTH_HEADER: &str = "x-opentok-auth";

/// The `ist` (issuer type) claim of a project JWT.
pub const ISSUER_TYPE_PROJECT: &str = "project";

/// The user name of OpenVidu's Basic authentication.
pub const OPENVIDU_USER: &str = "OPENVIDUAPP";

/// Longest lifetime [`mint_rest_token`] accepts (the SDKs use minutes).
pub const MAX_REST_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Claims of a project JWT.
#[derive(Debug, Serialize, Deserialize)]
struct ProjectClaims {
    /// The API key; the SDKs write a string, some write a number.
    iss: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ist: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<serde_json::Value>,
    #[serde(default)]
    exp: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<serde_json::Value>,
    /// Claims only a client token carries; present means "not a project
    /// JWT" (see the module docs), whatever their value.
    #[serde(default, skip_serializing)]
    scope: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    session_id: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    role: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    connection_data: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    initial_layout_class_list: Option<serde_json::Value>,
}

impl ProjectClaims {
    /// The first claim present that only a client token carries.
    fn client_claim(&self) -> Option<&'static str> {
        [
            ("scope", &self.scope),
            ("session_id", &self.session_id),
            ("role", &self.role),
            ("connection_data", &self.connection_data),
            ("initial_layout_class_list", &self.initial_layout_class_list),
        ]
        .into_iter()
        .find(|(_, v)| v.is_some())
        .map(|(name, _)| name)
    }
}

/// Only `iss`, read without verification to choose the secret.
#[derive(Deserialize)]
struct IssuerOnly {
    #[serde(default)]
    iss: Option<serde_json::Value>,
}

/// The project JWT of a request, from `X-OPENTOK-AUTH` or
/// `Authorization: Bearer`.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::forbidden(
            "authentication required: a project JWT in X-OPENTOK-AUTH or Authorization: Bearer",
        )
    };
    fn text(v: &axum::http::HeaderValue) -> Result<&str, ApiError> {
        v.to_str()
            .map(str::trim)
            .map_err(|_| ApiError::forbidden("authentication header is not text"))
    }
    if let Some(v) = headers.get(OPENTOK_AUTH_HEADER) {
        return text(v);
    }
    let v = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let v = text(v)?;
    match v.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(missing()),
    }
}

/// Checks the project JWT of a request and returns its project. With
/// `path_key`, the token must be for that project.
pub fn project_from_jwt<'c>(
    config: &'c Config,
    headers: &HeaderMap,
    path_key: Option<&str>,
) -> Result<&'c Project, ApiError> {
    let token = bearer(headers)?;
    if token.is_empty() || token.len() > protocol::limits::MAX_TOKEN_BYTES {
        return Err(ApiError::forbidden("project JWT is empty or too long"));
    }
    let unverified = jsonwebtoken::dangerous::insecure_decode::<IssuerOnly>(token)
        .map_err(|_| ApiError::forbidden("project JWT is malformed"))?;
    let issuer = unverified
        .claims
        .iss
        .as_ref()
        .and_then(claims::key_text)
        .ok_or_else(|| ApiError::forbidden("project JWT has no iss (API key) claim"))?;
    if let Some(key) = path_key {
        if key != issuer {
            return Err(ApiError::forbidden(
                "project JWT was issued for another project than the one in the path",
            ));
        }
    }
    let project = config
        .project(&issuer)
        .ok_or_else(|| ApiError::forbidden("unknown API key"))?;

    // The signature is checked here; `iss` was read above and `exp` is
    // read below, by hand: the SDKs write them in shapes (a numeric `iss`,
    // a float `exp`) that the library's typed checks refuse.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<ProjectClaims>(
        token,
        &DecodingKey::from_secret(project.api_secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => {
                ApiError::forbidden("project JWT signature does not match")
            }
            ErrorKind::InvalidAlgorithm => ApiError::forbidden("project JWT must be HS256"),
            _ => ApiError::forbidden("project JWT is not valid"),
        }
    })?;
    let exp = data
        .claims
        .exp
        .as_ref()
        .ok_or_else(|| ApiError::forbidden("project JWT has no exp claim"))?;
    let exp = claims::numeric_date(exp)
        .ok_or_else(|| ApiError::forbidden("project JWT's exp is not a date"))?;
    if exp <= jsonwebtoken::get_current_timestamp() {
        return Err(ApiError::forbidden("project JWT has expired"));
    }
    let project_ist =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()) == Some(ISSUER_TYPE_PROJECT);
    let header = claims::header_json(token);
    if !project_ist(data.claims.ist.as_ref())
        && !project_ist(header.as_ref().and_then(|h| h.get("ist")))
    {
        return Err(ApiError::forbidden(
            "project JWT needs the claim ist = \"project\"",
        ));
    }
    if let Some(claim) = data.claims.client_claim() {
        return Err(ApiError::forbidden(format!(
            "a client token (it carries {claim:?}) cannot call the REST API: \
             sign a project JWT (iss, ist = \"project\", iat, exp) with the project secret"
        )));
    }
    Ok(project)
}

/// Mints a project JWT for the REST API, as the official SDKs do: `iss`,
/// `ist = "project"`, `iat`, `exp`, a random `jti`. For `curl` users
/// (`otc-server rest-token`) and tests.
pub fn mint_rest_token(project: &Project, lifetime: Duration) -> Result<String, ApiError> {
    if lifetime.is_zero() || lifetime > MAX_REST_TOKEN_LIFETIME {
        return Err(ApiError::bad_request(
            "REST token lifetime must be between 1 second and 24 hours",
        ));
    }
    let now = jsonwebtoken::get_current_timestamp();
    let claims = ProjectClaims {
        iss: serde_json::Value::String(project.api_key.clone()),
        ist: Some(ISSUER_TYPE_PROJECT.into()),
        iat: Some(now.into()),
        exp: Some((now + lifetime.as_secs()).into()),
        jti: Some(format!("{:016x}", rand::rng().random::<u64>()).into()),
        scope: None,
        session_id: None,
        role: None,
        connection_data: None,
        initial_layout_class_list: None,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(project.api_secret.as_bytes()),
    )
    .map_err(ApiError::internal)
}

/// Checks OpenVidu's Basic credentials and returns the project whose secret
/// they carry.
pub fn project_from_basic<'c>(
    config: &'c Config,
    headers: &HeaderMap,
) -> Result<&'c Project, ApiError> {
    let refuse = || {
        ApiError::unauthorized_basic(
            "authentication required: HTTP Basic with user OPENVIDUAPP and the project secret",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(refuse)?;
    let encoded = match value.trim().split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => rest.trim(),
        _ => return Err(refuse()),
    };
    if encoded.len() > protocol::limits::MAX_TOKEN_BYTES {
        return Err(refuse());
    }
    let decoded = STANDARD.decode(encoded).map_err(|_| refuse())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refuse())?;
    let (user, secret) = decoded.split_once(':').ok_or_else(refuse)?;
    // Look at every project, without stopping at a match, so the time taken
    // does not tell which (or whether an early) project matched.
    let mut found = None;
    for p in &config.projects {
        if bool::from(p.api_secret.as_bytes().ct_eq(secret.as_bytes())) {
            found = Some(p);
        }
    }
    if user != OPENVIDU_USER {
        return Err(refuse());
    }
    found.ok_or_else(refuse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("header"));
        h
    }

    #[test]
    fn minted_token_is_accepted_in_either_header() {
        let config = Config::dev();
        let p = Project::dev();
        let t = mint_rest_token(&p, Duration::from_secs(60)).expect("mint");
        let ok = project_from_jwt(&config, &headers("x-opentok-auth", &t), None).expect("ok");
        assert_eq!(ok.api_key, p.api_key);
        let bearer = headers("authorization", &format!("Bearer {t}"));
        assert!(project_from_jwt(&config, &bearer, Some(&p.api_key)).is_ok());
        assert!(project_from_jwt(&config, &bearer, Some("999")).is_err());
    }

    #[test]
    fn basic_needs_the_user_and_a_project_secret() {
        let config = Config::dev();
        let enc = |s: &str| format!("Basic {}", STANDARD.encode(s));
        let good = format!("{OPENVIDU_USER}:{}", crate::DEV_API_SECRET);
        assert!(project_from_basic(&config, &headers("authorization", &enc(&good))).is_ok());
        let bad_user = format!("admin:{}", crate::DEV_API_SECRET);
        for v in [
            enc(&bad_user),
            enc("OPENVIDUAPP:nope"),
            enc("OPENVIDUAPP"),
            "Basic !!!".to_string(),
            format!("Bearer {}", STANDARD.encode(&good)),
        ] {
            let e = project_from_basic(&config, &headers("authorization", &v)).expect_err(&v);
            assert_eq!(e.status, axum::http::StatusCode::UNAUTHORIZED);
        }
        assert!(project_from_basic(&config, &HeaderMap::new()).is_err());
    }

    #[test]
    fn lifetimes_are_bounded() {
        let p = Project::dev();
        assert!(mint_rest_token(&p, Duration::ZERO).is_err());
        assert!(mint_rest_token(&p, Duration::from_secs(2 * 24 * 3600)).is_err());
    }
}
