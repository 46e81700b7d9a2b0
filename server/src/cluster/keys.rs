//! Redis key names, in one place. A session's keys share the hash tag
//! `{session id}`, so Redis Cluster keeps them in one slot (its scripts
//! touch several at once); a node's keys carry the node id.

/// The keys of one session, in the order the scripts expect them (see
/// [`super::scripts`]), and its feed channel.
pub struct SessionKeys {
    pub keys: [String; 10],
    pub feed: String,
}

const PARTS: [&str; 10] = ["m", "o", "k", "seq", "log", "a", "cs", "p", "j", "l"];

impl SessionKeys {
    pub fn new(session_id: &str) -> SessionKeys {
        SessionKeys {
            keys: PARTS.map(|p| format!("otc:{{{session_id}}}:{p}")),
            feed: feed_channel(session_id),
        }
    }

    /// The event log (a stream).
    pub fn log(&self) -> &str {
        &self.keys[4]
    }
}

/// The channel a session's events are published on.
pub fn feed_channel(session_id: &str) -> String {
    format!("otc:{{{session_id}}}:feed")
}

/// The session id of a feed channel's name.
pub fn session_of_channel(channel: &str) -> Option<&str> {
    channel.strip_prefix("otc:{")?.strip_suffix("}:feed")
}

/// Set while the node is alive (it expires when the node stops refreshing it).
pub fn node_alive(node: &str) -> String {
    format!("otc:node:{node}:alive")
}

/// The sessions where the node has (or had) members.
pub fn node_sessions(node: &str) -> String {
    format!("otc:node:{node}:sessions")
}

/// Every node that has announced itself and not yet been reaped.
pub const NODES: &str = "otc:nodes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_keys_share_one_hash_tag() {
        let k = SessionKeys::new("1_MX4xMjM0NX4");
        assert!(k.keys.iter().all(|k| k.starts_with("otc:{1_MX4xMjM0NX4}:")));
        assert_eq!(k.log(), "otc:{1_MX4xMjM0NX4}:log");
        assert_eq!(session_of_channel(&k.feed), Some("1_MX4xMjM0NX4"));
        assert_eq!(session_of_channel("otc:{x}:log"), None);
    }
}
