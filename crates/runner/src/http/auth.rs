//! The HTTP Authorization Manager at send time: the entry for a request's URL, JMeter's
//! `AuthManager.getAuthForURL` (its compilation and JMeter's rules are in
//! [`crate::compile::auth`]).

use crate::model::{AuthEntry, HttpRequest, HttpStep};

/// `request` with the `Authorization` header of the Authorization Manager entry for its URL,
/// when `h` has entries, one matches and no Header Manager sets the header; else `None`.
pub(crate) fn authorized(h: &HttpStep, request: &HttpRequest) -> Option<HttpRequest> {
    if h.auth.is_empty()
        || request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
    {
        return None;
    }
    let entry = auth_for(&h.auth, &request.url())?;
    let mut r = request.clone();
    r.headers
        .push(("Authorization".to_string(), entry.header.clone()));
    Some(r)
}

/// `http://h/p` → `http://h:80/p` (and 443 for https); `None` when a port is written.
fn default_port_form(url: &str) -> Option<String> {
    let (scheme, port) = if let Some(rest) = url.strip_prefix("http://") {
        (("http://", rest), 80)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (("https://", rest), 443)
    } else {
        return None;
    };
    let (prefix, rest) = scheme;
    let host_end = rest.find('/').unwrap_or(rest.len());
    let host = &rest[..host_end];
    if host.contains(':') && !host.ends_with(']') {
        return None;
    }
    Some(format!("{prefix}{host}:{port}{}", &rest[host_end..]))
}

/// The entry for `url` (as [`crate::model::HttpRequest::url`] writes it, without the scheme's
/// default port), JMeter's `AuthManager.getAuthForURL`.
pub(crate) fn auth_for<'e>(entries: &'e [AuthEntry], url: &str) -> Option<&'e AuthEntry> {
    // The same URL with the default port written out (JMeter compares both forms).
    let with_port = default_port_form(url);
    entries.iter().find(|e| {
        url.starts_with(&e.url) || with_port.as_deref().is_some_and(|u| u.starts_with(&e.url))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_entry_prefixing_the_url_applies_with_or_without_the_default_port() {
        let e = |url: &str, h: &str| AuthEntry {
            url: url.into(),
            header: h.into(),
        };
        let entries = [
            e("http://h:80/admin", "A"),
            e("http://h:8080/", "B"),
            e("", "any"),
        ];
        let pick = |url: &str| auth_for(&entries, url).map(|e| e.header.as_str());
        assert_eq!(
            pick("http://h/admin/x"),
            Some("A"),
            "default port written out"
        );
        assert_eq!(pick("http://h:8080/p"), Some("B"));
        assert_eq!(
            pick("http://other/p"),
            Some("any"),
            "an empty URL matches all"
        );
        assert_eq!(auth_for(&entries[..2], "https://h/admin"), None);
        assert_eq!(
            default_port_form("https://h/x").as_deref(),
            Some("https://h:443/x")
        );
        assert_eq!(default_port_form("http://h:81/x"), None);
    }
}
