//! Who may join which session.
//!
//! Two self-contained checks, both keyed by the project secret so that any
//! node holding the configuration can verify without shared storage:
//!
//! * [`session_id`] — OpenTok-shaped session ids carrying the API key and an
//!   HMAC over their own fields;
//! * [`token`] — the two token formats the official OpenTok server SDKs mint
//!   (JWT and the legacy `T1==`), and minting them ourselves for the CLI;
//! * [`claims`] — reading claims in every shape the official SDKs write.

pub mod claims;
pub mod session_id;
pub mod token;

#[cfg(test)]
pub(crate) mod test_keys;

pub use session_id::{create_session_id, verify_session_id, SessionIdError};
pub use token::{mint_token, verify_token, Grant, Role, TokenError, TokenOptions};
