//! The virtual user's HTTP/1.1 client: one keep-alive connection per host and port, timed the
//! way JMeter times a sample (elapsed from request start to the last body byte, latency to the
//! response head, connect time 0 on a reused connection), with network failures reported as
//! JMeter reports them ("Non HTTP response code: java.net.ConnectException", …) so that the
//! error-class rules recognise them. `https` goes through rustls and, as in JMeter, accepts any
//! server certificate (load tests target staging hosts with self-signed certificates).

use std::collections::HashMap;
use std::io;
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
    pub code: String,
    pub message: String,
    pub bytes_received: i64,
    pub bytes_sent: i64,
    /// The body as text, when the caller asked for it.
    pub body: String,
    pub url: String,
    pub data_type: Option<&'static str>,
    pub encoding: Option<String>,
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

/// Where one hop of a request goes.
#[derive(Debug, Clone)]
struct Target {
    method: String,
    tls: bool,
    host: String,
    port: u16,
    path: String,
    body: Bytes,
}

impl Target {
    fn url(&self) -> String {
        url(self.tls, &self.host, self.port, &self.path)
    }

    fn key(&self) -> ConnKey {
        (self.tls, self.host.clone(), self.port)
    }
}

/// A pooled connection's identity: TLS or not, host, port.
type ConnKey = (bool, String, u16);

/// Keep-alive connections of one virtual user.
#[derive(Default)]
pub(crate) struct HttpClient {
    conns: HashMap<ConnKey, SendRequest<Full<Bytes>>>,
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
        let mut target = Target {
            method: step.method.clone(),
            tls: step.tls,
            host: step.host.clone(),
            port: step.port,
            path: step.path_and_query.clone(),
            body: step.body.clone(),
        };
        let mut r = HttpResult {
            ts_ms,
            elapsed_ms: 0,
            latency_ms: 0,
            connect_ms: 0,
            status: None,
            code: String::new(),
            message: String::new(),
            bytes_received: 0,
            bytes_sent: 0,
            body: String::new(),
            url: target.url(),
            data_type: None,
            encoding: None,
            headers: String::new(),
            request_headers: String::new(),
            header_bytes: 0,
        };
        let mut latency: Option<Duration> = None;
        for hop in 0..=MAX_REDIRECTS {
            r.url = target.url();
            let outcome = self
                .hop(step, &target, keep, start, &mut r, &mut latency)
                .await;
            let location = match outcome {
                Ok(location) => location,
                Err(f) => {
                    let (class, msg) = f.describe(&target.host, target.port);
                    r.status = None;
                    r.code = format!("Non HTTP response code: {class}");
                    r.message = format!("Non HTTP response message: {msg}");
                    r.body.clear();
                    break;
                }
            };
            let status = r.status.unwrap_or(0);
            let Some(location) = location.filter(|_| step.follow_redirects && hop < MAX_REDIRECTS)
            else {
                break;
            };
            let Some(next) = redirect_target(&target, &location, status) else {
                break;
            };
            tracing::trace!(from = %r.url, to = %next.url(), "following redirect");
            target = next;
        }
        r.elapsed_ms = ms(start.elapsed());
        r.latency_ms = latency.map(ms).unwrap_or(0);
        r
    }

    /// One request/response exchange; returns the `Location` of a redirect response.
    async fn hop(
        &mut self,
        step: &HttpStep,
        t: &Target,
        keep: Keep,
        start: Instant,
        r: &mut HttpResult,
        latency: &mut Option<Duration>,
    ) -> Result<Option<String>, Failure> {
        let key = t.key();
        let mut retried = false;
        let response = loop {
            let (mut sender, reused) = match self.reusable(&key).await {
                Some(s) => (s, true),
                None => {
                    let before = start.elapsed();
                    let s = connect(t, step.connect_timeout).await?;
                    r.connect_ms += ms(start.elapsed().saturating_sub(before));
                    (s, false)
                }
            };
            let path = t.path.split('?').next().unwrap_or("/");
            let cookie = if step.cookies {
                self.cookies.header(&t.host, path)
            } else {
                None
            };
            let (req, sent) = build_request(step, t, cookie.as_deref())?;
            r.bytes_sent += sent;
            if keep.headers {
                r.request_headers.clear();
                for (n, v) in req.headers() {
                    push_title_case(&mut r.request_headers, n.as_str());
                    r.request_headers.push_str(": ");
                    r.request_headers
                        .push_str(&String::from_utf8_lossy(v.as_bytes()));
                    r.request_headers.push('\n');
                }
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
                    self.conns.insert(key.clone(), sender);
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
                    self.cookies.store(&t.host, path, v);
                }
            }
        }
        self.read_response(response, step, keep, r).await
    }

    /// A pooled connection to `key` that can take a request now.
    async fn reusable(&mut self, key: &ConnKey) -> Option<SendRequest<Full<Bytes>>> {
        let mut sender = self.conns.remove(key)?;
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
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|p| String::from_utf8_lossy(p.as_bytes()).into_owned())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
        // Status line + headers + blank line, as they came over the wire (approximately).
        let mut head = "HTTP/1.1 ".len() + 3 + 1 + reason.len() + 2 + 2;
        for (name, value) in resp.headers() {
            head += name.as_str().len() + 2 + value.len() + 2;
        }
        r.bytes_received += head as i64;
        r.header_bytes = head as i64;
        if keep.headers {
            r.headers = format!("HTTP/1.1 {} {reason}\n", status.as_str());
            for (name, value) in resp.headers() {
                push_title_case(&mut r.headers, name.as_str());
                r.headers.push_str(": ");
                r.headers
                    .push_str(&String::from_utf8_lossy(value.as_bytes()));
                r.headers.push('\n');
            }
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
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
        r.code = status.as_str().to_string();
        r.message = reason;
        r.body = String::from_utf8_lossy(&data).into_owned();
        r.encoding = content_type.as_deref().and_then(charset);
        r.data_type = Some(match content_type.as_deref() {
            Some(ct) if is_binary(ct) => "bin",
            _ => "text",
        });
        Ok(location)
    }
}

/// A new connection to `t` (TLS handshake included, as JMeter's connect time includes it).
async fn connect(t: &Target, limit: Option<Duration>) -> Result<SendRequest<Full<Bytes>>, Failure> {
    let connecting = async {
        let stream = TcpStream::connect((t.host.as_str(), t.port))
            .await
            .map_err(Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        if t.tls {
            let stream = tls::connect(stream, &t.host).await.map_err(Failure::Tls)?;
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
    let (sender, conn) = http1::handshake(io).await.map_err(Failure::Hyper)?;
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
    t: &Target,
    cookie: Option<&str>,
) -> Result<(Request<Full<Bytes>>, i64), Failure> {
    let mut b = Request::builder()
        .method(t.method.as_str())
        .uri(t.path.as_str());
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
            t.host.clone()
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
fn redirect_target(from: &Target, location: &str, status: u16) -> Option<Target> {
    let (method, body) = if matches!(status, 307 | 308) {
        (from.method.clone(), from.body.clone())
    } else {
        ("GET".to_string(), Bytes::new())
    };
    let mut next = Target {
        method,
        body,
        ..from.clone()
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

fn charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
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

    fn target(path: &str) -> Target {
        Target {
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
        let n = redirect_target(&t, "c", 302).unwrap();
        assert_eq!(
            (n.method.as_str(), n.path.as_str(), n.body.len()),
            ("GET", "/a/c", 0)
        );
        let n = redirect_target(&t, "/z", 307).unwrap();
        assert_eq!(
            (n.method.as_str(), n.path.as_str(), n.body.len()),
            ("POST", "/z", 1)
        );
        let n = redirect_target(&t, "http://other:81/p", 301).unwrap();
        assert_eq!(
            (n.host.as_str(), n.port, n.url()),
            ("other", 81, "http://other:81/p".into())
        );
        let n = redirect_target(&t, "https://x/", 302).unwrap();
        assert_eq!((n.tls, n.port, n.url()), (true, 443, "https://x/".into()));
        assert!(redirect_target(&t, "ftp://x/", 302).is_none());
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
