//! `POST /api/v1/runs` of the JSON API: a file's bytes as the request body become a run through
//! `ImportFile`'s own pipeline ([`crate::ingest::import_upload`]: spooled into the store's
//! tmp/, imported by crates/import as `loadlake import` imports a file); the import options come
//! from the query string. The console's upload zone sends the file this way.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use futures::StreamExt;
use tonic::Status;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::Shared;
use crate::api::ApiError;
use crate::pb;

/// The request body of an upload: the file's bytes (described as a binary string).
pub(crate) struct UploadBody;

impl PartialSchema for UploadBody {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/octet-stream")
            .description(Some(
                "The file's bytes: a JMeter JTL (CSV or XML), k6 JSON or CSV, a Gatling \
                 simulation.log; gzip, zstd or bzip2 compressed too",
            ))
            .into()
    }
}

impl ToSchema for UploadBody {}

/// A query-string value that must be a boolean.
fn flag(key: &str, value: &str) -> Result<bool, Status> {
    match value {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Status::invalid_argument(format!(
            "query string: {key}={value}: true or false"
        ))),
    }
}

/// The `ImportOptions` of an upload's query string (`name`, `tags=k=v` repeatable, `file_name`,
/// `format`, `jmeter_version`, `force`, `strict`, `max_errors`); an unknown name is refused.
pub(crate) fn upload_options(pairs: Vec<(String, String)>) -> Result<pb::ImportOptions, Status> {
    let mut o = pb::ImportOptions::default();
    for (key, value) in pairs {
        match key.as_str() {
            "name" => o.run_name = value,
            "file_name" => o.file_name = value,
            "format" => o.format = value,
            "jmeter_version" => o.jmeter_version = value,
            "force" => o.force = flag(&key, &value)?,
            "strict" => o.strict = flag(&key, &value)?,
            "max_errors" => {
                o.max_errors = value.parse().map_err(|_| {
                    Status::invalid_argument(format!("query string: max_errors={value}: a count"))
                })?;
            }
            "tags" => {
                let (k, v) = value.split_once('=').ok_or_else(|| {
                    Status::invalid_argument(format!("query string: tags={value}: key=value"))
                })?;
                o.tags.insert(k.to_string(), v.to_string());
            }
            _ => {
                return Err(Status::invalid_argument(format!(
                    "query string: unknown parameter '{key}'"
                )));
            }
        }
    }
    Ok(o)
}

/// `POST /api/v1/runs?name=&tags=k=v&file_name=&format=&…` with the file as the body:
/// `ImportFile` over HTTP.
#[utoipa::path(post, path = "/api/v1/runs", tag = "runs",
    params(
        ("name" = Option<String>, Query, description = "The run's name (default: the file's name, as `loadlake import`)"),
        ("tags" = Option<Vec<String>>, Query, explode = true, description = "`key=value`, repeatable: the run's tags"),
        ("file_name" = Option<String>, Query, description = "The file's name, kept as the run's source (default `upload.jtl`)"),
        ("format" = Option<String>, Query, description = "`csv`, `xml`, `k6-json`, `k6-csv`, `gatling`; absent: sniffed"),
        ("jmeter_version" = Option<String>, Query, description = "The JMeter version that wrote the file (its CSV defaults)"),
        ("force" = Option<bool>, Query, description = "Import the same bytes again (else 409 ALREADY_EXISTS)"),
        ("strict" = Option<bool>, Query, description = "Refuse the file at its first bad row"),
        ("max_errors" = Option<u64>, Query, description = "Bad rows tolerated before the import fails (default 1000)"),
    ),
    request_body(content = UploadBody, content_type = "application/octet-stream",
        description = "The file's bytes (streamed to the store's tmp/ first; at most 8 GiB)"),
    responses((status = 200, description = "The new run (ImportFile): its id, samples, errors and rejected rows", body = pb::ImportFileResponse),
        (status = 409, description = "ALREADY_EXISTS: these bytes were imported before (set `force`)", body = crate::api::ErrorBody),
        (status = 429, description = "RESOURCE_EXHAUSTED: larger than 8 GiB, or the disk is full", body = crate::api::ErrorBody),
        crate::api_doc::ApiErrors))]
pub(crate) async fn upload(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    body: Body,
) -> Result<Json<pb::ImportFileResponse>, ApiError> {
    let pairs: Vec<(String, String)> = Query::try_from_uri(&uri)
        .map(|Query(p)| p)
        .map_err(|e| Status::invalid_argument(format!("query string: {}", e.body_text())))?;
    let options = upload_options(pairs)?;
    let data = body.into_data_stream().map(|piece| {
        piece.map_err(|e| Status::invalid_argument(format!("reading the request body: {e}")))
    });
    let answer = crate::ingest::import_upload(&shared, options, data).await?;
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::upload_options;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_query_string_fills_the_import_options() {
        let o = upload_options(pairs(&[
            ("name", "nightly"),
            ("tags", "env=ci"),
            ("tags", "team=a=b"),
            ("force", "true"),
            ("max_errors", "7"),
            ("format", "csv"),
        ]))
        .unwrap_or_default();
        assert_eq!(o.run_name, "nightly");
        assert_eq!(o.tags.len(), 2);
        assert_eq!(o.tags.get("env").map(String::as_str), Some("ci"));
        assert_eq!(o.tags.get("team").map(String::as_str), Some("a=b"));
        assert!(o.force && !o.strict);
        assert_eq!((o.max_errors, o.format.as_str()), (7, "csv"));
    }

    #[test]
    fn bad_query_strings_are_refused() {
        for bad in [
            ("force", "maybe"),
            ("max_errors", "-1"),
            ("tags", "novalue"),
            ("run_name", "x"),
        ] {
            let e = upload_options(pairs(&[bad])).expect_err("refused");
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad:?}");
        }
    }
}
