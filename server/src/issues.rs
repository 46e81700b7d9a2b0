//! Issue reports (`otc_session_report_issue`): a participant tells the
//! operator that something went wrong, and gets an id to quote.
//!
//! The server is the one that names an issue, so ids are unique across every
//! client and cannot be chosen by one. A report is one log line, at warning
//! level so it stands out, with the project, session and connection it came
//! from; it costs the sender a token of its signal rate bucket (checked by the
//! hub), so a client cannot flood the log faster than it could signal.

use rand::Rng;

use crate::hub::HubError;

/// Checks a description before anything is logged.
pub fn check(description: &str) -> Result<(), HubError> {
    protocol::validate::issue_description(description)
        .map_err(|e| HubError::new(e.code(), e.to_string()))
}

/// A new issue id: a random (version 4) UUID.
pub fn new_issue_id() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The log line of one report.
pub fn log(project: &str, session_id: &str, connection_id: &str, issue_id: &str, text: &str) {
    tracing::warn!(
        issue_id,
        project,
        session = session_id,
        connection = connection_id,
        description = text,
        "issue reported by a client"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::limits::MAX_ISSUE_DESCRIPTION_BYTES;
    use protocol::ErrorCode;

    #[test]
    fn issue_ids_are_version_4_uuids_and_differ() {
        let a = new_issue_id();
        let b = new_issue_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn long_descriptions_are_refused() {
        assert!(check(&"x".repeat(MAX_ISSUE_DESCRIPTION_BYTES)).is_ok());
        let e = check(&"x".repeat(MAX_ISSUE_DESCRIPTION_BYTES + 1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::NullOrInvalidParameter);
    }
}
