//! One link's WebSocket, read and written by the link's one task.
//!
//! The link's task ([`crate::connection::run`]) asks [`Wire::next_frame`]
//! for the client's next frame. While it waits for one — and while it waits
//! on the hub ([`Wire::alongside`]) — the same poll moves the link's queue
//! into the socket: every item already queued (at most [`MAX_BATCH`]), a
//! run of acknowledgements merged into one frame ([`AckRun`]), the
//! server's pings, then one flush for the burst.
//!
//! # Why one task, not a reader and a writer
//!
//! A sender at full speed gets a `signal_ack` per signal. With a writer
//! task of its own, each signal woke that task, which tokio's scheduler
//! often handed to the other worker thread (waking it first): a cross-thread
//! wake-up per signal on top of the recipient's. Here the ack is queued and
//! written by the task that read the signal, with no wake-up at all, and an
//! idle link costs one task instead of two.
//!
//! Three rules keep that from costing more writes, latency or fairness:
//!
//! * frames already read are handled before the queue is written (up to
//!   [`READS_BEFORE_WRITE`] in a row), so a burst of signals is answered
//!   with one write of its acks, not one write per signal;
//! * while it handles a frame, the task is not registered as the queue's
//!   waiter ([`Receiver::unregister`]), so queueing its own ack does not
//!   wake it: tokio re-queues a running task that was woken as if it had
//!   yielded, and wakes the other worker to steal it, which then wrote the
//!   ack while the recipient's event waited;
//! * whatever branch of the link's `select!` runs, the queue is written
//!   ([`Wire::write_now`] after held signals are released): a branch that
//!   is ready on every wake-up must not keep the writes from happening.
//!
//! The sender's ack is written before its recipients' event (it is queued
//! on the running task's own link, the event wakes the recipients' tasks
//! onto the same worker, which run next): about one `send` of delay for the
//! event, measured at ~+20 us p50 for the Node generator's 1->1 latency and
//! none for libopentok's (which is faster than with two tasks).
//!
//! Measured against the two-task version, with this round's queue changes
//! (quick runs, two alternated rounds, 2 vCPUs; docs/performance.md,
//! "Round 2"): libopentok 1->1 latency p50 141 -> 114-123 us, 8 KB
//! throughput 46-56k -> 69-72k signals/s, 100 B 192-213k -> 243-244k.
//!
//! # Invariants
//!
//! * Reading never waits for writing: a socket whose client stops reading
//!   leaves the write pending while frames are still read (acks, pings,
//!   signals), so such a client fills its queue and the hub drops it as a
//!   slow consumer, as with a separate writer. The hub never waits on a
//!   socket: it only pushes to the queue ([`crate::link`]).
//! * Frames go out in queue order; a merged ack run never crosses another
//!   frame (see [`AckRun`]).
//! * A failed write ends the link at once
//!   ([`crate::link::LinkCtl::mark_dead`]): the hub stops queueing to it
//!   and the next [`Wire::next_frame`] reports it gone.
//! * [`Wire::finish`] is the only way out: it sends the recorded
//!   [`crate::link::Closing`] (drained queue, last frame, close frame)
//!   within [`CLOSE_TIMEOUT`].

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{Sink, SinkExt, StreamExt};
use protocol::ServerMessage;
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};

use crate::link::{frame, Out, Receiver};

/// Longest time spent sending the last frames of a closing link.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Most messages written between two flushes. Bounds how much one busy
/// link buffers before its frames reach the socket.
const MAX_BATCH: usize = 256;

/// Most frames read in a row before the queue is written: a burst of
/// signals is answered with one flush of its acks (one run, for a client
/// that asked for runs) instead of a write per signal, yet a client that
/// never pauses still gets its acks.
const READS_BEFORE_WRITE: usize = 64;

/// What a read turned up (see [`crate::connection`] for what each means).
pub(crate) type Read = Option<Result<Message, axum::Error>>;

/// Why [`Wire::next_frame`] returned without a frame.
pub(crate) enum Waited {
    /// The client's next frame (or the end of its stream).
    Read(Read),
    /// Nothing read for the whole idle timeout.
    Idle,
    /// Writing to the socket failed: the link is dead.
    WriteFailed,
}

/// One link's socket, its queue's receiving end and the state of the
/// outgoing burst (see the module docs).
pub(crate) struct Wire {
    ws: WebSocket,
    /// The queue's taking end, and through it the link's control block.
    rx: Receiver,
    run: AckRun,
    /// The second frame [`AckRun::add`] gave, waiting for room.
    stash: Option<Message>,
    /// Messages written since the last flush.
    fed: usize,
    /// Frames read since the queue was last written.
    reads: usize,
    ping: Interval,
    ping_id: u64,
    idle: Duration,
    /// Fires at or before the current read's idle deadline; moved forward
    /// only when it fires early, so a busy link does not touch the timer
    /// wheel per frame.
    idle_timer: Pin<Box<Sleep>>,
    failed: bool,
}

impl Wire {
    pub(crate) fn new(ws: WebSocket, rx: Receiver, ping_every: Duration, idle: Duration) -> Self {
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Wire {
            ws,
            rx,
            run: AckRun::new(false, false),
            stash: None,
            fed: 0,
            reads: 0,
            ping,
            ping_id: 0,
            idle,
            idle_timer: Box::pin(tokio::time::sleep(idle)),
            failed: false,
        }
    }

    /// Waits for the client's next frame, writing the queue meanwhile. With
    /// `read` false it only writes (the caller stopped reading this link,
    /// see [`crate::held::Held::is_full`]) and returns only if writing
    /// fails. Cancel-safe: dropping it loses nothing.
    pub(crate) async fn next_frame(&mut self, read: bool) -> Waited {
        // A frame already here is handled before the queue is written (see
        // READS_BEFORE_WRITE).
        if read && !self.failed && (1..READS_BEFORE_WRITE).contains(&self.reads) {
            let ready = poll_fn(|cx| Poll::Ready(self.ws.poll_next_unpin(cx).map(Some)));
            if let Poll::Ready(Some(item)) = ready.await {
                return self.got(item);
            }
        }
        // The burst is read: write its answers now. (Not after a
        // `yield_now` so that the recipients' links write first: tokio
        // defers a yielded task until its worker has run up to 61 other
        // tasks, and under load, joins and evictions in a session of 1,900,
        // that starved a reading member's writes until it was evicted as a
        // slow consumer.)
        self.reads = 0;
        let deadline = Instant::now() + self.idle;
        poll_fn(|cx| {
            self.poll_write(cx);
            if self.failed {
                return Poll::Ready(Waited::WriteFailed);
            }
            if !read {
                return Poll::Pending;
            }
            if let Poll::Ready(item) = self.ws.poll_next_unpin(cx) {
                return Poll::Ready(self.got(item));
            }
            if self.idle_timer.as_mut().poll(cx).is_ready() {
                if Instant::now() >= deadline {
                    return Poll::Ready(Waited::Idle);
                }
                self.idle_timer.as_mut().reset(deadline);
                // Registers the reset timer (its deadline is ahead).
                let _ = self.idle_timer.as_mut().poll(cx);
            }
            Poll::Pending
        })
        .await
    }

    /// Counts a frame read and hands it out. Handling it queues this link's
    /// own answers, which this task writes before it waits: its queue waker
    /// is dropped meanwhile (see [`Receiver::unregister`]).
    fn got(&mut self, item: Read) -> Waited {
        self.reads += 1;
        self.rx.unregister();
        Waited::Read(item)
    }

    /// Runs `fut` (a call into the hub) to completion, writing the queue
    /// while it is pending. A write failure is kept for the next
    /// [`Wire::next_frame`]; `fut` is never cut short. While `fut` runs,
    /// the link counts as busy in the hub
    /// ([`crate::link::LinkCtl::set_in_hub`]).
    pub(crate) async fn alongside<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        poll_fn(|cx| {
            self.rx.ctl().set_in_hub(true);
            let polled = fut.as_mut().poll(cx);
            self.rx.ctl().set_in_hub(false);
            if let Poll::Ready(out) = polled {
                return Poll::Ready(out);
            }
            self.poll_write(cx);
            Poll::Pending
        })
        .await
    }

    /// Writes what the socket takes now, without waiting. For a caller
    /// that handled something other than a frame (held signals released,
    /// say): the queue is written in [`Wire::next_frame`], which a caller's
    /// `select!` may drop before it is polled when another branch is ready
    /// each time, and the queue must not wait for that.
    pub(crate) async fn write_now(&mut self) {
        poll_fn(|cx| {
            self.poll_write(cx);
            Poll::Ready(())
        })
        .await
    }

    /// Sets how acknowledgements and signals are written, from what the
    /// client asked in `connect` or `resume` (before anything is answered).
    pub(crate) fn agreed(&mut self) {
        self.run = AckRun::new(self.rx.ctl().ack_runs(), self.rx.ctl().binary_signals());
    }

    /// Moves what it can from the queue into the socket; on failure marks
    /// the link dead.
    fn poll_write(&mut self, cx: &mut Context<'_>) {
        if self.failed {
            return;
        }
        if let Err(e) = self.try_write(cx) {
            tracing::debug!("link write failed: {e}");
            self.failed = true;
            self.rx.ctl().mark_dead();
        }
    }

    fn try_write(&mut self, cx: &mut Context<'_>) -> Result<(), axum::Error> {
        loop {
            match Pin::new(&mut self.ws).poll_ready(cx) {
                // The socket is full; woken when it drains.
                Poll::Pending => return Ok(()),
                Poll::Ready(r) => r?,
            }
            let next = match self.stash.take() {
                Some(m) => Some(m),
                None => self.next_message(cx),
            };
            if let Some(m) = next {
                Pin::new(&mut self.ws).start_send(m)?;
                self.fed += 1;
                continue;
            }
            if self.fed == 0 {
                return Ok(());
            }
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Pending => return Ok(()),
                Poll::Ready(r) => r?,
            }
            let capped = self.fed >= MAX_BATCH;
            self.fed = 0;
            if !capped {
                // The queue was empty (its waker is registered).
                return Ok(());
            }
        }
    }

    /// The next message of the current burst, `None` when it should be
    /// flushed: the queue is empty (or the burst is full) and no ack run is
    /// open.
    fn next_message(&mut self, cx: &mut Context<'_>) -> Option<Message> {
        if self.fed < MAX_BATCH {
            while let Poll::Ready(out) = self.rx.poll_take(cx) {
                if let Some(m) = self.take(out) {
                    return Some(m);
                }
            }
            if self.ping.poll_tick(cx).is_ready() {
                self.ping_id += 1;
                let ping = Out::Frame(frame(&ServerMessage::Ping { id: self.ping_id }));
                if let Some(m) = self.take(ping) {
                    return Some(m);
                }
            }
        }
        self.run.finish()
    }

    /// Passes one queue item through the ack run: the first frame to write
    /// now (the second, if any, is stashed).
    fn take(&mut self, out: Out) -> Option<Message> {
        match self.run.add(out) {
            [Some(a), b] => {
                self.stash = b;
                Some(a)
            }
            [None, b] => b,
        }
    }

    /// Ends the link: sends the recorded closing (if someone asked for one
    /// and the socket still works) within [`CLOSE_TIMEOUT`], then closes
    /// the socket.
    pub(crate) async fn finish(self) {
        let closing = self.rx.ctl().take_closing();
        // Whatever ended the link, it is over now.
        self.rx.ctl().mark_dead();
        let Wire {
            mut ws,
            mut rx,
            mut run,
            stash,
            failed,
            ..
        } = self;
        if failed {
            return;
        }
        let finish = async {
            // Fed, not sent: everything goes out with the one flush below
            // (with what an interrupted burst left buffered).
            if let Some(m) = stash {
                ws.feed(m).await?;
            }
            if let Some(c) = &closing {
                if c.drain {
                    while let Some(out) = rx.try_take() {
                        for m in run.add(out).into_iter().flatten() {
                            ws.feed(m).await?;
                        }
                    }
                }
                if let Some(m) = run.finish() {
                    ws.feed(m).await?;
                }
                if let Some(f) = &c.frame {
                    ws.feed(Message::Text(f.text())).await?;
                }
                ws.feed(Message::Close(Some(CloseFrame {
                    code: c.code,
                    reason: Utf8Bytes::from(truncate_reason(&c.reason)),
                })))
                .await?;
            }
            ws.flush().await?;
            ws.close().await
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, finish).await;
    }
}

fn truncate_reason(reason: &str) -> String {
    // A close reason must fit in 123 bytes; cut on a char boundary.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

/// Turns the queue's items into frames, merging a run of acknowledgements
/// of consecutive seqs into one `signal_ack { first, seq }` when the client
/// asked for it. A run ends at any other item, so every other frame keeps
/// its place relative to the acknowledgements (a delivery report never
/// overtakes the ack of its signal), and never spans a refused seq (its
/// `signal_error` is another item).
struct AckRun {
    merge: bool,
    /// The link carries binary signal frames.
    binary: bool,
    run: Option<(u64, u64)>,
}

impl AckRun {
    fn new(merge: bool, binary: bool) -> Self {
        AckRun {
            merge,
            binary,
            run: None,
        }
    }

    /// Takes one item; returns the frames to write now, in order.
    fn add(&mut self, out: Out) -> [Option<Message>; 2] {
        match out {
            Out::Ack(seq) if self.merge => match &mut self.run {
                Some((_, last)) if last.checked_add(1) == Some(seq) => {
                    *last = seq;
                    [None, None]
                }
                run => [run.replace((seq, seq)).map(ack_frame), None],
            },
            Out::Ack(seq) => [Some(ack_frame((seq, seq))), None],
            Out::Frame(f) => [self.run.take().map(ack_frame), Some(f.message(self.binary))],
        }
    }

    /// The run still open at the end of a burst.
    fn finish(&mut self) -> Option<Message> {
        self.run.take().map(ack_frame)
    }
}

fn ack_frame((first, seq): (u64, u64)) -> Message {
    let ack = ServerMessage::SignalAck {
        seq,
        first: (first != seq).then_some(first),
    };
    Message::Text(Utf8Bytes::from(ack.encode()))
}

#[cfg(test)]
mod ack_run_tests {
    use super::*;

    /// What a batch of queue items becomes on the wire.
    fn wire(merge: bool, items: Vec<Out>) -> Vec<ServerMessage> {
        let mut run = AckRun::new(merge, false);
        let mut out: Vec<Message> = Vec::new();
        for item in items {
            out.extend(run.add(item).into_iter().flatten());
        }
        out.extend(run.finish());
        out.into_iter()
            .map(|m| match m {
                Message::Text(t) => ServerMessage::decode(t.as_str()).unwrap(),
                other => panic!("not text: {other:?}"),
            })
            .collect()
    }

    fn ack(seq: u64, first: Option<u64>) -> ServerMessage {
        ServerMessage::SignalAck { seq, first }
    }

    #[test]
    fn consecutive_acks_merge_and_any_other_frame_or_gap_ends_the_run() {
        let other = ServerMessage::SignalDelivered {
            seq: 5,
            signal_seq: 2,
        };
        let items = || {
            vec![
                Out::Ack(1),
                Out::Ack(2),
                Out::Ack(3),
                Out::Frame(frame(&other)),
                Out::Ack(4),
                Out::Ack(6),
                Out::Ack(7),
            ]
        };
        assert_eq!(
            wire(true, items()),
            vec![
                ack(3, Some(1)),
                other.clone(),
                ack(4, None),
                ack(7, Some(6))
            ]
        );
        // A client that did not ask gets one per seq, in the same order.
        assert_eq!(
            wire(false, items()),
            vec![
                ack(1, None),
                ack(2, None),
                ack(3, None),
                other,
                ack(4, None),
                ack(6, None),
                ack(7, None)
            ]
        );
    }
}
