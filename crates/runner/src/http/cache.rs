//! The HTTP Cache Manager's store: one per virtual user, keyed by URL.
//!
//! JMeter's rules followed here (apache/jmeter tag `v2_13`, `protocol/http/control/
//! CacheManager.java`, `HTTPHC4Impl`, `HTTPAbstractImpl`):
//! - A **2xx** response to a cacheable method (`cacheable_methods`, default `GET`) is stored
//!   under its final URL with its `Last-Modified`, `ETag` and an expiry; other responses
//!   (304 too) leave the entry as it is.
//! - **Expiry** (only with `useExpires`): `Cache-Control: no-store` stores nothing; an
//!   `Expires` date (an unreadable one counts as expired); then, when there is a
//!   `Cache-Control` header without `no-cache`: `max-age=N` gives now + N s, else — without
//!   `Expires` — `Last-Modified` and `Date` give now + 10 % of their difference, else now + 1
//!   year. Without `Cache-Control`, only `Expires` counts.
//! - Before a **GET** whose entry has not expired, nothing is sent and no sample is made
//!   (`cache_manager.cached_resource_mode=RETURN_NO_SAMPLE`, JMeter's default since 2.12).
//!   Otherwise an entry's `Last-Modified` and `ETag` go out as `If-Modified-Since` and
//!   `If-None-Match` (the server may answer 304).
//! - `clearEachIteration` empties it at each iteration of the thread group; at most `maxSize`
//!   entries (the oldest stored goes first; JMeter evicts the least recently used).

use std::collections::{HashMap, VecDeque};

use std::borrow::Cow;

use crate::http::client::{HttpResult, now_ms};
use crate::model::{CacheSettings, HttpRequest, HttpStep};

/// One cached response.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    last_modified: Option<String>,
    etag: Option<String>,
    /// Milliseconds since the epoch; `None`: no expiry (always revalidated).
    expires_ms: Option<i64>,
}

/// A user's cache.
#[derive(Debug, Default)]
pub(crate) struct HttpCache {
    entries: HashMap<String, Entry>,
    order: VecDeque<String>,
}

/// What a response said about caching (header values as received).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CacheHeaders<'a> {
    pub last_modified: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub cache_control: Option<&'a str>,
    pub date: Option<&'a str>,
}

impl<'a> CacheHeaders<'a> {
    /// The caching headers of a header block (`Name: value` lines; the last of a name wins,
    /// as `HttpResponse.getLastHeader`).
    pub(crate) fn parse(block: &'a str) -> CacheHeaders<'a> {
        let mut h = CacheHeaders::default();
        for line in block.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "last-modified" => &mut h.last_modified,
                "expires" => &mut h.expires,
                "etag" => &mut h.etag,
                "cache-control" => &mut h.cache_control,
                "date" => &mut h.date,
                _ => continue,
            };
            *slot = Some(value);
        }
        h
    }
}

const ONE_YEAR_MS: i64 = 365 * 24 * 60 * 60 * 1000;

impl HttpCache {
    /// Forgets everything (`clearEachIteration`).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// `url` is cached and has not expired at `now_ms` (JMeter's `inCache`).
    pub(crate) fn fresh(&self, url: &str, now_ms: i64) -> bool {
        self.entries
            .get(url)
            .and_then(|e| e.expires_ms)
            .is_some_and(|t| t > now_ms)
    }

    /// `request` with the conditional headers of its cache entry, if it has one.
    pub(crate) fn with_validators(&self, request: &HttpRequest, url: &str) -> Option<HttpRequest> {
        let headers = self.conditional(url);
        if headers.is_empty() {
            return None;
        }
        let mut r = request.clone();
        r.headers
            .extend(headers.into_iter().map(|(n, v)| (n.to_string(), v)));
        Some(r)
    }

    /// Stores the response `r` to a `method` request when the settings `c` say it is
    /// cacheable (a 2xx answer to one of the cacheable methods).
    pub(crate) fn after(&mut self, c: &CacheSettings, method: &str, r: &HttpResult, now_ms: i64) {
        if r.status.is_some_and(|s| (200..300).contains(&s))
            && c.cacheable_methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method))
        {
            self.store(
                &r.url,
                CacheHeaders::parse(&r.headers),
                c.use_expires,
                c.max_size,
                now_ms,
            );
        }
    }

    /// The conditional request headers for `url` (`If-Modified-Since`, `If-None-Match`).
    pub(crate) fn conditional(&self, url: &str) -> Vec<(&'static str, String)> {
        let Some(e) = self.entries.get(url) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(lm) = &e.last_modified {
            out.push(("If-Modified-Since", lm.clone()));
        }
        if let Some(etag) = &e.etag {
            out.push(("If-None-Match", etag.clone()));
        }
        out
    }

    /// Stores a 2xx response of `url` (JMeter's `saveDetails` / `setCache`).
    pub(crate) fn store(
        &mut self,
        url: &str,
        h: CacheHeaders<'_>,
        use_expires: bool,
        max_size: usize,
        now_ms: i64,
    ) {
        let mut expires_ms = None;
        if use_expires {
            let cc = h.cache_control;
            if cc.is_some_and(|c| c.contains("no-store")) {
                return;
            }
            if let Some(e) = h.expires {
                expires_ms = Some(http_date_ms(e).unwrap_or(0));
            }
            if let Some(cc) = cc.filter(|c| !c.contains("no-cache")) {
                if let Some(i) = cc.find("max-age=") {
                    let n = cc[i + "max-age=".len()..]
                        .split([',', ' '])
                        .next()
                        .unwrap_or("");
                    // JMeter's Long.parseLong throws on a bad number (no entry is stored).
                    let Ok(secs) = n.parse::<i64>() else {
                        return;
                    };
                    expires_ms = Some(now_ms.saturating_add(secs.saturating_mul(1000)));
                } else if h.expires.is_none() {
                    let heuristic = match (h.last_modified, h.date) {
                        (Some(lm), Some(d)) if !lm.is_empty() && !d.is_empty() => {
                            match (http_date_ms(d), http_date_ms(lm)) {
                                (Some(d), Some(lm)) => ((d - lm) as f64 * 0.1).round() as i64,
                                _ => ONE_YEAR_MS,
                            }
                        }
                        _ => ONE_YEAR_MS,
                    };
                    expires_ms = Some(now_ms.saturating_add(heuristic));
                }
            }
        }
        let entry = Entry {
            last_modified: h.last_modified.map(str::to_string),
            etag: h.etag.map(str::to_string),
            expires_ms,
        };
        if self.entries.insert(url.to_string(), entry).is_none() {
            self.order.push_back(url.to_string());
            while self.order.len() > max_size.max(1) {
                if let Some(old) = self.order.pop_front() {
                    self.entries.remove(&old);
                }
            }
        }
    }
}

/// `request` with the Authorization Manager's credentials and the conditional headers of its
/// cache entry (see [`crate::http::auth::authorized`], [`HttpCache::with_validators`]);
/// `None` when `h` has a Cache Manager and a fresh copy of a GET is in `cache`.
pub(crate) fn managed<'r>(
    cache: &HttpCache,
    h: &HttpStep,
    request: &'r HttpRequest,
) -> Option<Cow<'r, HttpRequest>> {
    let mut out = Cow::Borrowed(request);
    if let Some(r) = crate::http::auth::authorized(h, &out) {
        out = Cow::Owned(r);
    }
    if h.cache.is_some() {
        let url = out.url();
        if out.method == "GET" && cache.fresh(&url, now_ms()) {
            return None;
        }
        if let Some(r) = cache.with_validators(&out, &url) {
            out = Cow::Owned(r);
        }
    }
    Some(out)
}

/// An HTTP date (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94
/// 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`) in ms since the epoch.
pub(crate) fn http_date_ms(s: &str) -> Option<i64> {
    let words: Vec<&str> = s.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let month = |m: &str| {
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
        .iter()
        .position(|n| n.eq_ignore_ascii_case(m))
        .map(|i| i as i64 + 1)
    };
    let (day, mon, year, time): (i64, i64, i64, &str) = match words.as_slice() {
        [_, d, m, y, t, "GMT"] => (d.parse().ok()?, month(m)?, y.parse().ok()?, *t),
        [_, dmy, t, "GMT"] => {
            let mut p = dmy.split('-');
            let (d, m, y) = (p.next()?, p.next()?, p.next()?);
            let y: i64 = y.parse().ok()?;
            (
                d.parse().ok()?,
                month(m)?,
                if y < 100 { 1900 + y } else { y },
                *t,
            )
        }
        [_, m, d, t, y] => (d.parse().ok()?, month(m)?, y.parse().ok()?, *t),
        _ => return None,
    };
    let mut hms = time.split(':').map(|v| v.parse::<i64>());
    let (h, mi, se) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if mon <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mon + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn h<'a>(pairs: &[(&str, &'a str)]) -> CacheHeaders<'a> {
        let mut out = CacheHeaders::default();
        for (n, v) in pairs {
            match *n {
                "lm" => out.last_modified = Some(v),
                "exp" => out.expires = Some(v),
                "etag" => out.etag = Some(v),
                "cc" => out.cache_control = Some(v),
                _ => out.date = Some(v),
            }
        }
        out
    }

    #[test]
    fn http_dates_in_the_three_formats() {
        // 784111777 s: RFC 9110's example date, in each format.
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(http_date_ms(s), Some(784_111_777_000), "{s}");
        }
        assert_eq!(http_date_ms("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date_ms("tomorrow"), None);
    }

    #[test]
    fn expiry_follows_jmeter_213_set_cache() {
        let url = "http://h/x";
        let expiry = |pairs: &[(&str, &str)]| {
            let mut c = HttpCache::default();
            c.store(url, h(pairs), true, 10, NOW);
            c.entries.get(url).map(|e| e.expires_ms)
        };
        assert_eq!(
            expiry(&[("cc", "max-age=60, public")]),
            Some(Some(NOW + 60_000))
        );
        assert_eq!(
            expiry(&[("cc", "no-store, max-age=60")]),
            None,
            "not stored"
        );
        assert_eq!(expiry(&[("cc", "no-cache"), ("etag", "\"a\"")]), Some(None));
        // An unreadable Expires counts as expired; without Cache-Control only Expires counts.
        assert_eq!(expiry(&[("exp", "soon")]), Some(Some(0)));
        assert_eq!(
            expiry(&[("lm", "Sat, 01 Jan 2000 00:00:00 GMT")]),
            Some(None)
        );
        // Cache-Control without max-age, Last-Modified and Date: 10 % of the difference
        // (a day → 8 640 000 ms).
        assert_eq!(
            expiry(&[
                ("cc", "public"),
                ("lm", "Sat, 01 Jan 2000 00:00:00 GMT"),
                ("date", "Sun, 02 Jan 2000 00:00:00 GMT")
            ]),
            Some(Some(NOW + 8_640_000))
        );
        assert_eq!(expiry(&[("cc", "public")]), Some(Some(NOW + ONE_YEAR_MS)));
        // Without useExpires no expiry at all.
        let mut c = HttpCache::default();
        c.store(url, h(&[("cc", "max-age=60")]), false, 10, NOW);
        assert!(!c.fresh(url, NOW));
    }

    #[test]
    fn fresh_entries_and_validators() {
        let mut c = HttpCache::default();
        c.store("u1", h(&[("cc", "max-age=1")]), true, 10, NOW);
        assert!(c.fresh("u1", NOW + 999) && !c.fresh("u1", NOW + 1000));
        c.store(
            "u2",
            h(&[("etag", "\"v\""), ("lm", "Sat, 01 Jan 2000 00:00:00 GMT")]),
            true,
            10,
            NOW,
        );
        assert_eq!(
            c.conditional("u2"),
            [
                (
                    "If-Modified-Since",
                    "Sat, 01 Jan 2000 00:00:00 GMT".to_string()
                ),
                ("If-None-Match", "\"v\"".to_string())
            ]
        );
        assert!(c.conditional("u3").is_empty());
        // At most max_size entries: the oldest goes.
        let mut c = HttpCache::default();
        for u in ["a", "b", "c"] {
            c.store(u, h(&[("cc", "max-age=60")]), true, 2, NOW);
        }
        assert!(!c.fresh("a", NOW) && c.fresh("b", NOW) && c.fresh("c", NOW));
        let block = "HTTP/1.1 200 OK\nETag: \"1\"\ncache-control: max-age=5\nETag: \"2\"\n";
        let p = CacheHeaders::parse(block);
        assert_eq!(
            (p.etag, p.cache_control),
            (Some("\"2\""), Some("max-age=5"))
        );
    }
}
