//! Bearer-token check for every call (when the server has a token).

use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Accepts calls with `authorization: Bearer <token>`; with no token configured, every call.
#[derive(Clone)]
pub(crate) struct BearerCheck {
    expected: Option<String>,
}

impl BearerCheck {
    pub(crate) fn new(token: Option<String>) -> BearerCheck {
        BearerCheck {
            expected: token.map(|t| format!("Bearer {t}")),
        }
    }
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
