//! The client seq rules: which `signal` frames the hub routes, which it
//! answers again, and which it refuses as out of order.
//!
//! # Invariant
//!
//! Every `signal` frame gets exactly one of two answers: routed and
//! acknowledged (`signal_ack`), or refused (`signal_error`). Nothing is
//! acknowledged that was not routed. For that the client numbers its
//! signals 1, 2, 3, … on each connection, and the server holds it to it:
//!
//! | seq of the frame | answer |
//! | --- | --- |
//! | `last + 1` (the next one) | checked and routed, or refused; `last` moves on |
//! | `1 ..= last` (sent again, after a resume) | the first answer, again: `signal_ack`, or the code it was refused with; never routed twice |
//! | older than the last [`MAX_UNANSWERED_SIGNALS`] | refused with 1604: its outcome is no longer known |
//! | `0`, or above `last + 1` (a gap) | refused with 1604; `last` does not move |
//!
//! A client never has more than [`MAX_UNANSWERED_SIGNALS`] signals waiting
//! for an answer (its outbox is bounded by the same constant), so every
//! signal a well-behaved client sends again is within the window whose
//! outcomes the server remembers.
//!
//! # Memory
//!
//! Only refusals are remembered (a seq in the window that is not among
//! them was acknowledged), as runs of consecutive seqs refused with the
//! same code: a flood refused by the rate limit is one run. At most one run
//! per seq of the window, 24 bytes each, is kept.

use std::collections::VecDeque;

use protocol::limits::MAX_UNANSWERED_SIGNALS;
use protocol::ErrorCode;

/// What to do with one `signal` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The next signal: check and route it, then report a refusal with
    /// [`ClientSeqs::refused`].
    Next,
    /// Seen before: answer as the first time (`Ok` was acknowledged).
    Repeat(Result<(), ErrorCode>),
    /// Out of order: refuse with 1604 and this message.
    OutOfOrder(String),
}

/// Consecutive seqs `first..=last` refused with `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    first: u64,
    last: u64,
    code: ErrorCode,
}

/// One connection's client seq state (it survives resumes).
#[derive(Debug, Default)]
pub struct ClientSeqs {
    last: u64,
    refusals: VecDeque<Run>,
    /// Read back from the cluster's shared state, which may lag (see
    /// [`ClientSeqs::may_lag`]).
    lag: Lag,
}

/// Whether gaps are accepted, after a resume from a lagging state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Lag {
    /// Gaps are refused (the usual rule).
    #[default]
    None,
    /// No seq above `last` seen since the resume yet.
    Unknown,
    /// Gaps are accepted below this seq.
    Until(u64),
}

impl ClientSeqs {
    /// The highest seq processed (0 before the first): what `resumed`
    /// tells the client.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Marks a state read back from the cluster's shared state after a
    /// resume. That state is written with each signal that enters the log,
    /// so it misses the refusals a node answered after the last one (1601,
    /// 1603, ...), and the client's next seq may lie above `last + 1`.
    /// Every seq skipped that way was answered: a resuming client sends its
    /// unanswered signals again first, lowest first, under their numbers,
    /// and it never has more than [`MAX_UNANSWERED_SIGNALS`] of them, so they
    /// lie within that many seqs of the first. So from the first seq above
    /// `last` on, for that many seqs, a gap is taken as answered signals:
    /// remembered as refused with 1604 (their outcome is not known here; a
    /// well-behaved client never sends them again), and the seq is routed.
    pub fn may_lag(mut self) -> ClientSeqs {
        self.lag = Lag::Unknown;
        self
    }

    /// Classifies `seq`; for [`Verdict::Next`] it becomes the last
    /// processed.
    pub fn begin(&mut self, seq: u64) -> Verdict {
        let next = self.last + 1;
        if seq >= next {
            let window = MAX_UNANSWERED_SIGNALS as u64;
            let gap_ok = match self.lag {
                Lag::None => false,
                Lag::Unknown => {
                    self.lag = Lag::Until(seq.saturating_add(window));
                    true
                }
                Lag::Until(end) => seq < end,
            };
            if seq > next && gap_ok {
                self.refusals.push_back(Run {
                    first: next,
                    last: seq - 1,
                    code: ErrorCode::ProtocolError,
                });
            }
            if matches!(self.lag, Lag::Until(end) if seq >= end) {
                self.lag = Lag::None;
            }
            if seq == next || gap_ok {
                self.last = seq;
                self.forget_old();
                return Verdict::Next;
            }
        }
        if seq == 0 || seq > next {
            return Verdict::OutOfOrder(format!(
                "signal seq {seq} is out of order: the next one on this connection is {next} \
                 (seqs start at 1 and go up by one)"
            ));
        }
        if self.last - seq >= MAX_UNANSWERED_SIGNALS as u64 {
            return Verdict::OutOfOrder(format!(
                "signal seq {seq} is too old to be sent again: the server remembers the \
                 outcome of the last {MAX_UNANSWERED_SIGNALS} signals only"
            ));
        }
        let refused = self
            .refusals
            .iter()
            .rev()
            .find(|r| r.first <= seq && seq <= r.last)
            .map(|r| r.code);
        Verdict::Repeat(refused.map_or(Ok(()), Err))
    }

    /// The signal `seq` (just begun) was refused with `code`.
    pub fn refused(&mut self, seq: u64, code: ErrorCode) {
        debug_assert_eq!(seq, self.last, "only the signal just begun is refused");
        match self.refusals.back_mut() {
            Some(r) if r.code == code && r.last + 1 == seq => r.last = seq,
            _ => self.refusals.push_back(Run {
                first: seq,
                last: seq,
                code,
            }),
        }
    }

    /// Drops the runs that fell out of the window.
    fn forget_old(&mut self) {
        let window = MAX_UNANSWERED_SIGNALS as u64;
        while let Some(r) = self.refusals.front_mut() {
            if self.last - r.last >= window {
                self.refusals.pop_front();
            } else {
                if self.last - r.first >= window {
                    r.first = self.last - window + 1;
                }
                break;
            }
        }
    }

    /// The state as a short text, for the cluster's shared state (so the
    /// node a connection resumes on answers its re-sent signals as the
    /// first node did): `last` then each run as `first-last:code`, all
    /// separated by spaces.
    pub fn encode(&self) -> String {
        let mut out = self.last.to_string();
        for r in &self.refusals {
            out.push_str(&format!(" {}-{}:{}", r.first, r.last, r.code.as_i32()));
        }
        out
    }

    /// Reads [`ClientSeqs::encode`]'s text; `None` if it is not one.
    pub fn decode(text: &str) -> Option<ClientSeqs> {
        let mut parts = text.split(' ');
        let last = parts.next()?.parse().ok()?;
        let mut refusals = VecDeque::new();
        for p in parts {
            let (range, code) = p.split_once(':')?;
            let (first, end) = range.split_once('-')?;
            let run = Run {
                first: first.parse().ok()?,
                last: end.parse().ok()?,
                code: ErrorCode::try_from(code.parse::<i32>().ok()?).ok()?,
            };
            if run.first > run.last || run.last > last {
                return None;
            }
            refusals.push_back(run);
        }
        if refusals.len() > MAX_UNANSWERED_SIGNALS {
            return None;
        }
        Some(ClientSeqs {
            last,
            refusals,
            lag: Lag::None,
        })
    }

    /// Runs kept (for tests of the memory bound).
    #[cfg(test)]
    fn runs(&self) -> usize {
        self.refusals.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lagging_state_takes_the_first_seq_above_it_as_the_next() {
        // Node A routed 1-2 (stored with 2) and refused 3-4 (not stored);
        // the client resumes on node B and sends 5.
        let mut a = ClientSeqs::default();
        assert_eq!(a.begin(1), Verdict::Next);
        assert_eq!(a.begin(2), Verdict::Next);
        let stored = a.encode();
        let mut b = ClientSeqs::decode(&stored).expect("decodes").may_lag();
        // A re-sent 2 is still a repeat, and does not end the lag.
        assert_eq!(b.begin(2), Verdict::Repeat(Ok(())));
        assert_eq!(b.begin(5), Verdict::Next);
        assert_eq!(b.last(), 5);
        // 3-4 are never taken for acknowledged.
        assert_eq!(b.begin(3), Verdict::Repeat(Err(ErrorCode::ProtocolError)));
        // Re-sent signals may skip answered ones too (7 was answered).
        assert_eq!(b.begin(6), Verdict::Next);
        assert_eq!(b.begin(8), Verdict::Next);
        // Beyond the unanswered window the usual rule holds again.
        let far = 5 + MAX_UNANSWERED_SIGNALS as u64;
        for seq in 9..far {
            assert_eq!(b.begin(seq), Verdict::Next);
        }
        assert!(matches!(b.begin(far + 1), Verdict::OutOfOrder(_)));
        assert_eq!(b.begin(far), Verdict::Next);
        // Without may_lag a gap is a gap.
        let mut c = ClientSeqs::decode(&stored).expect("decodes");
        assert!(matches!(c.begin(5), Verdict::OutOfOrder(_)));
    }

    #[test]
    fn next_repeat_and_out_of_order() {
        let mut s = ClientSeqs::default();
        assert!(matches!(s.begin(0), Verdict::OutOfOrder(_)));
        assert!(matches!(s.begin(2), Verdict::OutOfOrder(_)));
        assert_eq!(s.last(), 0);
        assert_eq!(s.begin(1), Verdict::Next);
        assert_eq!(s.begin(2), Verdict::Next);
        s.refused(2, ErrorCode::RateLimited);
        assert_eq!(s.begin(3), Verdict::Next);
        assert_eq!(s.begin(1), Verdict::Repeat(Ok(())));
        assert_eq!(s.begin(2), Verdict::Repeat(Err(ErrorCode::RateLimited)));
        assert_eq!(s.begin(3), Verdict::Repeat(Ok(())));
        assert!(matches!(s.begin(5), Verdict::OutOfOrder(_)));
        assert!(matches!(s.begin(u64::MAX), Verdict::OutOfOrder(_)));
        assert_eq!(s.last(), 3);
        assert_eq!(s.begin(4), Verdict::Next);
    }

    #[test]
    fn refusals_are_runs_and_the_window_is_bounded() {
        let mut s = ClientSeqs::default();
        let n = 3 * MAX_UNANSWERED_SIGNALS as u64;
        for seq in 1..=n {
            assert_eq!(s.begin(seq), Verdict::Next);
            // A flood refused by the rate limit, with an ack now and then.
            if seq % 1000 != 0 {
                s.refused(seq, ErrorCode::RateLimited);
            }
        }
        assert!(
            s.runs() <= MAX_UNANSWERED_SIGNALS / 1000 + 2,
            "{}",
            s.runs()
        );
        let oldest = n - MAX_UNANSWERED_SIGNALS as u64 + 1;
        assert!(matches!(s.begin(oldest - 1), Verdict::OutOfOrder(_)));
        let at = |s: &mut ClientSeqs, q| s.begin(q);
        assert_eq!(
            at(&mut s, oldest),
            Verdict::Repeat(Err(ErrorCode::RateLimited))
        );
        assert_eq!(at(&mut s, n - n % 1000), Verdict::Repeat(Ok(())));
        assert_eq!(at(&mut s, n), Verdict::Repeat(Err(ErrorCode::RateLimited)));
    }

    #[test]
    fn the_state_survives_its_text_form() {
        let mut s = ClientSeqs::default();
        assert_eq!(s.encode(), "0");
        for seq in 1..=6 {
            s.begin(seq);
            if seq == 2 || seq == 3 {
                s.refused(seq, ErrorCode::RateLimited);
            }
        }
        let text = s.encode();
        assert_eq!(text, "6 2-3:1602");
        let mut back = ClientSeqs::decode(&text).expect("decodes");
        assert_eq!(back.begin(3), Verdict::Repeat(Err(ErrorCode::RateLimited)));
        assert_eq!(back.begin(4), Verdict::Repeat(Ok(())));
        assert_eq!(back.begin(7), Verdict::Next);
        for bad in ["", "x", "5 3-2:1602", "5 1-9:1602", "5 1-2:77777", "5 1-2"] {
            assert!(ClientSeqs::decode(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn alternating_outcomes_stay_within_the_window() {
        let mut s = ClientSeqs::default();
        let w = MAX_UNANSWERED_SIGNALS as u64;
        for seq in 1..=4 * w {
            s.begin(seq);
            if seq % 2 == 0 {
                s.refused(seq, ErrorCode::InvalidSignalType);
            }
        }
        assert!(s.runs() <= MAX_UNANSWERED_SIGNALS / 2 + 1, "{}", s.runs());
    }
}
