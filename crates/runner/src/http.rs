//! The virtual user's HTTP/1.1 client: one keep-alive connection per host and port, timed the
//! way JMeter times a sample (elapsed from request start to the last body byte, latency to the
//! response head, connect time 0 on a reused connection), with network failures reported as
//! JMeter reports them ("Non HTTP response code: java.net.ConnectException", …) so that the
//! error-class rules recognise them. `https` goes through rustls and, as in JMeter, accepts any
//! server certificate (load tests target staging hosts with self-signed certificates).

use std::borrow::Cow;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, LOCATION, SET_COOKIE};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::cookies::CookieJar;
use crate::model::{HttpStep, url};
use crate::tls;

/// Bytes read from a connection at a time.
const READ_BUFFER: usize = 4096;

/// JMeter's `httpsampler.max_redirects`.
const MAX_REDIRECTS: usize = 20;

/// The outcome of one HTTP sample.
#[derive(Debug, Clone)]
pub(crate) struct HttpResult {
    pub ts_ms: i64,
    pub elapsed_ms: i64,
    pub latency_ms: i64,
    pub connect_ms: i64,
    /// The HTTP status, `None` for a network failure.
    pub status: Option<u16>,
    pub code: Cow<'static, str>,
    pub message: Cow<'static, str>,
    pub bytes_received: i64,
    pub bytes_sent: i64,
    /// The body as text, when the caller asked for it.
    pub body: String,
    pub url: Arc<str>,
    pub data_type: Option<&'static str>,
    pub encoding: Option<Cow<'static, str>>,
    /// Response headers of the last hop, JMeter-style (`HTTP/1.1 200 OK\nName: value\n`),
    /// when the caller asked for them.
    pub headers: String,
    /// Request headers of the last hop (`Name: value\n` lines), when asked for.
    pub request_headers: String,
    /// Bytes of the last hop's response head (status line and headers).
    pub header_bytes: i64,
}

/// What of a response the caller reads, besides the timings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Keep {
    /// The body text (assertions, extractors).
    pub body: bool,
    /// The response and request header blocks.
    pub headers: bool,
}

/// A network failure, mapped to JMeter's exception names.
#[derive(Debug)]
enum Failure {
    Connect(io::Error),
    ConnectTimeout,
    ReadTimeout,
    Tls(io::Error),
    Hyper(hyper::Error),
    Request(String),
}

impl Failure {
    /// (exception class, message) as JMeter's HttpClient 4 sampler reports them.
    fn describe(&self, host: &str, port: u16) -> (String, String) {
        let pair = |c: &str, m: String| (c.to_string(), m);
        match self {
            Failure::Connect(e) => match e.kind() {
                io::ErrorKind::ConnectionRefused => {
                    pair("java.net.ConnectException", "Connection refused".into())
                }
                io::ErrorKind::TimedOut => pair(
                    "org.apache.http.conn.ConnectTimeoutException",
                    format!("Connect to {host}:{port} failed: connect timed out"),
                ),
                io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                    pair("java.net.NoRouteToHostException", "No route to host".into())
                }
                _ if e.to_string().contains("lookup") => pair(
                    "java.net.UnknownHostException",
                    format!("{host}: Name or service not known"),
                ),
                _ => pair("java.net.SocketException", e.to_string()),
            },
            Failure::ConnectTimeout => pair(
                "org.apache.http.conn.ConnectTimeoutException",
                format!("Connect to {host}:{port} failed: connect timed out"),
            ),
            Failure::ReadTimeout => {
                pair("java.net.SocketTimeoutException", "Read timed out".into())
            }
            Failure::Tls(e) => pair("javax.net.ssl.SSLHandshakeException", e.to_string()),
            Failure::Hyper(e) if e.is_parse() => {
                pair("org.apache.http.ProtocolException", e.to_string())
            }
            Failure::Hyper(e) if e.is_incomplete_message() => pair(
                "org.apache.http.NoHttpResponseException",
                format!("{host}:{port} failed to respond"),
            ),
            Failure::Hyper(e) => pair("java.io.IOException", e.to_string()),
            Failure::Request(m) => pair("java.lang.IllegalArgumentException", m.clone()),
        }
    }
}

/// Where one hop of a request goes (borrowed from the step, or from a redirect's target).
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    method: &'a str,
    tls: bool,
    host: &'a str,
    port: u16,
    path: &'a str,
    body: &'a Bytes,
}

impl<'a> Target<'a> {
    fn of(step: &'a HttpStep) -> Target<'a> {
        Target {
            method: &step.method,
            tls: step.tls,
            host: &step.host,
            port: step.port,
            path: &step.path_and_query,
            body: &step.body,
        }
    }

    fn url(&self) -> String {
        url(self.tls, self.host, self.port, self.path)
    }

    fn same_server(&self, conn: &Conn) -> bool {
        conn.tls == self.tls && conn.port == self.port && *conn.host == *self.host
    }
}

/// The target of a redirect.
#[derive(Debug, Clone)]
struct OwnedTarget {
    method: String,
    tls: bool,
    host: String,
    port: u16,
    path: String,
    body: Bytes,
}

impl OwnedTarget {
    fn view(&self) -> Target<'_> {
        Target {
            method: &self.method,
            tls: self.tls,
            host: &self.host,
            port: self.port,
            path: &self.path,
            body: &self.body,
        }
    }
}

/// A pooled keep-alive connection and the server it goes to.
struct Conn {
    tls: bool,
    host: Box<str>,
    port: u16,
    sender: SendRequest<Full<Bytes>>,
}

/// Keep-alive connections of one virtual user (a plan talks to few servers: a list is the
/// cheapest map, and looking up needs no allocation).
#[derive(Default)]
pub(crate) struct HttpClient {
    conns: Vec<Conn>,
    /// The user's cookies (used by steps with a Cookie Manager in scope).
    pub cookies: CookieJar,
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl HttpClient {
    /// Runs `step` (following redirects when it says so) and measures it; never fails: network
    /// errors become a failed result. `keep_body` keeps the body text for assertions.
    pub async fn execute(&mut self, step: &HttpStep, keep: Keep) -> HttpResult {
        let ts_ms = now_ms();
        let start = Instant::now();
        let mut r = HttpResult {
            ts_ms,
            elapsed_ms: 0,
            latency_ms: 0,
            connect_ms: 0,
            status: None,
            code: Cow::Borrowed(""),
            message: Cow::Borrowed(""),
            bytes_received: 0,
            bytes_sent: 0,
            body: String::new(),
            url: step.url_arc.clone(),
            data_type: None,
            encoding: None,
            headers: String::new(),
            request_headers: String::new(),
            header_bytes: 0,
        };
        let mut latency: Option<Duration> = None;
        let mut redirected: Option<OwnedTarget> = None;
        for hop in 0..=MAX_REDIRECTS {
            let target = match &redirected {
                Some(t) => t.view(),
                None => Target::of(step),
            };
            if redirected.is_some() {
                r.url = Arc::from(target.url());
            }
            let outcome = self
                .hop(step, target, keep, start, &mut r, &mut latency)
                .await;
            let location = match outcome {
                Ok(location) => location,
                Err(f) => {
                    let (class, msg) = f.describe(target.host, target.port);
                    r.status = None;
                    r.code = Cow::Owned(format!("Non HTTP response code: {class}"));
                    r.message = Cow::Owned(format!("Non HTTP response message: {msg}"));
                    r.body.clear();
                    break;
                }
            };
            let status = r.status.unwrap_or(0);
            let Some(location) = location.filter(|_| step.follow_redirects && hop < MAX_REDIRECTS)
            else {
                break;
            };
            let Some(next) = redirect_target(target, &location, status) else {
                break;
            };
            tracing::trace!(from = %r.url, to = %next.view().url(), "following redirect");
            redirected = Some(next);
        }
        r.elapsed_ms = ms(start.elapsed());
        r.latency_ms = latency.map(ms).unwrap_or(0);
        r
    }

    /// One request/response exchange; returns the `Location` of a redirect response.
    async fn hop(
        &mut self,
        step: &HttpStep,
        t: Target<'_>,
        keep: Keep,
        start: Instant,
        r: &mut HttpResult,
        latency: &mut Option<Duration>,
    ) -> Result<Option<String>, Failure> {
        let mut retried = false;
        let response = loop {
            let (mut sender, reused) = match self.reusable(t).await {
                Some(s) => (s, true),
                None => {
                    let before = start.elapsed();
                    let s = connect(&t, step.connect_timeout).await?;
                    r.connect_ms += ms(start.elapsed().saturating_sub(before));
                    (s, false)
                }
            };
            let path = t.path.split('?').next().unwrap_or("/");
            let cookie = if step.cookies {
                self.cookies.header(t.host, path)
            } else {
                None
            };
            let (req, sent) = build_request(step, &t, cookie.as_deref())?;
            r.bytes_sent += sent;
            if keep.headers {
                r.request_headers.clear();
                push_header_lines(&mut r.request_headers, req.headers());
            }
            let sending = sender.send_request(req);
            let result = match step.response_timeout {
                Some(limit) => tokio::time::timeout(limit, sending)
                    .await
                    .map_err(|_| Failure::ReadTimeout)?,
                None => sending.await,
            };
            match result {
                Ok(resp) => {
                    self.conns.push(Conn {
                        tls: t.tls,
                        host: t.host.into(),
                        port: t.port,
                        sender,
                    });
                    break resp;
                }
                // A keep-alive connection the server closed meanwhile: reconnect once.
                Err(e) if reused && !retried && (e.is_incomplete_message() || e.is_canceled()) => {
                    retried = true;
                }
                Err(e) => return Err(Failure::Hyper(e)),
            }
        };
        latency.get_or_insert_with(|| start.elapsed());
        if step.cookies {
            let path = t.path.split('?').next().unwrap_or("/");
            for v in response.headers().get_all(SET_COOKIE) {
                if let Ok(v) = v.to_str() {
                    self.cookies.store(t.host, path, v);
                }
            }
        }
        self.read_response(response, step, keep, r).await
    }

    /// A pooled connection to `t`'s server that can take a request now (taken out of the
    /// pool; it goes back when its response arrives).
    async fn reusable(&mut self, t: Target<'_>) -> Option<SendRequest<Full<Bytes>>> {
        let i = self.conns.iter().position(|c| t.same_server(c))?;
        let mut sender = self.conns.swap_remove(i).sender;
        if sender.is_closed() {
            return None;
        }
        sender.ready().await.ok()?;
        Some(sender)
    }

    async fn read_response(
        &mut self,
        resp: Response<hyper::body::Incoming>,
        step: &HttpStep,
        keep: Keep,
        r: &mut HttpResult,
    ) -> Result<Option<String>, Failure> {
        let status = resp.status();
        // hyper keeps a reason phrase only when it is not the canonical one.
        let reason: Cow<'static, str> = match resp.extensions().get::<hyper::ext::ReasonPhrase>() {
            Some(p) => Cow::Owned(String::from_utf8_lossy(p.as_bytes()).into_owned()),
            None => Cow::Borrowed(status.canonical_reason().unwrap_or("")),
        };
        // Status line + headers + blank line, as they came over the wire (approximately).
        let mut head = "HTTP/1.1 ".len() + 3 + 1 + reason.len() + 2 + 2;
        for (name, value) in resp.headers() {
            head += name.as_str().len() + 2 + value.len() + 2;
        }
        r.bytes_received += head as i64;
        r.header_bytes = head as i64;
        if keep.headers {
            r.headers = format!("HTTP/1.1 {} {reason}\n", status.as_str());
            push_header_lines(&mut r.headers, resp.headers());
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        r.encoding = content_type.and_then(charset);
        r.data_type = Some(match content_type {
            Some(ct) if is_binary(ct) => "bin",
            _ => "text",
        });
        let location = status
            .is_redirection()
            .then(|| resp.headers().get(LOCATION))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = resp.into_body();
        let mut data = Vec::new();
        loop {
            let frame = match step.response_timeout {
                Some(limit) => tokio::time::timeout(limit, body.frame())
                    .await
                    .map_err(|_| Failure::ReadTimeout)?,
                None => body.frame().await,
            };
            let Some(frame) = frame else { break };
            let frame = frame.map_err(Failure::Hyper)?;
            if let Some(chunk) = frame.data_ref() {
                r.bytes_received += chunk.len() as i64;
                if keep.body {
                    data.extend_from_slice(chunk);
                }
            }
        }
        r.status = Some(status.as_u16());
        r.code = status_code_text(status.as_u16());
        r.message = reason;
        if !data.is_empty() {
            r.body = String::from_utf8_lossy(&data).into_owned();
        }
        Ok(location)
    }
}

/// A new connection to `t` (TLS handshake included, as JMeter's connect time includes it).
async fn connect(
    t: &Target<'_>,
    limit: Option<Duration>,
) -> Result<SendRequest<Full<Bytes>>, Failure> {
    let connecting = async {
        let stream = TcpStream::connect((t.host, t.port))
            .await
            .map_err(Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        if t.tls {
            let stream = tls::connect(stream, t.host).await.map_err(Failure::Tls)?;
            handshake(TokioIo::new(stream)).await
        } else {
            handshake(TokioIo::new(stream)).await
        }
    };
    match limit {
        Some(limit) => tokio::time::timeout(limit, connecting)
            .await
            .map_err(|_| Failure::ConnectTimeout)?,
        None => connecting.await,
    }
}

/// The HTTP/1.1 handshake on an open stream; the connection task runs on its own.
async fn handshake<I>(io: I) -> Result<SendRequest<Full<Bytes>>, Failure>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // A 4 KiB read buffer (as Go's HTTP client uses) instead of hyper's adaptive 8 KiB start:
    // an idle user keeps its connection, and with it this buffer, between requests.
    let (sender, conn) = http1::Builder::new()
        .read_buf_exact_size(Some(READ_BUFFER))
        .handshake(io)
        .await
        .map_err(Failure::Hyper)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "HTTP connection ended with an error");
        }
    });
    Ok(sender)
}

/// The request for one hop and its approximate size on the wire.
fn build_request(
    step: &HttpStep,
    t: &Target<'_>,
    cookie: Option<&str>,
) -> Result<(Request<Full<Bytes>>, i64), Failure> {
    let mut b = Request::builder().method(t.method).uri(t.path);
    let mut size = t.method.len() + 1 + t.path.len() + " HTTP/1.1\r\n".len() + 2;
    let mut add = |b: hyper::http::request::Builder, n: &str, v: &str| {
        size += n.len() + 2 + v.len() + 2;
        b.header(n, v)
    };
    if !step
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("host"))
    {
        let host = if t.port == if t.tls { 443 } else { 80 } {
            t.host.to_string()
        } else {
            format!("{}:{}", t.host, t.port)
        };
        b = add(b, HOST.as_str(), &host);
    }
    if let Some(cookie) = cookie {
        b = add(b, COOKIE.as_str(), cookie);
    }
    for (n, v) in &step.headers {
        // The length is computed from the body actually sent.
        if !n.eq_ignore_ascii_case("content-length") {
            b = add(b, n, v);
        }
    }
    if !t.body.is_empty() {
        if let Some(ct) = &step.form_content_type
            && !step
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            b = add(b, CONTENT_TYPE.as_str(), ct);
        }
        b = add(b, CONTENT_LENGTH.as_str(), &t.body.len().to_string());
    }
    let req = b
        .body(Full::new(t.body.clone()))
        .map_err(|e| Failure::Request(e.to_string()))?;
    Ok((req, (size + t.body.len()) as i64))
}

/// The next hop of a redirect: 307/308 keep the method and body, the others become a GET.
/// `None` for a location the runner cannot follow (another scheme, malformed).
fn redirect_target(from: Target<'_>, location: &str, status: u16) -> Option<OwnedTarget> {
    let (method, body) = if matches!(status, 307 | 308) {
        (from.method.to_string(), from.body.clone())
    } else {
        ("GET".to_string(), Bytes::new())
    };
    let mut next = OwnedTarget {
        method,
        tls: from.tls,
        host: from.host.to_string(),
        port: from.port,
        path: from.path.to_string(),
        body,
    };
    let absolute = if let Some(rest) = location.strip_prefix("http://") {
        Some((false, rest))
    } else {
        location.strip_prefix("https://").map(|rest| (true, rest))
    };
    if let Some((tls, rest)) = absolute {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        next.tls = tls;
        match authority.rsplit_once(':') {
            Some((h, p)) => {
                next.host = h.to_string();
                next.port = p.parse().ok()?;
            }
            None => {
                next.host = authority.to_string();
                next.port = if tls { 443 } else { 80 };
            }
        }
        next.path = if path.is_empty() {
            "/".into()
        } else {
            path.into()
        };
    } else if location.contains("://") {
        return None;
    } else if location.starts_with('/') {
        next.path = location.to_string();
    } else {
        let base = from.path.split('?').next().unwrap_or("/");
        let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
        next.path = format!("{dir}{location}");
    }
    next.path.parse::<hyper::http::uri::PathAndQuery>().ok()?;
    Some(next)
}

/// Appends `Name: value\n` for each header, names in the usual capitalisation, as JMeter shows
/// request and response headers.
fn push_header_lines(out: &mut String, headers: &hyper::HeaderMap) {
    for (name, value) in headers {
        push_title_case(out, name.as_str());
        out.push_str(": ");
        out.push_str(&String::from_utf8_lossy(value.as_bytes()));
        out.push('\n');
    }
}

/// Appends a header name in the usual capitalisation (`content-type` → `Content-Type`): hyper
/// keeps names in lower case, JMeter shows them as the server sent them, which is almost always
/// this form.
fn push_title_case(out: &mut String, name: &str) {
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c });
        upper = c == '-';
    }
}

/// The charset of a `Content-Type` (the usual ones without allocating).
fn charset(content_type: &str) -> Option<Cow<'static, str>> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        Some(match v {
            "utf-8" => Cow::Borrowed("utf-8"),
            "UTF-8" => Cow::Borrowed("UTF-8"),
            "ISO-8859-1" => Cow::Borrowed("ISO-8859-1"),
            other => Cow::Owned(other.to_string()),
        })
    })
}

/// The response code as text; the common ones without allocating.
fn status_code_text(code: u16) -> Cow<'static, str> {
    const COMMON: &[(u16, &str)] = &[
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (301, "301"),
        (302, "302"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    match COMMON.iter().find(|(c, _)| *c == code) {
        Some((_, text)) => Cow::Borrowed(text),
        None => Cow::Owned(code.to_string()),
    }
}

/// JMeter's default binary content types.
fn is_binary(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    ["image/", "audio/", "video/", "application/octet-stream"]
        .iter()
        .any(|p| ct.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> OwnedTarget {
        OwnedTarget {
            method: "POST".into(),
            tls: false,
            host: "h".into(),
            port: 8080,
            path: path.into(),
            body: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn redirect_targets_resolve_like_a_browser() {
        let t = target("/a/b?q=1");
        let n = redirect_target(t.view(), "c", 302).unwrap();
        assert_eq!(
            (n.method.as_str(), n.path.as_str(), n.body.len()),
            ("GET", "/a/c", 0)
        );
        let n = redirect_target(t.view(), "/z", 307).unwrap();
        assert_eq!(
            (n.method.as_str(), n.path.as_str(), n.body.len()),
            ("POST", "/z", 1)
        );
        let n = redirect_target(t.view(), "http://other:81/p", 301).unwrap();
        assert_eq!(
            (n.host.as_str(), n.port, n.view().url()),
            ("other", 81, "http://other:81/p".into())
        );
        let n = redirect_target(t.view(), "https://x/", 302).unwrap();
        assert_eq!(
            (n.tls, n.port, n.view().url()),
            (true, 443, "https://x/".into())
        );
        assert!(redirect_target(t.view(), "ftp://x/", 302).is_none());
        assert_eq!(
            charset("text/html; charset=\"UTF-8\"").as_deref(),
            Some("UTF-8")
        );
        assert!(is_binary("image/png"));
        let mut s = String::new();
        push_title_case(&mut s, "x-request-id");
        assert_eq!(s, "X-Request-Id");
    }
}
