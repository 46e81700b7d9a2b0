//! The value behind an `otc_connection*`: one participant of a session.
//!
//! Everything C may read is stored as a ready C string, so the getters hand
//! out pointers without allocating. A session shares one `Arc<Connection>`
//! per participant between all the callbacks that mention it, so the pointer
//! a callback receives stays the same for the same participant and lives at
//! least as long as the callback (and as long as the participant is present).

use std::ffi::{CStr, CString};

use protocol::ConnectionInfo;

/// One participant of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    id: CString,
    data: CString,
    session_id: CString,
    created_at_ms: i64,
}

/// Makes a C string from text that may hold NUL bytes, cutting at the first
/// one (C could not see past it anyway).
pub fn c_string_lossy(s: &str) -> CString {
    let cut = s.find('\0').unwrap_or(s.len());
    CString::new(&s[..cut]).unwrap_or_default()
}

impl Connection {
    /// A connection as described by the server.
    pub fn from_info(info: &ConnectionInfo, session_id: &str) -> Self {
        Connection {
            id: c_string_lossy(&info.id),
            data: c_string_lossy(&info.data),
            session_id: c_string_lossy(session_id),
            created_at_ms: info.created_at_ms,
        }
    }

    /// A connection known only by its id (a signal from a participant whose
    /// arrival we were not told about because connection events are
    /// suppressed): no data, creation time 0.
    pub fn id_only(id: &str, session_id: &str) -> Self {
        Connection {
            id: c_string_lossy(id),
            data: CString::default(),
            session_id: c_string_lossy(session_id),
            created_at_ms: 0,
        }
    }

    pub fn id(&self) -> &CStr {
        &self.id
    }

    /// The id as Rust text (ids are ASCII on the wire).
    pub fn id_str(&self) -> &str {
        self.id.to_str().unwrap_or("")
    }

    pub fn data(&self) -> &CStr {
        &self.data
    }

    pub fn session_id(&self) -> &CStr {
        &self.session_id
    }

    /// Milliseconds since the Unix epoch.
    pub fn created_at_ms(&self) -> i64 {
        self.created_at_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_cut_the_c_string() {
        assert_eq!(c_string_lossy("ab\0cd").as_bytes(), b"ab");
        assert_eq!(c_string_lossy("").as_bytes(), b"");
    }

    #[test]
    fn from_info_keeps_every_field() {
        let info = ConnectionInfo {
            id: "c1".into(),
            created_at_ms: 42,
            data: "name=x".into(),
        };
        let c = Connection::from_info(&info, "sid");
        assert_eq!(c.id_str(), "c1");
        assert_eq!(c.data().to_str().unwrap(), "name=x");
        assert_eq!(c.session_id().to_str().unwrap(), "sid");
        assert_eq!(c.created_at_ms(), 42);
    }
}
