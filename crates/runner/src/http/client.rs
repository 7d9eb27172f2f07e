//! The virtual user's HTTP/1.1 client: keep-alive connections per host and port (driven by
//! [`crate::http::h1`] inside the user's task), timed the way JMeter times a sample (elapsed from
//! request start to the last body byte, latency to the response head, connect time 0 on a reused
//! connection), with network failures reported as JMeter reports them ("Non HTTP response code:
//! java.net.ConnectException", …) so that the error-class rules recognise them. `https` goes
//! through rustls and, as in JMeter, accepts any server certificate (load tests target staging
//! hosts with self-signed certificates).

use std::borrow::Cow;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::net::TcpStream;

use crate::http::cookies::CookieJar;
use crate::http::h1::{Connection, ExchangeError, FIRST_READ, ResponseHead, Stream};
use crate::http::tls;
use crate::model::{HttpRequest, HttpStep, Keep, url};

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
    /// The same times in µs (the `_ms` ones are these truncated, as JMeter truncates).
    pub micros: crate::sample::Micros,
}

/// A network failure, mapped to JMeter's exception names.
#[derive(Debug)]
enum Failure {
    Connect(io::Error),
    ConnectTimeout,
    Tls(io::Error),
    Exchange(ExchangeError),
}

impl From<ExchangeError> for Failure {
    fn from(e: ExchangeError) -> Failure {
        Failure::Exchange(e)
    }
}

impl Failure {
    /// (exception class, message) as JMeter's HttpClient 4 sampler reports them.
    fn describe(&self, host: &str, port: u16) -> (String, String) {
        let pair = |c: &str, m: String| (c.to_string(), m);
        let connect_timeout = || {
            pair(
                "org.apache.http.conn.ConnectTimeoutException",
                format!("Connect to {host}:{port} failed: connect timed out"),
            )
        };
        match self {
            Failure::Connect(e) => match e.kind() {
                io::ErrorKind::ConnectionRefused => {
                    pair("java.net.ConnectException", "Connection refused".into())
                }
                io::ErrorKind::TimedOut => connect_timeout(),
                io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                    pair("java.net.NoRouteToHostException", "No route to host".into())
                }
                _ if e.to_string().contains("lookup") => pair(
                    "java.net.UnknownHostException",
                    format!("{host}: Name or service not known"),
                ),
                _ => pair("java.net.SocketException", e.to_string()),
            },
            Failure::ConnectTimeout => connect_timeout(),
            Failure::Tls(e) => pair("javax.net.ssl.SSLHandshakeException", e.to_string()),
            Failure::Exchange(ExchangeError::ReadTimeout) => {
                pair("java.net.SocketTimeoutException", "Read timed out".into())
            }
            Failure::Exchange(ExchangeError::Stale(e) | ExchangeError::Io(e)) => match e.kind() {
                io::ErrorKind::UnexpectedEof => pair(
                    "org.apache.http.NoHttpResponseException",
                    format!("{host}:{port} failed to respond"),
                ),
                io::ErrorKind::ConnectionReset => {
                    pair("java.net.SocketException", "Connection reset".into())
                }
                io::ErrorKind::BrokenPipe => pair("java.net.SocketException", "Broken pipe".into()),
                _ => pair("java.io.IOException", e.to_string()),
            },
            Failure::Exchange(ExchangeError::NoResponse) => pair(
                "org.apache.http.NoHttpResponseException",
                format!("{host}:{port} failed to respond"),
            ),
            Failure::Exchange(ExchangeError::Malformed(m)) => {
                pair("org.apache.http.ProtocolException", m.clone())
            }
            Failure::Exchange(ExchangeError::Truncated { expected, received }) => pair(
                "org.apache.http.ConnectionClosedException",
                format!(
                    "Premature end of Content-Length delimited message body (expected: \
                     {expected}; received: {received})"
                ),
            ),
        }
    }
}

/// Where one hop of a request goes (borrowed from the request, or from a redirect's target).
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
    fn of(req: &'a HttpRequest) -> Target<'a> {
        Target {
            method: &req.method,
            tls: req.tls,
            host: &req.host,
            port: req.port,
            path: &req.path_and_query,
            body: &req.body,
        }
    }

    fn url(&self) -> String {
        url(self.tls, self.host, self.port, self.path)
    }

    fn same_server(&self, conn: &Connection) -> bool {
        conn.tls == self.tls && conn.port == self.port && *conn.host == *self.host
    }

    /// The path without the query string (the scope of cookies).
    fn cookie_path(&self) -> &'a str {
        self.path.split('?').next().unwrap_or("/")
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

/// Keep-alive connections and cookies of one virtual user (a plan talks to few servers: a list
/// is the cheapest map, and looking up needs no allocation).
#[derive(Default)]
pub(crate) struct HttpClient {
    conns: Vec<Connection>,
    /// The user's cookies (used by steps with a Cookie Manager in scope).
    pub cookies: CookieJar,
    /// The user's HTTP cache (used by steps with a Cache Manager in scope).
    pub cache: crate::http::cache::HttpCache,
    /// The request being sent (head and body), kept to reuse its allocation.
    out: Vec<u8>,
    /// Clients of their own (connections kept alive between samples) for embedded resources
    /// downloaded in parallel, as JMeter's pool of download threads.
    pub parallel: Vec<HttpClient>,
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

fn us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl HttpClient {
    /// Sends `req` with `step`'s settings (following redirects when it says so) and measures it;
    /// never fails: network errors become a failed result. `keep` says what of the response
    /// the caller reads.
    pub(crate) async fn execute(
        &mut self,
        req: &HttpRequest,
        step: &HttpStep,
        keep: Keep,
    ) -> HttpResult {
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
            url: req.url_arc.clone(),
            data_type: None,
            encoding: None,
            headers: String::new(),
            request_headers: String::new(),
            header_bytes: 0,
            micros: crate::sample::Micros::default(),
        };
        let mut latency: Option<Duration> = None;
        let mut redirected: Option<OwnedTarget> = None;
        for hop in 0..=MAX_REDIRECTS {
            let target = match &redirected {
                Some(t) => t.view(),
                None => Target::of(req),
            };
            if redirected.is_some() {
                r.url = Arc::from(target.url());
            }
            let outcome = self
                .hop(req, step, target, keep, start, &mut r, &mut latency)
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
        let elapsed = start.elapsed();
        r.elapsed_ms = ms(elapsed);
        r.latency_ms = latency.map(ms).unwrap_or(0);
        r.micros.elapsed = us(elapsed);
        r.micros.latency = latency.map(us).unwrap_or(0);
        r
    }

    /// One request/response exchange; returns the `Location` of a redirect response.
    #[allow(clippy::too_many_arguments)]
    async fn hop(
        &mut self,
        req: &HttpRequest,
        step: &HttpStep,
        t: Target<'_>,
        keep: Keep,
        start: Instant,
        r: &mut HttpResult,
        latency: &mut Option<Duration>,
    ) -> Result<Option<String>, Failure> {
        let cookie = if step.cookies {
            self.cookies.header(t.host, t.cookie_path())
        } else {
            None
        };
        let head_len = write_request(&mut self.out, req, &t, cookie.as_deref());
        if keep.headers {
            r.request_headers = request_header_lines(&self.out[..head_len]);
        }
        let mut buf = Vec::with_capacity(FIRST_READ);
        let mut retried = false;
        let (mut conn, head) = loop {
            let (mut conn, reused) = match self.take_pooled(t) {
                Some(c) => (c, true),
                None => {
                    let before = start.elapsed();
                    let c = connect(&t, step.connect_timeout).await?;
                    let took = start.elapsed().saturating_sub(before);
                    r.connect_ms += ms(took);
                    r.micros.connect += us(took);
                    (c, false)
                }
            };
            r.bytes_sent += self.out.len() as i64;
            let exchanged = match conn.send(&self.out).await {
                Ok(()) => {
                    let mut cookies = step.cookies.then_some(&mut self.cookies);
                    conn.read_head(&mut buf, step.response_timeout, t.method == "HEAD", |h| {
                        read_head(h, &t, keep, cookies.as_deref_mut(), r)
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            match exchanged {
                Ok(head) => break (conn, head),
                // A keep-alive connection the server closed meanwhile: send once more on a new one.
                Err(ExchangeError::Stale(_)) if reused && !retried => {
                    retried = true;
                    r.bytes_sent -= self.out.len() as i64;
                    buf.clear();
                }
                Err(e) => return Err(e.into()),
            }
        };
        latency.get_or_insert_with(|| start.elapsed());
        let (location, plan) = head;
        let mut data = Vec::new();
        let (body_len, clean) = conn
            .read_body(
                &mut buf,
                plan.framing,
                step.response_timeout,
                keep.body.then_some(&mut data),
            )
            .await?;
        r.bytes_received += body_len as i64;
        if !data.is_empty() {
            r.body = String::from_utf8_lossy(&data).into_owned();
        }
        if plan.keep_alive && clean {
            self.conns.push(conn);
        }
        Ok(location)
    }

    /// A pooled connection to `t`'s server (taken out of the pool; it goes back when its
    /// response has been read).
    fn take_pooled(&mut self, t: Target<'_>) -> Option<Connection> {
        let i = self.conns.iter().position(|c| t.same_server(c))?;
        Some(self.conns.swap_remove(i))
    }
}

/// Takes from a response head what the sample reports (status, message, sizes, content type,
/// headers when kept) and the cookies it sets; returns the `Location` of a redirect.
fn read_head(
    h: &ResponseHead<'_, '_>,
    t: &Target<'_>,
    keep: Keep,
    cookies: Option<&mut CookieJar>,
    r: &mut HttpResult,
) -> Option<String> {
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    r.status = Some(h.status);
    r.code = status_code_text(h.status);
    r.message = match http::StatusCode::from_u16(h.status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(canonical) if canonical == h.reason => Cow::Borrowed(canonical),
        _ => Cow::Owned(h.reason.to_string()),
    };
    r.bytes_received += h.len as i64;
    r.header_bytes = h.len as i64;
    if keep.headers {
        let mut lines = format!("HTTP/1.{} {} {}\n", h.minor_version, h.status, h.reason);
        for header in h.headers {
            lines.push_str(header.name);
            lines.push_str(": ");
            lines.push_str(&String::from_utf8_lossy(header.value));
            lines.push('\n');
        }
        r.headers = lines;
    }
    let content_type = h
        .header("content-type")
        .and_then(|v| std::str::from_utf8(v).ok());
    r.encoding = content_type.and_then(charset);
    r.data_type = Some(match content_type {
        Some(ct) if is_binary(ct) => "bin",
        _ => "text",
    });
    if let Some(jar) = cookies {
        for v in h.all("set-cookie") {
            if let Ok(v) = std::str::from_utf8(v) {
                jar.store(t.host, t.cookie_path(), v);
            }
        }
    }
    (300..400)
        .contains(&h.status)
        .then(|| h.header("location").map(text))
        .flatten()
}

/// A new connection to `t` (TLS handshake included, as JMeter's connect time includes it).
async fn connect(t: &Target<'_>, limit: Option<Duration>) -> Result<Connection, Failure> {
    let connecting = async {
        let stream = TcpStream::connect((t.host, t.port))
            .await
            .map_err(Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        let stream = if t.tls {
            let tls = tls::connect(stream, t.host).await.map_err(Failure::Tls)?;
            Stream::Tls(Box::new(tls))
        } else {
            Stream::Plain(stream)
        };
        Ok(Connection::new(stream, t.tls, t.host, t.port))
    };
    match limit {
        Some(limit) => tokio::time::timeout(limit, connecting)
            .await
            .map_err(|_| Failure::ConnectTimeout)?,
        None => connecting.await,
    }
}

/// Writes the request for one hop into `out` (head, then body); returns the head's length.
/// Headers go out in the plan's spelling; `Host` first unless the plan sets it, the length
/// computed from the body actually sent.
fn write_request(
    out: &mut Vec<u8>,
    req: &HttpRequest,
    t: &Target<'_>,
    cookie: Option<&str>,
) -> usize {
    use std::io::Write as _;
    fn line(out: &mut Vec<u8>, name: &str, value: &str) {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let has = |name: &str| {
        req.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    out.clear();
    out.extend_from_slice(t.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(t.path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !has("host") {
        if t.port == if t.tls { 443 } else { 80 } {
            line(out, "Host", t.host);
        } else {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "Host: {}:{}\r\n", t.host, t.port);
        }
    }
    if let Some(cookie) = cookie {
        line(out, "Cookie", cookie);
    }
    for (n, v) in &req.headers {
        if !n.eq_ignore_ascii_case("content-length") {
            line(out, n, v);
        }
    }
    if !t.body.is_empty() || matches!(t.method, "POST" | "PUT" | "PATCH") {
        if !t.body.is_empty()
            && let Some(ct) = &req.form_content_type
            && !has("content-type")
        {
            line(out, "Content-Type", ct);
        }
        let _ = write!(out, "Content-Length: {}\r\n", t.body.len());
    }
    out.extend_from_slice(b"\r\n");
    let head_len = out.len();
    out.extend_from_slice(t.body);
    head_len
}

/// The header lines of a request head, JMeter-style (`Name: value\n`, no request line).
fn request_header_lines(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len());
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out
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
    next.path.parse::<http::uri::PathAndQuery>().ok()?;
    Some(next)
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
    }
}
