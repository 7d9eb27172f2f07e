//! The OpenAPI document of the JSON API, served at `GET /api/v1/openapi.json`.
//!
//! It is generated, not kept by hand: the router of `/api/v1` (`api::router`) is built with
//! utoipa-axum's `routes!` from the handlers' `#[utoipa::path]` annotations, so a route is
//! served only if it is described, and the bodies are described by the types the handlers
//! answer with — the gRPC messages (`ToSchema` derived on them in build.rs, with the proto's
//! comments), the SQL request and answer, the error body. The answers of compare, trend and the
//! error samples are structs of crates/report and crates/query and are described as objects
//! (their fields are in docs/api.md). The document is open without the token, like health:
//! it describes the API, not the store.

use std::collections::BTreeMap;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use crate::api::ErrorBody;

/// The name of the bearer-token security scheme in the document (also spelt out in `ApiDoc`'s
/// and the handlers' `security`).
pub(crate) const BEARER: &str = "bearer";
/// The name of the console-cookie security scheme (the alternative to the bearer token).
pub(crate) const COOKIE: &str = "cookie";

/// The document's fixed parts: info, tags, the security scheme and the requirement every
/// operation has unless it says otherwise. The paths come from the router (`api::router`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "loadlake JSON API",
        description = "The JSON API of `loadlake serve --http`: the gRPC services' messages as \
                       JSON (proto field names, enums as numbers), plus compare, trend, error \
                       samples and SQL. See docs/api.md.",
        license(name = "see the repository")
    ),
    modifiers(&BearerScheme),
    security(("bearer" = []), ("cookie" = [])),
    components(schemas(ErrorBody)),
    tags(
        (name = "runs", description = "Runs and their lifecycle (RunService)"),
        (name = "reports", description = "Reports of a run (ReportService)"),
        (name = "across", description = "Across runs: compare, trend"),
        (name = "sql", description = "Read-only SQL over samples, live_samples, runs"),
        (name = "meta", description = "Health and this document (open without the token)")
    )
)]
pub(crate) struct ApiDoc;

/// Adds the bearer-token scheme (`Authorization: Bearer <token>`, the `--token-file` token) and
/// the console's cookie, either of which an operation may be called with.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The token of `loadlake serve --token-file`; needed by every endpoint \
                         but health and this document when the server has a token",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::console_auth::COOKIE,
                "The console's session, set by `POST /login` with the token (HttpOnly, \
                 SameSite=Strict); a change made with it also needs `X-Loadlake-Console: 1`",
            ))),
        );
    }
}

/// The error answers every endpoint may give (`ApiError`'s statuses).
pub(crate) struct ApiErrors;

impl IntoResponses for ApiErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::response::Response>> {
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            ErrorBody::name(),
                        ))))
                        .build(),
                )
                .build()
                .into()
        };
        BTreeMap::from([
            (
                "400".to_string(),
                error(
                    "INVALID_ARGUMENT, OUT_OF_RANGE, FAILED_PRECONDITION: a bad parameter or a run not in a state for this",
                ),
            ),
            (
                "401".to_string(),
                error(
                    "UNAUTHENTICATED: no or a wrong bearer token (with `WWW-Authenticate: Bearer`)",
                ),
            ),
            (
                "404".to_string(),
                error("NOT_FOUND: no such run, case or request"),
            ),
            (
                "403".to_string(),
                error(
                    "PERMISSION_DENIED: a change (POST, DELETE) with an `Origin` not this server's, or made with the console's cookie without `X-Loadlake-Console: 1`",
                ),
            ),
            ("500".to_string(), error("INTERNAL, UNKNOWN, DATA_LOSS")),
            (
                "504".to_string(),
                error("DEADLINE_EXCEEDED: the server's query timeout"),
            ),
        ])
    }
}

/// `GET /api/v1/openapi.json`'s answer: an OpenAPI 3.1 document (described as an object).
pub(crate) struct OpenApiDocument;

impl PartialSchema for OpenApiDocument {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .description(Some("An OpenAPI 3.1 document"))
            .into()
    }
}

impl ToSchema for OpenApiDocument {}

/// An object of crates/report or crates/query that the document does not detail; `what` says
/// where its fields are documented.
fn object(what: &str) -> RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .description(Some(what))
        .into()
}

/// `GET /api/v1/compare`'s answer (`loadlake compare --format json`).
pub(crate) struct CompareAnswer;

impl PartialSchema for CompareAnswer {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        object(
            "What `loadlake compare BASE TARGET --format json` prints: baseline, candidate, \
             thresholdPct, rateThresholdPoints, minSamples, regressions, improvements, \
             timeUnit (\"us\" with resolution=us, absent in ms), rows",
        )
    }
}

impl ToSchema for CompareAnswer {}

/// `GET /api/v1/trend`'s answer (`loadlake trend --format json`).
pub(crate) struct TrendAnswer;

impl PartialSchema for TrendAnswer {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        object(
            "What `loadlake trend --format json` prints: metric, the scope, timeUnit \
             (\"us\" for a response time with resolution=us, absent otherwise), \
             points [{runId, name, startTime, value, samples}] oldest first",
        )
    }
}

impl ToSchema for TrendAnswer {}

/// `GET /api/v1/runs/{run_id}/samples`'s answer: one page of an error class's samples.
pub(crate) struct SamplesAnswer;

impl PartialSchema for SamplesAnswer {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        object(
            "{samples: [{row, ts_ms, label, case_name, thread, elapsed_ms, response_code, \
             response_message, failure_message, error_class}], next_page_token: string or null}",
        )
    }
}

impl ToSchema for SamplesAnswer {}

/// `GET /api/v1/runs/{run_id}/jmeter`'s answer: the HTML report's JMeter tables.
pub(crate) struct JmeterAnswer;

impl PartialSchema for JmeterAnswer {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        object(
            "{percentiles: [p1, p2, p3], statistics: [statistics.json rows, Total last], \
             apdex: [{label, apdex, satisfiedMs, toleratedMs}], errors: [...], top5: [...]}: \
             what `loadlake report --stats dashboard --format json` prints",
        )
    }
}

impl ToSchema for JmeterAnswer {}

/// `GET /api/v1/runs/{run_id}/sla`'s answer.
pub(crate) struct SlaAnswer;

impl PartialSchema for SlaAnswer {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        object(
            "{outcome: {passed, results: [...]} as `loadlake report --sla FILE --format json` \
             prints them, or null when the server was started without --sla}",
        )
    }
}

impl ToSchema for SlaAnswer {}

#[cfg(test)]
mod tests {
    use crate::auth::BearerCheck;

    /// The document of the router `api::router` serves.
    fn document() -> serde_json::Value {
        let (_, doc) = crate::api::documented(BearerCheck::new(None)).split_for_parts();
        serde_json::to_value(&doc).unwrap_or_default()
    }

    #[test]
    fn every_api_route_is_added_through_the_documented_router() {
        // `api::documented` adds a route only with its `#[utoipa::path]`; a plain `.route`
        // of `/api/…` anywhere in the crate would serve it undocumented.
        for (file, text) in [
            ("api.rs", include_str!("api.rs")),
            ("api_across.rs", include_str!("api_across.rs")),
            ("api_dashboard.rs", include_str!("api_dashboard.rs")),
            ("api_headlines.rs", include_str!("api_headlines.rs")),
            ("api_sql.rs", include_str!("api_sql.rs")),
            ("api_upload.rs", include_str!("api_upload.rs")),
            ("console.rs", include_str!("console.rs")),
            ("lib.rs", include_str!("lib.rs")),
        ] {
            let compact: String = text.split_whitespace().collect();
            assert!(
                !compact.contains(".route(\"/api") && !compact.contains(".nest(\"/api"),
                "{file} adds an /api route outside `api::documented`"
            );
        }
    }

    #[test]
    fn the_document_describes_every_route_with_the_token_scheme_and_errors() {
        let doc = document();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        let mut operations: Vec<String> = paths
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().cloned().unwrap_or_default();
                methods
                    .keys()
                    .map(|m| format!("{m} {path}"))
                    .collect::<Vec<_>>()
            })
            .collect();
        operations.sort();
        assert_eq!(operations.len(), 21, "{operations:#?}");
        assert!(operations.contains(&"post /api/v1/runs/{run_id}/stop".to_string()));
        assert!(operations.contains(&"get /api/v1/openapi.json".to_string()));
        assert!(operations.contains(&"post /api/v1/runs".to_string()));
        assert!(operations.contains(&"delete /api/v1/runs/{run_id}".to_string()));
        assert_eq!(
            doc["components"]["securitySchemes"][super::BEARER]["scheme"],
            "bearer"
        );
        assert_eq!(doc["security"][0][super::BEARER], serde_json::json!([]));
        let report = &paths["/api/v1/runs/{run_id}/report"]["get"];
        assert_eq!(
            report["responses"]["404"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
        assert_eq!(
            report["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ReportInfo"
        );
        let names: Vec<&str> = report["parameters"]
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        assert!(names.contains(&"run_id") && names.contains(&"percentile_method"));
        // Open endpoints say so; the rest inherit the token requirement.
        assert_eq!(
            paths["/api/v1/health"]["get"]["security"],
            serde_json::json!([{}])
        );
        assert!(report.get("security").is_none());
    }
}
