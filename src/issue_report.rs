//! `otc_session_report_issue`: a report goes to the server, which logs it
//! under a new issue id and answers with that id.
//!
//! The call is synchronous in the SDK (the id comes back through an out
//! parameter), so the calling thread waits for the server's answer, for at
//! most [`ANSWER_WAIT`]. Requests are numbered per session; an answer finds
//! its waiter here. When the link goes away the waiters are dropped, which
//! wakes them at once with "connection dropped" instead of a timeout.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use protocol::ErrorCode;

use crate::error::{Error, Result};

/// How long `otc_session_report_issue` waits for the server.
pub const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// The issue reports of one session that wait for an answer.
#[derive(Default)]
pub struct Requests {
    next: u64,
    waiting: HashMap<u64, SyncSender<Result<String>>>,
}

/// The caller's side of one request.
pub struct Waiter(Receiver<Result<String>>);

impl Requests {
    /// A new request: its number (for the frame) and what to wait on.
    pub fn open(&mut self) -> (u64, Waiter) {
        self.next += 1;
        let (tx, rx) = mpsc::sync_channel(1);
        self.waiting.insert(self.next, tx);
        (self.next, Waiter(rx))
    }

    /// The server's answer to request `id` (unknown ids are ignored: the
    /// waiter gave up).
    pub fn answer(&mut self, id: u64, result: Result<String>) {
        if let Some(tx) = self.waiting.remove(&id) {
            let _ = tx.try_send(result);
        }
    }

    /// Forgets a request whose frame could not be sent.
    pub fn cancel(&mut self, id: u64) {
        self.waiting.remove(&id);
    }

    /// The link is gone: every waiter wakes up with an error.
    pub fn drop_all(&mut self) {
        self.waiting.clear();
    }
}

impl Waiter {
    /// Waits for the issue id.
    pub fn wait(self) -> Result<String> {
        match self.0.recv_timeout(ANSWER_WAIT) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) => Err(Error::new(
                ErrorCode::TimedOut,
                format!("the server did not answer the issue report within {ANSWER_WAIT:?}"),
            )),
            Err(RecvTimeoutError::Disconnected) => Err(Error::new(
                ErrorCode::ConnectionDropped,
                "the link to the server was lost before it answered the issue report",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_reach_their_waiter_and_a_lost_link_wakes_the_rest() {
        let mut r = Requests::default();
        let (a, wa) = r.open();
        let (b, wb) = r.open();
        assert_ne!(a, b);
        r.answer(b, Ok("issue-b".into()));
        assert_eq!(wb.wait().unwrap(), "issue-b");
        r.drop_all();
        assert_eq!(wa.wait().unwrap_err().code, ErrorCode::ConnectionDropped);
    }
}
