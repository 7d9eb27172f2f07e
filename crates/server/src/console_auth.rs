//! Who may use the console and the JSON API of `--http` when the server has a token, and how
//! changes are kept from other sites (CSRF).
//!
//! A request is let through with `Authorization: Bearer <token>` (curl, scripts) or with the
//! console's cookie, which the login page sets (`GET /login`, `POST /login` with the token):
//! `loadlake_session`, `HttpOnly` (the pages' scripts never see the token), `SameSite=Strict`
//! (a browser sends it only on requests this server's own pages start), `Path=/`, for the
//! browser session. A wrong `Authorization` header is refused even next to a right cookie.
//! Pages and their scripts without either go to `/login?next=…`; the API answers 401.
//!
//! Changes — every method but GET, HEAD and OPTIONS: upload, delete, stop, SQL's POST, login,
//! logout — are refused (403 `PERMISSION_DENIED`) when their `Origin` header (browsers send it
//! on every cross-origin POST and DELETE) is not this server's own (`http(s)://` + `Host`), and,
//! when the cookie is what lets them in, unless they carry `X-Loadlake-Console: 1`: the
//! console's scripts send it, an HTML form on another site cannot, and a script of another
//! site could only after a CORS preflight this server never allows.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tonic::Status;

use crate::api::ApiError;
use crate::auth::BearerCheck;

/// The console's session cookie.
pub(crate) const COOKIE: &str = "loadlake_session";
/// The header the console's scripts send with every call; a change let in by the cookie needs it.
pub(crate) const CONSOLE_HEADER: &str = "x-loadlake-console";

const LOGIN_HTML: &str = include_str!("../console/login.html");

/// What let a request in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proof {
    /// The server has no token.
    Open,
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The console's cookie.
    Cookie,
}

/// The console cookie's value among the request's cookies, if it has one.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// What lets the request in: its `Authorization` header when it has one, else the cookie.
pub(crate) fn authenticate(check: &BearerCheck, headers: &HeaderMap) -> Result<Proof, Status> {
    if let Some(given) = headers.get(header::AUTHORIZATION) {
        check.check(Some(given.as_bytes()))?;
        return Ok(Proof::Bearer);
    }
    if !check.has_token() {
        return Ok(Proof::Open);
    }
    check.check_cookie(cookie(headers))?;
    Ok(Proof::Cookie)
}

/// Whether `method` changes something (everything but GET, HEAD, OPTIONS).
fn is_change(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether `origin` is this server's own: `http://` or `https://` and the request's `Host`.
fn same_origin(origin: &[u8], headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).map(HeaderValue::as_bytes) else {
        return false;
    };
    [b"http://".as_slice(), b"https://".as_slice()]
        .iter()
        .any(|scheme| origin.strip_prefix(*scheme) == Some(host))
}

/// The CSRF rule for a change let in by `proof` (see the module's comment).
pub(crate) fn check_change(proof: Proof, headers: &HeaderMap) -> Result<(), Status> {
    if let Some(origin) = headers.get(header::ORIGIN)
        && !same_origin(origin.as_bytes(), headers)
    {
        return Err(Status::permission_denied(format!(
            "a change from another origin ({}) is refused",
            String::from_utf8_lossy(origin.as_bytes())
        )));
    }
    if proof == Proof::Cookie && headers.get(CONSOLE_HEADER).is_none() {
        return Err(Status::permission_denied(
            "a change made with the console's cookie needs the `X-Loadlake-Console` header \
             (the console's pages send it; scripts use `Authorization: Bearer`)",
        ));
    }
    Ok(())
}

/// Middleware of `/api/v1`'s guarded routes: the token (header or cookie), and the CSRF rule
/// for changes.
pub(crate) async fn guard_api(
    State(check): State<BearerCheck>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let verdict = authenticate(&check, headers).and_then(|proof| {
        if is_change(request.method()) {
            check_change(proof, headers)
        } else {
            Ok(())
        }
    });
    match verdict {
        Ok(()) => next.run(request).await,
        Err(status) => ApiError::from(status).into_response(),
    }
}

/// Middleware of the pages and their scripts: without the token, to the login page (which
/// comes back here after).
pub(crate) async fn guard_page(
    State(check): State<BearerCheck>,
    request: Request,
    next: Next,
) -> Response {
    if authenticate(&check, request.headers()).is_ok() {
        return next.run(request).await;
    }
    let here = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    see_other(&format!("/login?next={}", percent_encoded(&here)))
}

/// `text` with every byte but letters, digits and `-._~` as `%XX`.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `next` if it is a path of this server (`/…`, not `//host…` nor `/\…`), else `/`: the login
/// page sends nobody elsewhere.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(char::is_control) =>
        {
            p
        }
        _ => "/",
    }
}

/// A 303 to `location` (a path of this server).
fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, HeaderValue::from_static("/"))],
        )
            .into_response(),
    }
}

/// The login page, with its "not the token" line shown when `failed`.
fn login_page(status: StatusCode, failed: bool) -> Response {
    let html = if failed {
        LOGIN_HTML.replace(r#"class="error" hidden>"#, r#"class="error">"#)
    } else {
        LOGIN_HTML.to_string()
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// `?next=` of the login page: where to go once logged in.
#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// The login form's body.
#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `GET /login`: the form (a server without a token has nothing to ask: on to `next`).
async fn show_login(
    State(check): State<BearerCheck>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    if !check.has_token() {
        let next = query.as_ref().ok().and_then(|q| q.next.as_deref());
        return see_other(local_path(next));
    }
    login_page(StatusCode::OK, false)
}

/// `POST /login` with `token=…`: the right token sets the cookie and goes on to `next`; a wrong
/// one is 401 and the form again.
async fn log_in(
    State(check): State<BearerCheck>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    if let Err(status) = check_change(Proof::Open, &headers) {
        return ApiError::from(status).into_response();
    }
    let next = local_path(query.as_ref().ok().and_then(|q| q.next.as_deref())).to_string();
    if !check.has_token() {
        return see_other(&next);
    }
    let Ok(Form(form)) = form else {
        return login_page(StatusCode::BAD_REQUEST, true);
    };
    let Some(value) = check.cookie_for(form.token.trim()) else {
        return login_page(StatusCode::UNAUTHORIZED, true);
    };
    let mut response = see_other(&next);
    let cookie = format!("{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /logout`: the cookie is dropped; on to the login page.
async fn log_out(headers: HeaderMap) -> Response {
    if let Err(status) = check_change(Proof::Open, &headers) {
        return ApiError::from(status).into_response();
    }
    let mut response = see_other("/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("loadlake_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

/// `/login` and `/logout` (open: they are how the token is given).
pub(crate) fn router<S: Clone + Send + Sync + 'static>(check: BearerCheck) -> Router<S> {
    Router::new()
        .route("/login", get(show_login).post(log_in))
        .route("/logout", post(log_out))
        .with_state(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_cookie_or_the_header_lets_in_and_a_wrong_header_wins() {
        let check = BearerCheck::new(Some("s3cret".into()));
        // "s3cret" in hex, as the login sets it.
        let right = "loadlake_session=733363726574";
        let proof = |h: &[(&'static str, &'static str)]| authenticate(&check, &headers(h)).ok();
        assert_eq!(proof(&[("cookie", right)]), Some(Proof::Cookie));
        assert_eq!(
            proof(&[("cookie", "a=b; loadlake_session=733363726574; c=d")]),
            Some(Proof::Cookie)
        );
        assert_eq!(
            proof(&[("authorization", "Bearer s3cret")]),
            Some(Proof::Bearer)
        );
        assert_eq!(
            proof(&[("authorization", "Bearer wrong"), ("cookie", right)]),
            None
        );
        assert_eq!(proof(&[("cookie", "loadlake_session=s3cret")]), None);
        assert_eq!(proof(&[]), None);
        assert_eq!(check.cookie_for("s3cret").as_deref(), Some("733363726574"));
        assert_eq!(check.cookie_for("s3cre"), None);
        let open = BearerCheck::new(None);
        assert_eq!(authenticate(&open, &headers(&[])).ok(), Some(Proof::Open));
    }

    #[test]
    fn changes_need_the_same_origin_and_with_the_cookie_the_console_header() {
        let host = ("host", "127.0.0.1:8080");
        let ok =
            |proof, h: &[(&'static str, &'static str)]| check_change(proof, &headers(h)).is_ok();
        assert!(ok(Proof::Bearer, &[host]));
        assert!(ok(
            Proof::Bearer,
            &[host, ("origin", "http://127.0.0.1:8080")]
        ));
        assert!(!ok(
            Proof::Bearer,
            &[host, ("origin", "http://evil.example")]
        ));
        assert!(!ok(Proof::Open, &[host, ("origin", "null")]));
        assert!(!ok(
            Proof::Open,
            &[host, ("origin", "http://127.0.0.1:8081")]
        ));
        assert!(!ok(Proof::Cookie, &[host]));
        assert!(ok(Proof::Cookie, &[host, ("x-loadlake-console", "1")]));
        assert!(!ok(
            Proof::Cookie,
            &[
                host,
                ("x-loadlake-console", "1"),
                ("origin", "https://evil.example")
            ]
        ));
    }

    #[test]
    fn the_login_page_sends_only_to_paths_of_this_server() {
        assert_eq!(local_path(Some("/runs/x?y=1#z")), "/runs/x?y=1#z");
        for away in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example",
            "",
            "x",
        ] {
            assert_eq!(local_path(Some(away)), "/", "{away}");
        }
        assert_eq!(local_path(None), "/");
        assert_eq!(percent_encoded("/runs/a b?c=d"), "%2Fruns%2Fa%20b%3Fc%3Dd");
    }
}
