//! Signals on their way out: numbered, remembered until the server answers.
//!
//! Each `signal` frame of one connection carries a client sequence number
//! (1, 2, 3, …). The outbox keeps every signal the server has not yet
//! acknowledged, with its completion callback, so that
//!
//! * `signal_ack` / `signal_error` find the callback to report to;
//! * a dropped link can fail the waiting signals loudly instead of losing
//!   them silently;
//! * a resume (automatic reconnection) sends the waiting signals again, in
//!   order, under their original numbers, so the server's de-duplication
//!   makes the replay safe; signals accepted *while* reconnecting simply wait
//!   here, numbered, until the link is back.
//!
//! The outbox is bounded; when full, a send is refused with
//! [`ErrorCode::BufferFull`] rather than growing without limit.
//!
//! # Pacing
//!
//! Only [`MAX_UNANSWERED_SIGNAL_BYTES`] of signal types and data are on the
//! wire unanswered at a time: what the server holds back for a sender whose
//! recipients have not caught up, and refuses past. A signal beyond it is
//! numbered and kept here, and goes out (in order) as answers to earlier
//! ones make room ([`Outbox::send_ready`]). So an application that sends
//! faster than its slowest recipient reads is paced by its own outbox
//! instead of refused by the server; one signal always fits an empty wire.

use std::collections::BTreeMap;

use protocol::limits::MAX_UNANSWERED_SIGNAL_BYTES;
use protocol::{ClientMessage, ErrorCode};

use crate::dispatch::Completion;
use crate::error::{Error, Result};
use crate::transport::SignalFrame;

/// A signal waiting for the server's answer.
pub struct Pending {
    /// The id handed to the application (unique for the session's lifetime).
    pub signal_id: u64,
    /// Client sequence number of the frame.
    pub seq: u64,
    /// The signal's type and data size, for the log if it fails.
    pub signal_type: String,
    pub data_len: usize,
    /// The frame as sent, serialized once: the same shared bytes go to the
    /// socket now and again on a replay after a resume (cloning it is a
    /// reference count, not a copy of up to 8 KB of data).
    pub frame: SignalFrame,
    /// Whether the application allows a replay after reconnecting.
    pub retry_after_reconnect: bool,
    /// A signal to the application server: acknowledged first, completed
    /// only when the server reports its delivery.
    pub to_server: bool,
    pub completion: Option<Completion>,
}

impl Pending {
    /// What the signal counts against the window: as the server counts it.
    fn weight(&self) -> usize {
        self.signal_type.len() + self.data_len
    }
}

/// A new signal for [`Outbox::push`].
pub struct Outgoing {
    pub signal_type: String,
    pub data: String,
    /// `None` = the whole session (unless `to_server`).
    pub to: Option<Vec<String>>,
    /// To the project's application server instead of the session (our
    /// extension): `to` is ignored.
    pub to_server: bool,
    pub retry_after_reconnect: bool,
    pub completion: Option<Completion>,
}

pub struct Outbox {
    next_seq: u64,
    next_signal_id: u64,
    pending: BTreeMap<u64, Pending>,
    /// Signals to the application server the server has acknowledged,
    /// waiting for its delivery report (`signal_delivered` /
    /// `signal_undelivered`, events, so replayed after a resume and
    /// reported exactly once). Counted against the capacity too.
    delivering: BTreeMap<u64, Pending>,
    capacity: usize,
    /// Most bytes of pending signals on the current link (see "Pacing").
    window_bytes: usize,
    /// The highest seq written to the current link (0: none yet). Pending
    /// signals above it wait for room on the wire.
    sent_upto: u64,
    /// Bytes of the pending signals numbered up to `sent_upto`.
    on_wire: usize,
}

impl Outbox {
    /// An outbox of `capacity` signals that keeps the standard window
    /// ([`MAX_UNANSWERED_SIGNAL_BYTES`]) on the wire.
    pub fn new(capacity: usize) -> Self {
        Self::with_window(capacity, MAX_UNANSWERED_SIGNAL_BYTES)
    }

    fn with_window(capacity: usize, window_bytes: usize) -> Self {
        Outbox {
            next_seq: 1,
            next_signal_id: 1,
            pending: BTreeMap::new(),
            delivering: BTreeMap::new(),
            capacity,
            window_bytes,
            sent_upto: 0,
            on_wire: 0,
        }
    }

    /// Starts numbering again for a new connection (not for a resume).
    /// Anything still pending must have been failed with [`Outbox::drain`].
    pub fn restart(&mut self) {
        self.next_seq = 1;
        self.pending.clear();
        self.delivering.clear();
        self.relink();
    }

    /// A new link (a resume): nothing is on it yet, so every pending signal
    /// is sent again, in order and as the window allows, by
    /// [`Outbox::send_ready`]. That includes the signals the server had
    /// already processed (numbered at or below the `last_client_seq` of its
    /// `resumed` frame): it does not route them a second time but answers
    /// them again the way it answered first (`signal_ack`, or the same
    /// `signal_error`), so each completion callback reports the true outcome
    /// even when the first answer was lost with the link.
    pub fn relink(&mut self) {
        self.sent_upto = 0;
        self.on_wire = 0;
    }

    /// Passes to `send`, in order, the frames of the pending signals not yet
    /// on the current link that fit the window, and counts them as sent.
    /// Returns how many.
    pub fn send_ready(&mut self, mut send: impl FnMut(&SignalFrame)) -> usize {
        let mut sent = 0;
        for (&seq, p) in self.pending.range(self.sent_upto + 1..) {
            let w = p.weight();
            if self.on_wire > 0 && self.on_wire + w > self.window_bytes {
                break;
            }
            send(&p.frame);
            self.on_wire += w;
            self.sent_upto = seq;
            sent += 1;
        }
        sent
    }

    /// Takes `seq` out of the pending signals (and off the wire's count).
    fn answered(&mut self, seq: u64) -> Option<Pending> {
        let p = self.pending.remove(&seq)?;
        if seq <= self.sent_upto {
            self.on_wire -= p.weight();
        }
        Some(p)
    }

    /// Numbers a signal and remembers it; returns its id. It goes on the
    /// wire with the next [`Outbox::send_ready`] that has room for it.
    pub fn push(&mut self, out: Outgoing) -> Result<u64> {
        if self.pending.len() + self.delivering.len() >= self.capacity {
            return Err(Error::new(
                ErrorCode::BufferFull,
                format!(
                    "{} signals are already queued or waiting for the server's answer",
                    self.pending.len() + self.delivering.len()
                ),
            ));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let signal_id = self.next_signal_id;
        self.next_signal_id += 1;
        let data_len = out.data.len();
        let msg = if out.to_server {
            ClientMessage::SignalToServer {
                seq,
                signal_type: out.signal_type,
                data: out.data,
            }
        } else {
            ClientMessage::Signal {
                seq,
                signal_type: out.signal_type,
                data: out.data,
                to: out.to,
            }
        };
        let Some(frame) = SignalFrame::new(&msg) else {
            return Err(Error::new(
                ErrorCode::InternalError,
                "a signal could not be serialized",
            ));
        };
        // Keep the (short) type for the log; the data lives on in the frame.
        let signal_type = match msg {
            ClientMessage::Signal { signal_type, .. }
            | ClientMessage::SignalToServer { signal_type, .. } => signal_type,
            _ => String::new(),
        };
        self.pending.insert(
            seq,
            Pending {
                signal_id,
                seq,
                signal_type,
                data_len,
                frame,
                retry_after_reconnect: out.retry_after_reconnect,
                to_server: out.to_server,
                completion: out.completion,
            },
        );
        Ok(signal_id)
    }

    /// The server refused the signal numbered `seq`: it is done.
    pub fn settle(&mut self, seq: u64) -> Option<Pending> {
        self.answered(seq)
    }

    /// The server acknowledged the signal numbered `seq`: done (returned),
    /// unless it goes to the application server: then it waits for
    /// [`Outbox::delivered`].
    pub fn acknowledged(&mut self, seq: u64) -> Option<Pending> {
        let p = self.answered(seq)?;
        if p.to_server {
            self.delivering.insert(seq, p);
            return None;
        }
        Some(p)
    }

    /// The server acknowledged every signal numbered `first..=last` (an
    /// ack run): [`Outbox::acknowledged`] for each one still pending, in
    /// order. Only pending seqs are visited, so a bogus range costs nothing.
    pub fn acknowledged_run(&mut self, first: u64, last: u64) -> Vec<Pending> {
        if first > last {
            return Vec::new();
        }
        let seqs: Vec<u64> = self.pending.range(first..=last).map(|(&s, _)| s).collect();
        seqs.into_iter()
            .filter_map(|s| self.acknowledged(s))
            .collect()
    }

    /// The server reported the delivery of signal to the application
    /// server `seq` (`None` if it was not waiting: a report seen before).
    pub fn delivered(&mut self, seq: u64) -> Option<Pending> {
        self.delivering.remove(&seq)
    }

    /// Removes every waiting signal, oldest first (to fail them).
    pub fn drain(&mut self) -> Vec<Pending> {
        self.on_wire = 0;
        let mut all = std::mem::take(&mut self.pending);
        all.append(&mut std::mem::take(&mut self.delivering));
        all.into_values().collect()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.delivering.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(t: &str) -> Outgoing {
        Outgoing {
            signal_type: t.into(),
            data: String::new(),
            to: None,
            to_server: false,
            retry_after_reconnect: true,
            completion: None,
        }
    }

    fn sent(o: &mut Outbox) -> Vec<ClientMessage> {
        let mut frames = Vec::new();
        o.send_ready(|f| frames.push(f.decoded()));
        frames
    }

    fn seqs(frames: &[ClientMessage]) -> Vec<u64> {
        frames
            .iter()
            .map(|m| match m {
                ClientMessage::Signal { seq, .. } | ClientMessage::SignalToServer { seq, .. } => {
                    *seq
                }
                other => panic!("not a signal: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_signal_to_the_server_waits_for_its_delivery_after_the_ack() {
        let mut o = Outbox::new(2);
        let mut s = out("t");
        s.to_server = true;
        let id = o.push(s).unwrap();
        assert!(matches!(
            sent(&mut o).as_slice(),
            [ClientMessage::SignalToServer { seq: 1, .. }]
        ));
        assert!(o.acknowledged(1).is_none(), "not done at the ack");
        o.relink();
        assert!(
            sent(&mut o).is_empty(),
            "acknowledged: not sent again on a resume"
        );
        o.push(out("u")).unwrap();
        assert!(
            o.push(out("v")).is_err(),
            "a waiting delivery counts against the capacity"
        );
        assert_eq!(o.delivered(1).map(|p| p.signal_id), Some(id));
        assert!(o.delivered(1).is_none(), "reported once");
        assert_eq!(o.acknowledged(2).map(|p| p.signal_id), Some(2));
        assert!(o.is_empty());
    }

    #[test]
    fn numbers_settles_and_replays_in_order() {
        let mut o = Outbox::new(10);
        let id1 = o.push(out("a")).unwrap();
        let id2 = o.push(out("b")).unwrap();
        o.push(out("c")).unwrap();
        assert_eq!((id1, id2), (1, 2));
        assert_eq!(seqs(&sent(&mut o)), vec![1, 2, 3]);
        assert!(sent(&mut o).is_empty(), "each goes on a link once");
        assert_eq!(o.settle(2).map(|p| p.signal_id), Some(2));
        assert!(o.settle(2).is_none(), "settled twice");
        o.relink();
        assert_eq!(
            seqs(&sent(&mut o)),
            vec![1, 3],
            "a resume sends the rest again"
        );
        assert_eq!(o.drain().len(), 2);
        assert!(o.is_empty());
    }

    #[test]
    fn the_wire_holds_a_window_and_answers_make_room_in_order() {
        // 10 bytes of window; each signal weighs 4 ("ab" + 2 bytes of data).
        let mut o = Outbox::with_window(100, 10);
        for _ in 0..5 {
            let mut s = out("ab");
            s.data = "xy".into();
            o.push(s).unwrap();
        }
        assert_eq!(seqs(&sent(&mut o)), vec![1, 2], "two fit, the third waits");
        assert_eq!(o.len(), 5, "the waiting ones are kept, numbered");
        assert!(o.acknowledged(2).is_some(), "answers may come out of order");
        assert_eq!(seqs(&sent(&mut o)), vec![3]);
        assert!(o.settle(1).is_some());
        assert_eq!(seqs(&sent(&mut o)), vec![4]);
        o.relink();
        assert_eq!(
            seqs(&sent(&mut o)),
            vec![3, 4],
            "a resume refills the window from the oldest"
        );
        assert!(o.acknowledged(3).is_some() && o.acknowledged(4).is_some());
        assert_eq!(seqs(&sent(&mut o)), vec![5]);
        assert!(o.acknowledged(5).is_some());
        assert!(o.is_empty());
    }

    #[test]
    fn an_ack_run_settles_the_pending_seqs_in_it_in_order() {
        let mut o = Outbox::new(10);
        for t in ["a", "b", "c", "d", "e"] {
            o.push(out(t)).unwrap();
        }
        let mut s = out("srv");
        s.to_server = true;
        o.push(s).unwrap(); // 6
        assert_eq!(seqs(&sent(&mut o)), vec![1, 2, 3, 4, 5, 6]);
        assert!(o.settle(3).is_some(), "refused before the run");
        let done: Vec<u64> = o.acknowledged_run(2, 6).iter().map(|p| p.seq).collect();
        assert_eq!(
            done,
            vec![2, 4, 5],
            "3 was refused; 6 waits for its delivery"
        );
        assert!(o
            .acknowledged_run(1, u64::MAX)
            .iter()
            .map(|p| p.seq)
            .eq([1]));
        assert!(
            o.acknowledged_run(9, 2).is_empty(),
            "a reversed range is empty"
        );
        assert_eq!(o.delivered(6).map(|p| p.seq), Some(6));
        assert!(o.is_empty());
    }

    #[test]
    fn one_signal_always_fits_an_empty_wire() {
        let mut o = Outbox::with_window(10, 1);
        let mut s = out("big");
        s.data = "x".repeat(100);
        o.push(s).unwrap();
        o.push(out("next")).unwrap();
        assert_eq!(seqs(&sent(&mut o)), vec![1]);
        assert!(o.acknowledged(1).is_some());
        assert_eq!(seqs(&sent(&mut o)), vec![2]);
    }

    #[test]
    fn refuses_when_full_and_ids_survive_restart() {
        let mut o = Outbox::new(2);
        o.push(out("a")).unwrap();
        o.push(out("b")).unwrap();
        let e = o.push(out("c")).err().unwrap();
        assert_eq!(e.code, ErrorCode::BufferFull);
        o.drain();
        o.restart();
        let id = o.push(out("d")).unwrap();
        assert_eq!(id, 3, "signal ids are never reused within a session");
        assert_eq!(seqs(&sent(&mut o)), vec![1], "seqs start again");
    }
}
