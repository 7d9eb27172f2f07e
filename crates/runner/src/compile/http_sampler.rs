//! HTTP Request samplers compiled into [`HttpStep`]s: HTTP Request Defaults merged JMeter's way
//! (the sampler's value wins when it is not empty; among defaults the innermost wins; the
//! defaults' arguments are appended), Header Managers merged (inner ones win), arguments encoded
//! as a query string or a form body, or sent as the raw body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use loadlake_plan::TestElement;

use crate::compile::http_files::{FileBody, PartArg};
use crate::compile::http_protocol::Protocol;
use crate::compile::vars::reference_len;
use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::{HttpRequest, HttpStep, Keep, RuntimeParts};
use crate::text::url::{escape_unsafe, form_encode};

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE",
];

/// One `HTTPArgument`, substituted.
pub(crate) struct Argument {
    /// `Argument.name`.
    pub(crate) name: String,
    /// `Argument.value`.
    pub(crate) value: String,
    always_encode: bool,
    use_equals: bool,
}

/// Where a request goes, as compiled.
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// The path, with the sampler's own query if it has one; may hold run-time references.
    path: String,
}

/// Sampler `s`'s non-empty value of `prop`, else the innermost HTTP Request Defaults'
/// non-empty value, else "".
pub(crate) fn merged_raw<'a>(s: &'a TestElement, scope: &'a Scope<'_>, prop: &str) -> &'a str {
    let own = s.prop_str(prop).filter(|v| !v.trim().is_empty());
    own.or_else(|| {
        scope
            .defaults
            .iter()
            .rev()
            .find_map(|d| d.prop_str(prop).filter(|v| !v.trim().is_empty()))
    })
    .unwrap_or("")
}

impl Compiler<'_> {
    /// Compiles sampler `s` with the config elements, timers and assertions of `scope`.
    pub(crate) fn http(
        &mut self,
        s: &TestElement,
        scope: &Scope<'_>,
    ) -> Result<HttpStep, RunnerError> {
        let el = s.name.as_str();
        self.refuse_unsupported_http(s)?;
        let throughput_timers = self.throughput_timers(scope)?;
        let Target {
            tls,
            host,
            port,
            mut path,
        } = self.target(s, scope)?;
        let merged = |prop: &str| -> Result<String, RunnerError> {
            Ok(self
                .eval(el, prop, merged_raw(s, scope, prop))?
                .trim()
                .to_string())
        };
        let method = {
            let m = merged("HTTPSampler.method")?.to_ascii_uppercase();
            if m.is_empty() { "GET".to_string() } else { m }
        };
        if !METHODS.contains(&method.as_str()) {
            return Err(RunnerError::setting(
                el,
                "HTTPSampler.method",
                &method,
                "supported methods are GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH, TRACE",
            ));
        }
        let mut args = self.arguments(s)?;
        for d in scope.defaults.iter().rev() {
            args.extend(self.arguments(d)?);
        }
        let regex_params = self.regex_params(el, scope, &mut args)?;
        let headers = self.headers(scope)?;
        let raw_body = self.flag(s, "HTTPSampler.postBodyRaw", false)?;
        let body_method = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        let (mut body, mut form_content_type) = (Bytes::new(), None);
        let mut arg_query = None;
        let charset = merged("HTTPSampler.contentEncoding")?;
        let part_args: Vec<PartArg<'_>> = args
            .iter()
            .map(|a| PartArg {
                name: &a.name,
                value: &a.value,
            })
            .collect();
        let mut body_fixed = false;
        if !raw_body
            && let FileBody::Body {
                body: b,
                content_type,
                fixed,
            } = self.file_body(s, &method, &part_args, &charset)?
        {
            body = b;
            form_content_type = Some(content_type);
            body_fixed = fixed;
        } else if raw_body {
            let text: String = args.iter().map(|a| a.value.as_str()).collect();
            body = Bytes::from(text);
        } else if body_method && !args.is_empty() {
            body = Bytes::from(encode_args(&args, true));
            form_content_type = Some("application/x-www-form-urlencoded".to_string());
        } else if !args.is_empty() {
            arg_query = Some(encode_args(&args, false));
        }
        // A file's bytes are sent as they are, never rendered.
        let no_body = Bytes::new();
        let runtime = self.runtime_parts(
            el,
            &path,
            arg_query.as_deref(),
            &headers,
            if body_fixed { &no_body } else { &body },
            form_content_type.is_some(),
        )?;
        // As compiled (what `--validate` shows); a run-time path decides `?` or `&` once
        // rendered.
        if let Some(q) = &arg_query {
            path.push(if literal_question_mark(&path).is_some() {
                '&'
            } else {
                '?'
            });
            path.push_str(q);
        }
        // JMeter 5 (`ConversionUtils.sanitizeUrl` before the request) escapes what a URL cannot
        // hold, such as spaces in a path or query written in the plan; 2.13 failed the sample
        // with a URISyntaxException.
        if runtime.is_none() && path.parse::<PathAndQuery>().is_err() {
            let escaped = escape_unsafe(&path);
            if escaped.parse::<PathAndQuery>().is_ok() {
                path = escaped;
            }
        }
        if runtime.is_none() && path.parse::<PathAndQuery>().is_err() {
            return Err(RunnerError::invalid(
                el,
                "HTTPSampler.path",
                &path,
                "a valid URL path",
            ));
        }
        let follow_redirects = self.flag(s, "HTTPSampler.follow_redirects", false)?
            || self.flag(s, "HTTPSampler.auto_redirects", false)?;
        let timeout = |prop: &str| -> Result<Option<Duration>, RunnerError> {
            let text = self.eval(el, prop, merged_raw(s, scope, prop))?;
            let ms = self.number(el, prop, Some(text.trim()), 0)?;
            Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
        };
        let extractors = self.post_processors(scope)?;
        let assertions = self.checks(scope)?;
        let cache = self.cache_settings(scope)?;
        let embedded = self.embedded_resources(s, scope)?;
        let keep = Keep {
            // The page is parsed for its embedded resources.
            body: extractors.iter().any(|e| e.needs_body())
                || assertions.iter().any(|a| a.needs_body())
                || embedded.is_some(),
            // A Cache Manager reads the response's caching headers; the embedded resources
            // are looked for by the page's content type.
            headers: !extractors.is_empty()
                || !assertions.is_empty()
                || cache.is_some()
                || embedded.is_some(),
        };
        let label = self.name_text(el, &s.name)?;
        let url_arc = Arc::from(crate::model::url(tls, &host, port, &path));
        Ok(HttpStep {
            label_arc: Arc::from(label.as_str()),
            label_template: self.report.name_template(&label),
            label,
            request: HttpRequest {
                url_arc,
                method,
                tls,
                host,
                port,
                path_and_query: path,
                headers,
                body,
                form_content_type,
            },
            follow_redirects,
            connect_timeout: timeout("HTTPSampler.connect_timeout")?,
            response_timeout: timeout("HTTPSampler.response_timeout")?,
            delay: self.delay(scope)?,
            random_delays: self.random_delays(scope)?,
            throughput_timers,
            pre_processors: self.pre_processors(scope)?,
            script_pre: self.script_pre_processors(scope)?,
            assertions,
            cookies: self.cookie_managers(scope)?,
            auth: self.auth_entries(scope)?,
            cache,
            extractors,
            keep,
            embedded,
            regex_params,
            runtime,
        })
    }

    /// Where sampler `s` sends its request: protocol, host and port from the sampler or the
    /// innermost HTTP Request Defaults, overridden by a full URL in the path; the path starts
    /// with `/` (or is one run-time reference that will).
    fn target(&mut self, s: &TestElement, scope: &Scope<'_>) -> Result<Target, RunnerError> {
        let el = s.name.as_str();
        let merged = |prop: &str| -> Result<String, RunnerError> {
            Ok(self
                .eval(el, prop, merged_raw(s, scope, prop))?
                .trim()
                .to_string())
        };
        let path_prop = "HTTPSampler.path";
        let mut path = self
            .eval_deferred(el, path_prop, merged_raw(s, scope, path_prop))?
            .trim()
            .to_string();
        let full_url = full_url(&path);
        let mut tls = match self.protocol(s, scope)? {
            // A full URL in the path wins over the protocol (JMeter's `getUrl`).
            _ if full_url.is_some() => false,
            Protocol::Http => false,
            Protocol::Https => true,
            Protocol::Unknown(p) => {
                return Err(RunnerError::setting(
                    el,
                    "HTTPSampler.protocol",
                    &p,
                    "the native runner speaks http and https",
                ));
            }
        };
        let mut host = merged("HTTPSampler.domain")?;
        let port_text = merged("HTTPSampler.port")?;
        // JMeter's `getPortIfSpecified`: a port that is not a number is unspecified (the
        // protocol's default port).
        let mut port = if !port_text.is_empty() && port_text.parse::<i64>().is_err() {
            self.report.warn(format!(
                "element \"{el}\", property HTTPSampler.port: \"{port_text}\" is not a number; \
                 JMeter then uses the protocol's default port (getPortIfSpecified), and so does \
                 the runner"
            ));
            None
        } else {
            parse_port(el, &port_text)?
        };
        if let Some((url_tls, skip)) = full_url {
            let rest = &path[skip..];
            let (authority, p) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let (h, explicit_port) = match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), parse_port(el, p)?),
                None => (authority.to_string(), None),
            };
            host = h;
            port = explicit_port;
            tls = url_tls;
            path = p.to_string();
        }
        let port = port.unwrap_or(if tls { 443 } else { 80 });
        if host.is_empty() {
            return Err(RunnerError::invalid(
                el,
                "HTTPSampler.domain",
                "",
                "a host name (set it in the sampler or in HTTP Request Defaults)",
            ));
        }
        // A path that is one run-time reference gets its `/` after substitution.
        if !path.starts_with('/') && !path.starts_with("${") {
            path.insert(0, '/');
        }
        Ok(Target {
            tls,
            host,
            port,
            path,
        })
    }

    /// Templates for what is left to fill in per request, `None` when nothing is. `path` is the
    /// sampler's path (with its own query, if any), `args` its encoded arguments for the query.
    fn runtime_parts(
        &self,
        el: &str,
        path: &str,
        args: Option<&str>,
        headers: &[(String, String)],
        body: &Bytes,
        form: bool,
    ) -> Result<Option<Box<RuntimeParts>>, RunnerError> {
        let dynamic = |t: &str| t.contains("${");
        let body_text = std::str::from_utf8(body).ok().filter(|b| dynamic(b));
        if !dynamic(path)
            && !args.is_some_and(dynamic)
            && !headers.iter().any(|(_, v)| dynamic(v))
            && body_text.is_none()
        {
            return Ok(None);
        }
        // Split at the first `?` written in the plan, never at one inside a reference
        // (`/s/${__jexl2(${i} > 1 ? 200 : 500)}`); a `?` a value brings is handled once rendered.
        let (path, query, args) = match literal_question_mark(path) {
            Some(at) => {
                let mut q = path[at + 1..].to_string();
                if let Some(a) = args {
                    q.push('&');
                    q.push_str(a);
                }
                (&path[..at], Some(q), None)
            }
            None => (path, None, args),
        };
        let body_prop = if form {
            "HTTPsampler.Arguments"
        } else {
            "HTTPSampler.postBodyRaw"
        };
        let args_prop = "HTTPsampler.Arguments";
        let parts = RuntimeParts {
            path: self.template(el, "HTTPSampler.path", path)?,
            query: query
                .map(|q| self.template(el, args_prop, &q))
                .transpose()?,
            args: args.map(|a| self.template(el, args_prop, a)).transpose()?,
            headers: headers
                .iter()
                .map(|(_, v)| {
                    dynamic(v)
                        .then(|| self.template(el, "Header.value", v))
                        .transpose()
                })
                .collect::<Result<_, _>>()?,
            body: body_text
                .map(|b| self.template(el, body_prop, b))
                .transpose()?,
        };
        // What the plan writes must make a URL whatever the values are.
        let mut shape = parts.path.with_placeholders("0");
        if !shape.starts_with('/') {
            shape.insert(0, '/');
        }
        for q in parts.query.iter().chain(&parts.args) {
            shape.push('?');
            shape.push_str(&q.with_placeholders("0"));
        }
        if shape.parse::<PathAndQuery>().is_err() {
            return Err(RunnerError::invalid(
                el,
                "HTTPSampler.path",
                &shape,
                "a valid URL path (run-time values shown as 0)",
            ));
        }
        Ok(Some(Box::new(parts)))
    }

    /// Whether a Cookie Manager is in scope; preset cookies are not implemented.
    fn cookie_managers(&self, scope: &Scope<'_>) -> Result<bool, RunnerError> {
        for m in &scope.cookies {
            if m.prop_collection("CookieManager.cookies")
                .is_some_and(|c| !c.is_empty())
            {
                return Err(RunnerError::setting(
                    &m.name,
                    "CookieManager.cookies",
                    "(user-defined cookies)",
                    "preset cookies are not implemented; cookies set by responses are",
                ));
            }
        }
        Ok(!scope.cookies.is_empty())
    }

    /// Sampler settings that change what is sent and that the runner does not implement.
    fn refuse_unsupported_http(&self, s: &TestElement) -> Result<(), RunnerError> {
        let md5 = "HTTPSampler.md5";
        if self.flag(s, md5, false)? {
            return Err(RunnerError::setting(
                &s.name,
                md5,
                "true",
                "a response kept as its MD5 hash (\"Save response as MD5 hash?\") is not \
                 implemented",
            ));
        }
        for prop in ["HTTPSampler.proxyHost", "HTTPSampler.ipSource"] {
            let v = self.text(s, prop)?;
            if !v.trim().is_empty() {
                return Err(RunnerError::setting(
                    &s.name,
                    prop,
                    &v,
                    "proxies and source addresses are not implemented",
                ));
            }
        }
        Ok(())
    }

    /// The `HTTPsampler.Arguments` of a sampler or defaults element.
    fn arguments(&self, e: &TestElement) -> Result<Vec<Argument>, RunnerError> {
        let mut out = Vec::new();
        let Some(args) = e
            .prop_element("HTTPsampler.Arguments")
            .and_then(|a| a.props.get_collection("Arguments.arguments"))
        else {
            return Ok(out);
        };
        for arg in args.values().filter_map(|p| p.as_element()) {
            let raw_name = arg.prop_str("Argument.name").unwrap_or("");
            let name = self.eval_deferred(&e.name, "Argument.name", raw_name)?;
            let prop = format!("Argument.value ({name})");
            let value =
                self.eval_deferred(&e.name, &prop, arg.prop_str("Argument.value").unwrap_or(""))?;
            out.push(Argument {
                name,
                value,
                always_encode: arg.prop_bool("HTTPArgument.always_encode").unwrap_or(false),
                use_equals: arg.prop_bool("HTTPArgument.use_equals").unwrap_or(true),
            });
        }
        Ok(out)
    }

    /// Header Managers in scope merged, inner ones replacing outer headers of the same name.
    fn headers(&self, scope: &Scope<'_>) -> Result<Vec<(String, String)>, RunnerError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for hm in &scope.headers {
            let Some(list) = hm.prop_collection("HeaderManager.headers") else {
                continue;
            };
            let mut own: Vec<(String, String)> = Vec::new();
            for h in list.values().filter_map(|p| p.as_element()) {
                let name = self.eval(
                    &hm.name,
                    "Header.name",
                    h.prop_str("Header.name").unwrap_or(""),
                )?;
                let name = name.trim().to_string();
                if name.is_empty() {
                    continue;
                }
                let value = self.eval_deferred(
                    &hm.name,
                    "Header.value",
                    h.prop_str("Header.value").unwrap_or(""),
                )?;
                if HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(RunnerError::invalid(
                        &hm.name,
                        "Header.name",
                        &name,
                        "a valid HTTP header name",
                    ));
                }
                if !value.contains("${") && HeaderValue::from_str(&value).is_err() {
                    return Err(RunnerError::invalid(
                        &hm.name,
                        "Header.value",
                        &value,
                        "a valid HTTP header value",
                    ));
                }
                own.push((name, value));
            }
            out.retain(|(n, _)| !own.iter().any(|(o, _)| o.eq_ignore_ascii_case(n)));
            out.extend(own);
        }
        Ok(out)
    }
}

/// `Some((tls, length of the scheme and "://"))` when `path` is a full http or https URL
/// (JMeter's `getUrl` then ignores protocol, host and port).
pub(crate) fn full_url(path: &str) -> Option<(bool, usize)> {
    let lower = path.to_ascii_lowercase();
    if lower.starts_with("http://") {
        Some((false, 7))
    } else if lower.starts_with("https://") {
        Some((true, 8))
    } else {
        None
    }
}

/// Byte index of the first `?` of `text` outside `${…}` references.
fn literal_question_mark(text: &str) -> Option<usize> {
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some(after) = rest.strip_prefix("${") {
            match reference_len(after) {
                Some(len) => i += 2 + len + 1,
                None => return rest.find('?').map(|q| i + q),
            }
        } else if rest.starts_with('?') {
            return Some(i);
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// An explicit port, `None` when empty or 0 (the scheme's default applies).
fn parse_port(element: &str, text: &str) -> Result<Option<u16>, RunnerError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u16>() {
        Ok(0) => Ok(None),
        Ok(p) => Ok(Some(p)),
        Err(_) => Err(RunnerError::invalid(
            element,
            "HTTPSampler.port",
            t,
            "a TCP port",
        )),
    }
}

/// `name=value&…`. A form body is always encoded (as JMeter's HttpClient 4 sampler sends it); a
/// query string only when `HTTPArgument.always_encode` is set, with characters a URL cannot hold
/// escaped either way.
fn encode_args(args: &[Argument], form: bool) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        // `${name}` references left for runtime stay as they are; the value is encoded when it
        // is filled in (`HttpStep::rendered`).
        let encode = |s: &str| {
            keep_references(s, |t| {
                if form || a.always_encode {
                    form_encode(t)
                } else {
                    escape_unsafe(t)
                }
            })
        };
        out.push_str(&encode(&a.name));
        if a.use_equals || !a.value.is_empty() {
            out.push('=');
            out.push_str(&encode(&a.value));
        }
    }
    out
}

/// `encode` applied to the text between `${name}` references, the references kept verbatim.
fn keep_references(s: &str, encode: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        match reference_len(&rest[start + 2..]) {
            Some(len) => {
                let end = start + 2 + len + 1;
                out.push_str(&encode(&rest[..start]));
                out.push_str(&rest[start..end]);
                rest = &rest[end..];
            }
            None => break,
        }
    }
    out.push_str(&encode(rest));
    out
}
