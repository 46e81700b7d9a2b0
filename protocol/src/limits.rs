//! Every bound of the system, defined once.
//!
//! The client library validates against these before queueing anything; the
//! server enforces them again on every frame. Configurable server limits
//! (connections per session, rate limit, queue sizes) have their *defaults*
//! here so that the documentation, the server's CLI and the tests agree.

use std::time::Duration;

/// Longest signal `type`, in bytes (characters of `A-Z a-z 0-9 - _ ~`).
pub const MAX_SIGNAL_TYPE_BYTES: usize = 128;

/// Longest signal `data`, in bytes of UTF-8.
pub const MAX_SIGNAL_DATA_BYTES: usize = 8192;

/// Longest `connection_data` carried by a token, in characters.
pub const MAX_CONNECTION_DATA_CHARS: usize = 1000;

/// Most target connections one signal may name.
pub const MAX_SIGNAL_TARGETS: usize = 1000;

/// Longest identifier (session id, connection id, API key, resume secret)
/// accepted on the wire, in bytes.
pub const MAX_ID_BYTES: usize = 512;

/// Longest token accepted on the wire, in bytes.
///
/// Sized for the largest token an official SDK mints: a legacy `T1==`
/// token url-encodes its connection data, so [`MAX_CONNECTION_DATA_CHARS`]
/// characters of four UTF-8 bytes each become 12,000 bytes, and base64
/// grows that by a third (about 16.4 KB with the other fields); a JWT's
/// JSON escapes a control character to six bytes (8 KB in base64).
pub const MAX_TOKEN_BYTES: usize = 24 * 1024;

/// Largest WebSocket frame or message either side accepts, in bytes.
///
/// A maximal signal is 8 KiB of data that may grow up to six times when JSON
/// escapes control characters, plus up to [`MAX_SIGNAL_TARGETS`] ids. Anything
/// larger is refused by the WebSocket layer before it is buffered.
pub const MAX_FRAME_BYTES: usize = 128 * 1024;

/// Most bytes of connection list in one `connected` or `connections`
/// frame. A session's participant list is paged by this bound, so a session
/// of any size (up to its connection cap) can be joined without a frame
/// over [`MAX_FRAME_BYTES`]: one entry is at most a 32-character id and
/// [`MAX_CONNECTION_DATA_CHARS`] characters that JSON escaping may grow six
/// times, about 6 KB, so a page always fits.
pub const CONNECTION_LIST_PAGE_BYTES: usize = 64 * 1024;

/// TCP port `otc-server` listens on when given no `--listen` address.
pub const DEFAULT_PORT: u16 = 4443;

/// Address `otc-server` listens on when given no `--listen` address.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:4443";

/// Base URL the client library uses when neither the settings nor the
/// environment name a server.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:4443";

/// Default most connections in one session.
pub const DEFAULT_MAX_CONNECTIONS_PER_SESSION: usize = 10_000;

/// Default sustained signals per second one connection may send.
pub const DEFAULT_SIGNAL_RATE_PER_SEC: u32 = 5_000;

/// Default burst of signals one connection may send above the sustained rate.
pub const DEFAULT_SIGNAL_BURST: u32 = 10_000;

/// Default number of outgoing frames queued for one recipient before it is
/// considered too slow and disconnected (see the server's hub documentation).
pub const DEFAULT_SEND_QUEUE_FRAMES: usize = 4_096;

/// Default interval between server pings.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(5);

/// Default time without any frame from the peer after which a link is dead.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// Default time a dropped connection is kept for a resume.
pub const DEFAULT_RECONNECT_GRACE: Duration = Duration::from_secs(30);

/// Default number of un-acknowledged frames the server keeps per connection
/// for replay after a resume.
pub const DEFAULT_REPLAY_BUFFER_FRAMES: usize = 8_192;

/// Most signals one connection may have sent (or queued) and not yet seen
/// answered. The client library's outbox holds at most this many (one more
/// send fails with 1603), and the server remembers the outcome of the last
/// this many client seqs, so that every signal a client sends again after a
/// resume is answered as it was the first time (see the server's
/// `client_seq` module).
pub const MAX_UNANSWERED_SIGNALS: usize = 8_192;

/// Time the client waits for the server's answer to `connect`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
