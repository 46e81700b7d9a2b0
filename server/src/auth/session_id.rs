//! Session ids in OpenTok's shape.
//!
//! An OpenTok session id is `1_` followed by base64url text that decodes to
//! `~`-separated fields, one of which is the API key. The official server
//! SDKs rely on that: before minting a token, the Python SDK strips the first
//! two characters, pads and decodes the rest, splits on `~` and refuses the id
//! unless its own API key is one of the fields. Our ids keep that shape:
//!
//! ```text
//! 1_ base64url( "1" ~ api_key ~ created_ms ~ random_hex ~ mac_hex )
//! ```
//!
//! `mac_hex` is HMAC-SHA256 keyed by the project secret over the fields before
//! it, truncated to 128 bits. (A Vonage application has no secret: its key
//! is a hash of the application's public key; see
//! [`Project::session_id_key`].) It makes an id *verifiable* — any server node
//! with the project's secret can tell a real id from a forged or foreign one
//! without asking a shared store — and sessions can then be created lazily on
//! first connect. Padding is left off; the SDK's decoder re-adds it.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::Project;

const PREFIX: &str = "1_";
const FORMAT_VERSION: &str = "1";
const MAC_BYTES: usize = 16;

/// Why a session id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionIdError {
    #[error("session id is not in the expected format")]
    Malformed,
    #[error("session id belongs to another project")]
    ForeignProject,
    #[error("session id signature does not match")]
    BadSignature,
}

fn mac_over(key: &[u8], body: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body.as_bytes());
    mac
}

/// Creates a new session id for `project`.
pub fn create_session_id(project: &Project) -> String {
    let created_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut random = [0u8; 16];
    rand::rng().fill_bytes(&mut random);
    let body = format!(
        "{FORMAT_VERSION}~{}~{created_ms}~{}",
        project.api_key,
        hex::encode(random)
    );
    let tag = mac_over(project.session_id_key(), &body)
        .finalize()
        .into_bytes();
    let full = format!("{body}~{}", hex::encode(&tag[..MAC_BYTES]));
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(full))
}

/// Reads the API key out of a session id without verifying it (used to pick
/// the project for a token on the command line).
pub fn api_key_of(session_id: &str) -> Result<String, SessionIdError> {
    let fields = decode_fields(session_id)?;
    Ok(fields[1].clone())
}

fn decode_fields(session_id: &str) -> Result<Vec<String>, SessionIdError> {
    let rest = session_id
        .strip_prefix(PREFIX)
        .ok_or(SessionIdError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(rest)
        .or_else(|_| URL_SAFE.decode(rest))
        .map_err(|_| SessionIdError::Malformed)?;
    let text = String::from_utf8(bytes).map_err(|_| SessionIdError::Malformed)?;
    let fields: Vec<String> = text.split('~').map(str::to_string).collect();
    if fields.len() != 5 || fields[0] != FORMAT_VERSION {
        return Err(SessionIdError::Malformed);
    }
    Ok(fields)
}

/// Verifies that `session_id` was created by this server for `project`.
pub fn verify_session_id(project: &Project, session_id: &str) -> Result<(), SessionIdError> {
    if session_id.len() > protocol::limits::MAX_ID_BYTES {
        return Err(SessionIdError::Malformed);
    }
    let fields = decode_fields(session_id)?;
    if fields[1] != project.api_key {
        return Err(SessionIdError::ForeignProject);
    }
    let tag = hex::decode(&fields[4]).map_err(|_| SessionIdError::Malformed)?;
    if tag.len() != MAC_BYTES {
        return Err(SessionIdError::Malformed);
    }
    let body = format!("{}~{}~{}~{}", fields[0], fields[1], fields[2], fields[3]);
    // `verify_truncated_left` compares in constant time.
    mac_over(project.session_id_key(), &body)
        .verify_truncated_left(&tag)
        .map_err(|_| SessionIdError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(key: &str, secret: &str) -> Project {
        Project::new(key, secret)
    }

    #[test]
    fn round_trip_and_sdk_style_decoding() {
        let p = project("4567", "s3cret");
        let id = create_session_id(&p);
        assert!(id.starts_with("1_"));
        assert_eq!(verify_session_id(&p, &id), Ok(()));
        // Decode exactly as the Python SDK does: drop 2 chars, pad, decode, split.
        let mut rest = id[2..].to_string();
        while !rest.len().is_multiple_of(4) {
            rest.push('=');
        }
        let text = String::from_utf8(URL_SAFE.decode(rest).expect("b64")).expect("utf8");
        assert!(text.split('~').any(|f| f == "4567"));
        assert_eq!(api_key_of(&id).as_deref(), Ok("4567"));
    }

    #[test]
    fn forged_foreign_and_malformed_ids_are_refused() {
        let p = project("4567", "s3cret");
        let other = project("9999", "s3cret");
        let id = create_session_id(&p);
        assert_eq!(
            verify_session_id(&other, &id),
            Err(SessionIdError::ForeignProject)
        );
        let same_key_other_secret = project("4567", "other");
        assert_eq!(
            verify_session_id(&same_key_other_secret, &id),
            Err(SessionIdError::BadSignature)
        );
        // Change the random field, keep the MAC.
        let fields = decode_fields(&id).expect("fields");
        let forged = format!(
            "1_{}",
            URL_SAFE_NO_PAD.encode(format!(
                "1~4567~{}~{}~{}",
                fields[2],
                "0".repeat(32),
                fields[4]
            ))
        );
        assert_eq!(
            verify_session_id(&p, &forged),
            Err(SessionIdError::BadSignature)
        );
        // An OpenTok-style id ("1~123456~~~") of another key.
        assert_eq!(
            verify_session_id(&p, "1_MX4xMjM0NTZ-fn4"),
            Err(SessionIdError::ForeignProject)
        );
        for bad in ["", "1_", "2_abc", "1_!!!!", "1_MX4xMjM0NTZ-fg"] {
            assert_eq!(
                verify_session_id(&p, bad),
                Err(SessionIdError::Malformed),
                "{bad:?}"
            );
        }
    }
}
