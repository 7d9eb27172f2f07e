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

impl Interceptor for BearerCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(request);
        };
        match request.metadata().get("authorization") {
            Some(v) if same(v.as_bytes(), expected.as_bytes()) => Ok(request),
            Some(_) => Err(Status::unauthenticated("wrong bearer token")),
            None => Err(Status::unauthenticated(
                "this server needs `authorization: Bearer <token>`",
            )),
        }
    }
}
