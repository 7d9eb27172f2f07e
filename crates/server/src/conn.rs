//! The listener's side of connections, before tonic sees them: a limit on open connections, a
//! handshake timeout, and an accept loop that backs off instead of spinning when the process is
//! out of file descriptors.
//!
//! A connection is *proven* once it has sent [`HANDSHAKE_BYTES`] (an HTTP/2 client's preface and
//! the header of its first SETTINGS frame; with TLS, its ClientHello). A connection not proven
//! within the handshake timeout is closed; after that, HTTP/2 pings (`peer_timeout`) find silent
//! peers. At the connection limit, a new connection evicts the oldest unproven one; when every
//! open connection is proven, the new one is closed at once (its client sees the connection
//! refused and may retry).

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use futures::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Bytes a connection must send within the handshake timeout: the 24-byte HTTP/2 client
/// preface and the 9-byte header of the SETTINGS frame that follows it.
pub(crate) const HANDSHAKE_BYTES: u64 = 33;

/// Longest pause of the accept loop after an error such as EMFILE.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How connections are limited.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    /// A connection that has not sent [`HANDSHAKE_BYTES`] this long after it was accepted is closed.
    pub handshake_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl ConnLimits {
    /// The limits `config` sets.
    pub(crate) fn of(config: &crate::ServerConfig) -> ConnLimits {
        ConnLimits {
            handshake_timeout: config.handshake_timeout,
            max_connections: config.max_connections,
        }
    }
}

/// What the accept loop and a connection share.
#[derive(Default)]
struct ConnState {
    proven: AtomicBool,
    evicted: AtomicBool,
    /// The task reading the connection, woken to notice an eviction.
    reader: AtomicWaker,
}

/// An accepted connection under the handshake timeout, holding one of the limited slots.
pub(crate) struct GuardedConn {
    inner: TcpStream,
    state: Arc<ConnState>,
    /// Until the connection is proven.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    timeout: Duration,
    read: u64,
    _slot: OwnedSemaphorePermit,
}

impl Connected for GuardedConn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.inner.connect_info()
    }
}

impl AsyncRead for GuardedConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.deadline.is_some() {
            this.state.reader.register(cx.waker());
            if this.state.evicted.load(Ordering::Acquire) {
                tracing::debug!("closing an unproven connection: the connection limit is reached");
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "evicted: the server is at its connection limit",
                )));
            }
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        let Some(deadline) = this.deadline.as_mut() else {
            return poll;
        };
        match poll {
            Poll::Ready(Ok(())) => {
                this.read += (buf.filled().len() - before) as u64;
                if this.read >= HANDSHAKE_BYTES {
                    this.deadline = None;
                    this.state.proven.store(true, Ordering::Release);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if deadline.as_mut().poll(cx).is_ready() => {
                tracing::debug!(
                    "closing a connection that sent {} bytes in {:?}",
                    this.read,
                    this.timeout
                );
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no handshake within {:?}", this.timeout),
                )))
            }
            other => other,
        }
    }
}

impl AsyncWrite for GuardedConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The accept loop's state.
struct Acceptor {
    listener: TcpListener,
    limits: ConnLimits,
    slots: Arc<Semaphore>,
    /// Connections not yet proven, oldest first (proven and closed ones are skipped).
    unproven: VecDeque<Weak<ConnState>>,
    backoff: Duration,
}

/// Errors of one connection that the listener itself survives untouched.
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

impl Acceptor {
    /// Signals the oldest connection still in its handshake to close; false if there is none.
    fn evict_oldest_unproven(&mut self) -> bool {
        while let Some(weak) = self.unproven.pop_front() {
            let Some(state) = weak.upgrade() else {
                continue;
            };
            if state.proven.load(Ordering::Acquire) || state.evicted.load(Ordering::Acquire) {
                continue;
            }
            state.evicted.store(true, Ordering::Release);
            state.reader.wake();
            return true;
        }
        false
    }

    /// Forgets closed and proven connections once the list outgrows the limit.
    fn prune(&mut self) {
        if self.unproven.len() > self.limits.max_connections {
            self.unproven.retain(|w| {
                w.upgrade()
                    .is_some_and(|s| !s.proven.load(Ordering::Acquire))
            });
        }
    }

    /// A slot for a new connection: a free one, or one freed by evicting an unproven connection.
    async fn slot(&mut self) -> Option<OwnedSemaphorePermit> {
        if let Ok(slot) = self.slots.clone().try_acquire_owned() {
            return Some(slot);
        }
        if !self.evict_oldest_unproven() {
            return None;
        }
        // The evicted connection gives its slot back once its reader has seen the eviction.
        tokio::time::timeout(Duration::from_secs(1), self.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    async fn next(&mut self) -> GuardedConn {
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => {
                    self.backoff = Duration::ZERO;
                    accepted
                }
                Err(e) if per_connection(&e) => continue,
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS…: accepting again at once fails again at once.
                    let first = self.backoff.is_zero();
                    self.backoff = (self.backoff * 2).clamp(Duration::from_millis(10), MAX_BACKOFF);
                    if first {
                        tracing::warn!("accepting connections: {e}; retrying with back-off");
                    }
                    tokio::time::sleep(self.backoff).await;
                    continue;
                }
            };
            let Some(slot) = self.slot().await else {
                tracing::warn!(
                    "closing the connection from {peer}: {} connections are open",
                    self.limits.max_connections
                );
                continue;
            };
            let state = Arc::new(ConnState::default());
            self.prune();
            self.unproven.push_back(Arc::downgrade(&state));
            return GuardedConn {
                inner: stream,
                state,
                deadline: Some(Box::pin(tokio::time::sleep(self.limits.handshake_timeout))),
                timeout: self.limits.handshake_timeout,
                read: 0,
                _slot: slot,
            };
        }
    }
}

/// The connections `listener` accepts, limited by `limits`, for tonic's `serve_with_incoming`.
pub(crate) fn incoming(
    listener: TcpListener,
    limits: ConnLimits,
) -> impl Stream<Item = Result<GuardedConn, io::Error>> {
    let acceptor = Acceptor {
        listener,
        limits,
        slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        unproven: VecDeque::new(),
        backoff: Duration::ZERO,
    };
    futures::stream::unfold(acceptor, |mut a| async move {
        let conn = a.next().await;
        Some((Ok(conn), a))
    })
}
