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

use std::collections::BTreeMap;

use protocol::{ClientMessage, ErrorCode};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::dispatch::Completion;
use crate::error::{Error, Result};

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
    pub frame: Utf8Bytes,
    /// Whether the application allows a replay after reconnecting.
    pub retry_after_reconnect: bool,
    /// A signal to the application server: acknowledged first, completed
    /// only when the server reports its delivery.
    pub to_server: bool,
    pub completion: Option<Completion>,
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
}

impl Outbox {
    pub fn new(capacity: usize) -> Self {
        Outbox {
            next_seq: 1,
            next_signal_id: 1,
            pending: BTreeMap::new(),
            delivering: BTreeMap::new(),
            capacity,
        }
    }

    /// Starts numbering again for a new connection (not for a resume).
    /// Anything still pending must have been failed with [`Outbox::drain`].
    pub fn restart(&mut self) {
        self.next_seq = 1;
        self.pending.clear();
        self.delivering.clear();
    }

    /// Numbers a signal, remembers it and returns its id and the frame to send.
    pub fn push(&mut self, out: Outgoing) -> Result<(u64, Utf8Bytes)> {
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
        let frame = Utf8Bytes::from(msg.encode());
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
                frame: frame.clone(),
                retry_after_reconnect: out.retry_after_reconnect,
                to_server: out.to_server,
                completion: out.completion,
            },
        );
        Ok((signal_id, frame))
    }

    /// The server refused the signal numbered `seq`: it is done.
    pub fn settle(&mut self, seq: u64) -> Option<Pending> {
        self.pending.remove(&seq)
    }

    /// The server acknowledged the signal numbered `seq`: done (returned),
    /// unless it goes to the application server: then it waits for
    /// [`Outbox::delivered`].
    pub fn acknowledged(&mut self, seq: u64) -> Option<Pending> {
        let p = self.pending.remove(&seq)?;
        if p.to_server {
            self.delivering.insert(seq, p);
            return None;
        }
        Some(p)
    }

    /// The server reported the delivery of signal to the application
    /// server `seq` (`None` if it was not waiting: a report seen before).
    pub fn delivered(&mut self, seq: u64) -> Option<Pending> {
        self.delivering.remove(&seq)
    }

    /// Removes every waiting signal, oldest first (to fail them).
    pub fn drain(&mut self) -> Vec<Pending> {
        let mut all = std::mem::take(&mut self.pending);
        all.append(&mut std::mem::take(&mut self.delivering));
        all.into_values().collect()
    }

    /// Every waiting signal, in client seq order: what a resume sends again.
    ///
    /// Signals the server had already processed (numbered at or below the
    /// `last_client_seq` of its `resumed` frame) are sent again too: the
    /// server does not route them a second time but answers them again the
    /// way it answered first (`signal_ack`, or the same `signal_error`), so
    /// each completion callback reports the true outcome even when the first
    /// answer was lost with the link.
    pub fn all(&self) -> impl Iterator<Item = &Pending> {
        self.pending.values()
    }

    /// Signals numbered above `last_processed`, in order.
    pub fn replay_after(&self, last_processed: u64) -> impl Iterator<Item = &Pending> {
        self.pending.range(last_processed + 1..).map(|(_, p)| p)
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

    #[test]
    fn a_signal_to_the_server_waits_for_its_delivery_after_the_ack() {
        let mut o = Outbox::new(2);
        let mut s = out("t");
        s.to_server = true;
        let (id, f) = o.push(s).unwrap();
        assert!(matches!(
            ClientMessage::decode(&f).unwrap(),
            ClientMessage::SignalToServer { seq: 1, .. }
        ));
        assert!(o.acknowledged(1).is_none(), "not done at the ack");
        assert_eq!(
            o.all().count(),
            0,
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
        let (id1, f1) = o.push(out("a")).unwrap();
        let (id2, _) = o.push(out("b")).unwrap();
        let (_, _) = o.push(out("c")).unwrap();
        assert_eq!((id1, id2), (1, 2));
        assert!(matches!(
            ClientMessage::decode(&f1).unwrap(),
            ClientMessage::Signal { seq: 1, .. }
        ));
        assert_eq!(o.settle(2).map(|p| p.signal_id), Some(2));
        assert!(o.settle(2).is_none(), "settled twice");
        let replay: Vec<u64> = o.replay_after(1).map(|p| p.signal_id).collect();
        assert_eq!(replay, vec![3]);
        assert_eq!(o.drain().len(), 2);
        assert!(o.is_empty());
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
        let (id, f) = o.push(out("d")).unwrap();
        assert_eq!(id, 3, "signal ids are never reused within a session");
        assert!(matches!(
            ClientMessage::decode(&f).unwrap(),
            ClientMessage::Signal { seq: 1, .. }
        ));
    }
}
