//! URL encoding of values JMeter's way: [`form_encode`] for form bodies and encoded query
//! arguments (Java's `URLEncoder`), [`escape_unsafe`] for what a URL cannot hold. Used when a
//! sampler is compiled, and per request by [`HttpStep::rendered`] (here too), which fills in the
//! run-time parts of a request for a user.

use std::sync::Arc;

use bytes::Bytes;

use crate::model::{HttpRequest, HttpStep, RuntimeParts};
use crate::text::template::UserCtx;

/// `application/x-www-form-urlencoded` as Java's `URLEncoder` (UTF-8): `*-._` and
/// alphanumerics stay, space becomes `+`, everything else `%XX`.
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Escapes only what cannot appear in a URL (space, controls, non-ASCII, `"<>\^`{|}`).
pub(crate) fn escape_unsafe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b <= b' ' || b >= 0x7f || b"\"<>\\^`{|}#".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

impl HttpStep {
    /// The request with the run-time parts rendered for `user`: raw in the path, headers and a
    /// raw body, URL-encoded in the query string and a form body.
    pub(crate) fn rendered(&self, parts: &RuntimeParts, user: &mut UserCtx) -> HttpRequest {
        let raw = |v: &str| v.to_string();
        let mut out = self.request.clone();
        out.path_and_query = parts.path.render(user, &raw);
        if !out.path_and_query.starts_with('/') {
            out.path_and_query.insert(0, '/');
        }
        if let Some(q) = &parts.query {
            out.path_and_query.push('?');
            out.path_and_query.push_str(&q.render(user, &escape_unsafe));
        }
        if let Some(a) = &parts.args {
            let sep = if out.path_and_query.contains('?') {
                '&'
            } else {
                '?'
            };
            out.path_and_query.push(sep);
            out.path_and_query.push_str(&a.render(user, &escape_unsafe));
        }
        for ((_, v), t) in out.headers.iter_mut().zip(&parts.headers) {
            if let Some(t) = t {
                *v = t.render(user, &raw);
            }
        }
        if let Some(body) = &parts.body {
            let text = if out.form_content_type.is_some() {
                body.render(user, &form_encode)
            } else {
                body.render(user, &raw)
            };
            out.body = Bytes::from(text);
        }
        out.url_arc = Arc::from(out.url());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_java_url_encoder() {
        assert_eq!(form_encode("a b&c=d/é*"), "a+b%26c%3Dd%2F%C3%A9*");
        assert_eq!(escape_unsafe("a b/c?d"), "a%20b/c?d");
    }
}
