//! The run-time parts of a request filled in for a user ([`HttpStep::rendered`]), URL-encoded
//! JMeter's way ([`crate::text::url`]).

use std::sync::Arc;

use bytes::Bytes;

use crate::model::{HttpRequest, HttpStep, RuntimeParts};
use crate::text::template::UserCtx;
use crate::text::url::{escape_unsafe, form_encode};

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
            // A form body's values are form-encoded; a multipart body's go in as they are.
            let form = out
                .form_content_type
                .as_deref()
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
            let text = if form {
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
