//! Client tokens, in the two formats the official OpenTok server SDKs mint.
//!
//! * **JWT** (the SDKs' default): HS256 signed with the project secret;
//!   claims `iss` (the API key), `scope = "session.connect"`, `session_id`,
//!   `role`, `iat`, `exp`, optional `connection_data`. What the six official
//!   SDKs actually write differs in types and extras, and all of it is
//!   accepted (see [`super::claims`]): a float or negative `nonce`, a float
//!   or string `exp`, a numeric `iss`, no `typ` header, `connection_data`
//!   absent, `""` or `null`, extra claims (`ist`, `jti`, `nbf`,
//!   `initial_layout_class_list` as a string or array, `create_time`,
//!   `expire_time`, ...). A token without `exp` (Ruby's and PHP's default)
//!   lasts [`DEFAULT_TOKEN_LIFETIME`] from its `iat`, as OpenTok's own
//!   default lifetime.
//! * **Legacy `T1==`**: `T1==` + base64 (standard or URL-safe alphabet, as
//!   the Java SDK writes it) of `partner_id=KEY&sig=HEX:DATA`, where `DATA`
//!   is a url-encoded form (`session_id`, `create_time`, `expire_time`,
//!   `role`, `nonce`, optional `connection_data`) and `HEX` its HMAC-SHA1
//!   under the project secret. Without `expire_time` the token lasts
//!   [`DEFAULT_TOKEN_LIFETIME`] from its `create_time`.
//!
//! * **A Vonage application's JWT**: RS256, signed with the application's
//!   private key and verified with its public key, never anything else (the
//!   algorithm is fixed by the project's [`Credential`], not read from the
//!   token, so an HS256 token "signed" with the public key is refused). What
//!   `@vonage/video`, Python `vonage` and the `opentok` Node SDK's Vonage mode
//!   write: `application_id` (the application), `scope = "session.connect"`,
//!   `session_id`, `role`, `iat`, `exp`, `jti`, optional `connection_data`,
//!   `initial_layout_class_list` (a space-separated string or an array),
//!   `sub` or `subject`, `acl`; an `iss`, if there is one, must be the
//!   application id too. `T1==` tokens need a secret, so an application has
//!   none.
//!
//! Verification checks the signature, the expiry, that the token is for the
//! very session being joined and that session belongs to the project, the
//! role, and the length of the connection data.
//!
//! # What a refused client is told
//!
//! Every refusal is SDK error 1004 on the wire, and the precise reason is
//! logged. The message sent ([`TokenError::client_message`]) tells the
//! precise reason only once the signature has proved the token was minted
//! with the project secret (expired, other session, bad role, data too
//! long: things the token's legitimate holder needs to know to fix). Before
//! that, a malformed token and a wrong signature get one and the same
//! message, so a forger learns nothing about which part it got wrong.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::auth::claims;
use crate::auth::session_id::{verify_session_id, SessionIdError};
use crate::config::{ApplicationKey, Credential, Project};

/// Prefix of legacy tokens.
pub const LEGACY_PREFIX: &str = "T1==";

/// Longest lifetime of a minted token, as the OpenTok SDKs allow (30 days).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Lifetime of a token that names no expiry (OpenTok's default: one day).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// What a connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    Subscriber,
    #[default]
    Publisher,
    Moderator,
    /// May publish but neither subscribe nor signal.
    PublisherOnly,
}

impl Role {
    /// The role's name in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Subscriber => "subscriber",
            Role::Publisher => "publisher",
            Role::Moderator => "moderator",
            Role::PublisherOnly => "publisher_only",
        }
    }

    /// Parses a role name. Both `publisher_only` and `publisheronly` (the
    /// spelling the Python SDK puts in tokens) are accepted.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "subscriber" => Some(Role::Subscriber),
            "publisher" => Some(Role::Publisher),
            "moderator" => Some(Role::Moderator),
            "publisher_only" | "publisheronly" => Some(Role::PublisherOnly),
            _ => None,
        }
    }

    /// May this role send signals?
    pub fn may_signal(self) -> bool {
        !matches!(self, Role::PublisherOnly)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::parse(s).ok_or_else(|| {
            format!("unknown role {s:?} (subscriber, publisher, moderator, publisher_only)")
        })
    }
}

/// How to mint a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOptions {
    pub role: Role,
    /// Connection data other participants see (at most 1000 characters).
    pub data: Option<String>,
    /// Lifetime from now (at most [`MAX_TOKEN_LIFETIME`]).
    pub expire_in: Duration,
    /// Mint a legacy `T1==` token instead of a JWT.
    pub legacy: bool,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            role: Role::Publisher,
            data: None,
            expire_in: Duration::from_secs(24 * 3600),
            legacy: false,
        }
    }
}

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub connection_data: String,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
}

/// Why a token was refused (or could not be minted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not readable as a token at all (told generically: see the module docs).
    #[error("token is malformed: {0}")]
    Malformed(String),
    /// Genuinely signed, but a claim is missing or of no use.
    #[error("token claim: {0}")]
    BadClaim(String),
    #[error("token signature does not match")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token was issued for another project")]
    ForeignProject,
    #[error("token is for another session")]
    WrongSession,
    #[error("session id: {0}")]
    Session(#[from] SessionIdError),
    #[error("unknown role {0:?}")]
    BadRole(String),
    #[error("token scope {0:?} is not session.connect")]
    BadScope(String),
    #[error(
        "connection data is {0} characters, more than {max}",
        max = protocol::limits::MAX_CONNECTION_DATA_CHARS
    )]
    DataTooLong(usize),
    #[error("token lifetime must be between 1 second and 30 days")]
    BadLifetime,
    #[error("token is not valid before {0} (seconds since the epoch)")]
    NotYetValid(u64),
    /// Minting for an application, whose tokens need its private key.
    #[error(
        "{0} is a Vonage application: its tokens are signed with its private key, \
         which this server does not hold (mint them with the Vonage SDK)"
    )]
    ApplicationToken(String),
}

impl TokenError {
    /// What the client is told (see the module docs): the precise reason
    /// once the signature is known good, one generic message before.
    pub fn client_message(&self) -> String {
        match self {
            TokenError::Malformed(_) | TokenError::BadSignature => {
                "token refused: it is not a token of this project \
                 (malformed, or not signed with the project secret)"
                    .to_string()
            }
            other => format!("token refused: {other}"),
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn check_data(data: &str) -> Result<(), TokenError> {
    protocol::validate::connection_data(data)
        .map_err(|_| TokenError::DataTooLong(data.chars().count()))
}

/// The claims of a client JWT. Claims whose JSON type differs between the
/// SDKs are kept as JSON values and read with [`super::claims`]; unknown
/// claims are ignored.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The API key: a string, or a number.
    iss: Value,
    #[serde(flatten)]
    connect: ConnectClaims,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ist: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<Value>,
}

/// Mints a token for `session_id`, which must be a session of `project`.
pub fn mint_token(
    project: &Project,
    session_id: &str,
    opts: &TokenOptions,
) -> Result<String, TokenError> {
    verify_session_id(project, session_id)?;
    let Some(secret) = project.secret() else {
        return Err(TokenError::ApplicationToken(project.api_key.clone()));
    };
    if opts.expire_in.is_zero() || opts.expire_in > MAX_TOKEN_LIFETIME {
        return Err(TokenError::BadLifetime);
    }
    if let Some(d) = &opts.data {
        check_data(d)?;
    }
    let now = now_secs();
    let exp = now + opts.expire_in.as_secs().max(1);
    let nonce: u64 = rand::rng().random_range(0..1_000_000);
    if opts.legacy {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("session_id", session_id)
            .append_pair("create_time", &now.to_string())
            .append_pair("expire_time", &exp.to_string())
            .append_pair("role", opts.role.as_str())
            .append_pair("nonce", &nonce.to_string());
        if let Some(d) = &opts.data {
            form.append_pair("connection_data", d);
        }
        let data = form.finish();
        let sig = hex::encode(sha1_mac(secret, &data).finalize().into_bytes());
        let raw = format!("partner_id={}&sig={sig}:{data}", project.api_key);
        return Ok(format!("{LEGACY_PREFIX}{}", STANDARD.encode(raw)));
    }
    let claims = Claims {
        iss: Value::String(project.api_key.clone()),
        connect: ConnectClaims {
            scope: Some("session.connect".into()),
            session_id: Some(session_id.into()),
            role: Some(opts.role.as_str().into()),
            iat: Some(now.into()),
            exp: Some(exp.into()),
            nbf: None,
            connection_data: opts.data.clone(),
        },
        ist: Some("project".into()),
        nonce: Some(nonce.into()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| TokenError::Malformed(format!("cannot encode: {e}")))
}

fn sha1_mac(secret: &str, data: &str) -> Hmac<Sha1> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(data.as_bytes());
    mac
}

/// Verifies `token` for joining `session_id` of `project`.
pub fn verify_token(project: &Project, session_id: &str, token: &str) -> Result<Grant, TokenError> {
    verify_session_id(project, session_id)?;
    if token.len() > protocol::limits::MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed("token too long".into()));
    }
    let grant = match (&project.credential, token.strip_prefix(LEGACY_PREFIX)) {
        (Credential::Secret(secret), Some(rest)) => {
            verify_legacy(project, secret, session_id, rest)?
        }
        (Credential::Secret(secret), None) => verify_jwt(project, secret, session_id, token)?,
        (Credential::RsaPublicKey(_), Some(_)) => {
            return Err(TokenError::Malformed(format!(
                "a legacy T1 token, but {} is a Vonage application: its tokens are RS256 JWTs",
                project.api_key
            )))
        }
        (Credential::RsaPublicKey(key), None) => {
            verify_application_jwt(project, key, session_id, token)?
        }
    };
    check_data(&grant.connection_data)?;
    Ok(grant)
}

fn parse_role(r: Option<&str>) -> Result<Role, TokenError> {
    match r {
        // OpenTok's default role is publisher.
        None | Some("") => Ok(Role::Publisher),
        Some(s) => Role::parse(s).ok_or_else(|| TokenError::BadRole(s.to_string())),
    }
}

/// The expiry of a token: its own, or [`DEFAULT_TOKEN_LIFETIME`] after its
/// creation when it names none; refused when past.
fn expiry(exp: Option<u64>, created: Option<u64>) -> Result<u64, TokenError> {
    let expires_at = match (exp, created) {
        (Some(e), _) => e,
        (None, Some(c)) => c.saturating_add(DEFAULT_TOKEN_LIFETIME.as_secs()),
        (None, None) => {
            return Err(TokenError::BadClaim(
                "the token has neither an expiry nor a creation time".into(),
            ))
        }
    };
    if expires_at <= now_secs() {
        return Err(TokenError::Expired);
    }
    Ok(expires_at)
}

/// A date claim that, when present, must be a NumericDate.
fn date_claim(v: Option<&Value>, name: &str) -> Result<Option<u64>, TokenError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => claims::numeric_date(v)
            .map(Some)
            .ok_or_else(|| TokenError::BadClaim(format!("{name} is not a date"))),
    }
}

fn verify_jwt(
    project: &Project,
    secret: &str,
    session_id: &str,
    token: &str,
) -> Result<Grant, TokenError> {
    let v = signature_only(Algorithm::HS256);
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &v)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::InvalidSignature => TokenError::BadSignature,
                    _ => TokenError::Malformed(e.to_string()),
                }
            })?;
    let c = data.claims;
    let iss = claims::key_text(&c.iss)
        .ok_or_else(|| TokenError::BadClaim("iss is not an API key".into()))?;
    if !bool::from(iss.as_bytes().ct_eq(project.api_key.as_bytes())) {
        return Err(TokenError::ForeignProject);
    }
    connect_grant(c.connect, session_id)
}

/// The claims of a client JWT that grant the connection, in either kind
/// (flattened into [`Claims`] and [`ApplicationClaims`]).
#[derive(Debug, Serialize, Deserialize)]
struct ConnectClaims {
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connection_data: Option<String>,
}

/// Checks of the signature (with `alg` only) and nothing else: the dates
/// are checked by hand, because the SDKs write them in shapes the
/// library's typed checks refuse.
fn signature_only(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = 0;
    v.validate_aud = false;
    v.validate_exp = false;
    v.validate_nbf = false;
    v.required_spec_claims.clear();
    v
}

/// What a genuinely signed client JWT of the project grants: the scope, the
/// session, the dates and the role checked.
fn connect_grant(c: ConnectClaims, session_id: &str) -> Result<Grant, TokenError> {
    let scope = c.scope.unwrap_or_default();
    if scope != "session.connect" {
        return Err(TokenError::BadScope(scope));
    }
    if c.session_id.as_deref() != Some(session_id) {
        return Err(TokenError::WrongSession);
    }
    let exp = date_claim(c.exp.as_ref(), "exp")?;
    let iat = date_claim(c.iat.as_ref(), "iat")?;
    if let Some(nbf) = date_claim(c.nbf.as_ref(), "nbf")? {
        if nbf > now_secs() + claims::CLOCK_SKEW_SECS {
            return Err(TokenError::NotYetValid(nbf));
        }
    }
    Ok(Grant {
        role: parse_role(c.role.as_deref())?,
        connection_data: c.connection_data.unwrap_or_default(),
        expires_at: expiry(exp, iat)?,
    })
}

/// The claims of a Vonage application's client JWT. `sub`/`subject`,
/// `acl`, `jti` and `initial_layout_class_list` (a string or an array) are
/// accepted and not read, like any other extra claim.
#[derive(Debug, Deserialize)]
struct ApplicationClaims {
    #[serde(default)]
    application_id: Option<Value>,
    #[serde(default)]
    iss: Option<Value>,
    #[serde(flatten)]
    connect: ConnectClaims,
}

fn verify_application_jwt(
    project: &Project,
    key: &ApplicationKey,
    session_id: &str,
    token: &str,
) -> Result<Grant, TokenError> {
    // RS256 and nothing else, whatever the token's header says.
    let v = signature_only(Algorithm::RS256);
    let data =
        jsonwebtoken::decode::<ApplicationClaims>(token, key.decoding_key(), &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm => TokenError::Malformed(format!(
                    "{} is a Vonage application: its tokens must be RS256",
                    project.api_key
                )),
                _ => TokenError::Malformed(e.to_string()),
            }
        })?;
    let c = data.claims;
    match c.application_id.as_ref() {
        Some(Value::String(id)) if *id == project.api_key => {}
        Some(Value::String(_)) => return Err(TokenError::ForeignProject),
        _ => {
            return Err(TokenError::BadClaim(
                "an application's token needs application_id (the application id)".into(),
            ))
        }
    }
    if let Some(iss) = &c.iss {
        if claims::key_text(iss).as_deref() != Some(project.api_key.as_str()) {
            return Err(TokenError::ForeignProject);
        }
    }
    connect_grant(c.connect, session_id)
}

fn verify_legacy(
    project: &Project,
    secret: &str,
    session_id: &str,
    b64: &str,
) -> Result<Grant, TokenError> {
    // Standard base64 from most SDKs, the URL-safe alphabet from Java's.
    let raw = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(b64).ok())
        .ok_or_else(|| TokenError::Malformed("not base64".into()))?;
    let raw = String::from_utf8(raw).map_err(|_| TokenError::Malformed("not UTF-8".into()))?;
    let (head, data) = raw
        .split_once(':')
        .ok_or_else(|| TokenError::Malformed("no ':' separator".into()))?;
    let mut partner = None;
    let mut sig = None;
    for (k, v) in url::form_urlencoded::parse(head.as_bytes()) {
        match k.as_ref() {
            "partner_id" => partner = Some(v.into_owned()),
            "sig" => sig = Some(v.into_owned()),
            _ => {}
        }
    }
    let partner = partner.ok_or_else(|| TokenError::Malformed("no partner_id".into()))?;
    let sig = sig.ok_or_else(|| TokenError::Malformed("no sig".into()))?;
    let sig = hex::decode(sig).map_err(|_| TokenError::Malformed("sig is not hex".into()))?;
    // Check the signature before looking at anything it covers.
    sha1_mac(secret, data)
        .verify_slice(&sig)
        .map_err(|_| TokenError::BadSignature)?;
    if partner != project.api_key {
        return Err(TokenError::ForeignProject);
    }
    let mut sid = None;
    let mut expire = None;
    let mut created = None;
    let mut role = None;
    let mut conn_data = None;
    for (k, v) in url::form_urlencoded::parse(data.as_bytes()) {
        match k.as_ref() {
            "session_id" => sid = Some(v.into_owned()),
            "expire_time" => expire = Some(v.into_owned()),
            "create_time" => created = Some(v.into_owned()),
            "role" => role = Some(v.into_owned()),
            "connection_data" => conn_data = Some(v.into_owned()),
            _ => {}
        }
    }
    if sid.as_deref() != Some(session_id) {
        return Err(TokenError::WrongSession);
    }
    let date = |v: Option<String>, name: &str| date_claim(v.map(Value::String).as_ref(), name);
    let expires_at = expiry(date(expire, "expire_time")?, date(created, "create_time")?)?;
    Ok(Grant {
        role: parse_role(role.as_deref())?,
        connection_data: conn_data.unwrap_or_default(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::create_session_id;

    fn dev() -> Project {
        Project::dev()
    }

    #[test]
    fn minted_tokens_verify_in_both_formats() {
        let p = dev();
        let sid = create_session_id(&p);
        for legacy in [false, true] {
            let opts = TokenOptions {
                role: Role::Moderator,
                data: Some("name=Ann & co".into()),
                legacy,
                ..Default::default()
            };
            let t = mint_token(&p, &sid, &opts).expect("mint");
            assert_eq!(t.starts_with(LEGACY_PREFIX), legacy);
            let g = verify_token(&p, &sid, &t).expect("verify");
            assert_eq!(g.role, Role::Moderator);
            assert_eq!(g.connection_data, "name=Ann & co");
        }
    }

    #[test]
    fn mint_refuses_bad_input() {
        let p = dev();
        let sid = create_session_id(&p);
        let long = TokenOptions {
            data: Some("x".repeat(1001)),
            ..Default::default()
        };
        assert!(matches!(
            mint_token(&p, &sid, &long),
            Err(TokenError::DataTooLong(1001))
        ));
        let forever = TokenOptions {
            expire_in: Duration::from_secs(31 * 24 * 3600),
            ..Default::default()
        };
        assert_eq!(mint_token(&p, &sid, &forever), Err(TokenError::BadLifetime));
        assert!(mint_token(&p, "1_bogus", &TokenOptions::default()).is_err());
    }

    /// The longest connection data, in the characters that grow most in
    /// each format, still makes a token the server accepts.
    #[test]
    fn maximal_connection_data_fits_in_a_token() {
        let p = dev();
        let sid = create_session_id(&p);
        let max = protocol::limits::MAX_CONNECTION_DATA_CHARS;
        for data in [
            "\u{1}".repeat(max),
            "\u{1F600}".repeat(max),
            "\"".repeat(max),
        ] {
            for legacy in [false, true] {
                let opts = TokenOptions {
                    data: Some(data.clone()),
                    legacy,
                    ..Default::default()
                };
                let t = mint_token(&p, &sid, &opts).expect("mint");
                assert!(t.len() <= protocol::limits::MAX_TOKEN_BYTES, "{}", t.len());
                let g = verify_token(&p, &sid, &t).expect("verify");
                assert_eq!(g.connection_data, data);
            }
        }
    }

    #[test]
    fn tokens_are_bound_to_their_session() {
        let p = dev();
        let a = create_session_id(&p);
        let b = create_session_id(&p);
        for legacy in [false, true] {
            let t = mint_token(
                &p,
                &a,
                &TokenOptions {
                    legacy,
                    ..Default::default()
                },
            )
            .expect("mint");
            assert_eq!(verify_token(&p, &b, &t), Err(TokenError::WrongSession));
        }
    }

    mod applications {
        use super::*;
        use crate::auth::test_keys::*;
        use serde_json::json;

        #[test]
        fn the_sdks_client_tokens_join() {
            let p = app();
            let sid = create_session_id(&p);
            // @vonage/video and opentok's Vonage mode.
            let t = rs256(&client_claims(APP_ID, &sid), A_PRIVATE);
            let g = verify_token(&p, &sid, &t).expect("@vonage/video");
            assert_eq!(g.role, Role::Moderator);
            assert_eq!(g.connection_data, "name=ann");
            // Python vonage: `subject`, a list of layout classes, publisheronly.
            let mut py = client_claims(APP_ID, &sid);
            let o = py.as_object_mut().expect("object");
            o.remove("sub");
            o.insert("subject".into(), json!("video"));
            o.insert("initial_layout_class_list".into(), json!(["focus", "top"]));
            o.insert("role".into(), json!("publisheronly"));
            o.remove("connection_data");
            let g = verify_token(&p, &sid, &rs256(&py, A_PRIVATE)).expect("vonage (Python)");
            assert_eq!(g.role, Role::PublisherOnly);
            assert_eq!(g.connection_data, "");
            // An iss, when there is one, is the application id.
            let mut with_iss = client_claims(APP_ID, &sid);
            with_iss["iss"] = json!(APP_ID);
            assert!(verify_token(&p, &sid, &rs256(&with_iss, A_PRIVATE)).is_ok());
        }

        #[test]
        fn forged_and_misdirected_tokens_are_refused() {
            let p = app();
            let sid = create_session_id(&p);
            let claims = client_claims(APP_ID, &sid);
            assert_eq!(
                verify_token(&p, &sid, &rs256(&claims, B_PRIVATE)),
                Err(TokenError::BadSignature)
            );
            // HS256 keyed by the public PEM: never verified as HMAC.
            let e = verify_token(&p, &sid, &hs256(&claims, A_PUBLIC.as_bytes()));
            assert!(matches!(e, Err(TokenError::Malformed(_))), "{e:?}");
            let mut expired = claims.clone();
            expired["exp"] = json!(now() - 1);
            assert_eq!(
                verify_token(&p, &sid, &rs256(&expired, A_PRIVATE)),
                Err(TokenError::Expired)
            );
            let other_sid = create_session_id(&p);
            assert_eq!(
                verify_token(&p, &other_sid, &rs256(&claims, A_PRIVATE)),
                Err(TokenError::WrongSession)
            );
            let mut foreign = claims.clone();
            foreign["application_id"] = json!(OTHER_APP_ID);
            assert_eq!(
                verify_token(&p, &sid, &rs256(&foreign, A_PRIVATE)),
                Err(TokenError::ForeignProject)
            );
            let mut iss = claims.clone();
            iss["iss"] = json!(OTHER_APP_ID);
            assert_eq!(
                verify_token(&p, &sid, &rs256(&iss, A_PRIVATE)),
                Err(TokenError::ForeignProject)
            );
            let mut anonymous = claims.clone();
            anonymous
                .as_object_mut()
                .expect("object")
                .remove("application_id");
            assert!(matches!(
                verify_token(&p, &sid, &rs256(&anonymous, A_PRIVATE)),
                Err(TokenError::BadClaim(_))
            ));
            let mut scope = claims.clone();
            scope["scope"] = json!("session.admin");
            assert!(matches!(
                verify_token(&p, &sid, &rs256(&scope, A_PRIVATE)),
                Err(TokenError::BadScope(_))
            ));
            // T1 tokens need a secret; an application has none.
            let e = verify_token(&p, &sid, "T1==cGFydG5lcl9pZD0xJnNpZz0wMDox");
            assert!(matches!(e, Err(TokenError::Malformed(_))), "{e:?}");
        }

        #[test]
        fn an_rs256_token_does_not_open_a_project_session() {
            let dev = Project::dev();
            let sid = create_session_id(&dev);
            let mut claims = client_claims(APP_ID, &sid);
            claims["iss"] = json!(crate::DEV_API_KEY);
            let e = verify_token(&dev, &sid, &rs256(&claims, A_PRIVATE));
            assert!(matches!(e, Err(TokenError::Malformed(_))), "{e:?}");
        }

        #[test]
        fn the_server_cannot_mint_for_an_application() {
            let p = app();
            let sid = create_session_id(&p);
            assert_eq!(
                mint_token(&p, &sid, &TokenOptions::default()),
                Err(TokenError::ApplicationToken(APP_ID.into()))
            );
        }
    }
}
