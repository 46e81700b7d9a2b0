//! What a running server is made of: where it listens, which projects it
//! serves and the bounds it enforces.
//!
//! The same [`Config`] is built three ways — by the CLI (flags and
//! environment), from a TOML file, or in code by tests and embedders — so it
//! is plain data with no behaviour beyond validation. Defaults come from
//! [`protocol::limits`] so the documentation, the CLI and the client agree.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use protocol::limits;
use serde::{Deserialize, Serialize};

/// API key of the built-in development project.
///
/// **Insecure, for local use only**: the key and secret are public, so anyone
/// can mint tokens for it. The server uses it only when no project is
/// configured, and says so at start-up.
pub const DEV_API_KEY: &str = "100000";

/// API secret of the built-in development project (see [`DEV_API_KEY`]).
pub const DEV_API_SECRET: &str = "otc-dev-secret-0123456789abcdef0123456789";

/// Shortest project secret accepted, in bytes. The secret is the HMAC key
/// of every token and session id: a short one can be guessed offline from a
/// single token. (OpenTok's own secrets are 40 characters.)
pub const MIN_API_SECRET_BYTES: usize = 32;

/// One project the server serves, named by `api_key`: an OpenTok project
/// (API key and secret) or a Vonage application (application id and RSA
/// public key). Sessions, the hub, rate limits, metrics and the cluster key
/// everything by `api_key`, so both kinds work the same there; only the
/// checks of tokens and REST calls look at the [`Credential`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub api_key: String,
    /// What proves a token or a REST call is the project's. `api_secret` in
    /// the config file's `[[projects]]`; an application comes from
    /// `[[applications]]` ([`ApplicationEntry`]).
    #[serde(rename = "api_secret", deserialize_with = "secret_credential")]
    pub credential: Credential,
}

/// How a project proves what it signs.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// An OpenTok project's API secret: HS256 JWTs, `T1==` tokens, the MAC of
    /// its session ids, OpenVidu's Basic authentication.
    Secret(String),
    /// A Vonage application's RSA public key: RS256 JWTs only (REST calls
    /// and client tokens), never anything keyed by a secret.
    RsaPublicKey(ApplicationKey),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Secret(s) => write!(f, "Secret(<{} bytes>)", s.len()),
            Credential::RsaPublicKey(k) => write!(f, "RsaPublicKey({k:?})"),
        }
    }
}

impl From<&str> for Credential {
    fn from(secret: &str) -> Self {
        Credential::Secret(secret.to_string())
    }
}

impl From<String> for Credential {
    fn from(secret: String) -> Self {
        Credential::Secret(secret)
    }
}

fn secret_credential<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Credential, D::Error> {
    String::deserialize(d).map(Credential::Secret)
}

/// Smallest RSA key accepted for an application, in bits (what Vonage
/// generates is 2048). The `rsa` crate refuses keys above 4096 bits.
pub const MIN_RSA_KEY_BITS: usize = 2048;

/// The RSA public key of a Vonage application, parsed once.
#[derive(Clone)]
pub struct ApplicationKey {
    decoding: std::sync::Arc<jsonwebtoken::DecodingKey>,
    /// SHA-256 of the key's SubjectPublicKeyInfo DER, as
    /// `openssl pkey -pubin -outform DER | sha256sum` prints it.
    fingerprint: String,
    /// Key of the MAC in the application's session ids (see
    /// [`Project::session_id_key`]).
    session_id_key: [u8; 32],
    bits: usize,
}

impl ApplicationKey {
    /// Reads a PEM RSA public key: `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo,
    /// what the Vonage dashboard and `openssl rsa -pubout` give) or `BEGIN
    /// RSA PUBLIC KEY` (PKCS#1). A PEM whose line breaks were written as
    /// the two characters `\n` (as in an environment variable) is read too.
    /// A private key is refused: the server needs only the public half.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
        use rsa::traits::PublicKeyParts;
        use sha2::{Digest, Sha256};

        let unescaped;
        let mut text = pem.trim();
        if !text.contains('\n') && text.contains("\\n") {
            unescaped = text.replace("\\n", "\n");
            text = unescaped.trim();
        }
        let key = if text.contains("PRIVATE KEY-----") {
            return Err("this is a private key; give the application's public key \
                 (openssl rsa -in private.key -pubout), the server never needs the private one"
                .into());
        } else if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            rsa::RsaPublicKey::from_public_key_pem(text)
                .map_err(|e| format!("not an RSA public key (BEGIN PUBLIC KEY): {e}"))?
        } else if text.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            rsa::RsaPublicKey::from_pkcs1_pem(text)
                .map_err(|e| format!("not an RSA public key (BEGIN RSA PUBLIC KEY): {e}"))?
        } else {
            return Err("not a PEM RSA public key (-----BEGIN PUBLIC KEY----- ...)".into());
        };
        let bits = key.n().bits();
        if bits < MIN_RSA_KEY_BITS {
            return Err(format!(
                "the RSA key has {bits} bits; at least {MIN_RSA_KEY_BITS} are needed"
            ));
        }
        let der = key
            .to_public_key_der()
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        let fingerprint = hex::encode(Sha256::digest(der.as_bytes()));
        let mut h = Sha256::new();
        h.update(b"otc-server application session ids v1\0");
        h.update(der.as_bytes());
        let session_id_key: [u8; 32] = h.finalize().into();
        let decoding = jsonwebtoken::DecodingKey::from_rsa_raw_components(
            &key.n().to_bytes_be(),
            &key.e().to_bytes_be(),
        );
        Ok(ApplicationKey {
            decoding: std::sync::Arc::new(decoding),
            fingerprint,
            session_id_key,
            bits,
        })
    }

    /// The key RS256 signatures are verified with.
    pub fn decoding_key(&self) -> &jsonwebtoken::DecodingKey {
        &self.decoding
    }

    /// SHA-256 of the SubjectPublicKeyInfo DER, in hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

impl PartialEq for ApplicationKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for ApplicationKey {}

impl std::fmt::Debug for ApplicationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RSA-{} sha256:{}", self.bits, &self.fingerprint[..16])
    }
}

/// One `[[applications]]` entry of the config file: a Vonage application,
/// its id and its RSA public key, inline (`public_key`) or in a file
/// (`public_key_file`), one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationEntry {
    pub application_id: String,
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub public_key_file: Option<PathBuf>,
}

impl ApplicationEntry {
    /// The application as a [`Project`]: its key read (from the file, if
    /// that is where it is) and parsed.
    pub fn load(&self) -> Result<Project, ConfigError> {
        let id = &self.application_id;
        let pem = match (&self.public_key, &self.public_key_file) {
            (Some(pem), None) => pem.clone(),
            (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                ConfigError::Invalid(format!(
                    "application {id}: cannot read public_key_file {}: {e}",
                    path.display()
                ))
            })?,
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "application {id} needs its RSA public key: public_key (the PEM) or \
                     public_key_file (a path), one of the two"
                )))
            }
        };
        let key = ApplicationKey::from_pem(&pem)
            .map_err(|e| ConfigError::Invalid(format!("application {id}: {e}")))?;
        Ok(Project::application(id, key))
    }
}

impl Project {
    /// An OpenTok project: API key and secret.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Project {
            api_key: api_key.into(),
            credential: Credential::Secret(api_secret.into()),
        }
    }

    /// A Vonage application: its id and RSA public key.
    pub fn application(application_id: impl Into<String>, key: ApplicationKey) -> Self {
        Project {
            api_key: application_id.into(),
            credential: Credential::RsaPublicKey(key),
        }
    }

    /// The built-in development project ([`DEV_API_KEY`]).
    pub fn dev() -> Self {
        Project::new(DEV_API_KEY, DEV_API_SECRET)
    }

    /// The secret of an OpenTok project; `None` for an application, which
    /// has none (nothing keyed by a secret may then be accepted).
    pub fn secret(&self) -> Option<&str> {
        match &self.credential {
            Credential::Secret(s) => Some(s),
            Credential::RsaPublicKey(_) => None,
        }
    }

    /// The RSA public key of a Vonage application; `None` for a project.
    pub fn application_key(&self) -> Option<&ApplicationKey> {
        match &self.credential {
            Credential::Secret(_) => None,
            Credential::RsaPublicKey(k) => Some(k),
        }
    }

    /// The key of the MAC in the project's session ids
    /// ([`crate::auth::session_id`]). A project's secret; for an
    /// application, which shares no secret with the server, a hash of its
    /// public key. An application's session ids are then checked for
    /// integrity (and that they name it) but could be made by anyone: that
    /// grants nothing, since joining one still takes a client token signed
    /// with the application's private key, and a REST call an RS256 JWT.
    pub fn session_id_key(&self) -> &[u8] {
        match &self.credential {
            Credential::Secret(s) => s.as_bytes(),
            Credential::RsaPublicKey(k) => &k.session_id_key,
        }
    }

    /// Checks that the key can be embedded in a session id (it is one of the
    /// `~`-separated fields) and that the secret is at least
    /// [`MIN_API_SECRET_BYTES`] long.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let key_ok = !self.api_key.is_empty()
            && self.api_key.len() <= 128
            && self
                .api_key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !key_ok {
            return Err(ConfigError::Invalid(format!(
                "API key {:?} must be 1..128 characters of A-Z a-z 0-9 - _ .",
                self.api_key
            )));
        }
        let Some(secret) = self.secret() else {
            // An application's key was checked when it was read.
            return Ok(());
        };
        if secret.len() < MIN_API_SECRET_BYTES {
            return Err(ConfigError::Invalid(format!(
                "the API secret of project {} is {} bytes long; it must be at least \
                 {MIN_API_SECRET_BYTES}, since anyone holding one token could guess a short \
                 secret offline (make one with: openssl rand -hex 20)",
                self.api_key,
                secret.len()
            )));
        }
        Ok(())
    }
}

/// The configurable bounds of the server. `Default` takes every value from
/// [`protocol::limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Most connections in one session; one more gets error 1027.
    pub max_connections_per_session: usize,
    /// Sustained signals per second one connection may send.
    pub signal_rate_per_sec: u32,
    /// Signals one connection may send in a burst above the sustained rate.
    pub signal_burst: u32,
    /// Outgoing frames queued for one link before its client is judged too
    /// slow and disconnected.
    pub send_queue_frames: usize,
    /// Interval of the server's pings.
    pub ping_interval: Duration,
    /// Silence after which a link is considered dead.
    pub idle_timeout: Duration,
    /// How long a dropped connection is kept for a resume.
    pub reconnect_grace: Duration,
    /// Un-acknowledged events kept per connection for replay.
    pub replay_buffer_frames: usize,
    // Bounds in bytes, beside the ones in frames (see `protocol::limits`).
    /// Bytes of frames queued for one link before its client is judged too
    /// slow and disconnected.
    pub send_queue_bytes: usize,
    /// Bytes of un-acknowledged frames kept per connection for replay.
    pub replay_buffer_bytes: usize,
    /// Bytes of un-acknowledged frames kept for one whole session.
    pub session_buffer_bytes: usize,
    /// Longest time a signal is held back while a recipient holds its
    /// sender's share; then it is refused with 1603.
    pub sender_share_wait: Duration,
    // Connections not authenticated yet (see `protocol::limits`).
    /// Longest wait for a complete HTTP request head, from the accept and,
    /// on a kept-alive connection, from the end of each response (so also
    /// the keep-alive idle timeout).
    pub http_header_timeout: Duration,
    /// Longest time from the accept until the WebSocket `connect` or
    /// `resume` is accepted; a connection still pending then is closed.
    pub auth_timeout: Duration,
    /// Most pending (not yet authenticated) connections in total.
    pub max_pending_connections: usize,
    /// Most pending connections from one IPv4 address or IPv6 /64.
    pub max_pending_per_ip: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections_per_session: limits::DEFAULT_MAX_CONNECTIONS_PER_SESSION,
            signal_rate_per_sec: limits::DEFAULT_SIGNAL_RATE_PER_SEC,
            signal_burst: limits::DEFAULT_SIGNAL_BURST,
            send_queue_frames: limits::DEFAULT_SEND_QUEUE_FRAMES,
            ping_interval: limits::DEFAULT_PING_INTERVAL,
            idle_timeout: limits::DEFAULT_IDLE_TIMEOUT,
            reconnect_grace: limits::DEFAULT_RECONNECT_GRACE,
            replay_buffer_frames: limits::DEFAULT_REPLAY_BUFFER_FRAMES,
            send_queue_bytes: limits::DEFAULT_SEND_QUEUE_BYTES,
            replay_buffer_bytes: limits::DEFAULT_REPLAY_BUFFER_BYTES,
            session_buffer_bytes: limits::DEFAULT_SESSION_BUFFER_BYTES,
            sender_share_wait: limits::DEFAULT_SENDER_SHARE_WAIT,
            http_header_timeout: limits::DEFAULT_HTTP_HEADER_TIMEOUT,
            auth_timeout: limits::DEFAULT_AUTH_TIMEOUT,
            max_pending_connections: limits::DEFAULT_MAX_PENDING_CONNECTIONS,
            max_pending_per_ip: limits::DEFAULT_MAX_PENDING_PER_IP,
        }
    }
}

impl ServerLimits {
    /// Most un-acknowledged frames of one sender's signals a recipient
    /// holds before that sender's next signal to it is refused (1603).
    pub fn sender_share_frames(&self) -> usize {
        (self.send_queue_frames.min(self.replay_buffer_frames) / limits::SENDER_SHARE_DIVISOR)
            .max(1)
    }

    /// The same bound in bytes.
    pub fn sender_share_bytes(&self) -> usize {
        self.send_queue_bytes.min(self.replay_buffer_bytes) / limits::SENDER_SHARE_DIVISOR
    }

    /// Refuses values that would make the server useless (zero queues, zero
    /// intervals).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |what: &str| {
            Err(ConfigError::Invalid(format!(
                "{what} must be greater than 0"
            )))
        };
        if self.max_connections_per_session == 0 {
            return bad("max_connections_per_session");
        }
        if self.signal_rate_per_sec == 0 {
            return bad("signal_rate_per_sec");
        }
        if self.send_queue_frames == 0 {
            return bad("send_queue_frames");
        }
        if self.replay_buffer_frames == 0 {
            return bad("replay_buffer_frames");
        }
        // Room for at least one maximal frame in each.
        let frame = limits::MAX_FRAME_BYTES;
        for (name, v) in [
            ("send_queue_bytes", self.send_queue_bytes),
            ("replay_buffer_bytes", self.replay_buffer_bytes),
            ("session_buffer_bytes", self.session_buffer_bytes),
        ] {
            if v < frame * limits::SENDER_SHARE_DIVISOR {
                return Err(ConfigError::Invalid(format!(
                    "{name} must be at least {} (room for one maximal frame in a sender's share)",
                    frame * limits::SENDER_SHARE_DIVISOR
                )));
            }
        }
        if self.ping_interval.is_zero() {
            return bad("ping_interval_ms");
        }
        if self.idle_timeout.is_zero() {
            return bad("idle_timeout_ms");
        }
        // A client that only answers pings would be cut off otherwise.
        if self.ping_interval >= self.idle_timeout {
            return Err(ConfigError::Invalid(format!(
                "ping_interval_ms ({}) must be below idle_timeout_ms ({}): a link is judged \
                 dead after idle_timeout_ms without a frame, and an idle client only \
                 answers pings",
                self.ping_interval.as_millis(),
                self.idle_timeout.as_millis()
            )));
        }
        if self.http_header_timeout.is_zero() {
            return bad("http_header_timeout_ms");
        }
        if self.auth_timeout.is_zero() {
            return bad("auth_timeout_ms");
        }
        if self.max_pending_connections == 0 {
            return bad("max_pending_connections");
        }
        if self.max_pending_per_ip == 0 {
            return bad("max_pending_per_ip");
        }
        Ok(())
    }
}

/// Where a project's session-monitoring events are POSTed (see
/// [`crate::monitor`]): OpenTok's "callback URL" of a project.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// The project whose events go there.
    pub api_key: String,
    /// `http://` or `https://` URL the events are POSTed to.
    pub url: String,
    /// Key of the HS256 JWT that signs each callback (the `Authorization`
    /// header). Default: the project's API secret, which its application
    /// server already holds.
    #[serde(default)]
    pub secret: Option<String>,
}

impl Callback {
    /// Checks the URL (http or https, with a host) and the secret's length.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |why: &str| {
            ConfigError::Invalid(format!(
                "callback URL {:?} of project {}: {why}",
                self.url, self.api_key
            ))
        };
        let url = url::Url::parse(&self.url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("must be an http:// or https:// URL with a host"));
        }
        if let Some(s) = &self.secret {
            if s.len() < MIN_API_SECRET_BYTES {
                return Err(ConfigError::Invalid(format!(
                    "the callback secret of project {} is {} bytes long; it must be at least \
                     {MIN_API_SECRET_BYTES}",
                    self.api_key,
                    s.len()
                )));
            }
        }
        Ok(())
    }
}

/// Everything [`crate::start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Serve `/metrics` (and the health endpoints) on this address instead
    /// of the main listener (see [`crate::ops`]).
    pub metrics_listen: Option<SocketAddr>,
    /// Cluster mode (see [`crate::cluster`]); `None`: this process alone.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    pub projects: Vec<Project>,
    pub limits: ServerLimits,
    /// Serve https and wss with this certificate and key (else plain http
    /// and ws).
    pub tls: Option<crate::tls::TlsFiles>,
    /// Serve a project with the public development secret on a non-loopback
    /// address anyway (see [`Config::dev_project_exposed`]).
    pub allow_dev_project: bool,
    /// Serve the developer's console at `/console/` (see [`crate::console`]);
    /// off by default, when `/console/` is 404.
    pub console: bool,
    /// Session-monitoring callback URLs, at most one per project.
    pub callbacks: Vec<Callback>,
}

impl Config {
    /// The development project on an ephemeral loopback port with default
    /// limits: what tests and the in-process benchmark start.
    pub fn dev() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics_listen: None,
            cluster: None,
            projects: vec![Project::dev()],
            limits: ServerLimits::default(),
            tls: None,
            allow_dev_project: false,
            console: false,
            callbacks: Vec::new(),
        }
    }

    /// Whether the server would serve a project whose secret is the public
    /// [`DEV_API_SECRET`] on an address other machines can reach, without
    /// [`Config::allow_dev_project`]: anyone could then mint tokens and
    /// call the REST API for it. [`crate::start`] refuses that.
    pub fn dev_project_exposed(&self) -> bool {
        !self.allow_dev_project
            && !self.listen.ip().to_canonical().is_loopback()
            && self
                .projects
                .iter()
                .any(|p| p.secret() == Some(DEV_API_SECRET))
    }

    /// Checks projects (at least one, valid, keys unique) and limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.projects.is_empty() {
            return Err(ConfigError::Invalid("no project configured".into()));
        }
        for (i, p) in self.projects.iter().enumerate() {
            p.validate()?;
            if self.projects[..i].iter().any(|q| q.api_key == p.api_key) {
                return Err(ConfigError::Invalid(format!(
                    "API key (or application id) {} is configured twice",
                    p.api_key
                )));
            }
        }
        for (i, c) in self.callbacks.iter().enumerate() {
            c.validate()?;
            match self.project(&c.api_key) {
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "a callback URL is configured for {}, which is not a configured project",
                        c.api_key
                    )))
                }
                Some(p) if p.secret().is_none() && c.secret.is_none() => {
                    return Err(ConfigError::Invalid(format!(
                        "the callback URL of {} needs a secret: it is a Vonage application, \
                         which has no API secret to sign callbacks with",
                        c.api_key
                    )))
                }
                Some(_) => {}
            }
            if self.callbacks[..i].iter().any(|d| d.api_key == c.api_key) {
                return Err(ConfigError::Invalid(format!(
                    "project {} has two callback URLs; it may have one",
                    c.api_key
                )));
            }
        }
        if let Some(c) = &self.cluster {
            c.validate().map_err(ConfigError::Invalid)?;
        }
        self.limits.validate()
    }

    /// The project with this API key.
    pub fn project(&self, api_key: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.api_key == api_key)
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The TOML config file. Every field is optional; flags and environment
/// variables override it. Every key has the name of its flag (`--signal-burst`
/// is `signal_burst`, `OTC_SIGNAL_BURST`); `otc-server.example.toml` at the
/// root of the repository lists them all with their defaults.
///
/// ```toml
/// listen = "0.0.0.0:4443"
/// log_level = "info"
/// metrics_listen = "127.0.0.1:9464"   # optional: /metrics on its own port
/// redis = "redis://127.0.0.1:6379"     # optional: cluster mode
/// tls_cert = "/etc/otc-server/cert.pem"   # both or neither
/// tls_key = "/etc/otc-server/key.pem"
/// allow_dev_project = false
/// console = false                      # true: the developer's console at /console/
///
/// [[projects]]
/// api_key = "123456"
/// api_secret = "at-least-32-bytes-for-example-openssl-rand-hex-20"
///
/// [[applications]]                     # a Vonage application (RS256)
/// application_id = "0c0f0a53-8f6b-4bd2-9b5e-0d4c8f7f1a2b"
/// public_key_file = "/etc/otc-server/app.pub.pem"   # or public_key = "-----BEGIN PUBLIC KEY-----..."
///
/// [[callbacks]]                        # optional: session monitoring
/// api_key = "123456"
/// url = "https://app.example.com/opentok/events"
///
/// [limits]
/// max_connections_per_session = 500
/// signal_rate_per_sec = 100
/// ```
///
/// In `[limits]`, the last four bound connections that have not authenticated yet (TCP
/// accepted, WebSocket `connect` not yet accepted), so silent or slow-loris
/// peers cannot use up the file descriptors: the HTTP request head must be
/// complete within `http_header_timeout_ms` (also the idle timeout of a
/// kept-alive HTTP connection), the whole way to an accepted `connect`
/// within `auth_timeout_ms`, and beyond `max_pending_connections` in total
/// or `max_pending_per_ip` from one address (IPv4, or IPv6 /64) a new
/// connection is closed as soon as it is accepted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `HOST:PORT`; a host name is resolved by [`resolve_listen`].
    pub listen: Option<String>,
    /// Log level or filter (as `--log-level`).
    pub log_level: Option<String>,
    /// `text` or `json` (as `--log-format`).
    pub log_format: Option<crate::logging::LogFormat>,
    pub metrics_listen: Option<SocketAddr>,
    /// Redis URL: cluster mode (as `--redis`).
    pub redis: Option<String>,
    /// This node's name in the cluster (as `--node-id`).
    pub node_id: Option<String>,
    /// PEM certificate chain for https/wss (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Allow the development project on a non-loopback address.
    pub allow_dev_project: Option<bool>,
    /// Serve the developer's console at `/console/` (as `--console`).
    pub console: Option<bool>,
    #[serde(default)]
    pub projects: Vec<Project>,
    /// Vonage applications (id and RSA public key), served beside the
    /// projects.
    #[serde(default)]
    pub applications: Vec<ApplicationEntry>,
    /// Session-monitoring callback URLs (`[[callbacks]]`).
    #[serde(default)]
    pub callbacks: Vec<Callback>,
    #[serde(default)]
    pub limits: LimitOverrides,
}

/// Overrides of [`ServerLimits`]: the `[limits]` table of [`FileConfig`] and,
/// with the same fields, the `serve` command's flags and environment
/// variables, so the two sources cannot drift apart. Unset fields keep the
/// value from the lower layer (defaults < file < flags).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, Serialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// Most connections in one session.
    #[arg(long, env = "OTC_MAX_CONNECTIONS_PER_SESSION")]
    pub max_connections_per_session: Option<usize>,
    /// Sustained signals per second one connection may send.
    #[arg(long, env = "OTC_SIGNAL_RATE_PER_SEC")]
    pub signal_rate_per_sec: Option<u32>,
    /// Signals one connection may send in a burst.
    #[arg(long, env = "OTC_SIGNAL_BURST")]
    pub signal_burst: Option<u32>,
    /// Outgoing frames queued per link before its client is disconnected as
    /// too slow.
    #[arg(long, env = "OTC_SEND_QUEUE_FRAMES")]
    pub send_queue_frames: Option<usize>,
    /// Interval of server pings, in milliseconds.
    #[arg(long, env = "OTC_PING_INTERVAL_MS")]
    pub ping_interval_ms: Option<u64>,
    /// Silence after which a link is dead, in milliseconds.
    #[arg(long, env = "OTC_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// How long a dropped connection is kept for a resume, in milliseconds.
    #[arg(long, env = "OTC_RECONNECT_GRACE_MS")]
    pub reconnect_grace_ms: Option<u64>,
    /// Un-acknowledged events kept per connection for replay.
    #[arg(long, env = "OTC_REPLAY_BUFFER_FRAMES")]
    pub replay_buffer_frames: Option<usize>,
    /// Bytes of frames queued per link before its client is disconnected as
    /// too slow.
    #[arg(long, env = "OTC_SEND_QUEUE_BYTES")]
    pub send_queue_bytes: Option<usize>,
    /// Bytes of un-acknowledged events kept per connection for replay.
    #[arg(long, env = "OTC_REPLAY_BUFFER_BYTES")]
    pub replay_buffer_bytes: Option<usize>,
    /// Bytes of un-acknowledged events kept for one whole session.
    #[arg(long, env = "OTC_SESSION_BUFFER_BYTES")]
    pub session_buffer_bytes: Option<usize>,
    /// Longest time a signal is held back while a recipient holds its
    /// sender's share, in milliseconds; then it is refused with 1603.
    #[arg(long, env = "OTC_SENDER_SHARE_WAIT_MS")]
    pub sender_share_wait_ms: Option<u64>,
    /// Longest wait for a complete HTTP request head (also the keep-alive
    /// idle timeout), in milliseconds.
    #[arg(long, env = "OTC_HTTP_HEADER_TIMEOUT_MS")]
    pub http_header_timeout_ms: Option<u64>,
    /// Longest time from TCP accept to an accepted WebSocket `connect`, in
    /// milliseconds.
    #[arg(long, env = "OTC_AUTH_TIMEOUT_MS")]
    pub auth_timeout_ms: Option<u64>,
    /// Most connections not yet authenticated, in total.
    #[arg(long, env = "OTC_MAX_PENDING_CONNECTIONS")]
    pub max_pending_connections: Option<usize>,
    /// Most connections not yet authenticated from one IPv4 address or IPv6
    /// /64.
    #[arg(long, env = "OTC_MAX_PENDING_PER_IP")]
    pub max_pending_per_ip: Option<usize>,
}

impl LimitOverrides {
    /// Every field set to its value in `l`: the inverse of [`Self::apply`].
    /// `from_limits(&ServerLimits::default())` gives the defaults by setting
    /// name, for `--help`, `check-config` and the tests.
    pub fn from_limits(l: &ServerLimits) -> Self {
        let ms = |d: Duration| Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        LimitOverrides {
            max_connections_per_session: Some(l.max_connections_per_session),
            signal_rate_per_sec: Some(l.signal_rate_per_sec),
            signal_burst: Some(l.signal_burst),
            send_queue_frames: Some(l.send_queue_frames),
            ping_interval_ms: ms(l.ping_interval),
            idle_timeout_ms: ms(l.idle_timeout),
            reconnect_grace_ms: ms(l.reconnect_grace),
            replay_buffer_frames: Some(l.replay_buffer_frames),
            send_queue_bytes: Some(l.send_queue_bytes),
            replay_buffer_bytes: Some(l.replay_buffer_bytes),
            session_buffer_bytes: Some(l.session_buffer_bytes),
            sender_share_wait_ms: ms(l.sender_share_wait),
            http_header_timeout_ms: ms(l.http_header_timeout),
            auth_timeout_ms: ms(l.auth_timeout),
            max_pending_connections: Some(l.max_pending_connections),
            max_pending_per_ip: Some(l.max_pending_per_ip),
        }
    }

    /// The fields that are set, by setting name (the config key), in
    /// declaration order, with their values as the config file writes them.
    pub fn entries(&self) -> Vec<(String, String)> {
        // The serializer writes the fields in declaration order, one
        // `key = value` line each, and leaves out those not set.
        toml::to_string(self)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(" = "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Overrides the fields of `l` that are set here.
    pub fn apply(&self, l: &mut ServerLimits) {
        let ms = Duration::from_millis;
        if let Some(v) = self.max_connections_per_session {
            l.max_connections_per_session = v;
        }
        if let Some(v) = self.signal_rate_per_sec {
            l.signal_rate_per_sec = v;
        }
        if let Some(v) = self.signal_burst {
            l.signal_burst = v;
        }
        if let Some(v) = self.send_queue_frames {
            l.send_queue_frames = v;
        }
        if let Some(v) = self.ping_interval_ms {
            l.ping_interval = ms(v);
        }
        if let Some(v) = self.idle_timeout_ms {
            l.idle_timeout = ms(v);
        }
        if let Some(v) = self.reconnect_grace_ms {
            l.reconnect_grace = ms(v);
        }
        if let Some(v) = self.replay_buffer_frames {
            l.replay_buffer_frames = v;
        }
        if let Some(v) = self.send_queue_bytes {
            l.send_queue_bytes = v;
        }
        if let Some(v) = self.replay_buffer_bytes {
            l.replay_buffer_bytes = v;
        }
        if let Some(v) = self.session_buffer_bytes {
            l.session_buffer_bytes = v;
        }
        if let Some(v) = self.sender_share_wait_ms {
            l.sender_share_wait = ms(v);
        }
        if let Some(v) = self.http_header_timeout_ms {
            l.http_header_timeout = ms(v);
        }
        if let Some(v) = self.auth_timeout_ms {
            l.auth_timeout = ms(v);
        }
        if let Some(v) = self.max_pending_connections {
            l.max_pending_connections = v;
        }
        if let Some(v) = self.max_pending_per_ip {
            l.max_pending_per_ip = v;
        }
    }
}

/// Resolves a listen address: `IP:PORT`, `[IPv6]:PORT`, or `HOST:PORT` with
/// a host name (`localhost:4500`), looked up once. Of a name's addresses the
/// first IPv4 one is taken (else the first), since one socket is bound.
pub fn resolve_listen(addr: &str) -> Result<SocketAddr, ConfigError> {
    let invalid = |why: String| ConfigError::Invalid(format!("listen address {addr:?}: {why}"));
    if let Ok(a) = addr.parse::<SocketAddr>() {
        return Ok(a);
    }
    let Some((host, port)) = addr.rsplit_once(':') else {
        return Err(invalid("expected HOST:PORT, e.g. 127.0.0.1:4443".into()));
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err(invalid("expected HOST:PORT with a port 0..65535".into()));
    }
    let found: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| invalid(format!("cannot resolve {host}: {e}")))?
        .collect();
    found
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| found.first())
        .copied()
        .ok_or_else(|| invalid(format!("{host} has no address")))
}

impl FileConfig {
    /// Reads and parses a TOML config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses the text of a config file.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults() {
        let f = FileConfig::parse(
            r#"
            listen = "127.0.0.1:9000"
            tls_cert = "c.pem"
            tls_key = "k.pem"
            [[projects]]
            api_key = "k1"
            api_secret = "s1"
            [[projects]]
            api_key = "k2"
            api_secret = "s2"
            [limits]
            signal_rate_per_sec = 7
            reconnect_grace_ms = 250
            auth_timeout_ms = 1500
            max_pending_per_ip = 9
            replay_buffer_bytes = 2097152
            sender_share_wait_ms = 40
            "#,
        )
        .expect("parse");
        assert_eq!(f.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(f.projects.len(), 2);
        assert_eq!(f.tls_cert, Some(PathBuf::from("c.pem")));
        assert_eq!(f.tls_key, Some(PathBuf::from("k.pem")));
        assert_eq!(f.allow_dev_project, None);
        assert_eq!(f.console, None);
        assert!(
            !Config::dev().console,
            "the console is off unless asked for"
        );
        let on = FileConfig::parse("console = true").expect("console key");
        assert_eq!(on.console, Some(true));
        let mut l = ServerLimits::default();
        f.limits.apply(&mut l);
        assert_eq!(l.signal_rate_per_sec, 7);
        assert_eq!(l.reconnect_grace, Duration::from_millis(250));
        assert_eq!(l.signal_burst, limits::DEFAULT_SIGNAL_BURST);
        assert_eq!(l.auth_timeout, Duration::from_millis(1500));
        assert_eq!(l.max_pending_per_ip, 9);
        assert_eq!(l.replay_buffer_bytes, 2 * 1024 * 1024);
        assert_eq!(l.sender_share_wait, Duration::from_millis(40));
        // A sender's share: a quarter of the smaller queue bound.
        assert_eq!(l.sender_share_bytes(), 512 * 1024);
        assert_eq!(
            l.sender_share_frames(),
            limits::DEFAULT_SEND_QUEUE_FRAMES / 4
        );
        let mut tiny = l.clone();
        tiny.replay_buffer_bytes = 1024;
        assert!(
            tiny.validate().is_err(),
            "a byte bound below one frame per share"
        );
        let mut deaf = l.clone();
        deaf.ping_interval = deaf.idle_timeout;
        assert!(
            deaf.validate()
                .is_err_and(|e| e.to_string().contains("ping_interval_ms")),
            "pings no more often than the idle timeout"
        );
        assert_eq!(
            l.max_pending_connections,
            limits::DEFAULT_MAX_PENDING_CONNECTIONS
        );
        assert_eq!(l.http_header_timeout, limits::DEFAULT_HTTP_HEADER_TIMEOUT);
    }

    #[test]
    fn listen_accepts_addresses_and_host_names() {
        assert_eq!(
            resolve_listen("127.0.0.1:4500").expect("ipv4"),
            SocketAddr::from(([127, 0, 0, 1], 4500))
        );
        assert_eq!(resolve_listen("[::1]:7").expect("ipv6").port(), 7);
        let a = resolve_listen("localhost:4500").expect("localhost");
        assert!(a.ip().is_loopback() && a.port() == 4500, "{a}");
        for bad in ["localhost", "localhost:x", ":4500", "127.0.0.1:70000", ""] {
            let e = resolve_listen(bad).expect_err(bad).to_string();
            assert!(e.contains("listen address"), "{bad}: {e}");
        }
    }

    #[test]
    fn limit_defaults_by_setting_name() {
        let d = LimitOverrides::from_limits(&ServerLimits::default());
        let mut l = ServerLimits {
            signal_burst: 1,
            ..Default::default()
        };
        d.apply(&mut l);
        assert_eq!(l, ServerLimits::default(), "from_limits is apply's inverse");
        let e = d.entries();
        assert_eq!(e.len(), 16);
        assert_eq!(e[0], ("max_connections_per_session".into(), "10000".into()));
        assert!(e.contains(&("ping_interval_ms".into(), "5000".into())));
        assert!(LimitOverrides::default().entries().is_empty());
    }

    #[test]
    fn callbacks_are_per_configured_project() {
        let f = FileConfig::parse(
            r#"
            [[projects]]
            api_key = "1"
            api_secret = "a-project-secret-of-32-bytes-or-more"

            [[callbacks]]
            api_key = "1"
            url = "https://app.example.com/cb"
            "#,
        )
        .expect("parses");
        let mut c = Config {
            projects: f.projects,
            callbacks: f.callbacks,
            ..Config::dev()
        };
        c.validate().expect("valid");
        c.callbacks.push(c.callbacks[0].clone());
        let e = c.validate().expect_err("two for one project");
        assert!(e.to_string().contains("two callback URLs"), "{e}");
        c.callbacks.pop();
        c.callbacks[0].api_key = "2".into();
        let e = c.validate().expect_err("unknown project");
        assert!(e.to_string().contains("not a configured project"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_projects_are_refused() {
        assert!(FileConfig::parse("lisen = \"x\"").is_err());
        let e = FileConfig::parse("[[projects]]\napi_key = \"k\"\napi_secret = \"s\"\nnote = 1")
            .expect_err("unknown key in a project");
        assert!(e.contains("unknown field `note`"), "{e}");
        let mut c = Config::dev();
        c.projects.push(Project::dev());
        assert!(c.validate().is_err(), "duplicate key");
        let mut c = Config::dev();
        c.projects[0].api_key = "a~b".into();
        assert!(c.validate().is_err(), "key with ~");
        let mut c = Config::dev();
        c.limits.send_queue_frames = 0;
        assert!(c.validate().is_err());
        let mut c = Config::dev();
        c.limits.max_pending_per_ip = 0;
        assert!(c.validate().is_err());
        let mut c = Config::dev();
        c.limits.http_header_timeout = Duration::ZERO;
        assert!(c.validate().is_err());
        assert!(Config::dev().validate().is_ok());
    }

    #[test]
    fn short_secrets_are_refused_naming_the_project() {
        let mut c = Config::dev();
        c.projects
            .push(Project::new("4711", "x".repeat(MIN_API_SECRET_BYTES - 1)));
        let e = c.validate().expect_err("short secret").to_string();
        assert!(e.contains("project 4711") && e.contains("31 bytes"), "{e}");
        c.projects[1] = Project::new("4711", "x".repeat(MIN_API_SECRET_BYTES));
        c.validate().expect("32 bytes are enough");
    }

    #[test]
    fn dev_project_is_exposed_only_off_loopback_without_the_flag() {
        let mut c = Config::dev();
        assert!(!c.dev_project_exposed(), "127.0.0.1");
        for addr in ["[::1]:4443", "[::ffff:127.0.0.1]:4443", "127.0.0.2:4443"] {
            c.listen = addr.parse().expect("addr");
            assert!(!c.dev_project_exposed(), "{addr}");
        }
        for addr in ["0.0.0.0:4443", "[::]:4443", "192.0.2.7:4443"] {
            c.listen = addr.parse().expect("addr");
            assert!(c.dev_project_exposed(), "{addr}");
        }
        c.allow_dev_project = true;
        assert!(!c.dev_project_exposed(), "allowed");
        c.allow_dev_project = false;
        c.projects = vec![Project::new("own", "y".repeat(40))];
        assert!(!c.dev_project_exposed(), "own project");
        // The public secret under another key is just as public.
        c.projects.push(Project::new("other", DEV_API_SECRET));
        assert!(c.dev_project_exposed(), "dev secret under another key");
    }

    mod applications {
        use super::*;
        use crate::auth::test_keys::*;

        #[test]
        fn public_keys_in_both_pem_forms_and_escaped() {
            let spki = ApplicationKey::from_pem(A_PUBLIC).expect("SPKI");
            let pkcs1 = ApplicationKey::from_pem(A_PUBLIC_PKCS1).expect("PKCS#1");
            assert_eq!(spki, pkcs1, "one key, two encodings");
            assert_eq!(spki.bits(), 2048);
            let escaped = A_PUBLIC.trim().replace('\n', "\\n");
            assert_eq!(ApplicationKey::from_pem(&escaped).expect("escaped"), spki);
            assert_ne!(ApplicationKey::from_pem(B_PUBLIC).expect("B"), spki);
            for (bad, why) in [
                (A_PRIVATE, "private key"),
                (SMALL_PUBLIC, "1024 bits"),
                ("hello", "not a PEM"),
                (
                    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                    "not an RSA",
                ),
            ] {
                let e = ApplicationKey::from_pem(bad).expect_err(why);
                assert!(e.contains(why), "{why}: {e}");
            }
            // The key's Debug shows no key material beyond a fingerprint.
            let shown = format!("{:?}", Project::application(APP_ID, spki));
            assert!(shown.contains("RSA-2048 sha256:"), "{shown}");
        }

        #[test]
        fn applications_in_the_config_file() {
            let dir = std::env::temp_dir().join(format!("otc-app-config-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("dir");
            let file = dir.join("b.pub.pem");
            std::fs::write(&file, B_PUBLIC).expect("write");
            let text = format!(
                "[[applications]]\napplication_id = \"{APP_ID}\"\npublic_key = \"\"\"\n{A_PUBLIC}\"\"\"\n\
                 [[applications]]\napplication_id = \"{OTHER_APP_ID}\"\npublic_key_file = {:?}\n",
                file.display().to_string()
            );
            let f = FileConfig::parse(&text).expect("parse");
            let apps: Vec<Project> = f
                .applications
                .iter()
                .map(|a| a.load().expect("load"))
                .collect();
            std::fs::remove_dir_all(&dir).ok();
            assert_eq!(apps[0].api_key, APP_ID);
            assert_eq!(apps[0].application_key(), app().application_key());
            assert_eq!(apps[1].api_key, OTHER_APP_ID);
            assert!(apps.iter().all(|a| a.secret().is_none()));
            let mut c = Config::dev();
            c.projects.extend(apps);
            c.validate().expect("valid");
            // The same id twice, whatever the kind.
            c.projects.push(Project::new(APP_ID, "z".repeat(40)));
            assert!(c.validate().is_err());

            let neither = ApplicationEntry {
                application_id: APP_ID.into(),
                ..Default::default()
            };
            let both = ApplicationEntry {
                public_key: Some(A_PUBLIC.into()),
                public_key_file: Some(file.clone()),
                ..neither.clone()
            };
            for e in [neither, both] {
                let m = e.load().expect_err("one of the two").to_string();
                assert!(m.contains("one of the two"), "{m}");
            }
            let missing = ApplicationEntry {
                application_id: APP_ID.into(),
                public_key_file: Some(dir.join("nope.pem")),
                ..Default::default()
            };
            assert!(missing
                .load()
                .is_err_and(|e| e.to_string().contains("cannot read")));
            let bad_id = ApplicationEntry {
                application_id: "a~b".into(),
                public_key: Some(A_PUBLIC.into()),
                ..Default::default()
            };
            assert!(
                bad_id.load().expect("loads").validate().is_err(),
                "~ in the id"
            );
            assert!(
                FileConfig::parse("[[applications]]\napplication_id = \"x\"\nkey = 1").is_err()
            );
        }

        /// A callback is signed with the project's secret by default; an
        /// application has none, so its callback must bring its own.
        #[test]
        fn an_applications_callback_needs_a_secret() {
            let mut c = config();
            c.callbacks.push(Callback {
                api_key: APP_ID.into(),
                url: "https://app.example.com/events".into(),
                secret: None,
            });
            let e = c.validate().expect_err("no secret").to_string();
            assert!(e.contains("needs a secret"), "{e}");
            c.callbacks[0].secret = Some("s".repeat(MIN_API_SECRET_BYTES));
            c.validate().expect("its own secret");
        }
    }
}
