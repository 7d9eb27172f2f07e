//! Bearer-token check for every call (when the server has a token).

use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Accepts calls with `authorization: Bearer <token>`; with no token configured, every call.
/// The console's session cookie (`console_auth.rs`) is checked here too.
#[derive(Clone)]
pub(crate) struct BearerCheck {
    expected: Option<String>,
    /// The cookie value that stands for the token: its bytes in hex (any token fits a cookie).
    cookie: Option<String>,
}

impl BearerCheck {
    /// A check of `token` (None: every call is let through).
    pub(crate) fn new(token: Option<String>) -> BearerCheck {
        BearerCheck {
            cookie: token.as_deref().map(hex),
            expected: token.map(|t| format!("Bearer {t}")),
        }
    }

    /// Whether the server has a token (else every call is let through).
    pub(crate) fn has_token(&self) -> bool {
        self.expected.is_some()
    }

    /// The value of the console's cookie once `given` was entered as the token, if it is the
    /// token; None if the server has no token or `given` is not it.
    pub(crate) fn cookie_for(&self, given: &str) -> Option<String> {
        let expected = self.expected.as_deref()?;
        let given = format!("Bearer {given}");
        same(given.as_bytes(), expected.as_bytes())
            .then(|| self.cookie.clone())
            .flatten()
    }

    /// Whether `given` (the console's cookie, if the request has one) lets a call through.
    pub(crate) fn check_cookie(&self, given: Option<&str>) -> Result<(), Status> {
        let Some(expected) = &self.cookie else {
            return Ok(());
        };
        match given {
            Some(v) if same(v.as_bytes(), expected.as_bytes()) => Ok(()),
            Some(_) => Err(Status::unauthenticated(
                "the console's session is not for this server's token: log in again",
            )),
            None => Err(Status::unauthenticated(
                "this server needs `authorization: Bearer <token>` or the console's login",
            )),
        }
    }
}

/// The bytes of `text` as lowercase hex.
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl BearerCheck {
    /// Whether `given` (the `authorization` header or metadata, if any) lets a call through.
    pub(crate) fn check(&self, given: Option<&[u8]>) -> Result<(), Status> {
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        match given {
            Some(v) if same(v, expected.as_bytes()) => Ok(()),
            Some(_) => Err(Status::unauthenticated("wrong bearer token")),
            None => Err(Status::unauthenticated(
                "this server needs `authorization: Bearer <token>`",
            )),
        }
    }
}

impl Interceptor for BearerCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let given = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes());
        self.check(given)?;
        Ok(request)
    }
}
