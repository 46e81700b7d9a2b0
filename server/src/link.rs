//! One WebSocket link as the hub sees it: a bounded queue of outgoing frames
//! and a switch to close it.
//!
//! The hub never writes to a socket. It pushes already-serialized frames
//! ([`Frame`], a cheaply clonable shared buffer — one event is serialized
//! once per encoding and the same bytes go to every recipient that reads
//! that encoding) into each recipient's
//! queue with a non-blocking `try_send`, so a slow reader can never stall the
//! sender or the other recipients. A full queue is reported to the caller,
//! which disconnects that one recipient (see [`crate::hub`]).
//!
//! Closing is separate from the queue on purpose: a slow consumer's queue is
//! full, yet it must still be told why it is being dropped. [`Link::close`]
//! records a [`Closing`] (an optional last frame, a close code and reason)
//! and wakes the link's task, which sends it best-effort and ends the
//! link ([`crate::wire`]).

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::task::AtomicWaker;
use protocol::ServerMessage;
use tokio_util::sync::CancellationToken;

/// A serialized server frame, shared between recipients: cloning it is a
/// reference count, whatever its size.
///
/// Most frames are JSON text. A `signal` event may also exist as a binary
/// frame (see [`protocol::binary`]), for the links that agreed to them: it
/// is built in the encodings its recipients use when it is accepted
/// ([`Frame::signal`]), and one it lacks is derived on first need (a text
/// link resuming to a frame built only for binary links, say), once.
#[derive(Debug, Clone)]
pub struct Frame(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Text(Utf8Bytes),
    Signal(Arc<SignalFrame>),
}

/// The encodings of one `signal` event; at least one is set from the start.
#[derive(Debug)]
struct SignalFrame {
    text: OnceLock<Utf8Bytes>,
    binary: Option<Bytes>,
    /// The size of the encoding built first, what the queues count.
    len: usize,
}

impl Frame {
    /// The frame of a `signal` event, encoded as text when `text` is true
    /// and as binary when `binary` is (text when neither is).
    pub fn signal(
        seq: u64,
        from: Option<&str>,
        signal_type: &str,
        data: &str,
        text: bool,
        binary: bool,
    ) -> Frame {
        let binary = binary.then(|| {
            Bytes::from(protocol::binary::encode_server_signal(
                seq,
                from,
                signal_type,
                data,
            ))
        });
        let text = if text || binary.is_none() {
            OnceLock::from(Utf8Bytes::from(protocol::messages::encode_server_signal(
                seq,
                from,
                signal_type,
                data,
            )))
        } else {
            OnceLock::new()
        };
        let len = text
            .get()
            .map_or_else(|| binary.as_ref().map_or(0, Bytes::len), |t| t.len());
        Frame(Repr::Signal(Arc::new(SignalFrame { text, binary, len })))
    }

    /// Its size in bytes (of the encoding built first).
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Text(t) => t.len(),
            Repr::Signal(s) => s.len,
        }
    }

    /// Whether it is empty (never, for a real frame).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame as JSON text.
    pub fn text(&self) -> Utf8Bytes {
        match &self.0 {
            Repr::Text(t) => t.clone(),
            Repr::Signal(s) => s
                .text
                .get_or_init(|| {
                    // Built for binary links only; its text once, from it.
                    let bin = s.binary.as_deref().unwrap_or_default();
                    match protocol::binary::decode_server(bin) {
                        Ok(msg) => Utf8Bytes::from(msg.encode()),
                        // We encoded it ourselves; this cannot happen.
                        Err(e) => Utf8Bytes::from(
                            ServerMessage::Error {
                                code: protocol::ErrorCode::InternalError,
                                message: format!("lost a signal frame: {e}"),
                            }
                            .encode(),
                        ),
                    }
                })
                .clone(),
        }
    }

    /// The WebSocket message for a link: binary when the link agreed to
    /// binary signals and the frame has that encoding, text otherwise.
    pub fn message(&self, binary_link: bool) -> Message {
        if let (true, Repr::Signal(s)) = (binary_link, &self.0) {
            if let Some(b) = &s.binary {
                return Message::Binary(b.clone());
            }
        }
        Message::Text(self.text())
    }
}

impl From<String> for Frame {
    fn from(s: String) -> Frame {
        Frame(Repr::Text(Utf8Bytes::from(s)))
    }
}

/// Serializes a message into a [`Frame`].
pub fn frame(msg: &ServerMessage) -> Frame {
    Frame::from(msg.encode())
}

/// What a link's queue holds.
#[derive(Debug)]
pub enum Out {
    /// A serialized frame.
    Frame(Frame),
    /// The `signal_ack` of this client seq, serialized when written: for a
    /// client that asked for `ack_runs` it merges consecutive ones into one
    /// frame (see `crate::connection`), which saves the client reading and
    /// parsing a frame per signal at full speed.
    Ack(u64),
}

/// What an [`Out::Ack`] counts against the queue's byte bound (about the
/// size of its frame).
const ACK_BYTES: usize = 32;

impl Out {
    fn weight(&self) -> usize {
        match self {
            Out::Frame(f) => f.len(),
            Out::Ack(_) => ACK_BYTES,
        }
    }
}

/// How a link ends.
#[derive(Debug, Clone)]
pub struct Closing {
    /// Flush frames already queued before closing (graceful shutdown).
    pub drain: bool,
    /// A last frame (`error` or `disconnected`) sent before the close frame.
    pub frame: Option<Frame>,
    /// WebSocket close code.
    pub code: u16,
    /// Close reason (at most 123 bytes; longer text is cut).
    pub reason: String,
}

/// WebSocket close codes used by the server.
pub mod close_code {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL_ERROR: u16 = 1002;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
}

/// Shared between the hub's [`Link`] handle and the link's tasks.
#[derive(Debug, Default)]
pub struct LinkCtl {
    token: CancellationToken,
    /// Set with `token`: what the hub's pushes check, since the token's own
    /// check takes a lock, and a broadcast checks every recipient's link.
    ended: AtomicBool,
    requested: AtomicBool,
    closing: Mutex<Option<Closing>>,
    /// The link's queue (see [`Queue`]).
    queue: Queue,
    /// Bytes of the frames queued and not yet taken from the queue.
    queued_bytes: AtomicUsize,
    /// The client asked for acknowledgement runs (`ack_runs` in its
    /// `connect` or `resume`).
    ack_runs: AtomicBool,
    /// The client asked for binary signal frames (`binary_signals`), and
    /// the server agreed.
    binary_signals: AtomicBool,
    /// The link's own task is inside a call into the hub (see
    /// [`LinkCtl::set_in_hub`]).
    in_hub: AtomicBool,
}

impl LinkCtl {
    /// Resolves once the link is ending, for whatever reason.
    ///
    /// A link's task polls this each time it wakes. The token's own wait
    /// takes the token's lock on every poll (1.8 % of the server's time in
    /// a 1->1000 broadcast profile), so this one looks at the `ended` flag
    /// and polls the token's wait only to register a waker it has not
    /// registered yet. That is enough because only [`LinkCtl::end`]
    /// cancels the token, and it sets the flag first.
    pub async fn ended(&self) {
        let wait = self.token.cancelled();
        tokio::pin!(wait);
        let mut registered: Option<Waker> = None;
        std::future::poll_fn(|cx| {
            if self.has_ended() {
                return Poll::Ready(());
            }
            if registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                return Poll::Pending;
            }
            match wait.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(()),
                Poll::Pending => {
                    registered = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Has someone asked for this link to close (as opposed to it dying)?
    pub fn close_requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Takes the recorded closing, if any (the link's task sends it once).
    pub fn take_closing(&self) -> Option<Closing> {
        self.closing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// `out` left the queue.
    fn taken(&self, out: &Out) {
        self.queued_bytes.fetch_sub(out.weight(), Ordering::AcqRel);
    }

    /// Whether the link may merge consecutive acknowledgements.
    pub fn ack_runs(&self) -> bool {
        self.ack_runs.load(Ordering::Acquire)
    }

    /// Set from the client's first frame, before anything is answered.
    pub fn set_ack_runs(&self, on: bool) {
        self.ack_runs.store(on, Ordering::Release);
    }

    /// Whether this link carries binary signal frames.
    pub fn binary_signals(&self) -> bool {
        self.binary_signals.load(Ordering::Acquire)
    }

    /// Set from the client's first frame, before anything is answered.
    pub fn set_binary_signals(&self, on: bool) {
        self.binary_signals.store(on, Ordering::Release);
    }

    /// Bytes queued and not yet taken from the queue.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes.load(Ordering::Acquire)
    }

    /// The link's task is (or no longer is) running a call into the hub.
    ///
    /// The link's task writes its queue, so while it handles its client's
    /// frame inside the hub nothing drains that queue: what the call
    /// queues to the caller itself (its answer, and the departures a
    /// broadcast of its own causes when it evicts slow consumers, one per
    /// evicted member) cannot have been read yet. Meanwhile its live
    /// traffic is bounded by the queue's whole capacity rather than the
    /// live limit, so a healthy sender is not evicted as a slow consumer
    /// by the cascade it started; once the call returns, the task drains
    /// the queue and the live limit applies again.
    pub fn set_in_hub(&self, on: bool) {
        self.in_hub.store(on, Ordering::Release);
    }

    /// Marks the link dead without a closing message (a write failed).
    pub fn mark_dead(&self) {
        self.end();
    }

    fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Has the link ended (or been asked to)?
    fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }
}

/// A link's queue: many pushers (the hub, from any worker), one taker
/// (the link's task, through [`Receiver`]).
///
/// Not tokio's `mpsc`: its channel allocates a block of 32 slots (about
/// 1.3 KB) and a padded control block up front, for every link, idle or
/// not. This one holds nothing until something is queued, and gives
/// back what a burst grew once it has drained.
#[derive(Debug, Default)]
struct Queue {
    items: Mutex<VecDeque<Out>>,
    /// `items.len()`, readable without the lock (the hub checks every
    /// recipient's queue).
    len: AtomicUsize,
    /// The link's task, waiting for an item.
    taker: AtomicWaker,
}

/// A queue that drained keeps at most this many slots.
const QUEUE_KEEP: usize = 64;

impl Queue {
    fn items(&self) -> std::sync::MutexGuard<'_, VecDeque<Out>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `out` unless `capacity` items wait already (or the link
    /// has ended: checked under the lock, so nothing is queued after
    /// [`Receiver`] has emptied it for good).
    fn push(&self, out: Out, capacity: usize, ended: &AtomicBool) -> Result<(), PushError> {
        {
            let mut items = self.items();
            if ended.load(Ordering::Acquire) {
                return Err(PushError::Closed);
            }
            if items.len() >= capacity {
                return Err(PushError::Full);
            }
            items.push_back(out);
            self.len.store(items.len(), Ordering::Release);
        }
        self.taker.wake();
        Ok(())
    }

    fn take(&self) -> Option<Out> {
        let mut items = self.items();
        let out = items.pop_front()?;
        self.len.store(items.len(), Ordering::Release);
        if items.is_empty() && items.capacity() > QUEUE_KEEP {
            items.shrink_to(QUEUE_KEEP);
        }
        Some(out)
    }

    fn clear(&self) {
        let drained = std::mem::take(&mut *self.items());
        self.len.store(0, Ordering::Release);
        drop(drained);
    }
}

/// The taking end of a link's queue, owned by the link's task. Dropping
/// it ends the link and frees what is still queued.
#[derive(Debug)]
pub struct Receiver {
    ctl: Arc<LinkCtl>,
}

impl Receiver {
    /// The link's control block.
    pub fn ctl(&self) -> &LinkCtl {
        &self.ctl
    }

    /// The next item, or `Pending` (woken when one is pushed).
    pub fn poll_take(&mut self, cx: &mut Context<'_>) -> Poll<Out> {
        if let Some(out) = self.try_take() {
            return Poll::Ready(out);
        }
        self.ctl.queue.taker.register(cx.waker());
        // Pushed between the first look and the registration?
        match self.try_take() {
            Some(out) => Poll::Ready(out),
            None => Poll::Pending,
        }
    }

    /// The next item, if one is queued (its bytes no longer count against
    /// the queue's bound).
    pub fn try_take(&mut self) -> Option<Out> {
        let out = self.ctl.queue.take()?;
        self.ctl.taken(&out);
        Some(out)
    }

    /// Forgets the waker [`Receiver::poll_take`] left, so that pushes do
    /// not wake the taker until it asks again. For a task that is about to
    /// push to its own queue (a sender's `signal_ack`) and will look at it
    /// before it waits: a wake-up of the running task makes tokio queue it
    /// again as if it had yielded, and wake another worker to steal it.
    pub fn unregister(&mut self) {
        drop(self.ctl.queue.taker.take());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.ctl.end();
        self.ctl.queue.clear();
    }
}

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// The queue is full: the reader is too slow.
    Full,
    /// The link is gone.
    Closed,
}

/// The hub's handle on one link.
#[derive(Debug, Clone)]
pub struct Link {
    /// Most items the queue holds, live traffic and replay.
    capacity: usize,
    /// Most frames live traffic may have queued; the channel itself is
    /// larger so that a resume can queue a whole replay at once.
    live_limit: usize,
    /// The same bound in bytes.
    live_limit_bytes: usize,
    ctl: Arc<LinkCtl>,
    /// Identifies this link among the successive links of one connection.
    pub generation: u64,
    /// The client's address (for logs), when known.
    peer: Option<SocketAddr>,
}

impl Link {
    /// A link whose queue holds `live_limit` frames (and `live_limit_bytes`
    /// bytes) of live traffic plus `replay_room` frames of replay, and the
    /// receiving end for the link's task (`crate::wire`). (The queue
    /// allocates only for what it holds: [`Queue`].)
    pub fn new(
        live_limit: usize,
        live_limit_bytes: usize,
        replay_room: usize,
        generation: u64,
    ) -> (Link, Receiver) {
        let live_limit = live_limit.max(1);
        let ctl = Arc::new(LinkCtl::default());
        let link = Link {
            capacity: live_limit + replay_room,
            live_limit,
            live_limit_bytes,
            ctl: Arc::clone(&ctl),
            generation,
            peer: None,
        };
        (link, Receiver { ctl })
    }

    /// The same link, knowing its client's address.
    pub fn with_peer(mut self, peer: Option<SocketAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// The client's address, when known.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The control block shared with the link's tasks.
    pub fn ctl(&self) -> &Arc<LinkCtl> {
        &self.ctl
    }

    /// Frames queued and not yet taken from the queue.
    pub fn queued(&self) -> usize {
        self.ctl.queue.len.load(Ordering::Acquire)
    }

    /// Queues a frame of live traffic without waiting; `Full` once
    /// `live_limit` frames, or `live_limit_bytes` bytes with this one, are
    /// waiting.
    pub fn push(&self, f: Frame) -> Result<(), PushError> {
        self.push_live(Out::Frame(f))
    }

    /// Queues the `signal_ack` of client seq `seq`, as [`Link::push`].
    pub fn push_ack(&self, seq: u64) -> Result<(), PushError> {
        self.push_live(Out::Ack(seq))
    }

    fn push_live(&self, out: Out) -> Result<(), PushError> {
        if self.ctl.has_ended() {
            return Err(PushError::Closed);
        }
        let limit = if self.ctl.in_hub.load(Ordering::Acquire) {
            self.capacity
        } else {
            self.live_limit
        };
        if self.queued() >= limit || self.ctl.queued_bytes() + out.weight() > self.live_limit_bytes
        {
            return Err(PushError::Full);
        }
        self.queue(out)
    }

    /// Queues a replayed frame: bounded only by the channel, which has room
    /// for a full replay buffer on top of the live limit.
    pub fn push_replay(&self, f: Frame) -> Result<(), PushError> {
        self.queue(Out::Frame(f))
    }

    fn queue(&self, out: Out) -> Result<(), PushError> {
        if self.ctl.has_ended() {
            return Err(PushError::Closed);
        }
        let len = out.weight();
        self.ctl.queued_bytes.fetch_add(len, Ordering::AcqRel);
        self.ctl
            .queue
            .push(out, self.capacity, &self.ctl.ended)
            .inspect_err(|_| {
                self.ctl.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            })
    }

    /// Asks the link to close; the first request wins.
    pub fn close(&self, closing: Closing) {
        if !self.ctl.requested.swap(true, Ordering::AcqRel) {
            *self.ctl.closing.lock().unwrap_or_else(|e| e.into_inner()) = Some(closing);
        }
        self.ctl.end();
    }

    /// Closes the link after sending `msg`.
    pub fn close_with(&self, msg: &ServerMessage, code: u16, reason: &str) {
        self.close(Closing {
            drain: false,
            frame: Some(frame(msg)),
            code,
            reason: reason.to_string(),
        });
    }

    /// Is the link still open?
    pub fn is_open(&self) -> bool {
        !self.ctl.has_ended()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::{Wake, Waker};

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn text(n: u64) -> Frame {
        frame(&ServerMessage::Pong { id: n })
    }

    fn id(out: Out) -> u64 {
        match out {
            Out::Frame(f) => match ServerMessage::decode(f.text().as_str()) {
                Ok(ServerMessage::Pong { id }) => id,
                other => panic!("not a pong: {other:?}"),
            },
            Out::Ack(seq) => seq,
        }
    }

    #[test]
    fn the_queue_keeps_order_bounds_live_traffic_and_wakes_its_taker() {
        // 3 frames of live traffic, 2 more of replay room.
        let (link, mut rx) = Link::new(3, 1 << 20, 2, 1);
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_take(&mut cx).is_pending());
        link.push(text(1)).unwrap();
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            1,
            "a push wakes the taker"
        );
        link.push_ack(2).unwrap();
        link.push(text(3)).unwrap();
        assert_eq!(link.queued(), 3);
        assert_eq!(link.push(text(4)).unwrap_err(), PushError::Full);
        // A replay may use the room above the live limit, up to the total.
        link.push_replay(text(5)).unwrap();
        link.push_replay(text(6)).unwrap();
        assert_eq!(link.push_replay(text(7)).unwrap_err(), PushError::Full);
        let mut got = Vec::new();
        while let Poll::Ready(out) = rx.poll_take(&mut cx) {
            got.push(id(out));
        }
        assert_eq!(got, vec![1, 2, 3, 5, 6]);
        assert_eq!((link.queued(), link.ctl().queued_bytes()), (0, 0));
        // A taker that unregistered is not woken by pushes (its own acks)
        // until it looks at the queue again.
        let before = counter.0.load(Ordering::SeqCst);
        rx.unregister();
        link.push_ack(8).unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), before);
        assert!(matches!(rx.poll_take(&mut cx), Poll::Ready(Out::Ack(8))));
        assert!(rx.poll_take(&mut cx).is_pending());
        link.push_ack(9).unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn a_drained_queue_gives_back_what_a_burst_grew() {
        let (link, mut rx) = Link::new(10_000, 1 << 30, 0, 1);
        for n in 0..5_000 {
            link.push(text(n)).unwrap();
        }
        assert!(link.ctl().queue.items().capacity() >= 5_000);
        while rx.try_take().is_some() {}
        assert!(link.ctl().queue.items().capacity() <= QUEUE_KEEP);
    }

    #[test]
    fn dropping_the_taker_ends_the_link_and_frees_the_queue() {
        let (link, rx) = Link::new(10, 1 << 20, 0, 1);
        let shared = Frame::signal(1, None, "t", "data", true, false);
        let count = |f: &Frame| match &f.0 {
            Repr::Signal(s) => Arc::strong_count(s),
            Repr::Text(_) => unreachable!(),
        };
        link.push(shared.clone()).unwrap();
        assert_eq!(count(&shared), 2, "queued");
        drop(rx);
        assert!(!link.is_open());
        assert_eq!(link.queued(), 0);
        assert_eq!(count(&shared), 1, "the queued copy is freed");
        assert_eq!(link.push(text(2)).unwrap_err(), PushError::Closed);
    }

    #[tokio::test]
    async fn ended_resolves_when_the_link_ends_however_often_it_was_polled() {
        let (link, _rx) = Link::new(10, 1 << 20, 0, 1);
        let ctl = Arc::clone(link.ctl());
        let waiter = tokio::spawn(async move {
            let ended = ctl.ended();
            tokio::pin!(ended);
            // Polled many times before the end (each push wakes nobody
            // here, but a select! polls every branch on each wake-up).
            for _ in 0..100 {
                let polled = futures_util::poll!(ended.as_mut());
                assert!(polled.is_pending());
                tokio::task::yield_now().await;
            }
            ended.await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        link.close(Closing {
            drain: false,
            frame: None,
            code: close_code::NORMAL,
            reason: String::new(),
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken by the close")
            .expect("no panic");
        // Already ended: at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), link.ctl().ended())
            .await
            .expect("at once");
    }

    #[test]
    fn inside_its_own_hub_call_a_link_takes_live_traffic_up_to_the_whole_queue() {
        // 2 frames of live traffic, 3 more of replay room.
        let (link, mut rx) = Link::new(2, 1 << 20, 3, 1);
        link.ctl().set_in_hub(true);
        for n in 0..5 {
            link.push(text(n)).unwrap();
        }
        assert_eq!(link.push(text(5)).unwrap_err(), PushError::Full);
        link.ctl().set_in_hub(false);
        // Back to the live limit once the call returns: still over it.
        assert_eq!(rx.try_take().map(id), Some(0));
        assert_eq!(link.push(text(6)).unwrap_err(), PushError::Full);
        while rx.try_take().is_some() {}
        link.push(text(7)).unwrap();
        link.push(text(8)).unwrap();
        assert_eq!(link.push(text(9)).unwrap_err(), PushError::Full);
    }
}
