//! The HTTP Authorization Manager (`AuthManager`) compiled into [`AuthEntry`]s: Basic
//! authentication sent with the first request, for the requests whose URL starts with an
//! entry's URL.
//!
//! JMeter (tag `v2_13`, `protocol/http/control/AuthManager.java`): `getAuthForURL` gives the
//! first entry whose `Authorization.url` is a prefix of the request URL, written with or
//! without the scheme's default port; an empty URL matches every request. Where several
//! managers are in scope the innermost one is used (a sampler holds one Authorization
//! Manager). Differences: JMeter 2.13's HttpClient 4 answers the server's 401 challenge (so it
//! sends the request twice, and can answer Digest); the runner sends Basic credentials at once
//! — the same final response from a server that accepts Basic, one request instead of two.
//! `realm` and `domain` are not compared. Mechanisms `DIGEST` (JMeter ≥ 3) and `KERBEROS` are
//! refused; 2.13's `BASIC_DIGEST` is sent as Basic.

use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::{AuthEntry, HttpRequest, HttpStep};

impl Compiler<'_> {
    /// The entries of the innermost Authorization Manager in `scope`.
    pub(crate) fn auth_entries(&self, scope: &Scope<'_>) -> Result<Vec<AuthEntry>, RunnerError> {
        let Some(m) = scope.auth.last() else {
            return Ok(Vec::new());
        };
        let prop = "AuthManager.auth_list";
        let mut out = Vec::new();
        for a in m
            .prop_collection(prop)
            .iter()
            .flat_map(|c| c.values())
            .filter_map(|p| p.as_element())
        {
            let get = |name: &str| -> Result<String, RunnerError> {
                self.eval(&m.name, name, a.prop_str(name).unwrap_or(""))
            };
            let mechanism = get("Authorization.mechanism")?;
            match mechanism.trim() {
                "" | "BASIC_DIGEST" | "BASIC" => {}
                other => {
                    return Err(RunnerError::setting(
                        &m.name,
                        "Authorization.mechanism",
                        other,
                        "only Basic authentication is implemented",
                    ));
                }
            }
            let credentials = format!(
                "{}:{}",
                get("Authorization.username")?,
                get("Authorization.password")?
            );
            out.push(AuthEntry {
                url: get("Authorization.url")?.trim().to_string(),
                header: format!("Basic {}", base64(credentials.as_bytes())),
            });
        }
        Ok(out)
    }
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

/// Standard base64 with padding (RFC 4648), as Basic authentication writes credentials.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_rfc_4648_base64() {
        // RFC 7617's example: Aladdin / open sesame.
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }

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
