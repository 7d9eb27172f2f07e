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
use crate::model::AuthEntry;

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
                header: format!("Basic {}", crate::text::base64(credentials.as_bytes())),
            });
        }
        Ok(out)
    }
}
