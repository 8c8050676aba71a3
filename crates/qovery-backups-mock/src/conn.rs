//! The socket side: an accept loop that serves the router over HTTP/1, and a stream wrapper
//! that lets a handler break its own connection (reset, close, or cut the answer short).
//!
//! hyper owns the stream while it serves a connection, so a handler cannot touch the socket.
//! Instead it arms the connection's [`ConnControl`]; the next time hyper writes (the answer the
//! handler returned), [`FaultyStream`] carries the order out on the real socket.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// What a handler wants done to its connection when hyper next writes to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kill {
    /// RST: `SO_LINGER` 0, then drop.
    Reset,
    /// FIN without a byte of the answer.
    Close,
    /// Let the head through and half of the body its `content-length` announces (or half the
    /// head when there is no body), then FIN.
    Truncate,
}

/// A per-connection kill switch, put into every request's extensions.
#[derive(Debug, Default)]
pub(crate) struct ConnControl {
    order: Mutex<Option<Kill>>,
}

impl ConnControl {
    pub(crate) fn arm(&self, kill: Kill) {
        *self.order.lock().unwrap_or_else(PoisonError::into_inner) = Some(kill);
    }

    fn take(&self) -> Option<Kill> {
        self.order.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

enum WriteState {
    Open,
    /// This many more bytes may reach the socket before it is shut.
    Truncating {
        allowed: usize,
    },
    Dead,
}

/// A `TcpStream` whose writes obey the connection's [`ConnControl`].
pub(crate) struct FaultyStream {
    inner: TcpStream,
    control: Arc<ConnControl>,
    state: WriteState,
}

impl FaultyStream {
    pub(crate) fn new(inner: TcpStream, control: Arc<ConnControl>) -> Self {
        Self { inner, control, state: WriteState::Open }
    }

    fn dead(&mut self, kind: io::ErrorKind) -> Poll<io::Result<usize>> {
        self.state = WriteState::Dead;
        Poll::Ready(Err(io::Error::new(kind, "connection killed by an injected fault")))
    }
}

fn head_len(buf: &[u8]) -> usize {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(buf.len(), |p| p + 4)
}

/// The `content-length` a response head announces; 0 without one.
fn content_length(head: &[u8]) -> usize {
    let head = String::from_utf8_lossy(head);
    let value = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    });
    value.unwrap_or(0)
}

impl AsyncRead for FaultyStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultyStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if matches!(this.state, WriteState::Open) {
            match this.control.take() {
                None => {}
                Some(Kill::Reset) => {
                    // With a zero linger, closing the socket (when hyper drops it after this
                    // error) sends RST instead of FIN.
                    let _ = socket2::SockRef::from(&this.inner).set_linger(Some(Duration::ZERO));
                    return this.dead(io::ErrorKind::ConnectionReset);
                }
                // Dropping the socket after this error closes it with FIN: the client saw nothing.
                Some(Kill::Close) => return this.dead(io::ErrorKind::BrokenPipe),
                Some(Kill::Truncate) => {
                    // hyper writes the whole head in its first write (writev is off).
                    let head = head_len(buf);
                    let body_len = content_length(&buf[..head]);
                    let allowed = if body_len > 0 { head + body_len / 2 } else { head / 2 };
                    this.state = WriteState::Truncating { allowed };
                }
            }
        }
        match this.state {
            WriteState::Open => Pin::new(&mut this.inner).poll_write(cx, buf),
            WriteState::Dead => this.dead(io::ErrorKind::BrokenPipe),
            WriteState::Truncating { allowed } => {
                if allowed == 0 {
                    // Shutting the write side sends FIN after the bytes already queued.
                    let _ = ready!(Pin::new(&mut this.inner).poll_shutdown(cx));
                    return this.dead(io::ErrorKind::BrokenPipe);
                }
                let take = buf.len().min(allowed);
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..take]))?;
                this.state = WriteState::Truncating { allowed: allowed - written };
                Poll::Ready(Ok(written))
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.state {
            WriteState::Dead => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "connection killed by an injected fault",
            ))),
            _ => Pin::new(&mut this.inner).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.state {
            WriteState::Dead => Poll::Ready(Ok(())),
            _ => Pin::new(&mut this.inner).poll_shutdown(cx),
        }
    }
}

/// Accepts connections until the task is aborted; aborting it drops the `JoinSet`, which aborts
/// every connection still open.
pub(crate) async fn accept_loop(listener: TcpListener, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                // Running out of descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let _ = stream.set_nodelay(true);
    let control = Arc::new(ConnControl::default());
    let io = TokioIo::new(FaultyStream::new(stream, Arc::clone(&control)));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(Arc::clone(&control));
        router.clone().oneshot(request.map(Body::new))
    });
    // No header-read timeout: it needs a timer, and under paused tokio time an idle keep-alive
    // connection would be cut whenever a test's clock jumps.
    let _ = http1::Builder::new().header_read_timeout(None).writev(false).serve_connection(io, service).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_answer_knows_its_body_from_the_head() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 4242\r\n\r\n";
        assert_eq!(head_len(head), head.len());
        assert_eq!(content_length(head), 4242);
        assert_eq!(content_length(b"HTTP/1.1 204 No Content\r\ndate: x\r\n\r\n"), 0);
    }
}
