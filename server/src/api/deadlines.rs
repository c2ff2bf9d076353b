//! Deadlines for HTTP clients that stall, which hyper does not enforce here
//! (it needs a timer for that, and `axum::serve` sets none): without them,
//! each connection that sends half a request and stops holds a socket and a
//! task forever, and enough of them exhaust the server's file descriptors.
//!
//! Until a connection becomes a WebSocket, the client must send each request
//! head (up to its blank line) within [`HEAD_DEADLINE`] of connecting or of
//! the server's last response, and may never leave the connection silent in
//! both directions for [`IDLE_DEADLINE`] (a stalled body, a client that stops
//! reading). A WebSocket is exempt: the sync connection's own keep-alive and
//! join timeout look after it. A connection past a deadline gets a
//! `TimedOut` error from its next read or write, and hyper closes it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// Request heads are a few hundred bytes: ten seconds is generous even on a
/// poor mobile link, and it doubles as the keep-alive timeout.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// How long a connection may carry nothing at all, mid-body or mid-response.
pub const IDLE_DEADLINE: Duration = Duration::from_secs(30);

const END_OF_HEAD: &[u8] = b"\r\n\r\n";

/// A listener whose connections carry [`Deadlines`].
pub struct Listener {
    inner: TcpListener,
}

impl Listener {
    pub fn new(inner: TcpListener) -> Self {
        Self { inner }
    }
}

impl axum::serve::Listener for Listener {
    type Io = Deadlines<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // TcpListener's own accept logs and retries errors (such as too many
        // open files) with a pause.
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        // Sync messages are small and answered at once: with Nagle's
        // algorithm on, one sent while the previous is still unacknowledged
        // waits for the client's delayed ACK (up to 40 ms on Linux).
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "could not turn off Nagle's algorithm");
        }
        (Deadlines::new(stream, HEAD_DEADLINE, IDLE_DEADLINE), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An HTTP connection's stream with the deadlines above.
pub struct Deadlines<T> {
    inner: T,
    head_limit: Duration,
    idle_limit: Duration,
    /// Set while a request head is awaited.
    head: Option<Pin<Box<Sleep>>>,
    /// How much of the blank line ending a head has been read.
    matched: usize,
    idle: Pin<Box<Sleep>>,
    websocket: bool,
}

impl<T> Deadlines<T> {
    pub fn new(inner: T, head_limit: Duration, idle_limit: Duration) -> Self {
        Self {
            inner,
            head_limit,
            idle_limit,
            head: Some(Box::pin(tokio::time::sleep(head_limit))),
            matched: 0,
            idle: Box::pin(tokio::time::sleep(idle_limit)),
            websocket: false,
        }
    }

    /// An error once a deadline has passed (and wakes the task when one will).
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.websocket {
            return Ok(());
        }
        let head_passed = self
            .head
            .as_mut()
            .is_some_and(|head| head.as_mut().poll(cx).is_ready());
        if head_passed || self.idle.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client too slow: request deadline passed",
            ));
        }
        Ok(())
    }

    fn progressed(&mut self) {
        let at = Instant::now() + self.idle_limit;
        self.idle.as_mut().reset(at);
    }

    fn read_bytes(&mut self, bytes: &[u8]) {
        if self.head.is_none() || bytes.is_empty() {
            return;
        }
        for byte in bytes {
            self.matched = match (*byte == END_OF_HEAD[self.matched], *byte == b'\r') {
                (true, _) => self.matched + 1,
                (false, true) => 1,
                (false, false) => 0,
            };
            if self.matched == END_OF_HEAD.len() {
                self.head = None;
                self.matched = 0;
                return;
            }
        }
    }

    fn wrote_bytes(&mut self, bytes: &[u8]) {
        if bytes.starts_with(b"HTTP/1.1 101") {
            self.websocket = true;
        } else if bytes.starts_with(b"HTTP/1.1 100") {
            // "Continue": the body follows, not another head.
        } else if bytes.starts_with(b"HTTP/1.") && self.head.is_none() {
            // A response: the next request head is awaited from now on.
            self.head = Some(Box::pin(tokio::time::sleep(self.head_limit)));
            self.matched = 0;
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Deadlines<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        match polled {
            Poll::Ready(Ok(())) => {
                let filled = buf.filled()[before..].to_vec();
                if !filled.is_empty() {
                    this.progressed();
                }
                this.read_bytes(&filled);
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.check(cx) {
                Ok(()) => Poll::Pending,
                Err(err) => Poll::Ready(Err(err)),
            },
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Deadlines<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, bytes) {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    this.progressed();
                }
                this.wrote_bytes(&bytes[..written]);
                Poll::Ready(Ok(written))
            }
            Poll::Pending => match this.check(cx) {
                Ok(()) => Poll::Pending,
                Err(err) => Poll::Ready(Err(err)),
            },
            other => other,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;

    // Real time (tokio's paused clock needs a feature this crate does not
    // enable), so short limits, and a margin for a busy machine.
    const HEAD: Duration = Duration::from_millis(200);
    const IDLE: Duration = Duration::from_millis(600);
    const MARGIN: Duration = Duration::from_secs(2);

    fn about(elapsed: Duration, limit: Duration) -> bool {
        elapsed >= limit && elapsed < limit + MARGIN
    }

    fn pair() -> (Deadlines<DuplexStream>, DuplexStream) {
        let (server, client) = duplex(64 * 1024);
        (Deadlines::new(server, HEAD, IDLE), client)
    }

    async fn read_fails(server: &mut Deadlines<DuplexStream>) -> bool {
        let mut buf = [0; 1024];
        loop {
            match server.read(&mut buf).await {
                Err(err) => return err.kind() == io::ErrorKind::TimedOut,
                Ok(0) => return false,
                Ok(_) => continue,
            }
        }
    }

    #[tokio::test]
    async fn a_silent_client_times_out_after_the_head_deadline() {
        let (mut server, _client) = pair();
        let started = Instant::now();
        assert!(read_fails(&mut server).await);
        assert!(about(started.elapsed(), HEAD), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_head_trickled_byte_by_byte_times_out() {
        let (mut server, mut client) = pair();
        let trickle = tokio::spawn(async move {
            for byte in b"GET / HTTP/1.1\r\nHost: x\r\n" {
                client.write_all(&[*byte]).await.unwrap();
                tokio::time::sleep(HEAD / 4).await;
            }
            client
        });
        let started = Instant::now();
        assert!(read_fails(&mut server).await);
        assert!(about(started.elapsed(), HEAD), "{:?}", started.elapsed());
        drop(trickle);
    }

    #[tokio::test]
    async fn a_complete_head_passes_and_keep_alive_is_bounded() {
        let (mut server, mut client) = pair();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        // Working on the request: no head is awaited, so only idleness counts.
        tokio::time::sleep(HEAD * 2).await;
        server
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .unwrap();
        // Now the next head is awaited.
        let started = Instant::now();
        assert!(read_fails(&mut server).await);
        assert!(about(started.elapsed(), HEAD), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_when_idle() {
        let (mut server, mut client) = pair();
        client
            .write_all(b"POST / HTTP/1.1\r\ncontent-length: 100\r\n\r\n{\"a\"")
            .await
            .unwrap();
        let started = Instant::now();
        assert!(read_fails(&mut server).await);
        assert!(about(started.elapsed(), IDLE), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_websocket_has_no_deadline() {
        let (mut server, mut client) = pair();
        client
            .write_all(b"GET /sync HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0; 64];
        assert!(server.read(&mut buf).await.unwrap() > 0);
        server
            .write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            .await
            .unwrap();
        let quiet = tokio::time::timeout(IDLE * 3, server.read(&mut buf)).await;
        assert!(quiet.is_err(), "still waiting, no deadline: {quiet:?}");
        client.write_all(b"frame").await.unwrap();
        assert_eq!(server.read(&mut buf).await.unwrap(), 5);
    }

    #[test]
    fn the_end_of_a_head_is_found_across_reads() {
        let (server, _client) = duplex(16);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let mut deadlines = Deadlines::new(server, HEAD, IDLE);
        for part in [&b"GET / HTTP/1.1\r"[..], b"\n", b"Host: x\r\n\r", b"\n"] {
            assert!(deadlines.head.is_some());
            deadlines.read_bytes(part);
        }
        assert!(deadlines.head.is_none());
    }
}
