//! Embedded resources of an HTTP sample, downloaded and recorded as JMeter's
//! `HTTPSamplerBase.downloadPageResources` does (checked against JMeter 2.13 in
//! tests/data/runner/fidelity/resources.jmx): after a successful (2xx/3xx) text response
//! whose media type has a parser (see [`crate::elements::embedded`]), each resource the page
//! names and the sampler's patterns let through is fetched once with a GET carrying the
//! sampler's headers, cookies, credentials and cache, one after another or, with
//! `concurrentDwn`, at most `concurrentPool` at a time on connections of their own. The sample
//! becomes JMeter's container: the page is its first sub-result (`<label>-0`), the resources
//! the next ones (`<label>-1`, …, in the order found); its elapsed time runs to the end of the
//! last one, its bytes add theirs, and a failed resource fails it, its code and message staying
//! the page's (JMeter 2.13; JMeter 5 writes `Embedded resource download error:…`). The
//! sub-results are recorded as JMeter 5 writes them to CSV (`<label>-N` rows); JMeter 2.13's CSV
//! has no sub-results. A resource
//! fresh in the Cache Manager is not fetched and leaves no sub-result, as in JMeter. A resource
//! that is itself a page or stylesheet is a container of its own resources the same way, down
//! to JMeter's `MAX_FRAME_DEPTH`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::uri::PathAndQuery;
use loadlake_schema::SampleKind;

use crate::elements::embedded::{EmbeddedResources, resource_urls};
use crate::http::client::{HttpClient, HttpResult, now_ms};
use crate::model::{HttpRequest, HttpStep, Keep};
use crate::sample::Sample;
use crate::vu::Vu;

/// JMeter's `isSuccessCode`: 200 to 399.
fn fetched_ok(r: &HttpResult) -> bool {
    r.status.is_some_and(|s| (200..400).contains(&s))
}

/// The value of header `name` in a JMeter-style header block (`Name: value` lines).
fn header_value<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    block.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A GET of `url` with the page request's headers.
fn resource_request(url: &url::Url, page: &HttpRequest) -> Option<HttpRequest> {
    let tls = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let host = url.host_str()?.to_string();
    let port = url.port_or_known_default()?;
    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    path.parse::<PathAndQuery>().ok()?;
    Some(HttpRequest {
        url_arc: Arc::from(crate::model::url(tls, &host, port, &path)),
        method: "GET".to_string(),
        tls,
        host,
        port,
        path_and_query: path,
        headers: page.headers.clone(),
        body: Bytes::new(),
        form_content_type: None,
    })
}

/// JMeter's `MAX_FRAME_DEPTH`: the resources of a resource that is itself a page or a
/// stylesheet are fetched too, down to this depth (the page is at depth 0).
const MAX_FRAME_DEPTH: usize = 5;

/// A fetched resource and, when it is itself a page or a stylesheet, its own resources.
pub(crate) struct Resource {
    result: HttpResult,
    nested: Vec<Resource>,
}

/// The resources of a page, fetched (boxed: the search recurses into frames and stylesheets).
type Fetching<'a> = Pin<Box<dyn Future<Output = Vec<Resource>> + Send + 'a>>;

impl Vu {
    /// The embedded resources of the page `page` at `depth` (the response to `request`, as
    /// rendered and before the Authorization and Cache Managers' headers) of sampler `h`,
    /// fetched, each with its own when it is a page or stylesheet above [`MAX_FRAME_DEPTH`];
    /// empty when the page is not one whose resources JMeter downloads. One after another, a
    /// resource's own resources follow it (as JMeter's sampler recursing); in parallel, they
    /// are fetched when the resources of the page are all in.
    pub(crate) fn embedded_resources<'a>(
        &'a mut self,
        h: &'a HttpStep,
        e: &'a EmbeddedResources,
        request: &'a HttpRequest,
        page: &'a HttpResult,
        depth: usize,
    ) -> Fetching<'a> {
        Box::pin(async move {
            if !fetched_ok(page) || page.data_type != Some("text") {
                return Vec::new();
            }
            let content_type = header_value(&page.headers, "content-type").unwrap_or("");
            let mut requests = Vec::new();
            for url in resource_urls(&e.parsers, content_type, &page.url, &page.body) {
                if !e.wanted(url.as_str()) {
                    continue;
                }
                let Some(req) = resource_request(&url, request) else {
                    continue;
                };
                // Credentials and validators; a fresh copy in the cache is not fetched.
                if let Some(req) = crate::http::cache::managed(&self.client.cache, h, &req) {
                    requests.push(req.into_owned());
                }
            }
            // A resource deep enough is not looked into: its body is not needed.
            let parse = depth < MAX_FRAME_DEPTH;
            let keep = Keep {
                body: parse,
                headers: parse || h.cache.is_some(),
            };
            let mut out = Vec::with_capacity(requests.len());
            match e.pool {
                Some(pool) if requests.len() > 1 => {
                    let results = self
                        .client
                        .fetch_in_parallel(h, &requests, pool, keep)
                        .await;
                    for r in results {
                        out.push(self.resource(h, e, request, r, depth + 1).await);
                    }
                }
                _ => {
                    for req in &requests {
                        let r = Box::pin(self.client.execute(req, h, keep)).await;
                        out.push(self.resource(h, e, request, r, depth + 1).await);
                    }
                }
            }
            out
        })
    }

    /// The fetched resource `r` at `depth`: kept by the Cache Manager, and its own resources
    /// fetched when it is deep enough to be looked into.
    async fn resource(
        &mut self,
        h: &HttpStep,
        e: &EmbeddedResources,
        request: &HttpRequest,
        r: HttpResult,
        depth: usize,
    ) -> Resource {
        if let Some(c) = &h.cache {
            self.client.cache.after(c, "GET", &r, now_ms());
        }
        let nested = if depth <= MAX_FRAME_DEPTH {
            self.embedded_resources(h, e, request, &r, depth).await
        } else {
            Vec::new()
        };
        Resource { result: r, nested }
    }

    /// The sub-samples of a page and its resources (`<label>-0`, `<label>-1`, …, a resource
    /// with resources of its own holding them the same way); the page's result `page` becomes
    /// the container's: its elapsed time to the end of the last resource, their bytes added.
    /// Returns the sub-samples and whether every resource succeeded (when one did not, the
    /// container fails with the page's own code and message, as in JMeter 2.13).
    pub(crate) fn embedded_container(
        &self,
        label: &Arc<str>,
        page: &mut HttpResult,
        resources: Vec<Resource>,
    ) -> (Vec<Sample>, bool) {
        let mut subs = Vec::with_capacity(resources.len() + 1);
        subs.push(self.sub_sample(label, 0, page));
        let mut end = page.ts_ms + page.elapsed_ms;
        let mut all_ok = true;
        let mut children = Vec::with_capacity(resources.len());
        for Resource { mut result, nested } in resources {
            let (own, nested_ok) = if nested.is_empty() {
                (Vec::new(), true)
            } else {
                self.embedded_container(label, &mut result, nested)
            };
            let r = &result;
            end = end.max(r.ts_ms + r.elapsed_ms);
            page.bytes_received += r.bytes_received;
            page.bytes_sent += r.bytes_sent;
            page.header_bytes += r.header_bytes;
            let ok = fetched_ok(r) && nested_ok;
            all_ok &= ok;
            children.push((result, own, ok));
        }
        page.elapsed_ms = end - page.ts_ms;
        // JMeter 2.13's `setParentSampleSuccess` only fails the container: its code and message
        // stay the page's (JMeter 5 writes `Embedded resource download error:…` instead).
        for (i, (r, own, ok)) in children.into_iter().enumerate() {
            subs.push(Sample {
                success: ok,
                subresults: own,
                ..self.sub_sample(label, i + 1, &r)
            });
        }
        (subs, all_ok)
    }

    /// Sub-result `n` of the sample labelled `label`: the result `r` (its body is not kept).
    fn sub_sample(&self, label: &Arc<str>, n: usize, r: &HttpResult) -> Sample {
        let success = fetched_ok(r);
        Sample {
            latency_ms: r.latency_ms,
            connect_ms: r.connect_ms,
            code: r.code.clone(),
            message: r.message.clone(),
            bytes_received: r.bytes_received,
            bytes_sent: r.bytes_sent,
            url: Some(r.url.clone()),
            data_type: r.data_type,
            encoding: r.encoding.clone(),
            micros: Some(r.micros),
            ..self.sample_of(
                r.ts_ms,
                r.elapsed_ms,
                Arc::from(format!("{label}-{n}")),
                SampleKind::Subsample,
                success,
            )
        }
    }
}

impl HttpClient {
    /// `requests` sent by at most `pool` clients of [`HttpClient::parallel`] at once (each
    /// with a copy of this client's cookies; the cookies they are sent are added back), the
    /// results in the order of `requests`.
    async fn fetch_in_parallel(
        &mut self,
        h: &HttpStep,
        requests: &[HttpRequest],
        pool: usize,
        keep: Keep,
    ) -> Vec<HttpResult> {
        let n = pool.min(requests.len());
        while self.parallel.len() < n {
            self.parallel.push(HttpClient::default());
        }
        let next = AtomicUsize::new(0);
        let mut workers = Vec::with_capacity(n);
        for c in &mut self.parallel[..n] {
            if h.cookies {
                c.cookies = self.cookies.clone();
            }
            let next = &next;
            workers.push(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(req) = requests.get(i) else {
                        break out;
                    };
                    out.push((i, Box::pin(c.execute(req, h, keep)).await));
                }
            });
        }
        let mut done: Vec<(usize, HttpResult)> = futures::future::join_all(workers)
            .await
            .into_iter()
            .flatten()
            .collect();
        done.sort_by_key(|(i, _)| *i);
        if h.cookies {
            for c in &self.parallel[..n] {
                self.cookies.absorb(&c.cookies);
            }
        }
        done.into_iter().map(|(_, r)| r).collect()
    }
}
