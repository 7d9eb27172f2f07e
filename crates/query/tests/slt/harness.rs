//! The SQL of `queries/` tested the way DataFusion tests its own SQL: `.slt` files run by the
//! `sqllogictest` crate (DataFusion's `datafusion-sqllogictest` is built on it), over a small
//! hand-written fixture, with no Python and no CLI in the loop.
//!
//! Every `tests/slt/*.slt` file runs against one temporary store holding two runs:
//!
//! - `$RUN`: the fixture below, 16 samples over 3 seconds;
//! - `$EMPTY`: a committed run with no samples.
//!
//! Both runs' rollups (`queries/rollup.sql`) are written before the files run, so `rollups`
//! and `queries/scope_metrics_rollups.sql` can be checked too.
//!
//! The adapter ([`Db`]) understands two kinds of statement:
//!
//! - `@name(arg, …)`: the exact text of `queries/name.sql` run with `$1`, `$2`… = the args, as
//!   the reports of `crates/query/src/reports` run it. Args: `'text'` (Utf8), `NULL` (Utf8 null,
//!   as the reports pass an absent case or label), `42` (Int64), `90.0` (Float64), `[100, 300]`
//!   (List<Int64>; `[$RUN, $EMPTY]`: List<Utf8>), `$RUN` / `$EMPTY` (Utf8 run ids). `@name(…) | col, col` keeps only those
//!   result columns, so that wide results can be checked a few columns at a time.
//! - anything else: plain SQL, with `$RUN` / `$EMPTY` replaced by the quoted run ids.
//!
//! Cells are printed as DataFusion's own `.slt` files print them: `NULL`, `(empty)` for an
//! empty string, floats rounded to 6 decimals without trailing zeros, lists as `[1, 2]`, and a
//! run id as the name of its placeholder (`$RUN`), since run ids are made at each run.
//! Column types are checked (`I` integer, `R` float, `T` text, `?` anything else).
//!
//! The fixture (T = 1767225600000 = 2026-01-01T00:00:00Z; "NH x" stands for JMeter's
//! `Non HTTP response code: x`; rb / sb = bytes received / sent; grp / all = threads):
//!
//! | row | label    | case   | kind        | ts     | elapsed | ok | error_class | code            | rb   | sb   | grp | all |
//! |-----|----------|--------|-------------|--------|---------|----|-------------|-----------------|------|------|-----|-----|
//! | 0   | home     | Browse | sample      | T+0    | 100     | y  | success     | 200             | 1000 | 100  | 1   | 2   |
//! | 1   | search   | Browse | sample      | T+200  | 300     | n  | assertion   | 200 (assertion) | 2000 | 200  | 1   | 2   |
//! | 2   | pay      | Buy    | sample      | T+400  | 50      | n  | refused     | NH ConnectExc.  | 0    | 0    | 1   | 2   |
//! | 3   | checkout | Buy    | transaction | T+400  | 50      | n  | refused     | NH ConnectExc.  | 0    | 0    | 1   | 2   |
//! | 4   | home     | Browse | sample      | T+1000 | 200     | y  | success     | 200             | 1000 | 100  | 2   | 4   |
//! | 5   | home     | Browse | sample      | T+1100 | 400     | n  | http_5xx    | 500             | 500  | 100  | 2   | 4   |
//! | 6   | search   | Browse | sample      | T+1300 | 250     | y  | success     | 200             | 3000 | 200  | 2   | 4   |
//! | 7   | pay      | Buy    | sample      | T+1500 | 1000    | n  | timeout     | NH SocketTimeo. | 0    | 300  | 2   | 4   |
//! | 8   | checkout | Buy    | transaction | T+1500 | 1000    | n  | timeout     | NH SocketTimeo. | 0    | 300  | 2   | 4   |
//! | 9   | home     | Browse | sample      | T+2000 | 150     | n  | http_4xx    | 404             | 200  | 100  | 2   | 3   |
//! | 10  | search   | Browse | sample      | T+2100 | 350     | y  | success     | 200             | 2500 | 200  | 2   | 3   |
//! | 11  | search-0 | Browse | subsample   | T+2100 | 200     | y  | success     | 200             | 1500 | 100  | 2   | 3   |
//! | 12  | pay      | Buy    | sample      | T+2500 | 120     | n  | parse       | NH MalformedCh. | 100  | 300  | 1   | 3   |
//! | 13  | checkout | Buy    | transaction | T+2500 | 120     | n  | other       | "" (empty)      | 100  | 300  | 1   | 3   |
//! | 14  | checkout | Buy    | transaction | T+2900 | 0       | y  | success     | NULL            | NULL | NULL | 1   | 3   |
//! | 15  | home     | Browse | sample      | T+2200 | 500     | n  | http_5xx    | 500             | 500  | 100  | 2   | 3   |
//!
//! Row 11 is a sub-sample of row 10; rows 3, 8 and 13 are transactions around rows 2, 7 and 12;
//! row 14 is an empty transaction ("Number of samples in transaction : 0, …"). `pay` is a label
//! with only failures. Top-level samples (kind = sample): rows 0 1 2 4 5 6 7 9 10 12 15.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Schema};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::scalar::ScalarValue;
use loadlake_query::{QueryEngine, QueryError, queries};
use loadlake_schema::{RunStatus, SampleBatchBuilder, SampleKind, SampleRecord};
use loadlake_store::{RunDraft, Store, WriterOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

/// Every file of `queries/` by name, as the library compiles it in.
pub(crate) const QUERIES: &[(&str, &str)] = &[
    ("cases", queries::CASES),
    ("curve", queries::CURVE),
    ("curve_span", queries::CURVE_SPAN),
    ("details", queries::DETAILS),
    ("error_classes", queries::ERROR_CLASSES),
    ("error_samples", queries::ERROR_SAMPLES),
    ("jmeter_apdex", queries::JMETER_APDEX),
    ("jmeter_errors", queries::JMETER_ERRORS),
    ("jmeter_statistics", queries::JMETER_STATISTICS),
    (
        "jmeter_statistics_dashboard",
        queries::JMETER_STATISTICS_DASHBOARD,
    ),
    ("outline", queries::OUTLINE),
    ("pts_stats", queries::PTS_STATS),
    ("resp_time_ranges", queries::RESP_TIME_RANGES),
    ("rollup", queries::ROLLUP),
    ("runs", queries::RUNS),
    ("scope_metrics", queries::SCOPE_METRICS),
    ("scope_metrics_rollups", queries::SCOPE_METRICS_ROLLUPS),
];

/// 2026-01-01T00:00:00Z, the fixture's first second.
const T: i64 = 1_767_225_600_000;

/// How a fixture sample ended: its response code and message, failure message and kind.
#[derive(Clone, Copy)]
enum Outcome {
    Ok200,
    /// 200, failed by an assertion.
    Assert200,
    E404,
    E500,
    Refused,
    Timeout,
    Parse,
    /// A sub-sample of row 10, successful.
    SubOk200,
    /// Transactions (one failing child) with the code of their child, or none.
    TxRefused,
    TxTimeout,
    TxNoCode,
    /// An empty transaction ("… : 0, …"), successful.
    TxEmpty,
}

const NH_REFUSED: &str = "Non HTTP response code: java.net.ConnectException";
const NH_TIMEOUT: &str = "Non HTTP response code: java.net.SocketTimeoutException";
const NH_PARSE: &str = "Non HTTP response code: org.apache.http.MalformedChunkCodingException";
const TX_ONE: &str = "Number of samples in transaction : 1, number of failing samples : 1";
const TX_EMPTY: &str = "Number of samples in transaction : 0, number of failing samples : 0";

/// `(code, message, failure message)` of an outcome.
fn texts(o: Outcome) -> (Option<&'static str>, &'static str, Option<&'static str>) {
    use Outcome::*;
    match o {
        Ok200 | SubOk200 => (Some("200"), "OK", None),
        Assert200 => (
            Some("200"),
            "OK",
            Some("Test failed: text expected to contain /results/"),
        ),
        E404 => (Some("404"), "Not Found", None),
        E500 => (Some("500"), "Internal Server Error", None),
        Refused => (
            Some(NH_REFUSED),
            "Non HTTP response message: Connection refused",
            None,
        ),
        Timeout => (
            Some(NH_TIMEOUT),
            "Non HTTP response message: Read timed out",
            None,
        ),
        Parse => (
            Some(NH_PARSE),
            "Non HTTP response message: Bad chunk header",
            None,
        ),
        TxRefused => (Some(NH_REFUSED), TX_ONE, None),
        TxTimeout => (Some(NH_TIMEOUT), TX_ONE, None),
        TxNoCode => (Some(""), TX_ONE, None),
        TxEmpty => (None, TX_EMPTY, None),
    }
}

/// One fixture row: label, case, ts offset (ms from T), elapsed, success, outcome, bytes
/// received and sent, group and all threads.
type Row = (
    &'static str,
    &'static str,
    i64,
    i64,
    bool,
    Outcome,
    Option<i64>,
    Option<i64>,
    i32,
    i32,
);

/// The table of the module doc, in `row` order.
#[rustfmt::skip]
const ROWS: [Row; 16] = {
    use Outcome::*;
    [
        ("home",     "Browse",    0,  100, true,  Ok200,     Some(1000), Some(100), 1, 2),
        ("search",   "Browse",  200,  300, false, Assert200, Some(2000), Some(200), 1, 2),
        ("pay",      "Buy",     400,   50, false, Refused,   Some(0),    Some(0),   1, 2),
        ("checkout", "Buy",     400,   50, false, TxRefused, Some(0),    Some(0),   1, 2),
        ("home",     "Browse", 1000,  200, true,  Ok200,     Some(1000), Some(100), 2, 4),
        ("home",     "Browse", 1100,  400, false, E500,      Some(500),  Some(100), 2, 4),
        ("search",   "Browse", 1300,  250, true,  Ok200,     Some(3000), Some(200), 2, 4),
        ("pay",      "Buy",    1500, 1000, false, Timeout,   Some(0),    Some(300), 2, 4),
        ("checkout", "Buy",    1500, 1000, false, TxTimeout, Some(0),    Some(300), 2, 4),
        ("home",     "Browse", 2000,  150, false, E404,      Some(200),  Some(100), 2, 3),
        ("search",   "Browse", 2100,  350, true,  Ok200,     Some(2500), Some(200), 2, 3),
        ("search-0", "Browse", 2100,  200, true,  SubOk200,  Some(1500), Some(100), 2, 3),
        ("pay",      "Buy",    2500,  120, false, Parse,     Some(100),  Some(300), 1, 3),
        ("checkout", "Buy",    2500,  120, false, TxNoCode,  Some(100),  Some(300), 1, 3),
        ("checkout", "Buy",    2900,    0, true,  TxEmpty,   None,       None,      1, 3),
        ("home",     "Browse", 2200,  500, false, E500,      Some(500),  Some(100), 2, 3),
    ]
};

/// The fixture's samples, in `row` order.
fn fixture() -> Vec<SampleRecord<'static>> {
    ROWS.iter()
        .map(
            |&(label, case, offset, elapsed, success, outcome, rb, sb, grp, all)| {
                let (code, message, failure) = texts(outcome);
                let sub = matches!(outcome, Outcome::SubOk200);
                SampleRecord {
                    ts_ms: Some(T + offset),
                    elapsed_ms: Some(elapsed),
                    label,
                    case_name: Some(case),
                    // Transactions get their kind from their message, as on import.
                    kind: sub.then_some(SampleKind::Subsample),
                    parent_row: sub.then_some(10),
                    success,
                    response_code: code,
                    response_message: Some(message),
                    failure_message: failure,
                    bytes_received: rb,
                    bytes_sent: sb,
                    grp_threads: Some(grp),
                    all_threads: Some(all),
                    ..Default::default()
                }
            },
        )
        .collect()
}

fn draft(name: &str, tags: &[(&str, &str)]) -> RunDraft {
    RunDraft {
        name: name.to_string(),
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        status: RunStatus::Complete,
        sources: vec![],
        plan: None,
    }
}

/// A store in `dir` with the fixture run (in parts of `part_rows` rows) and the empty run;
/// returns the placeholders and the run ids they stand for.
pub(crate) fn build_store(dir: &Path, part_rows: usize) -> (Store, Vec<(String, String)>) {
    let store = Store::open(dir).unwrap();
    let mut w = store
        .begin_run(WriterOptions {
            part_rows,
            ..WriterOptions::default()
        })
        .unwrap();
    for (i, chunk) in fixture().chunks(part_rows).enumerate() {
        let mut b = SampleBatchBuilder::new((i * part_rows) as i64);
        for r in chunk {
            b.push(r).unwrap();
        }
        w.write(b.finish().unwrap()).unwrap();
    }
    let run = w
        .commit(
            draft("fixture", &[("env", "ci"), ("team", "perf")]),
            &[] as &[&str],
        )
        .unwrap();
    let empty = store
        .begin_run(WriterOptions::default())
        .unwrap()
        .commit(draft("empty", &[]), &[] as &[&str])
        .unwrap();
    let vars = vec![
        ("$RUN".to_string(), run.run_id.to_string()),
        ("$EMPTY".to_string(), empty.run_id.to_string()),
    ];
    (store, vars)
}

/// Why a statement failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SltError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("slt harness: {0}")]
    Harness(String),
}

fn harness<T>(message: impl Into<String>) -> Result<T, SltError> {
    Err(SltError::Harness(message.into()))
}

/// A `@name(args) | columns` statement.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) name: String,
    pub(crate) args: Vec<String>,
    pub(crate) columns: Option<Vec<String>>,
}

/// Splits `s` at top-level commas (not inside quotes or brackets).
fn split_top_level(s: &str) -> Vec<String> {
    let (mut parts, mut current) = (Vec::new(), String::new());
    let (mut quoted, mut depth) = (false, 0i32);
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '[' | '(' if !quoted => depth += 1,
            ']' | ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_string());
    }
    parts
}

/// Parses `@name(args) [| columns]`; `None` for plain SQL.
pub(crate) fn parse_call(sql: &str) -> Result<Option<Call>, SltError> {
    let Some(rest) = sql.trim().strip_prefix('@') else {
        return Ok(None);
    };
    let Some((name, rest)) = rest.split_once('(') else {
        return harness(format!("expected @name(args), got {sql:?}"));
    };
    // The parenthesis closing the arguments: the first one outside quotes and brackets.
    let (mut quoted, mut depth, mut close) = (false, 0i32, None);
    for (i, c) in rest.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '[' | '(' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            ')' if !quoted && depth == 0 => {
                close = Some(i);
                break;
            }
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    let Some(close) = close else {
        return harness(format!("expected ')' closing the arguments of {sql:?}"));
    };
    let tail = rest[close + 1..].trim();
    let columns = match tail.strip_prefix('|') {
        Some(columns) => Some(split_top_level(columns)),
        None if tail.is_empty() => None,
        None => return harness(format!("expected `| columns` after the call in {sql:?}")),
    };
    Ok(Some(Call {
        name: name.trim().to_string(),
        args: split_top_level(&rest[..close]),
        columns,
    }))
}

/// Adapts the engine to `sqllogictest`: one per `.slt` file.
#[derive(Clone)]
pub(crate) struct Db {
    engine: Arc<QueryEngine>,
    /// Placeholder (`$RUN`) → run id.
    vars: Arc<Vec<(String, String)>>,
}

impl Db {
    fn var(&self, name: &str) -> Result<&str, SltError> {
        match self.vars.iter().find(|(k, _)| k == name) {
            Some((_, v)) => Ok(v.as_str()),
            None => harness(format!("unknown placeholder {name}")),
        }
    }

    /// One argument literal of a call as a parameter value.
    fn param(&self, arg: &str) -> Result<ScalarValue, SltError> {
        if arg.eq_ignore_ascii_case("null") {
            return Ok(ScalarValue::Utf8(None));
        }
        if arg.starts_with('$') {
            return Ok(ScalarValue::Utf8(Some(self.var(arg)?.to_string())));
        }
        if let Some(text) = arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
            return Ok(ScalarValue::Utf8(Some(text.replace("''", "'"))));
        }
        if let Some(items) = arg.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
            let values = split_top_level(items)
                .iter()
                .map(|v| self.param(v))
                .collect::<Result<Vec<_>, _>>()?;
            let item_type = values.first().map_or(DataType::Int64, |v| v.data_type());
            if values.iter().any(|v| v.data_type() != item_type) {
                return harness(format!("list items of one type, got {items:?}"));
            }
            return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &values, &item_type,
            )));
        }
        if let Ok(v) = arg.parse::<i64>() {
            return Ok(ScalarValue::Int64(Some(v)));
        }
        match arg.parse::<f64>() {
            Ok(v) => Ok(ScalarValue::Float64(Some(v))),
            Err(_) => harness(format!("cannot read argument {arg:?}")),
        }
    }

    /// Runs a call or plain SQL; returns the result schema and batches.
    async fn execute(&self, sql: &str) -> Result<(Arc<Schema>, Vec<RecordBatch>), SltError> {
        let Some(call) = parse_call(sql)? else {
            let mut sql = sql.to_string();
            for (name, id) in self.vars.iter() {
                sql = sql.replace(name.as_str(), &format!("'{id}'"));
            }
            return Ok(self.engine.sql_with_params(&sql, Vec::new()).await?);
        };
        let Some((_, text)) = QUERIES.iter().find(|(name, _)| *name == call.name) else {
            return harness(format!("no query named {:?} in queries/", call.name));
        };
        let params = call
            .args
            .iter()
            .map(|a| self.param(a))
            .collect::<Result<Vec<_>, _>>()?;
        let (schema, batches) = self.engine.sql_with_params(text, params).await?;
        let Some(columns) = call.columns else {
            return Ok((schema, batches));
        };
        let indices = columns
            .iter()
            .map(|c| match schema.index_of(c) {
                Ok(i) => Ok(i),
                Err(_) => harness(format!("@{} has no column {c:?}", call.name)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batches = batches
            .iter()
            .map(|b| b.project(&indices))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((Arc::new(schema.project(&indices)?), batches))
    }

    /// Cell `row` of `array` as the `.slt` text.
    fn cell(&self, array: &dyn Array, row: usize) -> Result<String, SltError> {
        if array.is_null(row) {
            return Ok("NULL".to_string());
        }
        match array.data_type() {
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                let v = arrow::compute::cast(&array.slice(row, 1), &DataType::Float64)?;
                Ok(float_text(v.as_primitive::<Float64Type>().value(0)))
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let v = arrow::compute::cast(&array.slice(row, 1), &DataType::Utf8)?;
                let text = v.as_string::<i32>().value(0);
                Ok(match self.vars.iter().find(|(_, id)| id == text) {
                    Some((name, _)) => name.clone(),
                    None if text.is_empty() => "(empty)".to_string(),
                    None => text.to_string(),
                })
            }
            _ => {
                let options = FormatOptions::new().with_null("NULL");
                Ok(ArrayFormatter::try_new(array, &options)?
                    .value(row)
                    .to_string())
            }
        }
    }
}

/// A float rounded to 6 decimals, without trailing zeros (`20`, `462.5`, `33.333333`).
pub(crate) fn float_text(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

fn column_type(t: &DataType) -> DefaultColumnType {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => {
            DefaultColumnType::Integer
        }
        Float16 | Float32 | Float64 | Decimal128(..) | Decimal256(..) => {
            DefaultColumnType::FloatingPoint
        }
        Utf8 | LargeUtf8 | Utf8View => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

#[async_trait::async_trait]
impl AsyncDB for Db {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let (schema, batches) = self.execute(sql).await?;
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let mut rows = Vec::new();
        for batch in &batches {
            for row in 0..batch.num_rows() {
                rows.push(
                    batch
                        .columns()
                        .iter()
                        .map(|c| self.cell(c.as_ref(), row))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "loadlake"
    }
}

/// Runs every `.slt` file against `engine` (opened on [`build_store`]'s store with `vars`);
/// returns the failures, one line per file, and how many files ran.
pub(crate) async fn run_every_slt_file(
    engine: QueryEngine,
    vars: Vec<(String, String)>,
) -> (Vec<String>, usize) {
    // The `rollups` table of both runs, as a trend over them writes it.
    let ids: Vec<&str> = vars.iter().map(|(_, id)| id.as_str()).collect();
    engine.ensure_rollups(&ids).await.unwrap();
    let db = Db {
        engine: Arc::new(engine),
        vars: Arc::new(vars),
    };
    let files = stems(&slt_dir(), "slt");
    assert!(!files.is_empty(), "no .slt files in {:?}", slt_dir());
    let mut failures = Vec::new();
    for name in &files {
        let db = db.clone();
        let mut runner = Runner::new(move || {
            let db = db.clone();
            async move { Ok::<_, SltError>(db) }
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        let path = slt_dir().join(format!("{name}.slt"));
        if let Err(e) = runner.run_file_async(&path).await {
            failures.push(format!("{name}.slt: {}", e.display(false)));
        }
    }
    (failures, files.len())
}

pub(crate) fn slt_dir() -> PathBuf {
    workspace_root().join("crates/query/tests/slt")
}

pub(crate) fn queries_dir() -> PathBuf {
    workspace_root().join("queries")
}

/// The workspace root, from the crate this harness is compiled into (crates/<name>).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The file names in `dir` ending in `.ext`, without it, sorted.
pub(crate) fn stems(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
