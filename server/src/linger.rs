//! Lingering close: a connection the server ends is shut down for writing
//! and read to the end before its socket is closed.
//!
//! # Why
//!
//! Closing a TCP socket that still has unread data in its receive buffer
//! makes the kernel send a reset (RST) instead of an orderly FIN, and a
//! reset makes the peer's kernel throw away whatever it had received and
//! not yet handed to the application. The frames that explain a refusal
//! (the `error` frame and the close frame with its reason) are exactly the
//! last data the server sends, so a client that was still sending (an
//! oversize frame is refused after its header, while its payload is still
//! on the way) would otherwise see "connection reset" instead of why.
//!
//! # How
//!
//! [`Lingering`] wraps each accepted stream. When the server is done with
//! the connection and drops it, the stream is handed to a small task that
//! shuts down the write side (the peer reads our last frames, then end of
//! stream), then reads and discards what the peer still sends until it
//! closes, for at most [`LINGER_TIME`] and [`LINGER_BYTES`]. So a peer that
//! keeps sending costs one bounded task, never unbounded memory or time.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// Longest time a closed connection is drained.
pub const LINGER_TIME: Duration = Duration::from_secs(2);

/// Most bytes read and discarded from a closed connection.
pub const LINGER_BYTES: usize = 1024 * 1024;

/// A stream that lingers when dropped (see the module docs).
pub struct Lingering<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    /// Always `Some` until dropped.
    io: Option<T>,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Lingering<T> {
    pub fn new(io: T) -> Self {
        Lingering { io: Some(io) }
    }

    fn io(&mut self) -> io::Result<&mut T> {
        self.io
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

fn ready_err<R>(e: io::Error) -> Poll<io::Result<R>> {
    Poll::Ready(Err(e))
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Lingering<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_read(cx, buf),
            Err(e) => ready_err(e),
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Lingering<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_write(cx, buf),
            Err(e) => ready_err(e),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Err(e) => ready_err(e),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.as_ref().is_some_and(|io| io.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_flush(cx),
            Err(e) => ready_err(e),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_shutdown(cx),
            Err(e) => ready_err(e),
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for Lingering<T> {
    fn drop(&mut self) {
        let Some(io) = self.io.take() else {
            return;
        };
        // Outside a runtime (or while it shuts down) the socket simply
        // closes.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(drain(io));
        }
    }
}

/// Shuts down the write side, then reads until end of stream (bounded).
async fn drain<T: AsyncRead + AsyncWrite + Unpin>(mut io: T) {
    let work = async {
        let _ = io.shutdown().await;
        let mut buf = vec![0u8; 16 * 1024];
        let mut total = 0usize;
        while total < LINGER_BYTES {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, work).await;
}
