//! The error type of the Rust core.
//!
//! Every failure the C API can report is an SDK error code plus a sentence
//! saying why; the C layer returns the code and logs the sentence, so a user
//! who enables logging learns *why* a call returned 1011 or 1015.

use protocol::ErrorCode;

/// A refused call or a failed operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (error {code})", code = code.as_i32())]
pub struct Error {
    /// The SDK error code handed to C.
    pub code: ErrorCode,
    /// Human-readable explanation, for the log.
    pub reason: String,
}

impl Error {
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        Error {
            code,
            reason: reason.into(),
        }
    }

    pub fn invalid(reason: impl Into<String>) -> Self {
        Error::new(ErrorCode::NullOrInvalidParameter, reason)
    }

    pub fn illegal_state(reason: impl Into<String>) -> Self {
        Error::new(ErrorCode::IllegalState, reason)
    }

    pub fn not_connected(reason: impl Into<String>) -> Self {
        Error::new(ErrorCode::NotConnected, reason)
    }

    /// Something went wrong inside the library (a caught panic, ...).
    pub fn internal(reason: impl Into<String>) -> Self {
        Error::new(ErrorCode::InternalError, reason)
    }

    /// A function that needs the media engine, which this library does not
    /// have (publishing, subscribing, devices).
    pub fn media_unavailable() -> Self {
        Error::new(
            ErrorCode::MediaUnavailable,
            "media is not part of this library (it implements the signaling part of the SDK)",
        )
    }

    /// Calls made before `otc_init` or after `otc_destroy`.
    pub fn not_initialized() -> Self {
        Error::illegal_state("the library is not initialized (call otc_init first)")
    }
}

impl From<protocol::validate::ValidationError> for Error {
    fn from(e: protocol::validate::ValidationError) -> Self {
        Error::new(e.code(), e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
