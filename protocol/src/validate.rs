//! Checks of user-supplied values against [`crate::limits`].
//!
//! Both the client library (before queueing) and the server (on receipt)
//! call these, so a value is accepted by one exactly when the other accepts it.

use crate::codes::ErrorCode;
use crate::limits::*;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("signal type is {0} bytes, more than the limit of {MAX_SIGNAL_TYPE_BYTES}")]
    TypeTooLong(usize),
    #[error("signal type holds {0:?}, outside A-Z a-z 0-9 - _ ~")]
    InvalidTypeChar(char),
    #[error("signal data is {0} bytes, more than the limit of {MAX_SIGNAL_DATA_BYTES}")]
    DataTooLong(usize),
    #[error("a signal may name at most {MAX_SIGNAL_TARGETS} target connections, not {0}")]
    TooManyTargets(usize),
    #[error("a signal sent to a list of connections needs at least one target")]
    NoTargets,
    #[error("{what} is empty or longer than {MAX_ID_BYTES} bytes")]
    BadId { what: &'static str },
    #[error(
        "connection data is {0} characters, more than the limit of {MAX_CONNECTION_DATA_CHARS}"
    )]
    ConnectionDataTooLong(usize),
    #[error(
        "issue description is {0} bytes, more than the limit of {MAX_ISSUE_DESCRIPTION_BYTES}"
    )]
    IssueDescriptionTooLong(usize),
}

impl ValidationError {
    /// The SDK error code reported for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            ValidationError::TypeTooLong(_) => ErrorCode::SignalTypeTooLong,
            ValidationError::InvalidTypeChar(_) => ErrorCode::InvalidSignalType,
            ValidationError::DataTooLong(_) => ErrorCode::SignalDataTooLong,
            ValidationError::TooManyTargets(_)
            | ValidationError::NoTargets
            | ValidationError::BadId { .. }
            | ValidationError::ConnectionDataTooLong(_)
            | ValidationError::IssueDescriptionTooLong(_) => ErrorCode::NullOrInvalidParameter,
        }
    }
}

/// Is `c` allowed in a signal type?
pub fn is_signal_type_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~')
}

/// Checks a signal type: at most [`MAX_SIGNAL_TYPE_BYTES`] bytes of
/// `A-Z a-z 0-9 - _ ~`. The empty type is allowed.
pub fn signal_type(t: &str) -> Result<(), ValidationError> {
    if t.len() > MAX_SIGNAL_TYPE_BYTES {
        return Err(ValidationError::TypeTooLong(t.len()));
    }
    match t.chars().find(|c| !is_signal_type_char(*c)) {
        Some(c) => Err(ValidationError::InvalidTypeChar(c)),
        None => Ok(()),
    }
}

/// Checks signal data: at most [`MAX_SIGNAL_DATA_BYTES`] bytes. (UTF-8 is
/// guaranteed by `&str`; the C layer checks it when converting.)
pub fn signal_data(d: &str) -> Result<(), ValidationError> {
    if d.len() > MAX_SIGNAL_DATA_BYTES {
        return Err(ValidationError::DataTooLong(d.len()));
    }
    Ok(())
}

/// Checks an identifier (session id, connection id, ...).
pub fn id(what: &'static str, v: &str) -> Result<(), ValidationError> {
    if v.is_empty() || v.len() > MAX_ID_BYTES {
        return Err(ValidationError::BadId { what });
    }
    Ok(())
}

/// Checks the list of targets of a signal. `None` means broadcast.
pub fn targets(to: Option<&[String]>) -> Result<(), ValidationError> {
    let Some(to) = to else { return Ok(()) };
    if to.is_empty() {
        return Err(ValidationError::NoTargets);
    }
    if to.len() > MAX_SIGNAL_TARGETS {
        return Err(ValidationError::TooManyTargets(to.len()));
    }
    to.iter().try_for_each(|t| id("target connection id", t))
}

/// Checks a whole signal in the order the SDK reports problems: type first,
/// then data, then targets.
pub fn signal(t: &str, d: &str, to: Option<&[String]>) -> Result<(), ValidationError> {
    signal_type(t)?;
    signal_data(d)?;
    targets(to)
}

/// Checks the description of an issue report.
pub fn issue_description(d: &str) -> Result<(), ValidationError> {
    if d.len() > MAX_ISSUE_DESCRIPTION_BYTES {
        return Err(ValidationError::IssueDescriptionTooLong(d.len()));
    }
    Ok(())
}

/// Checks connection data carried by a token.
pub fn connection_data(d: &str) -> Result<(), ValidationError> {
    let n = d.chars().count();
    if n > MAX_CONNECTION_DATA_CHARS {
        return Err(ValidationError::ConnectionDataTooLong(n));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_limits() {
        assert!(signal_type("").is_ok());
        assert!(signal_type("chat-msg_1~X").is_ok());
        assert!(signal_type(&"a".repeat(128)).is_ok());
        assert_eq!(
            signal_type(&"a".repeat(129)).map_err(|e| e.code()),
            Err(ErrorCode::SignalTypeTooLong)
        );
        for bad in ["a b", "é", "x/y", "a.b", "a\0"] {
            assert_eq!(
                signal_type(bad).map_err(|e| e.code()),
                Err(ErrorCode::InvalidSignalType),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn data_limits() {
        assert!(signal_data("").is_ok());
        assert!(signal_data(&"x".repeat(8192)).is_ok());
        // 8192 bytes made of 2-byte characters is still fine; one more byte is not.
        assert!(signal_data(&"é".repeat(4096)).is_ok());
        assert_eq!(
            signal_data(&"x".repeat(8193)).map_err(|e| e.code()),
            Err(ErrorCode::SignalDataTooLong)
        );
    }

    #[test]
    fn target_limits() {
        assert!(targets(None).is_ok());
        assert!(targets(Some(&[])).is_err());
        assert!(targets(Some(&["".to_string()])).is_err());
        let many = vec!["c".to_string(); MAX_SIGNAL_TARGETS + 1];
        assert!(targets(Some(&many)).is_err());
        assert!(targets(Some(&["abc".to_string()])).is_ok());
    }

    #[test]
    fn connection_data_counts_characters() {
        assert!(connection_data(&"é".repeat(1000)).is_ok());
        assert!(connection_data(&"a".repeat(1001)).is_err());
    }
}
