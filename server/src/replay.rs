//! One member's replay buffer: the events it was sent and has not yet
//! acknowledged, what they weigh, and whose they are.
//!
//! # Invariants
//!
//! * Entries are in increasing event seq; [`ReplayBuffer::release_through`]
//!   removes a prefix. Everything the member's link has queued is in here
//!   too (an event is kept until acknowledged, not just until written), so
//!   the buffer bounds the link's queue as well.
//! * `bytes` is the sum of the entries' frame lengths, and each sender's
//!   [`Share`] is the part of `len()` and `bytes` that came from that
//!   sender's signals. Both are kept exact, so the hub can bound a member
//!   in frames and bytes, and a sender's share of it, without scanning.
//! * Frames are shared: one broadcast is one allocation however many
//!   buffers hold it. Counting its full length in each buffer overstates
//!   the memory, never understates it.
//! * Memory goes back as acknowledgements arrive: a buffer that shrank to
//!   a quarter of its capacity gives the rest back.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::link::Frame;

/// Who sent a frame: the sender's join number in its session (unique within
/// the session), `None` for connection events and server signals.
pub type Sender = Option<u64>;

/// How much of one buffer came from one sender.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub frames: usize,
    pub bytes: usize,
}

struct Entry {
    seq: u64,
    frame: Frame,
    from: Sender,
}

/// See the module docs.
#[derive(Default)]
pub struct ReplayBuffer {
    entries: VecDeque<Entry>,
    bytes: usize,
    /// Keyed by join numbers, which the server hands out (so a fast
    /// hasher with no seed is safe here).
    shares: FxHashMap<u64, Share>,
}

/// Capacities below this are not worth giving back.
const SHRINK_FLOOR: usize = 64;

impl ReplayBuffer {
    /// Frames held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held (frame lengths).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The part of this buffer that `sender`'s signals take.
    pub fn share_of(&self, sender: u64) -> Share {
        self.shares.get(&sender).copied().unwrap_or_default()
    }

    /// Keeps `frame` (event `seq`, from `from`) until acknowledged.
    pub fn push(&mut self, seq: u64, frame: Frame, from: Sender) {
        let len = frame.len();
        self.bytes += len;
        if let Some(s) = from {
            let share = self.shares.entry(s).or_default();
            share.frames += 1;
            share.bytes += len;
        }
        self.entries.push_back(Entry { seq, frame, from });
    }

    /// Drops every entry up to and including event `acked`; returns the
    /// bytes released.
    pub fn release_through(&mut self, acked: u64) -> usize {
        let mut released = 0;
        while self.entries.front().is_some_and(|e| e.seq <= acked) {
            let Some(e) = self.entries.pop_front() else {
                break;
            };
            let len = e.frame.len();
            released += len;
            if let Some(s) = e.from {
                if let Some(share) = self.shares.get_mut(&s) {
                    share.frames -= 1;
                    share.bytes -= len;
                    if share.frames == 0 {
                        self.shares.remove(&s);
                    }
                }
            }
        }
        self.bytes -= released;
        self.give_back();
        released
    }

    /// The seq of the oldest event held, if any.
    pub fn first_seq(&self) -> Option<u64> {
        self.entries.front().map(|e| e.seq)
    }

    /// The frames held, oldest first (what a resume sends again).
    pub fn frames(&self) -> impl Iterator<Item = &Frame> {
        self.entries.iter().map(|e| &e.frame)
    }

    fn give_back(&mut self) {
        let cap = self.entries.capacity();
        if cap > SHRINK_FLOOR && self.entries.len() * 4 <= cap {
            self.entries
                .shrink_to((self.entries.len() * 2).max(SHRINK_FLOOR));
        }
        if self.shares.is_empty() && self.shares.capacity() > 16 {
            self.shares = FxHashMap::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: usize) -> Frame {
        Frame::from("x".repeat(n))
    }

    #[test]
    fn counts_are_exact_through_pushes_and_acks() {
        let mut r = ReplayBuffer::default();
        r.push(1, f(10), Some(7));
        r.push(2, f(20), None);
        r.push(5, f(30), Some(7));
        r.push(6, f(40), Some(8));
        assert_eq!((r.len(), r.bytes()), (4, 100));
        assert_eq!(
            r.share_of(7),
            Share {
                frames: 2,
                bytes: 40
            }
        );
        assert_eq!(
            r.share_of(8),
            Share {
                frames: 1,
                bytes: 40
            }
        );
        assert_eq!(r.share_of(9), Share::default());
        assert_eq!(r.release_through(4), 30);
        assert_eq!(
            r.share_of(7),
            Share {
                frames: 1,
                bytes: 30
            }
        );
        assert_eq!(r.release_through(6), 70);
        assert!(r.is_empty());
        assert_eq!(
            (r.bytes(), r.share_of(7), r.share_of(8)),
            (0, Share::default(), Share::default())
        );
    }

    #[test]
    fn memory_is_given_back_as_acks_arrive() {
        let mut r = ReplayBuffer::default();
        for seq in 1..=10_000 {
            r.push(seq, f(1), Some(seq % 100));
        }
        assert!(r.entries.capacity() >= 10_000);
        r.release_through(9_990);
        assert!(r.entries.capacity() < 1_000, "{}", r.entries.capacity());
        r.release_through(10_000);
        assert_eq!(r.shares.capacity(), 0);
    }
}
