//! Arrow Flight SQL over the store: statement queries (read-only, like every SQL surface of
//! loadlake) streamed as Arrow batches, plus the catalog / schema / table / SQL-info metadata BI
//! tools ask for. One catalog (`loadlake`), one schema (`public`), tables `samples` and `runs`.

use std::pin::Pin;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::Schema;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTables, CommandPreparedStatementQuery, CommandStatementQuery,
    ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket,
};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::{Stream, StreamExt, TryStreamExt};
use loadlake_query::{VANISHED_FILE_RETRIES, is_vanished_file};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::Shared;
use crate::error::query_status;

const CATALOG: &str = "loadlake";
const SCHEMA: &str = "public";
const TABLES: [&str; 3] = ["samples", "live_samples", "runs"];

static SQL_INFO: LazyLock<Option<SqlInfoData>> = LazyLock::new(|| {
    let mut b = SqlInfoDataBuilder::new();
    b.append(SqlInfo::FlightSqlServerName, "loadlake");
    b.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    b.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    b.append(SqlInfo::FlightSqlServerReadOnly, true);
    b.build().ok()
});

fn sql_info() -> Result<&'static SqlInfoData, Status> {
    SQL_INFO
        .as_ref()
        .ok_or_else(|| Status::internal("building SQL info"))
}

pub(crate) struct FlightSql {
    shared: Arc<Shared>,
}

impl FlightSql {
    pub(crate) fn new(shared: Arc<Shared>) -> FlightSql {
        FlightSql { shared }
    }

    /// The result schema of `sql`, after the read-only check (planning only).
    async fn plan_schema(&self, sql: &str) -> Result<Schema, Status> {
        let shared = &self.shared;
        shared
            .timed(async {
                let engine = shared.engine().await?;
                let df = engine
                    .dataframe_read_only(sql)
                    .await
                    .map_err(query_status)?;
                Ok(df.schema().as_arrow().clone())
            })
            .await
    }

    /// Runs `sql` and streams its batches as Flight data. A query whose first batch meets a
    /// file deleted under it (a run deleted while it ran) is planned again: nothing was sent
    /// yet, and the new plan lists the store as it is now.
    async fn stream_sql(&self, sql: &str) -> Result<DoGetStream, Status> {
        let shared = &self.shared;
        let (stream, first, engine) = shared
            .timed(async {
                let mut retries = 0;
                loop {
                    let engine = shared.engine().await?;
                    let df = engine
                        .dataframe_read_only(sql)
                        .await
                        .map_err(query_status)?;
                    let mut stream = df
                        .execute_stream()
                        .await
                        .map_err(|e| query_status(e.into()))?;
                    match stream.next().await {
                        Some(Err(e)) if retries < VANISHED_FILE_RETRIES && is_vanished_file(&e) => {
                            tracing::debug!("a file vanished under the query, again: {e}");
                            retries += 1;
                        }
                        first => return Ok((stream, first, engine)),
                    }
                }
            })
            .await?;
        // The first batch (or the end, or an error) goes out before the rest of the stream.
        let stream: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(
            stream.schema(),
            futures::stream::iter(first).chain(stream),
        ));
        let schema = stream.schema();
        let deadline = tokio::time::Instant::now() + shared.config.query_timeout;
        // Each batch must arrive before the query's deadline; a late one ends the stream with an
        // error (never a silently shorter result).
        let engine = Arc::new(engine);
        let batches = futures::stream::unfold(Some(stream), move |state| {
            let engine = Arc::clone(&engine);
            async move {
                let mut stream = state?;
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(batch))) => Some((Ok(batch), Some(stream))),
                    Ok(Some(Err(e))) => Some((
                        Err(FlightError::Tonic(Box::new(query_status(
                            engine.query_failure(e).await,
                        )))),
                        None,
                    )),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err(FlightError::Tonic(Box::new(Status::deadline_exceeded(
                            "the query ran longer than the server's query timeout",
                        )))),
                        None,
                    )),
                }
            }
        });
        let out = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(Status::from);
        Ok(Box::pin(out))
    }
}

/// The SQL text of a statement ticket or prepared-statement handle.
fn statement_text(handle: &[u8]) -> Result<String, Status> {
    String::from_utf8(handle.to_vec())
        .map_err(|_| Status::invalid_argument("the handle is not a loadlake statement"))
}

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

/// A FlightInfo whose one endpoint's ticket is `ticket`.
fn info_with_ticket(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("encoding the schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor))
}

/// The FlightInfo of a metadata command: the command itself is the ticket.
fn command_info(
    schema: &Schema,
    command: &impl ProstMessageExt,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = info_with_ticket(schema, command.as_any().encode_to_vec(), descriptor)?;
    Ok(Response::new(info))
}

/// One batch as a Flight stream.
fn one_batch(
    schema: arrow::datatypes::SchemaRef,
    batch: Result<arrow::record_batch::RecordBatch, FlightError>,
) -> DoGetStream {
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async move { batch }))
        .map_err(Status::from);
    Box::pin(stream)
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = self.plan_schema(&query.query).await?;
        let ticket = TicketStatementQuery {
            statement_handle: query.query.into_bytes().into(),
        };
        let info = info_with_ticket(
            &schema,
            ticket.as_any().encode_to_vec(),
            request.into_inner(),
        )?;
        Ok(Response::new(info))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let sql = statement_text(&ticket.statement_handle)?;
        Ok(Response::new(self.stream_sql(&sql).await?))
    }

    /// Prepared statements (what JDBC and ODBC drivers use): the handle is the statement itself,
    /// so nothing is kept on the server between calls. Parameters are not supported.
    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let schema = self.plan_schema(&query.query).await?;
        let IpcMessage(dataset_schema) = SchemaAsIpc::new(&schema, &IpcWriteOptions::default())
            .try_into()
            .map_err(|e: arrow::error::ArrowError| {
                Status::internal(format!("encoding the schema: {e}"))
            })?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: query.query.into_bytes().into(),
            dataset_schema,
            parameter_schema: Default::default(),
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        Ok(())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let sql = statement_text(&cmd.prepared_statement_handle)?;
        let schema = self.plan_schema(&sql).await?;
        command_info(&schema, &cmd, request.into_inner())
    }

    async fn do_get_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let sql = statement_text(&cmd.prepared_statement_handle)?;
        Ok(Response::new(self.stream_sql(&sql).await?))
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        command_info(&schema, &query, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append(CATALOG);
        let schema = builder.schema();
        Ok(Response::new(one_batch(schema, builder.build())))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        command_info(&schema, &query, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append(CATALOG, SCHEMA);
        let schema = builder.schema();
        Ok(Response::new(one_batch(schema, builder.build())))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        command_info(&schema, &query, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let engine = self.shared.engine().await?;
        let mut builder = query.into_builder();
        for table in TABLES {
            let df = engine
                .dataframe_read_only(&format!("SELECT * FROM {table} LIMIT 0"))
                .await
                .map_err(query_status)?;
            builder
                .append(CATALOG, SCHEMA, table, "TABLE", df.schema().as_arrow())
                .map_err(Status::from)?;
        }
        let schema = builder.schema();
        Ok(Response::new(one_batch(schema, builder.build())))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(sql_info()?).schema();
        command_info(&schema, &query, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let builder = query.into_builder(sql_info()?);
        let schema = builder.schema();
        Ok(Response::new(one_batch(schema, builder.build())))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
