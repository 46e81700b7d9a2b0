//! Error codes with the Vonage Video SDK's numeric values.
//!
//! The server puts these in error frames so the client library can hand the
//! very same number to C code (`enum otc_error_code` /
//! `enum otc_session_error_code`) without a translation table.
//!
//! Codes 1600 to 1604 are this project's own signal errors (the Vonage SDK
//! has no session or signal code for them; its subscriber enum uses some of
//! the same numbers, `OTC_SUBSCRIBER_WEBRTC_ERROR` = 1600 among them, which
//! never meet these: C code reads them from `enum otc_signal_error_code`).

use serde::{Deserialize, Serialize};

/// An SDK error code, as carried on the wire (a plain integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
#[repr(i32)]
pub enum ErrorCode {
    /// The token was refused (bad signature, expired, wrong project, bad role).
    AuthorizationFailure = 1004,
    /// The session id is malformed or does not belong to the project.
    InvalidSession = 1005,
    /// The connection could not be established.
    ConnectionFailed = 1006,
    /// The action needs a connected session.
    NotConnected = 1010,
    /// A required parameter was missing or invalid.
    NullOrInvalidParameter = 1011,
    /// The action is not allowed in the current state.
    IllegalState = 1015,
    /// The subscriber is not subscribed in this session (the SDK's
    /// `OTC_SESSION_SUBSCRIBER_NOT_FOUND`).
    SubscriberNotFound = 1112,
    /// The publisher is not published in this session (the SDK's
    /// `OTC_SESSION_PUBLISHER_NOT_FOUND`).
    PublisherNotFound = 1113,
    /// The operation timed out.
    TimedOut = 1021,
    /// The connection dropped.
    ConnectionDropped = 1022,
    /// The server refused the connection.
    ConnectionRefused = 1023,
    /// The session already holds its maximum number of connections.
    ConnectionLimitExceeded = 1027,
    /// The server cannot reach its messaging backend (in a cluster: Redis),
    /// so it can neither take the connection nor route the signal (the
    /// SDK's `OTC_SESSION_NO_MESSAGING_SERVER`). Try again later.
    NoMessagingServer = 1503,
    /// Signal data is longer than [`crate::limits::MAX_SIGNAL_DATA_BYTES`].
    SignalDataTooLong = 1413,
    /// Signal type is longer than [`crate::limits::MAX_SIGNAL_TYPE_BYTES`].
    SignalTypeTooLong = 1414,
    /// A target connection of a signal is not connected to the session.
    SignalTargetNotConnected = 1600,
    /// Signal type holds a character outside `A-Z a-z 0-9 - _ ~`.
    InvalidSignalType = 1461,
    /// The connection's role does not allow this action (e.g. a
    /// `publisher_only` token sending a signal).
    PermissionDenied = 1601,
    /// Too many signals in too short a time.
    RateLimited = 1602,
    /// A bounded queue or buffer is full; the message was not accepted.
    BufferFull = 1603,
    /// The peer broke the protocol (malformed frame, unknown kind, ...).
    ProtocolError = 1604,
    /// Something went wrong inside the library or the server.
    InternalError = 2000,
    /// The call needs the media engine, which this project does not have
    /// (the SDK's `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE`).
    MediaUnavailable = 5000,
    /// An end-to-end encryption secret of the wrong length.
    InvalidEncryptionSecret = 6004,
}

impl ErrorCode {
    /// All codes, for exhaustive tests and lookup.
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::AuthorizationFailure,
        ErrorCode::InvalidSession,
        ErrorCode::ConnectionFailed,
        ErrorCode::NotConnected,
        ErrorCode::NullOrInvalidParameter,
        ErrorCode::IllegalState,
        ErrorCode::SubscriberNotFound,
        ErrorCode::PublisherNotFound,
        ErrorCode::TimedOut,
        ErrorCode::ConnectionDropped,
        ErrorCode::ConnectionRefused,
        ErrorCode::ConnectionLimitExceeded,
        ErrorCode::NoMessagingServer,
        ErrorCode::SignalDataTooLong,
        ErrorCode::SignalTypeTooLong,
        ErrorCode::SignalTargetNotConnected,
        ErrorCode::InvalidSignalType,
        ErrorCode::PermissionDenied,
        ErrorCode::RateLimited,
        ErrorCode::BufferFull,
        ErrorCode::ProtocolError,
        ErrorCode::InternalError,
        ErrorCode::MediaUnavailable,
        ErrorCode::InvalidEncryptionSecret,
    ];

    /// The numeric value.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

impl From<ErrorCode> for i32 {
    fn from(c: ErrorCode) -> i32 {
        c as i32
    }
}

/// A number that is not one of the known [`ErrorCode`]s.
#[derive(Debug, thiserror::Error)]
#[error("unknown error code {0}")]
pub struct UnknownErrorCode(pub i32);

impl TryFrom<i32> for ErrorCode {
    type Error = UnknownErrorCode;
    fn try_from(v: i32) -> Result<Self, Self::Error> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_i32() == v)
            .ok_or(UnknownErrorCode(v))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} ({})", self, self.as_i32())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_json_as_plain_numbers() {
        for c in ErrorCode::ALL {
            let j = serde_json::to_string(&c).expect("serialize");
            assert_eq!(j, c.as_i32().to_string());
            let back: ErrorCode = serde_json::from_str(&j).expect("deserialize");
            assert_eq!(back, c);
        }
        assert!(serde_json::from_str::<ErrorCode>("42").is_err());
    }

    #[test]
    fn sdk_values_are_kept() {
        assert_eq!(ErrorCode::AuthorizationFailure.as_i32(), 1004);
        assert_eq!(ErrorCode::NotConnected.as_i32(), 1010);
        assert_eq!(ErrorCode::ConnectionLimitExceeded.as_i32(), 1027);
        assert_eq!(ErrorCode::SignalDataTooLong.as_i32(), 1413);
        assert_eq!(ErrorCode::SignalTypeTooLong.as_i32(), 1414);
        assert_eq!(ErrorCode::InvalidSignalType.as_i32(), 1461);
        assert_eq!(ErrorCode::SubscriberNotFound.as_i32(), 1112);
        assert_eq!(ErrorCode::PublisherNotFound.as_i32(), 1113);
        assert_eq!(ErrorCode::InternalError.as_i32(), 2000);
    }
}
