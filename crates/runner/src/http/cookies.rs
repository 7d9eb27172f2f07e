//! The HTTP Cookie Manager: one cookie store per virtual user. Cookies from `Set-Cookie`
//! responses are kept (name, value, domain or host, path) and sent back, RFC 6265-style, to
//! requests whose host and path match; `Max-Age<=0` (or a 1970 `Expires`) deletes one. JMeter
//! clears the store at each iteration when `CookieManager.clearEachIteration` is set.

/// One stored cookie.
#[derive(Debug, Clone, PartialEq)]
struct Cookie {
    name: String,
    value: String,
    /// `Domain` attribute (lower case, no leading dot): sent to it and its subdomains.
    domain: Option<String>,
    /// The host that set it: a host-only cookie goes back to this host only.
    host: String,
    path: String,
}

/// The cookies of one virtual user.
#[derive(Debug, Default, Clone)]
pub(crate) struct CookieJar {
    cookies: Vec<Cookie>,
}

/// RFC 6265's default path: the request path up to (not including) its last `/`, or `/`.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => request_path[..i].to_string(),
    }
}

fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

impl CookieJar {
    /// Forgets every cookie.
    pub(crate) fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Keeps (or deletes) the cookie of one `Set-Cookie` header of a response from `host` to a
    /// request for `request_path`.
    pub(crate) fn store(&mut self, host: &str, request_path: &str, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let mut cookie = Cookie {
            name: name.to_string(),
            value: value.trim().trim_matches('"').to_string(),
            domain: None,
            host: host.to_ascii_lowercase(),
            path: default_path(request_path),
        };
        let mut delete = false;
        for attr in parts {
            let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
            let val = val.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "path" if val.starts_with('/') => cookie.path = val.to_string(),
                "domain" if !val.is_empty() => {
                    cookie.domain = Some(val.trim_start_matches('.').to_ascii_lowercase());
                }
                "max-age" => delete |= val.parse::<i64>().is_ok_and(|s| s <= 0),
                "expires" => delete |= val.contains("1970"),
                _ => {}
            }
        }
        self.cookies.retain(|c| {
            !(c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path)
        });
        if !delete {
            self.cookies.push(cookie);
        }
    }

    /// Adds the cookies of `other` (a copy of this jar that made requests of its own), each
    /// replacing the one of the same name, domain and path: JMeter's `CookieManager.add` of the
    /// cookies of resources downloaded in parallel (a cookie they deleted stays).
    pub(crate) fn absorb(&mut self, other: &CookieJar) {
        for c in &other.cookies {
            self.cookies
                .retain(|k| !(k.name == c.name && k.domain == c.domain && k.path == c.path));
            self.cookies.push(c.clone());
        }
    }

    /// The `Cookie` header for a request to `host` and `request_path`, if any cookie matches.
    pub(crate) fn header(&self, host: &str, request_path: &str) -> Option<String> {
        let host = host.to_ascii_lowercase();
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| match &c.domain {
                Some(d) => host == *d || host.ends_with(&format!(".{d}")),
                None => host == c.host,
            })
            .filter(|c| path_matches(&c.path, request_path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_go_back_where_they_belong_and_expire() {
        let mut jar = CookieJar::default();
        jar.store("shop.test", "/login", "session=abc; Path=/; HttpOnly");
        jar.store("shop.test", "/cart/add", "cart=1");
        jar.store("shop.test", "/", "lang=en; Domain=.shop.test");
        assert_eq!(
            jar.header("shop.test", "/cart/view").as_deref(),
            Some("session=abc; cart=1; lang=en")
        );
        assert_eq!(
            jar.header("shop.test", "/").as_deref(),
            Some("session=abc; lang=en")
        );
        assert_eq!(
            jar.header("api.shop.test", "/x").as_deref(),
            Some("lang=en")
        );
        assert_eq!(jar.header("other.test", "/"), None);
        assert_eq!(
            jar.header("shop.test", "/cartoon").as_deref(),
            Some("session=abc; lang=en")
        );
        jar.store("shop.test", "/", "session=xyz; Path=/");
        assert!(
            jar.header("shop.test", "/")
                .unwrap()
                .contains("session=xyz")
        );
        jar.store("shop.test", "/", "session=; Path=/; Max-Age=0");
        assert_eq!(jar.header("shop.test", "/").as_deref(), Some("lang=en"));
        jar.clear();
        assert_eq!(jar.header("shop.test", "/"), None);
    }
}
