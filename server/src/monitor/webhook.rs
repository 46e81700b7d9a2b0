//! Callbacks: POSTing a project's events to its callback URL.
//!
//! # What a receiver gets
//!
//! One `POST` per event, `Content-Type: application/json`, the body a
//! [`super::MonitorEvent`], and `Authorization: Bearer <JWT>`: an HS256 JWT
//! signed with the callback secret (by default the project's API secret)
//! whose claims are
//!
//! | claim | value |
//! | --- | --- |
//! | `iss` | the project's API key |
//! | `iat`, `exp` | issued now, valid [`CALLBACK_SIGNATURE_LIFETIME`] |
//! | `jti` | random, unique per attempt |
//! | `payload_hash` | hex SHA-256 of the exact body bytes |
//!
//! so a receiver checks the signature, `exp`, and that the body it read
//! hashes to `payload_hash`: a forged or altered callback fails one of them.
//!
//! # Retries
//!
//! A 2xx answer delivers the event. A network error, a timeout
//! ([`CALLBACK_TIMEOUT`]), a 5xx, 408 or 429 is tried again after
//! [`CALLBACK_FIRST_BACKOFF`], doubling (with jitter) up to
//! [`CALLBACK_MAX_BACKOFF`], [`CALLBACK_ATTEMPTS`] attempts in all. Any
//! other 4xx means the receiver refuses this event: it is not retried.
//! Either way the task goes on with the next event.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use protocol::limits::{
    CALLBACK_ATTEMPTS, CALLBACK_FIRST_BACKOFF, CALLBACK_MAX_BACKOFF, CALLBACK_SIGNATURE_LIFETIME,
    CALLBACK_TIMEOUT,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use protocol::ErrorCode;

use super::{MonitorEvent, Queued};
use crate::metrics::Metrics;

/// Where one project's callbacks go and how they are signed.
#[derive(Clone)]
pub struct Target {
    pub project: String,
    pub url: String,
    pub secret: String,
}

/// How one event's delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered,
    /// Refused (4xx) or still failing after every attempt.
    Failed,
    /// Never sent: the project's queue was full.
    Dropped,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Delivered, Outcome::Failed, Outcome::Dropped];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Dropped => "dropped",
        }
    }
}

/// The claims of a callback's signature.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignatureClaims {
    pub iss: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    pub payload_hash: String,
}

/// The HTTP client every delivery task shares (its connection pool too).
/// Redirects are not followed: a callback goes where it was configured.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(CALLBACK_TIMEOUT)
        .connect_timeout(CALLBACK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("otc-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|e| {
            // Only a broken TLS backend makes the builder fail; a default
            // client then still serves http:// URLs.
            tracing::error!("callback HTTP client: {e}; using defaults");
            reqwest::Client::new()
        })
}

/// The `Authorization` header value of one attempt with `body`.
pub fn sign(target: &Target, body: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let claims = SignatureClaims {
        iss: target.project.clone(),
        iat: now,
        exp: now + CALLBACK_SIGNATURE_LIFETIME.as_secs(),
        jti: hex::encode(rand::rng().random::<[u8; 16]>()),
        payload_hash: hex::encode(Sha256::digest(body)),
    };
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(target.secret.as_bytes()),
    )?;
    Ok(format!("Bearer {jwt}"))
}

/// Delivers the events of `rx` to `target`, one after the other, until the
/// channel closes and is empty.
pub async fn deliver(
    mut rx: mpsc::Receiver<Queued>,
    target: Target,
    client: reqwest::Client,
    metrics: Arc<Metrics>,
) {
    while let Some(Queued { event, done }) = rx.recv().await {
        metrics.callback_dequeued();
        let result = deliver_one(&client, &target, &event, &metrics).await;
        metrics.callback_result(match result {
            Ok(()) => Outcome::Delivered,
            Err(_) => Outcome::Failed,
        });
        if let Some(done) = done {
            let _ = done.send(result.map_err(|f| {
                let code = if f.refused {
                    ErrorCode::PermissionDenied
                } else {
                    ErrorCode::SignalTargetNotConnected
                };
                (
                    code,
                    format!("the application server's callback URL {}", f.why),
                )
            }));
        }
    }
}

/// Why a callback was not delivered.
struct Failure {
    /// The receiver answered a 4xx that is not worth retrying.
    refused: bool,
    why: String,
}

async fn deliver_one(
    client: &reqwest::Client,
    target: &Target,
    event: &MonitorEvent,
    metrics: &Metrics,
) -> Result<(), Failure> {
    let body = match serde_json::to_vec(event) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("callback body: {e}");
            return Err(Failure {
                refused: false,
                why: format!("could not be written: {e}"),
            });
        }
    };
    let mut refused = false;
    let mut backoff = CALLBACK_FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 1..=CALLBACK_ATTEMPTS {
        if attempt > 1 {
            // Jitter of up to a quarter, so the callbacks of many projects
            // failing together do not come back in step.
            let jitter = rand::rng().random_range(0..=backoff.as_millis() as u64 / 4);
            tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
            backoff = (backoff * 2).min(CALLBACK_MAX_BACKOFF);
        }
        metrics.callback_attempt();
        let auth = match sign(target, &body) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(project = %target.project, "cannot sign a callback: {e}");
                return Err(Failure {
                    refused: false,
                    why: format!("could not be signed: {e}"),
                });
            }
        };
        let sent = client
            .post(&target.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::AUTHORIZATION, auth)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                tracing::debug!(project = %target.project, event = %event.event, connection = %event.connection.id, attempt, "callback delivered");
                return Ok(());
            }
            Ok(r) => {
                let s = r.status();
                last = format!("answered {s}");
                let retry = s.is_server_error()
                    || s == reqwest::StatusCode::REQUEST_TIMEOUT
                    || s == reqwest::StatusCode::TOO_MANY_REQUESTS;
                if !retry {
                    refused = true;
                    break;
                }
            }
            Err(e) => last = error_text(&e),
        }
        tracing::debug!(project = %target.project, attempt, "callback attempt failed: {last}");
    }
    tracing::warn!(
        project = %target.project,
        url = %target.url,
        event = %event.event,
        session = %event.session_id,
        connection = %event.connection.id,
        "session-monitoring callback not delivered: {last}"
    );
    Err(Failure {
        refused,
        why: if refused {
            last
        } else {
            format!("failed {CALLBACK_ATTEMPTS} times, last: {last}")
        },
    })
}

/// A reqwest error with its causes (its own text alone says only "error
/// sending request").
fn error_text(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn the_signature_covers_the_body_and_verifies_with_the_secret() {
        let t = Target {
            project: "123".into(),
            url: "http://127.0.0.1:1/".into(),
            secret: "s".repeat(40),
        };
        let body = br#"{"event":"connectionCreated"}"#;
        let auth = sign(&t, body).expect("sign");
        let jwt = auth.strip_prefix("Bearer ").expect("bearer");
        let mut v = Validation::new(Algorithm::HS256);
        v.set_required_spec_claims(&["exp", "iss"]);
        v.set_issuer(&["123"]);
        let claims = jsonwebtoken::decode::<SignatureClaims>(
            jwt,
            &DecodingKey::from_secret(t.secret.as_bytes()),
            &v,
        )
        .expect("verifies")
        .claims;
        assert_eq!(claims.payload_hash, hex::encode(Sha256::digest(body)));
        assert_eq!(
            claims.exp - claims.iat,
            CALLBACK_SIGNATURE_LIFETIME.as_secs()
        );
        let wrong = jsonwebtoken::decode::<SignatureClaims>(
            jwt,
            &DecodingKey::from_secret(b"another-secret-another-secret-another"),
            &v,
        );
        assert!(wrong.is_err());
    }
}
