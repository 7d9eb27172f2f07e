//! One HTTP/1.1 connection, driven inside the virtual user's own task: the request head and body
//! go out in one write, the response head is parsed with `httparse` straight from the read buffer,
//! and the body is counted (and kept only when asked) as it arrives — Content-Length, chunked or
//! until close. There is no per-connection task, channel or write buffer, so an idle user holds
//! only its socket; and a request costs no allocation beyond the read buffer of the exchange.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The read buffer an exchange starts with: room for a typical response head and small body,
/// and small enough for the allocator's per-thread cache.
pub(crate) const FIRST_READ: usize = 1024;

/// The most bytes a read asks for while a large body streams in.
const MAX_READ: usize = 64 * 1024;

/// The largest response head accepted (status line and headers).
const MAX_HEAD: usize = 64 * 1024;

/// Response headers parsed without allocating; a head with more is parsed again with room for
/// [`MAX_HEADERS`].
const FEW_HEADERS: usize = 24;

/// The most response headers accepted.
const MAX_HEADERS: usize = 256;

/// A plain or TLS byte stream.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Why an exchange failed.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// The connection failed before any byte of a response arrived (on a reused keep-alive
    /// connection: the server closed it meanwhile, so the request may be sent again).
    Stale(io::Error),
    /// The server closed the connection in the middle of the response head.
    NoResponse,
    /// A read waited longer than the response timeout.
    ReadTimeout,
    /// The connection failed in the middle of the response.
    Io(io::Error),
    /// The response is not HTTP/1.x as the client understands it.
    Malformed(String),
    /// The server closed the connection before the body's announced length.
    Truncated { expected: u64, received: u64 },
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// A parsed response head, borrowed from the read buffer.
pub(crate) struct ResponseHead<'h, 'b> {
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor_version: u8,
    pub status: u16,
    pub reason: &'b str,
    pub headers: &'h [httparse::Header<'b>],
    /// Bytes of the head on the wire (status line, headers, blank line).
    pub len: usize,
}

impl<'b> ResponseHead<'_, 'b> {
    /// The first header called `name` (ASCII case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&'b [u8]> {
        self.all(name).next()
    }

    /// Every header called `name`, in order.
    pub(crate) fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'b [u8]> + 's {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// How the body that follows is delimited, and whether the server keeps the connection
    /// open after it (one pass over the headers).
    fn body_plan(&self, head_request: bool) -> Result<BodyPlan, ExchangeError> {
        let has_token = |v: &[u8], token: &str| {
            v.split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        };
        let (mut chunked, mut length, mut close, mut keep_alive) = (false, None, false, false);
        for h in self.headers {
            if h.name.eq_ignore_ascii_case("content-length") {
                length.get_or_insert(h.value);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked |= has_token(h.value, "chunked");
            } else if h.name.eq_ignore_ascii_case("connection") {
                close |= has_token(h.value, "close");
                keep_alive |= has_token(h.value, "keep-alive");
            }
        }
        let framing = if head_request || matches!(self.status, 100..=199 | 204 | 304) {
            Framing::Empty
        } else if chunked {
            Framing::Chunked
        } else if let Some(v) = length {
            std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .map(Framing::Length)
                .ok_or_else(|| {
                    ExchangeError::Malformed(format!(
                        "Invalid content length: {}",
                        String::from_utf8_lossy(v)
                    ))
                })?
        } else {
            Framing::UntilClose
        };
        Ok(BodyPlan {
            framing,
            keep_alive: if self.minor_version == 0 {
                keep_alive
            } else {
                !close
            },
        })
    }
}

/// What follows a response head: how to read the body and whether the connection stays usable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyPlan {
    pub framing: Framing,
    pub keep_alive: bool,
}

/// An open connection and the server it goes to.
pub(crate) struct Connection {
    pub tls: bool,
    pub host: Box<str>,
    pub port: u16,
    stream: Stream,
}

impl Connection {
    /// Wraps an open stream to `host:port`.
    pub(crate) fn new(stream: Stream, tls: bool, host: &str, port: u16) -> Connection {
        Connection {
            tls,
            host: host.into(),
            port,
            stream,
        }
    }

    /// Sends a request whose head (and body) is `request`.
    pub(crate) async fn send(&mut self, request: &[u8]) -> Result<(), ExchangeError> {
        self.stream
            .write_all(request)
            .await
            .map_err(ExchangeError::Stale)?;
        self.stream.flush().await.map_err(ExchangeError::Stale)
    }

    /// Reads more bytes into `buf`, with room for about `want` of them (bounded to
    /// [`MAX_READ`]); `Ok(0)` at the end of the stream.
    async fn read_more(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Option<Duration>,
        want: u64,
    ) -> Result<usize, ExchangeError> {
        let want = usize::try_from(want)
            .unwrap_or(MAX_READ)
            .clamp(FIRST_READ / 4, MAX_READ);
        if buf.capacity() - buf.len() < want {
            buf.reserve(want);
        }
        let reading = self.stream.read_buf(buf);
        let read = match timeout {
            Some(limit) => tokio::time::timeout(limit, reading)
                .await
                .map_err(|_| ExchangeError::ReadTimeout)?,
            None => reading.await,
        };
        read.map_err(ExchangeError::Io)
    }

    /// Reads the response head into `buf` and hands it to `inspect`; `buf` keeps the bytes of
    /// the body that came with the head. 1xx interim responses are skipped.
    pub(crate) async fn read_head<T>(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Option<Duration>,
        head_request: bool,
        mut inspect: impl FnMut(&ResponseHead<'_, '_>) -> T,
    ) -> Result<(T, BodyPlan), ExchangeError> {
        loop {
            match parse_head(buf, head_request, &mut inspect)? {
                Parsed::Final(len, done) => {
                    buf.drain(..len);
                    return Ok(done);
                }
                // An interim (1xx) response: the real one follows.
                Parsed::Interim(len) => {
                    buf.drain(..len);
                    continue;
                }
                Parsed::Partial => {}
            }
            // Nothing of a response yet: a failure here is a stale keep-alive connection.
            let was_empty = buf.is_empty();
            let read = match self.read_more(buf, timeout, FIRST_READ as u64).await {
                Err(ExchangeError::Io(e)) if was_empty => return Err(ExchangeError::Stale(e)),
                read => read?,
            };
            if read == 0 {
                return Err(if was_empty {
                    ExchangeError::Stale(io::ErrorKind::UnexpectedEof.into())
                } else {
                    ExchangeError::NoResponse
                });
            }
        }
    }

    /// Reads the body announced by `framing`, `buf` holding the bytes already read after the
    /// head. Returns the body's length (after de-chunking) and whether the connection ended
    /// cleanly at the body's end (so it can take the next request). The body's bytes are
    /// appended to `keep` when given.
    pub(crate) async fn read_body(
        &mut self,
        buf: &mut Vec<u8>,
        framing: Framing,
        timeout: Option<Duration>,
        mut keep: Option<&mut Vec<u8>>,
    ) -> Result<(u64, bool), ExchangeError> {
        let mut take = |bytes: &[u8]| {
            if let Some(k) = keep.as_deref_mut() {
                k.extend_from_slice(bytes);
            }
        };
        match framing {
            Framing::Empty => Ok((0, buf.is_empty())),
            Framing::Length(expected) => {
                let mut received = 0u64;
                loop {
                    let wanted = usize::try_from(expected - received).unwrap_or(usize::MAX);
                    let n = buf.len().min(wanted);
                    take(&buf[..n]);
                    received += n as u64;
                    let extra = buf.len() > n;
                    buf.clear();
                    if received == expected {
                        return Ok((received, !extra));
                    }
                    if self.read_more(buf, timeout, expected - received).await? == 0 {
                        return Err(ExchangeError::Truncated { expected, received });
                    }
                }
            }
            Framing::UntilClose => {
                let mut received = buf.len() as u64;
                take(buf);
                buf.clear();
                while self.read_more(buf, timeout, MAX_READ as u64).await? > 0 {
                    received += buf.len() as u64;
                    take(buf);
                    buf.clear();
                }
                Ok((received, false))
            }
            Framing::Chunked => self.read_chunked(buf, timeout, &mut take).await,
        }
    }

    /// Reads a chunked body (sizes parsed with `httparse::parse_chunk_size`), trailers
    /// skipped.
    async fn read_chunked(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Option<Duration>,
        take: &mut impl FnMut(&[u8]),
    ) -> Result<(u64, bool), ExchangeError> {
        let mut received = 0u64;
        let truncated = |received| ExchangeError::Truncated {
            expected: received + 1,
            received,
        };
        loop {
            let (start, size) = loop {
                match httparse::parse_chunk_size(buf) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) => {
                        if self.read_more(buf, timeout, 0).await? == 0 {
                            return Err(truncated(received));
                        }
                    }
                    Err(_) => {
                        return Err(ExchangeError::Malformed("Bad chunk header".into()));
                    }
                }
            };
            buf.drain(..start);
            if size == 0 {
                return self.skip_trailers(buf, timeout, received).await;
            }
            let mut left = size;
            while left > 0 {
                if buf.is_empty() && self.read_more(buf, timeout, left).await? == 0 {
                    return Err(truncated(received));
                }
                let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                take(&buf[..n]);
                buf.drain(..n);
                left -= n as u64;
                received += n as u64;
            }
            while buf.len() < 2 {
                if self.read_more(buf, timeout, 0).await? == 0 {
                    return Err(truncated(received));
                }
            }
            if &buf[..2] != b"\r\n" {
                return Err(ExchangeError::Malformed("Chunk not ended by CRLF".into()));
            }
            buf.drain(..2);
        }
    }

    /// Reads up to the blank line that ends a chunked body's trailer section.
    async fn skip_trailers(
        &mut self,
        buf: &mut Vec<u8>,
        timeout: Option<Duration>,
        received: u64,
    ) -> Result<(u64, bool), ExchangeError> {
        loop {
            if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
                let blank = end == 0;
                buf.drain(..end + 2);
                if blank {
                    return Ok((received, buf.is_empty()));
                }
                continue;
            }
            if self.read_more(buf, timeout, 0).await? == 0 {
                return Ok((received, false));
            }
        }
    }
}

/// What the bytes read so far hold.
enum Parsed<T> {
    /// A final response head of this many bytes, inspected.
    Final(usize, (T, BodyPlan)),
    /// An interim (1xx) response head of this many bytes.
    Interim(usize),
    /// Not a whole head yet.
    Partial,
}

/// Parses a response head at the start of `buf` (a synchronous function, so that the header
/// array lives on the stack and not in the exchange's future).
fn parse_head<T>(
    buf: &[u8],
    head_request: bool,
    inspect: &mut impl FnMut(&ResponseHead<'_, '_>) -> T,
) -> Result<Parsed<T>, ExchangeError> {
    let mut few = [httparse::EMPTY_HEADER; FEW_HEADERS];
    match parse_with(buf, &mut few, head_request, inspect) {
        Err(ExchangeError::Malformed(m)) if m == TOO_MANY_HEADERS => {
            let mut many = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
            parse_with(buf, &mut many, head_request, inspect)
        }
        other => other,
    }
}

const TOO_MANY_HEADERS: &str = "Invalid response head: too many headers";

fn parse_with<'b, T>(
    buf: &'b [u8],
    headers: &mut [httparse::Header<'b>],
    head_request: bool,
    inspect: &mut impl FnMut(&ResponseHead<'_, '_>) -> T,
) -> Result<Parsed<T>, ExchangeError> {
    let mut parsed = httparse::Response::new(headers);
    match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let head = ResponseHead {
                minor_version: parsed.version.unwrap_or(1),
                status: parsed.code.unwrap_or(0),
                reason: parsed.reason.unwrap_or(""),
                headers: parsed.headers,
                len,
            };
            if (100..200).contains(&head.status) && head.status != 101 {
                return Ok(Parsed::Interim(len));
            }
            let plan = head.body_plan(head_request)?;
            Ok(Parsed::Final(len, (inspect(&head), plan)))
        }
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => Err(ExchangeError::Malformed(
            format!("Response head longer than {MAX_HEAD} bytes"),
        )),
        Ok(httparse::Status::Partial) => Ok(Parsed::Partial),
        Err(httparse::Error::TooManyHeaders) => {
            Err(ExchangeError::Malformed(TOO_MANY_HEADERS.into()))
        }
        Err(e) => Err(ExchangeError::Malformed(format!(
            "Invalid response head: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection to a loopback listener that answers with `response` (in pieces).
    async fn exchange(
        response: &'static [&'static [u8]],
    ) -> (Result<(u16, u64, Vec<u8>, bool), String>, BodyPlan) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut req = [0u8; 1024];
            let _ = s.read(&mut req).await;
            for piece in response {
                s.write_all(piece).await.unwrap();
                s.flush().await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut c = Connection::new(Stream::Plain(stream), false, "127.0.0.1", port);
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut buf = Vec::new();
        let (status, plan) = match c.read_head(&mut buf, None, false, |h| h.status).await {
            Ok(v) => v,
            Err(e) => {
                return (
                    Err(format!("{e:?}")),
                    BodyPlan {
                        framing: Framing::Empty,
                        keep_alive: false,
                    },
                );
            }
        };
        let mut body = Vec::new();
        let result = c
            .read_body(&mut buf, plan.framing, None, Some(&mut body))
            .await
            .map(|(n, clean)| (status, n, body, clean))
            .map_err(|e| format!("{e:?}"));
        (result, plan)
    }

    #[tokio::test]
    async fn bodies_are_read_by_length_chunks_and_close() {
        let (r, plan) =
            exchange(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", b"llo"]).await;
        assert_eq!(r.unwrap(), (200, 5, b"hello".to_vec(), true));
        assert!(plan.keep_alive);

        let (r, plan) = exchange(&[
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
            b"c\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ])
        .await;
        assert_eq!(r.unwrap(), (201, 5, b"abcde".to_vec(), true));
        assert_eq!(plan.framing, Framing::Chunked);

        let (r, plan) = exchange(&[b"HTTP/1.0 200 OK\r\n\r\nuntil", b" close"]).await;
        assert_eq!(r.unwrap(), (200, 11, b"until close".to_vec(), false));
        assert!(!plan.keep_alive);

        let (r, plan) = exchange(&[b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"]).await;
        assert_eq!(r.unwrap(), (204, 0, Vec::new(), true));
        assert!(!plan.keep_alive);
    }

    #[tokio::test]
    async fn cut_and_malformed_responses_are_told_apart() {
        let (r, _) = exchange(&[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]).await;
        assert_eq!(r.unwrap_err(), "Truncated { expected: 10, received: 3 }");
        let (r, _) = exchange(&[b"HTTP/1.1 200 OK\r\nContent-"]).await;
        assert_eq!(r.unwrap_err(), "NoResponse");
        let (r, _) = exchange(&[]).await;
        assert!(r.unwrap_err().starts_with("Stale"));
        let (r, _) = exchange(&[b"SMTP ready\r\n\r\n"]).await;
        assert!(r.unwrap_err().starts_with("Malformed"));
        // More headers than the stack array holds: parsed again with room for them.
        let headers: String = (0..30).map(|i| format!("X-H{i}: v\r\n")).collect();
        let many = format!("HTTP/1.1 200 OK\r\n{headers}Content-Length: 0\r\n\r\n");
        let pieces = vec![&*Box::leak(many.into_bytes().into_boxed_slice())];
        let (r, _) = exchange(Box::leak(pieces.into_boxed_slice())).await;
        assert_eq!(r.unwrap(), (200, 0, Vec::new(), true));
        let (r, _) = exchange(&[b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"]).await;
        assert!(r.unwrap_err().contains("Invalid content length: x"));
    }
}
