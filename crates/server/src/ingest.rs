//! IngestService: a JTL file streamed in chunks becomes a run through crates/import, the same
//! pipeline as `loadlake import` (the upload is spooled to the store's tmp/ directory first);
//! native sample streams are served by `stream.rs`.

use std::io::Write;
use std::sync::Arc;

use futures::StreamExt;
use loadlake_import::{ImportError, ImportRequest, import_files};
use loadlake_ingest::{DecodeOptions, JtlFormat};
use tonic::{Request, Response, Status, Streaming};

use crate::Shared;
use crate::pb::{self, ingest_service_server::IngestService};

/// Largest upload accepted, bytes.
const MAX_UPLOAD: u64 = 8 << 30;

pub(crate) struct Ingest {
    shared: Arc<Shared>,
}

impl Ingest {
    pub(crate) fn new(shared: Arc<Shared>) -> Ingest {
        Ingest { shared }
    }
}

fn import_status(e: ImportError) -> Status {
    use loadlake_schema::fault::HasFault;
    match &e {
        ImportError::AlreadyImported { .. } => Status::already_exists(e.to_string()),
        _ => crate::error::fault_status(e.fault(), e.to_string()),
    }
}

/// A failure to spool an upload (a full disk is RESOURCE_EXHAUSTED, like any other write).
fn spool_status(e: std::io::Error) -> Status {
    let fault = loadlake_schema::fault::io_fault(&e);
    crate::error::fault_status(fault, format!("spooling the upload: {e}"))
}

/// The decode options and request of the upload's first message.
fn request_of(o: &pb::ImportOptions, file: std::path::PathBuf) -> Result<ImportRequest, Status> {
    let format = match o.format.as_str() {
        "" => None,
        name => Some(JtlFormat::from_name(name).ok_or_else(|| {
            Status::invalid_argument(format!(
                "format '{name}': csv, xml, k6-json, k6-csv, gatling or empty"
            ))
        })?),
    };
    let file_name = if o.file_name.is_empty() {
        "upload.jtl".to_string()
    } else {
        o.file_name.clone()
    };
    Ok(ImportRequest {
        files: vec![file],
        source_names: Some(vec![file_name]),
        name: (!o.run_name.is_empty()).then(|| o.run_name.clone()),
        tags: o.tags.clone().into_iter().collect(),
        decode: DecodeOptions {
            format,
            jmeter_version: (!o.jmeter_version.is_empty()).then(|| o.jmeter_version.clone()),
            ..DecodeOptions::default()
        },
        plan: None,
        strict: o.strict,
        max_errors: if o.max_errors == 0 {
            1000
        } else {
            o.max_errors
        },
        force: o.force,
    })
}

#[tonic::async_trait]
impl IngestService for Ingest {
    type StreamSamplesStream =
        tokio_stream::wrappers::ReceiverStream<Result<pb::SampleStreamAck, Status>>;

    async fn stream_samples(
        &self,
        request: Request<Streaming<pb::SampleStreamMessage>>,
    ) -> Result<Response<Self::StreamSamplesStream>, Status> {
        let (acks, receiver) = tokio::sync::mpsc::channel(16);
        tokio::spawn(crate::stream::serve_stream(
            self.shared.clone(),
            request.into_inner(),
            acks,
        ));
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            receiver,
        )))
    }

    async fn import_file(
        &self,
        request: Request<Streaming<pb::ImportFileChunk>>,
    ) -> Result<Response<pb::ImportFileResponse>, Status> {
        let mut stream = request.into_inner();
        let first = stream
            .next()
            .await
            .ok_or_else(|| Status::invalid_argument("empty upload"))??;
        let options = first
            .options
            .ok_or_else(|| Status::invalid_argument("the first message must carry options"))?;
        // The first message's bytes, then every later message's; options only once.
        let rest = stream.map(|chunk| match chunk {
            Ok(pb::ImportFileChunk {
                options: Some(_), ..
            }) => Err(Status::invalid_argument(
                "options may only come once, first",
            )),
            Ok(chunk) => Ok(chunk.data),
            Err(status) => Err(status),
        });
        let data = futures::stream::once(async { Ok(first.data) }).chain(rest);
        let answer = import_upload(&self.shared, options, data).await?;
        Ok(Response::new(answer))
    }
}

/// The pipeline of `ImportFile`, shared by gRPC and the JSON API's `POST /api/v1/runs`:
/// `data` (the upload's bytes, piece by piece) is spooled into the store's tmp/ directory,
/// then imported by crates/import with `options`, as `loadlake import` imports a file.
pub(crate) async fn import_upload<B: AsRef<[u8]>>(
    shared: &Shared,
    options: pb::ImportOptions,
    data: impl futures::Stream<Item = Result<B, Status>>,
) -> Result<pb::ImportFileResponse, Status> {
    let mut spool = shared
        .store
        .spool_file()
        .map_err(|e| crate::error::store_status(&e))?;
    let req = request_of(&options, spool.path().to_path_buf())?;
    let mut written = 0u64;
    let mut data = std::pin::pin!(data);
    while let Some(piece) = data.next().await {
        let piece = piece?;
        let piece = piece.as_ref();
        written += piece.len() as u64;
        if written > MAX_UPLOAD {
            return Err(Status::resource_exhausted(
                "the upload is larger than 8 GiB",
            ));
        }
        spool.write_all(piece).map_err(spool_status)?;
    }
    spool.flush().map_err(spool_status)?;
    let store = shared.store.clone();
    let manifest = tokio::task::spawn_blocking(move || {
        let result = import_files(&store, &req);
        drop(spool);
        result
    })
    .await
    .map_err(|e| Status::internal(format!("import task: {e}")))?
    .map_err(import_status)?;
    Ok(pb::ImportFileResponse {
        run_id: manifest.run_id.to_string(),
        samples: manifest.samples,
        errors: manifest.errors,
        rejected: manifest.rejects.count,
    })
}
