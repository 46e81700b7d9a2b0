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

/// Most TURN servers `otc_session_settings_set_custom_ice_config` accepts.
pub const MAX_CUSTOM_ICE_SERVERS: usize = 64;

/// Most server URLs a client session takes (the list of
/// `otc_session_settings_set_server_urls`, or the comma-separated entries of
/// `OTC_SERVER_URL`). The first connect walks the list and every resume
/// attempt moves along it, so a list is a handful of nodes, never a
/// directory.
pub const MAX_SERVER_URLS: usize = 16;

/// Longest issue description `otc_session_report_issue` sends, in bytes
/// (as long as a signal's data).
pub const MAX_ISSUE_DESCRIPTION_BYTES: usize = MAX_SIGNAL_DATA_BYTES;

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

/// Default most bytes of frames queued for one link (see
/// [`DEFAULT_SEND_QUEUE_FRAMES`]): a queue is full at either bound.
pub const DEFAULT_SEND_QUEUE_BYTES: usize = 16 * 1024 * 1024;

/// Default most bytes of un-acknowledged frames kept per connection (see
/// [`DEFAULT_REPLAY_BUFFER_FRAMES`]): 8,192 maximal signals whose data
/// escapes to 48 KB each would otherwise pin 400 MB. It must still hold a
/// sender's own broadcast burst: [`MAX_UNANSWERED_SIGNALS`] signals of 8 KB
/// come back to it before its acks, queued behind them on its link, can
/// arrive (8,192 x ~8.3 KB = 68 MB). A sender's share of others is bounded
/// by [`DEFAULT_SEND_QUEUE_BYTES`] (the smaller of the two).
pub const DEFAULT_REPLAY_BUFFER_BYTES: usize = 96 * 1024 * 1024;

/// Default most bytes of un-acknowledged frames kept for all the
/// connections of one session together. Past it, the connections holding
/// the most are ended (`replay_overflow`), largest first.
pub const DEFAULT_SESSION_BUFFER_BYTES: usize = 512 * 1024 * 1024;

/// One sender's signals may take at most 1/`SENDER_SHARE_DIVISOR` of a
/// recipient's send queue and replay buffer (in frames and in bytes, each
/// bound the smaller of the two). A signal that would take more of any
/// recipient is held back by the sender's link (which keeps reading its
/// acks) until the recipient acknowledges enough (back-pressure: the
/// sender goes at the pace of its slowest recipient), for at most
/// [`DEFAULT_SENDER_SHARE_WAIT`]; then it is refused to its sender with
/// 1603, whole. So one participant flooding another, however fast, is
/// slowed down or refused and never fills a reader's queue, and it takes
/// this many flooders at once to end a recipient that keeps reading. (The
/// server's `hub` module has the full rule.)
pub const SENDER_SHARE_DIVISOR: usize = 4;

/// Default longest time a signal is held back by its sender's share.
pub const DEFAULT_SENDER_SHARE_WAIT: Duration = Duration::from_secs(2);

/// Most bytes of signal types and data one connection may have on the
/// wire unanswered. The server holds back at most this much of a link's
/// signals for their recipients (a held signal past it is refused with
/// 1603), and the client libraries never put more on the wire: a signal
/// beyond it waits, numbered, in the client's outbox and goes out as the
/// server answers earlier ones. So a client that sends faster than its
/// slowest recipient reads is paced, not refused.
pub const MAX_UNANSWERED_SIGNAL_BYTES: usize = 4 * 1024 * 1024;

/// Most signals one connection may have sent (or queued) and not yet seen
/// answered. The client library's outbox holds at most this many (one more
/// send fails with 1603), and the server remembers the outcome of the last
/// this many client seqs, so that every signal a client sends again after a
/// resume is answered as it was the first time (see the server's
/// `client_seq` module).
pub const MAX_UNANSWERED_SIGNALS: usize = 8_192;

/// Time the client waits for the server's answer to `connect`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

// Connections that have not authenticated yet ("pending": from TCP accept
// until the server accepted their WebSocket `connect` or `resume`). Without
// these bounds a peer that opens sockets and then says nothing, or drips one
// header line every few seconds, holds a file descriptor forever; the server
// runs with a budget of about 20,000 descriptors per process, shared with the
// authenticated links it exists to serve.

/// Largest HTTP request head (request line and headers) the server accepts,
/// in bytes; a larger one is refused with status 431 and the connection
/// closed. It also bounds what a peer that never finishes its head makes the
/// server buffer (about this much per pending connection). An upgrade or
/// REST request head is well under a kilobyte.
pub const MAX_HTTP_REQUEST_HEAD_BYTES: usize = 32 * 1024;

/// Default longest wait for a complete HTTP request head: counted from the
/// TCP accept, and on a kept-alive HTTP connection again from the end of each
/// response, so it is also the idle timeout of keep-alive connections. A real
/// client sends its few hundred bytes of headers in one round trip; ten
/// seconds leaves room for a very slow mobile link while a slow-loris peer
/// (one header line every few seconds) is cut off after ten seconds whatever
/// it sends.
pub const DEFAULT_HTTP_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default longest time from the TCP accept until the server accepted the
/// WebSocket `connect` (or `resume`). Bounds every pending connection,
/// whatever it does meanwhile: an upgraded WebSocket that only sends pings,
/// a slow request body, or plain HTTP requests kept coming on one connection
/// (which is closed, after its current response, at this deadline). It is
/// longer than [`DEFAULT_HTTP_HEADER_TIMEOUT`] plus the round trip of
/// `connect`, and longer than the [`DEFAULT_CONNECT_TIMEOUT`] a client waits
/// for the answer to `connect`, so a client slow enough to hit it has already
/// given up.
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(15);

/// Default most pending connections in total; one more is closed as soon as
/// it is accepted. With a budget of 20,000 descriptors, 4,096 (about a fifth)
/// leaves some 15,900 for authenticated links, the listener and the process's
/// own files, so slow or silent peers can never starve the links. A real
/// client is pending for a round trip or two, so even a reconnect storm of
/// thousands of clients per second stays far below it.
pub const DEFAULT_MAX_PENDING_CONNECTIONS: usize = 4_096;

/// Default most pending connections from one address (one IPv4 address, or
/// one IPv6 /64 network, which a single host can usually draw addresses
/// from); one more is closed as soon as it is accepted. An eighth of
/// [`DEFAULT_MAX_PENDING_CONNECTIONS`]: one host alone cannot fill the total,
/// while a NAT or a client opening a few hundred connections at once (the
/// benchmark opens 256 concurrently from one address) stays under it. Behind
/// a reverse proxy every client has the proxy's address: raise it to the
/// total there.
pub const DEFAULT_MAX_PENDING_PER_IP: usize = 512;

/// Session-monitoring events (callbacks and the event stream, see the
/// server's `monitor` module) waiting to be POSTed to one project's
/// callback URL. Beyond it a new event is dropped, counted and logged:
/// delivery never holds up routing, and a receiver that is down for long
/// cannot make the server grow without bound. At a few hundred bytes per
/// event this is a few MB per project.
pub const CALLBACK_QUEUE_EVENTS: usize = 10_000;

/// Longest wait for the answer of one callback POST (connect included).
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Attempts of one callback before it is given up (and counted as failed):
/// the first and five retries.
pub const CALLBACK_ATTEMPTS: u32 = 6;

/// Delay before the first retry of a callback; each next retry waits twice
/// as long (with jitter), at most [`CALLBACK_MAX_BACKOFF`]: 0.25 + 0.5 + 1 +
/// 2 + 4 s, some 8 s of retrying in all, enough for a receiver to restart.
pub const CALLBACK_FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// Longest delay between two attempts of one callback.
pub const CALLBACK_MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Lifetime of the JWT that signs a callback (its `exp`): a receiver should
/// refuse a replayed callback older than that.
pub const CALLBACK_SIGNATURE_LIFETIME: Duration = Duration::from_secs(300);

/// Event streams (`GET /v2/project/{key}/events`) one project may hold open
/// on one node; one more is answered 429.
pub const MAX_EVENT_STREAMS_PER_PROJECT: usize = 64;

/// Events an event stream may fall behind before it skips ahead (and is
/// told how many it missed, in a `lagged` event).
pub const EVENT_STREAM_BUFFER: usize = 1_024;

/// Interval of the keep-alive comments an idle event stream sends, so that
/// proxies and load balancers do not close it.
pub const EVENT_STREAM_KEEPALIVE: Duration = Duration::from_secs(15);
