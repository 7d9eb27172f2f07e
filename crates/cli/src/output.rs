//! Printing query results: aligned table, JSON array of objects, or CSV.

use std::io::Write;
use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::scalar::ScalarValue;
use loadlake_store::Store;

use crate::args::Format;

/// Runs `sql` on the store and prints the result to stdout.
pub(crate) async fn query_and_print(
    store: &Store,
    sql: &str,
    params: Vec<ScalarValue>,
    format: Format,
) -> anyhow::Result<()> {
    let engine = crate::engine::open_engine(store).await?;
    let (schema, batches) = engine.sql_with_params(sql, params).await?;
    let mut out = std::io::stdout().lock();
    print_batches(&mut out, &schema, &batches, format)?;
    out.flush()?;
    Ok(())
}

/// Writes batches in the chosen format.
pub(crate) fn print_batches(
    out: &mut impl Write,
    schema: &Arc<Schema>,
    batches: &[RecordBatch],
    format: Format,
) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            let empty;
            let shown: &[RecordBatch] = if batches.is_empty() {
                empty = [RecordBatch::new_empty(schema.clone())];
                &empty
            } else {
                batches
            };
            writeln!(
                out,
                "{}",
                arrow::util::pretty::pretty_format_batches(shown)?
            )?;
        }
        Format::Json => {
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(Vec::new());
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            let bytes = w.into_inner();
            if bytes.is_empty() {
                writeln!(out, "[]")?;
            } else {
                out.write_all(&bytes)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(schema.fields().iter().map(|f| f.name().as_str()))?;
            let options = FormatOptions::default().with_null("");
            for b in batches {
                let formatters = b
                    .columns()
                    .iter()
                    .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                    .collect::<Result<Vec<_>, _>>()?;
                for row in 0..b.num_rows() {
                    w.write_record(formatters.iter().map(|f| f.value(row).to_string()))?;
                }
            }
            w.flush()?;
        }
    }
    Ok(())
}
