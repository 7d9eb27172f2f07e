//! The [`Response`] view: what assertions and extractors read of one finished HTTP sample,
//! borrowed from the virtual user's HTTP result.

/// What assertions and post-processors see of one finished HTTP sample.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Response<'a> {
    /// Response code (`200`, or JMeter's exception text for a network error).
    pub code: &'a str,
    /// Response message (`OK`, or the error text).
    pub message: &'a str,
    /// The response body as text (empty when it was not kept: nothing in scope reads it).
    pub body: &'a str,
    /// Response headers as JMeter keeps them: the status line, then `Name: value` lines, each
    /// ending in `\n` (`HTTP/1.1 200 OK\nContent-Type: text/plain\n`).
    pub headers: &'a str,
    /// Request headers sent, `Name: value` lines each ending in `\n`.
    pub request_headers: &'a str,
    /// The final URL requested (after redirects).
    pub url: &'a str,
    /// The sample's elapsed time, ms.
    pub elapsed_ms: i64,
    /// Bytes of the response body as received.
    pub body_bytes: i64,
    /// Bytes of the response headers as received (status line and header lines).
    pub header_bytes: i64,
}
