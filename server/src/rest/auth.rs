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
//! * **OpenTok routes, for a Vonage application** (what `@vonage/video`,
//!   Python `vonage` and the `opentok` Node SDK's Vonage mode send): an
//!   *application JWT* in `Authorization: Bearer` (or `X-OPENTOK-AUTH`),
//!   RS256, signed with the application's private key:
//!
//!   | claim | rule |
//!   | --- | --- |
//!   | `application_id` | required: a string, the id of a configured application, and the one in the path when there is one |
//!   | `iss` | optional (opentok's Vonage mode sends it): the application id |
//!   | `ist` | optional: `"project"` |
//!   | `exp` | required: in the future |
//!   | `nbf` | optional: not later than now (with [`claims::CLOCK_SKEW_SECS`]) |
//!   | `iat`, `jti`, `sub`, `acl`, ... | optional, not checked |
//!   | `scope`, `session_id`, `role`, `connection_data`, `initial_layout_class_list` | **must be absent**, as above: the Vonage SDKs' client tokens carry them |
//!
//!   A token with `application_id` is verified as RS256 with that
//!   application's public key, and nothing else: which algorithm is used is
//!   decided by the configured credential, never by the token's header, so
//!   an HS256 token "signed" with the (public) PEM is refused, and so is a
//!   JWT with `application_id` naming an OpenTok project. A token without
//!   `application_id` whose `iss` names an application is refused too: an
//!   application has no secret to check an HS256 signature with.
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

/// `iss` and `application_id`, read without verification to choose the key.
#[derive(Deserialize)]
struct IssuerOnly {
    #[serde(default)]
    iss: Option<serde_json::Value>,
    #[serde(default)]
    application_id: Option<serde_json::Value>,
}

/// Claims only a client token carries (see the module docs).
const CLIENT_ONLY_CLAIMS: [&str; 5] = [
    "scope",
    "session_id",
    "role",
    "connection_data",
    "initial_layout_class_list",
];

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
    if let Some(app) = &unverified.claims.application_id {
        return application_from_jwt(config, token, app, path_key);
    }
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
    let Some(secret) = project.secret() else {
        return Err(ApiError::forbidden(format!(
            "{issuer} is a Vonage application, which has no secret: sign an RS256 JWT with \
             its private key, with the claim application_id = \"{issuer}\""
        )));
    };

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
        &DecodingKey::from_secret(secret.as_bytes()),
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

/// Checks the RS256 JWT of a Vonage application (see the module docs);
/// `app` is its unverified `application_id` claim.
fn application_from_jwt<'c>(
    config: &'c Config,
    token: &str,
    app: &serde_json::Value,
    path_key: Option<&str>,
) -> Result<&'c Project, ApiError> {
    let app = app
        .as_str()
        .ok_or_else(|| ApiError::forbidden("application JWT's application_id is not a string"))?;
    if let Some(key) = path_key {
        if key != app {
            return Err(ApiError::forbidden(
                "application JWT was issued for another application than the one in the path",
            ));
        }
    }
    let project = config
        .project(app)
        .ok_or_else(|| ApiError::forbidden("unknown application id"))?;
    let key = project.application_key().ok_or_else(|| {
        ApiError::forbidden(
            "application_id names an OpenTok project, not a Vonage application: a project's \
             JWT is HS256 with iss = its API key and no application_id",
        )
    })?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        key.decoding_key(),
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidSignature => ApiError::forbidden(
                "application JWT signature does not match the application's public key",
            ),
            ErrorKind::InvalidAlgorithm => ApiError::forbidden(
                "application JWT must be RS256, signed with the application's private key",
            ),
            _ => ApiError::forbidden("application JWT is not valid"),
        }
    })?;
    let c = data.claims;
    if let Some(iss) = c.get("iss") {
        if claims::key_text(iss).as_deref() != Some(app) {
            return Err(ApiError::forbidden(
                "application JWT's iss, when present, must be the application id",
            ));
        }
    }
    if let Some(ist) = c.get("ist") {
        if ist.as_str() != Some(ISSUER_TYPE_PROJECT) {
            return Err(ApiError::forbidden(
                "application JWT's ist, when present, must be \"project\"",
            ));
        }
    }
    let exp = c
        .get("exp")
        .ok_or_else(|| ApiError::forbidden("application JWT has no exp claim"))?;
    let exp = claims::numeric_date(exp)
        .ok_or_else(|| ApiError::forbidden("application JWT's exp is not a date"))?;
    let now = jsonwebtoken::get_current_timestamp();
    if exp <= now {
        return Err(ApiError::forbidden("application JWT has expired"));
    }
    if let Some(nbf) = c.get("nbf") {
        match claims::numeric_date(nbf) {
            Some(nbf) if nbf <= now + claims::CLOCK_SKEW_SECS => {}
            Some(_) => {
                return Err(ApiError::forbidden(
                    "application JWT is not valid yet (nbf)",
                ))
            }
            None => return Err(ApiError::forbidden("application JWT's nbf is not a date")),
        }
    }
    if let Some(claim) = CLIENT_ONLY_CLAIMS.into_iter().find(|k| c.contains_key(*k)) {
        return Err(ApiError::forbidden(format!(
            "a client token (it carries {claim:?}) cannot call the REST API: \
             sign an application JWT (application_id, iat, exp, jti) with the private key"
        )));
    }
    Ok(project)
}

/// Mints a project JWT for the REST API, as the official SDKs do: `iss`,
/// `ist = "project"`, `iat`, `exp`, a random `jti`. For `curl` users
/// (`otc-server rest-token`) and tests.
pub fn mint_rest_token(project: &Project, lifetime: Duration) -> Result<String, ApiError> {
    let Some(secret) = project.secret() else {
        return Err(ApiError::bad_request(format!(
            "{} is a Vonage application: its REST JWTs are signed with its private key, which \
             this server does not hold",
            project.api_key
        )));
    };
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
        &EncodingKey::from_secret(secret.as_bytes()),
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
    // An application has no secret, so Basic can never name one.
    for p in &config.projects {
        if let Some(s) = p.secret() {
            if bool::from(s.as_bytes().ct_eq(secret.as_bytes())) {
                found = Some(p);
            }
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

    mod applications {
        use super::*;
        use crate::auth::test_keys::*;
        use serde_json::json;

        fn bearer(token: &str) -> HeaderMap {
            headers("authorization", &format!("Bearer {token}"))
        }

        /// The refusal's message (it must be a 403).
        fn refused(config: &Config, token: &str, path: Option<&str>) -> String {
            let e = project_from_jwt(config, &bearer(token), path).expect_err("refused");
            assert_eq!(e.status, axum::http::StatusCode::FORBIDDEN, "{}", e.message);
            e.message.into_owned()
        }

        #[test]
        fn the_sdks_application_jwts_are_accepted() {
            let c = config();
            let vonage = rs256(&rest_claims(APP_ID), A_PRIVATE);
            for path in [None, Some(APP_ID)] {
                let p = project_from_jwt(&c, &bearer(&vonage), path).expect("@vonage/video");
                assert_eq!(p.api_key, APP_ID);
            }
            let p = project_from_jwt(&c, &headers("x-opentok-auth", &vonage), None)
                .expect("in X-OPENTOK-AUTH too");
            assert_eq!(p.api_key, APP_ID);
            // opentok's Vonage mode adds iss and ist.
            let mut opentok = rest_claims(APP_ID);
            opentok["iss"] = json!(APP_ID);
            opentok["ist"] = json!("project");
            let t = rs256(&opentok, A_PRIVATE);
            assert!(project_from_jwt(&c, &bearer(&t), Some(APP_ID)).is_ok());
            // The other application, with its own key.
            let t = rs256(&rest_claims(OTHER_APP_ID), B_PRIVATE);
            let p = project_from_jwt(&c, &bearer(&t), Some(OTHER_APP_ID)).expect("B");
            assert_eq!(p.api_key, OTHER_APP_ID);
        }

        #[test]
        fn project_jwts_still_work_beside_applications() {
            let c = config();
            let t = mint_rest_token(&Project::dev(), Duration::from_secs(60)).expect("mint");
            let p = project_from_jwt(&c, &bearer(&t), Some(crate::DEV_API_KEY)).expect("HS256");
            assert_eq!(p.api_key, crate::DEV_API_KEY);
            let m = refused(&c, &t, Some(APP_ID));
            assert!(m.contains("another project"), "{m}");
        }

        #[test]
        fn wrong_key_is_refused() {
            let t = rs256(&rest_claims(APP_ID), B_PRIVATE);
            let m = refused(&config(), &t, Some(APP_ID));
            assert!(m.contains("signature does not match"), "{m}");
        }

        /// The PEM is public: an HS256 token keyed by it must never pass.
        #[test]
        fn hs256_signed_with_the_public_pem_is_refused() {
            let c = config();
            for pem in [A_PUBLIC, A_PUBLIC.trim()] {
                let t = hs256(&rest_claims(APP_ID), pem.as_bytes());
                let m = refused(&c, &t, Some(APP_ID));
                assert!(m.contains("must be RS256"), "{m}");
                // The OpenTok shape (iss, ist), no application_id.
                let claims =
                    json!({"iss": APP_ID, "ist": "project", "iat": now(), "exp": now() + 60});
                let t = hs256(&claims, pem.as_bytes());
                let m = refused(&c, &t, Some(APP_ID));
                assert!(m.contains("is a Vonage application"), "{m}");
            }
            // And an RS256 token for the HS256 project is no project JWT.
            let claims = json!({"iss": crate::DEV_API_KEY, "ist": "project", "exp": now() + 60});
            let m = refused(&c, &rs256(&claims, A_PRIVATE), None);
            assert!(m.contains("HS256"), "{m}");
        }

        #[test]
        fn client_tokens_cannot_call_rest() {
            let c = config();
            let sid = crate::auth::create_session_id(&app());
            let t = rs256(&client_claims(APP_ID, &sid), A_PRIVATE);
            let m = refused(&c, &t, Some(APP_ID));
            assert!(m.contains("a client token"), "{m}");
            // Any one of the client claims is enough.
            for claim in CLIENT_ONLY_CLAIMS {
                let mut claims = rest_claims(APP_ID);
                claims[claim] = json!("");
                let m = refused(&c, &rs256(&claims, A_PRIVATE), None);
                assert!(m.contains(claim), "{claim}: {m}");
            }
        }

        #[test]
        fn dates_are_checked() {
            let c = config();
            let mut expired = rest_claims(APP_ID);
            expired["exp"] = json!(now() - 1);
            assert!(refused(&c, &rs256(&expired, A_PRIVATE), None).contains("expired"));
            let mut no_exp = rest_claims(APP_ID);
            no_exp.as_object_mut().expect("object").remove("exp");
            assert!(refused(&c, &rs256(&no_exp, A_PRIVATE), None).contains("no exp"));
            let mut later = rest_claims(APP_ID);
            later["nbf"] = json!(now() + 3600);
            assert!(refused(&c, &rs256(&later, A_PRIVATE), None).contains("nbf"));
            let mut float_exp = rest_claims(APP_ID);
            float_exp["exp"] = json!(now() as f64 + 60.5);
            assert!(project_from_jwt(&c, &bearer(&rs256(&float_exp, A_PRIVATE)), None).is_ok());
        }

        #[test]
        fn the_application_must_be_the_one_in_the_path_and_configured() {
            let c = config();
            let t = rs256(&rest_claims(APP_ID), A_PRIVATE);
            for other in [OTHER_APP_ID, crate::DEV_API_KEY] {
                let m = refused(&c, &t, Some(other));
                assert!(m.contains("another application"), "{m}");
            }
            let unknown = "11111111-2222-3333-4444-555555555555";
            let m = refused(&c, &rs256(&rest_claims(unknown), A_PRIVATE), None);
            assert!(m.contains("unknown application"), "{m}");
            let m = refused(
                &c,
                &rs256(&rest_claims(crate::DEV_API_KEY), A_PRIVATE),
                None,
            );
            assert!(m.contains("names an OpenTok project"), "{m}");
            let mut numeric = rest_claims(APP_ID);
            numeric["application_id"] = json!(5);
            assert!(refused(&c, &rs256(&numeric, A_PRIVATE), None).contains("not a string"));
            let mut iss = rest_claims(APP_ID);
            iss["iss"] = json!(OTHER_APP_ID);
            assert!(refused(&c, &rs256(&iss, A_PRIVATE), None).contains("iss"));
            let mut ist = rest_claims(APP_ID);
            ist["ist"] = json!("account");
            assert!(refused(&c, &rs256(&ist, A_PRIVATE), None).contains("ist"));
        }

        #[test]
        fn applications_have_no_secret_to_mint_or_to_match() {
            assert!(mint_rest_token(&app(), Duration::from_secs(60)).is_err());
            let c = config();
            let enc = |s: &str| format!("Basic {}", STANDARD.encode(s));
            let pem = format!("{OPENVIDU_USER}:{A_PUBLIC}");
            assert!(project_from_basic(&c, &headers("authorization", &enc(&pem))).is_err());
            let dev = format!("{OPENVIDU_USER}:{}", crate::DEV_API_SECRET);
            assert!(project_from_basic(&c, &headers("authorization", &enc(&dev))).is_ok());
        }
    }
}
