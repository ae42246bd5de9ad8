//! [`WriteTimeout`]: a connection whose writes fail once they make no progress for a while.
//!
//! A client that stops reading fills its receive window and the server's send buffer; from
//! then on every write of the response is `Pending`, and without a bound the connection (and
//! its response, and a graceful shutdown waiting for it) is held forever. hyper has no write
//! timeout, so the bound sits under it, on the socket: a write, flush or shutdown that stays
//! `Pending` for the timeout fails with [`io::ErrorKind::TimedOut`], which makes hyper close
//! the connection.
//!
//! The timer measures a stall, not the whole response: it starts when a write cannot proceed
//! and is disarmed by any write that does, in the manner of nginx's `send_timeout`. A large
//! response to a slow but reading client is therefore not cut off.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// An I/O object whose writes time out after `timeout` without progress.
#[derive(Debug)]
pub(crate) struct WriteTimeout<IO> {
    io: IO,
    timeout: Duration,
    /// Armed while a write is stalled; created at the first stall (most connections never
    /// stall).
    deadline: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

impl<IO> WriteTimeout<IO> {
    pub(crate) fn new(io: IO, timeout: Duration) -> Self {
        Self { io, timeout, deadline: None, armed: false }
    }

    /// Passes on a ready result (progress: the timer is disarmed); for a pending one, arms the
    /// timer if it is not running and fails once it has run out.
    fn bound<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.armed = false;
            return polled;
        }
        let at = Instant::now() + self.timeout;
        let deadline = match (&mut self.deadline, self.armed) {
            (Some(deadline), true) => deadline,
            (Some(deadline), false) => {
                deadline.as_mut().reset(at);
                deadline
            }
            (None, _) => self.deadline.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        self.armed = true;
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.armed = false;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the client read nothing for {:?}", self.timeout),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WriteTimeout<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.bound(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.bound(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.bound(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_shutdown(cx);
        self.bound(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_write_that_makes_no_progress_fails_after_the_timeout_and_progress_disarms_it() {
        let timeout = Duration::from_millis(300);
        // A pipe whose reader reads nothing yet: 64 bytes fit, then writes are pending.
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = WriteTimeout::new(server, timeout);
        io.write_all(&[0; 64]).await.expect("the buffer takes 64 bytes");
        let started = Instant::now();
        let e = io.write_all(&[0; 1]).await.expect_err("nobody reads");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let waited = started.elapsed();
        assert!(waited >= timeout && waited < timeout * 5, "failed after {waited:?}");

        // A reader that takes a byte every 100 ms keeps the writer going past the timeout.
        let reader = tokio::spawn(async move {
            let mut buf = [0; 1];
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                client.read_exact(&mut buf).await.expect("a byte");
            }
            client
        });
        // The reader's end stays open until its task is awaited below, after the writes.
        let started = Instant::now();
        io.write_all(&[0; 6]).await.expect("each stall is shorter than the timeout");
        assert!(started.elapsed() > timeout, "the writer waited longer than the timeout in all");
        let _client = reader.await.expect("the reader read six bytes");
    }
}
