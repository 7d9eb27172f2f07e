//! Command-line arguments (clap), and the values of those that need more than clap's parsing:
//! tags, the token file, the exact percentile method, APDEX thresholds, percentiles.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use loadlake_cluster::WorkersConfig;
use loadlake_query::functions::PercentileMethod;
use loadlake_query::reports::jmeter_tables::ApdexThresholds;
use loadlake_report::across::TrendRequest;
use loadlake_report::compare::CompareOptions;
use loadlake_store::StoreLocation;

mod run;
pub(crate) use run::{AgentArgs, AgentLoss, LoadMode, RunArgs, ServeArgs, ServeRole};

/// Import JMeter results into a Parquet store and query every run with SQL.
#[derive(Debug, Parser)]
#[command(name = "loadlake", version, about)]
pub(crate) struct Cli {
    /// Store: a directory (a path or file:///path) or s3://bucket/prefix (credentials and
    /// endpoint from the AWS environment) [default: $LOADLAKE_HOME, else ./loadlake-data]
    #[arg(long, global = true, value_name = "STORE", value_parser = loadlake_store::parse_location)]
    pub store: Option<StoreLocation>,
    /// Query workers (`loadlake serve --role worker`) to spread queries over: http://host:port
    /// URLs, comma-separated. Plans worth spreading run there, the rest here
    #[arg(
        long,
        global = true,
        value_name = "URL,…",
        value_delimiter = ',',
        env = "LOADLAKE_WORKERS"
    )]
    pub workers: Vec<String>,
    /// File holding the query workers' bearer token (`serve`: its own --token-file if unset)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "LOADLAKE_WORKERS_TOKEN_FILE"
    )]
    pub workers_token_file: Option<PathBuf>,
    /// With --workers: spread a scan at about one partition per this many bytes of Parquet;
    /// a query reading less stays here
    #[arg(long, global = true, value_name = "BYTES", default_value_t = 16 << 20)]
    pub workers_scan_bytes: usize,
    /// More diagnostics on stderr (-v info, -vv debug; or LOADLAKE_LOG=...)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The query workers of `--workers`, with their token, if any are given.
    pub(crate) fn workers(&self) -> anyhow::Result<Option<WorkersConfig>> {
        if self.workers.is_empty() {
            return Ok(None);
        }
        let token = self
            .workers_token_file
            .as_deref()
            .map(read_token)
            .transpose()?;
        Ok(Some(WorkersConfig {
            scan_bytes_per_partition: self.workers_scan_bytes,
            ..WorkersConfig::new(self.workers.clone(), token)
        }))
    }

    /// `--store`, else `$LOADLAKE_HOME`, else `./loadlake-data`.
    pub(crate) fn store_location(&self) -> anyhow::Result<StoreLocation> {
        if let Some(location) = &self.store {
            return Ok(location.clone());
        }
        match std::env::var("LOADLAKE_HOME") {
            Ok(home) => loadlake_store::parse_location(&home).context("LOADLAKE_HOME"),
            Err(std::env::VarError::NotUnicode(home)) => {
                Ok(StoreLocation::Local(PathBuf::from(home)))
            }
            Err(std::env::VarError::NotPresent) => {
                Ok(StoreLocation::Local(PathBuf::from("loadlake-data")))
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Import JTL files (CSV or XML, any JMeter version), k6 results (--out json / csv) or
    /// Gatling simulation.log files (3.0+; compressed, or zip archives) as one run,
    /// or each file as its own run (--each); prints the run id(s)
    Import(ImportArgs),
    /// List the runs in the store
    Runs(FormatArgs),
    /// Run a read-only SQL query over the `samples`, `live_samples` and `runs` tables
    Sql(SqlArgs),
    /// Report on a run: outline, details per case / request / transaction, ranges, error classes
    Report(ReportArgs),
    /// Cases of a run with their requests and transactions (and their ids)
    Cases(CasesArgs),
    /// One case's detail: its performance, its requests and its transactions
    Detail(DetailArgs),
    /// Per-interval curve of a run, a case or one request (TPS, RT percentiles, users, outcomes)
    Curve(CurveArgs),
    /// Compare two runs per case / request / transaction; flags regressions
    Compare(CompareArgs),
    /// One metric of a run, case or request across the last runs with a name or tag
    Trend(TrendArgs),
    /// Run a JMeter plan (JMX) with the native runner; its samples become a run of the store
    Run(RunArgs),
    /// A run's lifecycle state and, while it runs, its live numbers (PTS running data)
    Status(StatusArgs),
    /// Ask a running `loadlake run` to stop (users finish their iteration; the run is kept)
    Stop(StopArgs),
    /// Delete runs: gone from listings and queries at once, their samples removed after a grace
    /// period (queries already running finish)
    Delete(DeleteArgs),
    /// A load generator: join a controller (`loadlake serve`) and run the parts of the runs it
    /// is given (`loadlake run --agents N`)
    Agent(AgentArgs),
    /// Serve reports, runs, uploads (gRPC) and SQL (Arrow Flight SQL) on one port
    Serve(ServeArgs),
    /// Import sample-data/ into the store (once), list the runs and print the Statistics table
    Quickstart(QuickstartArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Run id
    pub run: String,
    /// `table` or `json` (the live status document)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// Run id
    pub run: String,
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Run ids (exact ids, not `latest`); one unknown or still running deletes none
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,
}

/// Which response time reports use.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Latency {
    /// `elapsed_ms`: request sent → last byte
    Service,
    /// `intended_elapsed_ms` where recorded (open model), else `elapsed_ms`
    Intended,
}

/// Which statistics `report` prints.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Stats {
    /// JMeter dashboard Statistics table (JSON: the statistics.json shape)
    Jmeter,
    /// All JMeter dashboard tables (JSON: {apdex, statistics, errors, top5})
    Dashboard,
    /// Alibaba PTS scene statistics: AllSampleStat and SampleStatList
    Pts,
}

/// `--percentile-method`: the names of [`PercentileMethod`] (`user_name`), parsed by its one
/// parser (`FromStr`); clap checks and suggests the names and lists them with their help.
fn percentile_method() -> impl TypedValueParser<Value = PercentileMethod> {
    PossibleValuesParser::new(
        PercentileMethod::ALL.map(|m| PossibleValue::new(m.user_name()).help(method_help(m))),
    )
    .try_map(|name| name.parse::<PercentileMethod>())
}

/// How a percentile method computes, for `--help`.
fn method_help(method: PercentileMethod) -> &'static str {
    match method {
        PercentileMethod::NearestRank => {
            "Smallest value with at least ceil(p*n) values at or below it (exact, default)"
        }
        PercentileMethod::Linear => {
            "Interpolated between closest ranks, (n-1)*p (numpy / DuckDB quantile_cont)"
        }
        PercentileMethod::JmeterAggregate => {
            "JMeter's Aggregate Report: first value reaching round(n*p)"
        }
        PercentileMethod::Legacy => {
            "JMeter's dashboard: LEGACY estimator over the last --window samples in file order"
        }
    }
}

/// The time unit of a report (`--resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Resolution {
    /// Whole milliseconds.
    Ms,
    /// Microseconds.
    Us,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Run id, or `latest` (not with --all)
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub run: Option<String>,
    /// Print these statistics instead of the run report
    #[arg(long, value_enum)]
    pub stats: Option<Stats>,
    /// Response times: `service` (request sent → last byte, as JMeter) or `intended` (from the
    /// intended send time where the run recorded it: open-model runs, coordinated omission
    /// corrected)
    #[arg(long, value_enum, default_value_t = Latency::Service)]
    pub latency: Latency,
    /// Time unit of every response time of the report, the statistics, the pages and the SLA
    /// check: `ms` (whole milliseconds, as JMeter), or `us` (microseconds where the run
    /// measured them — k6 imports, `loadlake run` — and ms × 1000 elsewhere). Thresholds stay
    /// in ms (--ranges, --apdex-*, SLA rule files) and are compared exactly in µs
    #[arg(long, value_enum, default_value_t = Resolution::Ms)]
    pub resolution: Resolution,
    /// Percentiles (0-100): the three of the --stats jmeter table [default: 90,95,99]; extra ones
    /// in each report detail (`percentiles` object; tp50..tp9999 are always there)
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub percentiles: Option<Vec<f64>>,
    #[arg(long, value_parser = percentile_method(), default_value = "nearest-rank")]
    pub percentile_method: PercentileMethod,
    /// Sliding window of jmeter-dashboard percentiles (JMeter's statistic_window; 0 = all)
    #[arg(long, default_value_t = 20000)]
    pub window: i64,
    /// APDEX satisfied threshold, ms (JMeter's apdex_satisfied_threshold)
    #[arg(long, default_value_t = ApdexThresholds::JMETER_SATISFIED_MS)]
    pub apdex_satisfied: i64,
    /// APDEX tolerated threshold, ms (JMeter's apdex_tolerated_threshold)
    #[arg(long, default_value_t = ApdexThresholds::JMETER_TOLERATED_MS)]
    pub apdex_tolerated: i64,
    /// Per-label APDEX thresholds, JMeter's apdex_per_transaction syntax: `regex:satisfied|tolerated;…`
    #[arg(long, value_name = "SPEC")]
    pub apdex_per_transaction: Option<String>,
    /// Response-time range boundaries in ms (ascending)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "50,200,500,1000,2000,3000,4000,5000",
        num_args = 1
    )]
    pub ranges: Vec<i64>,
    /// `table`, `json` (CodeArts ReportInfo field names; with --stats jmeter: statistics.json), or
    /// `csv` (the details)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub files: ReportFileArgs,
}

/// Report files and SLA gates (`report --html / --markdown / --junit / --sla`, batch `--all`).
#[derive(Debug, Args)]
pub(crate) struct ReportFileArgs {
    /// Write a self-contained HTML report (opens offline; charts with zoom)
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    pub html: Option<PathBuf>,
    /// Write a Markdown summary (with --all: one per run into --out)
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    pub markdown: Option<PathBuf>,
    /// Write the SLA results as JUnit XML (needs --sla; with --all, one suite per run)
    #[arg(long, value_name = "FILE", requires = "sla")]
    pub junit: Option<PathBuf>,
    /// SLA rules (YAML, docs/sla.md); any failed rule makes the exit code 1
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,
    /// Report on every run (filtered by --since and --name) into --out: one HTML page (and JSON)
    /// per run plus index.html
    #[arg(long, requires = "out")]
    pub all: bool,
    /// With --all: only runs that started within this long before now (30m, 24h, 7d, 2w)
    #[arg(long, value_parser = parse_duration_ms, requires = "all")]
    pub since: Option<i64>,
    /// With --all: only runs with this name
    #[arg(long, requires = "all")]
    pub name: Option<String>,
    /// With --all: the output directory (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Points of the HTML charts at most (adjacent intervals are merged exactly)
    #[arg(long, default_value_t = 600)]
    pub points: usize,
}

/// `compare` output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum CompareFormat {
    /// Aligned text table
    Table,
    /// The comparison as JSON
    Json,
    /// A self-contained HTML page
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// The reference run (id or `latest`)
    pub baseline: String,
    /// The run judged against it (id or `latest`)
    pub candidate: String,
    /// Changes of times and TPS below this percent of the baseline are noise (10 or 10%)
    #[arg(long, default_value_t = CompareOptions::DEFAULT.threshold_pct, value_parser = parse_percent)]
    pub threshold: f64,
    /// Success-rate changes below this many percentage points are noise
    #[arg(long, default_value_t = CompareOptions::DEFAULT.rate_threshold_points)]
    pub rate_threshold: f64,
    /// Rows with fewer samples than this in either run are not judged
    #[arg(long, default_value_t = CompareOptions::DEFAULT.min_samples)]
    pub min_samples: u64,
    /// Exit with code 1 when any regression is found
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Show every metric, not only regressions and improvements (table format)
    #[arg(long)]
    pub all_rows: bool,
    #[arg(long, value_parser = percentile_method(), default_value = "nearest-rank")]
    pub percentile_method: PercentileMethod,
    /// Time unit of the compared response times and their deltas: `ms`, or `us` (microseconds
    /// where a run measured them, ms × 1000 elsewhere)
    #[arg(long, value_enum, default_value_t = Resolution::Ms)]
    pub resolution: Resolution,
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
}

/// `trend` output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum TrendFormat {
    Table,
    Json,
    Csv,
    /// A self-contained HTML page with a chart
    Html,
}

#[derive(Debug, Args)]
pub(crate) struct TrendArgs {
    /// Runs with this name
    #[arg(long, required_unless_present = "tag")]
    pub name: Option<String>,
    /// Runs with this tag, KEY=VALUE
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// avg_rt, min_rt, max_rt, tp50 … tp9999, p99.9, success_rate, error_rate, tps, requests,
    /// errors, failed_timeout, …
    #[arg(long)]
    pub metric: String,
    /// Only this case (thread group)
    #[arg(long)]
    pub case: Option<String>,
    /// Only this request or transaction label
    #[arg(long)]
    pub request: Option<String>,
    /// The newest this many matching runs
    #[arg(long, default_value_t = TrendRequest::DEFAULT_LAST)]
    pub last: usize,
    #[arg(long, value_parser = percentile_method(), default_value = "nearest-rank")]
    pub percentile_method: PercentileMethod,
    /// Time unit of a response-time metric: `ms`, or `us` (microseconds where a run measured
    /// them, ms × 1000 elsewhere; computed from the runs' samples, not their ms rollups)
    #[arg(long, value_enum, default_value_t = Resolution::Ms)]
    pub resolution: Resolution,
    #[arg(long, value_enum, default_value_t = TrendFormat::Table)]
    pub format: TrendFormat,
}

/// `10%` or `10` → 10.0.
pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("'{s}' is not a percent like 10%"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("'{s}' must be a percent of 0 or more"))
    }
}

/// Output formats of tabular data.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    /// Aligned text table
    Table,
    /// One JSON array of objects keyed by column name
    Json,
    /// Header line, then rows
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct FormatArgs {
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// The query, e.g. "select label, count(*) from samples group by label"; `-` reads it from
    /// stdin
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub query: Option<String>,
    /// Read the query from this file (e.g. one of queries/*.sql with its comments)
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Format of the input files.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum InputFormat {
    /// JMeter JTL CSV
    Csv,
    /// JMeter JTL XML
    Xml,
    /// k6 --out json (NDJSON)
    K6Json,
    /// k6 --out csv
    K6Csv,
    /// Gatling simulation.log (text 3.0–3.12, binary 3.13+)
    Gatling,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// JTL files (CSV or XML), k6 results (--out json / csv) or Gatling simulation.log files (or
    /// a Gatling results folder holding one), plain, gzip, zstd or bzip2, zip archives of them;
    /// `-` for standard input; all become one run (with --each: one run each)
    #[arg(required_unless_present = "each")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub mode: ImportModeArgs,
    /// Run name [default: the first file's name; with --each: from --name-from]
    #[arg(long)]
    pub name: Option<String>,
    /// Tag the run, KEY=VALUE (repeatable)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Columns of a header-less CSV, comma-separated JMeter names ("NAME" for sample variables)
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// JMeter version whose default columns a header-less CSV has (2.13, 3.0, 3.1, 5.0, ...)
    #[arg(long, value_name = "VERSION")]
    pub jmeter_version: Option<String>,
    /// CSV field delimiter (one character; \t for tab) [default: detected]
    #[arg(long)]
    pub delimiter: Option<String>,
    /// SimpleDateFormat pattern of CSV timestamps (JMeter's timestamp_format) [default: epoch ms]
    #[arg(long, value_name = "PATTERN")]
    pub timestamp_format: Option<String>,
    /// Time zone of formatted timestamps, e.g. Europe/Paris
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// Force the input format instead of sniffing it
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormat>,
    /// The JMX plan of the run: thread groups become cases
    #[arg(long, value_name = "JMX")]
    pub plan: Option<PathBuf>,
    /// Stop at the first row that cannot be imported
    #[arg(long)]
    pub strict: bool,
    /// Give up after this many rejected rows
    #[arg(long, default_value_t = 1000)]
    pub max_errors: u64,
    /// Import even if the same bytes were imported before
    #[arg(long)]
    pub force: bool,
    /// `id` prints the run id; `json` prints the run manifest
    #[arg(long, value_enum, default_value_t = ImportOutput::Id)]
    pub format: ImportOutput,
}

/// `import --each` (a back-fill, one run per file) and `import --follow` (a file still being
/// written, as a live run); neither by default.
#[derive(Debug, Default, Args)]
pub(crate) struct ImportModeArgs {
    /// Import every file this pattern matches (`*`, `?`, `[ab]`, `**` for any directories;
    /// quote it), each as its own run, skipping files already imported
    #[arg(long, value_name = "PATTERN")]
    pub each: Option<String>,
    /// With --each, what names each run: `path` (under the pattern's directory), `file`
    /// (its name) or `stem` (its name without extensions)
    #[arg(long, value_enum, default_value_t = NameFromArg::Path, requires = "each", conflicts_with = "name")]
    pub name_from: NameFromArg,
    /// With --each, how many files are imported at once (each its own run; a large or
    /// compressed file is imported alone) [default: 16]
    #[arg(long, value_name = "N", requires = "each", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Follow one JTL (CSV or XML) that JMeter is still writing: a live run, committed when
    /// the file stops growing (--idle), when JMeter says the run ended (XML's </testResults>,
    /// --jmeter-log), on Ctrl-C or `loadlake stop`
    #[arg(long, conflicts_with = "each")]
    pub follow: bool,
    /// With --follow, commit once the file has not grown for this long
    #[arg(long, default_value = "30s", value_parser = parse_duration_ms, requires = "follow")]
    pub idle: i64,
    /// With --follow, JMeter's log (`jmeter -j FILE`) or its standard output saved to a file:
    /// commit as soon as it says the run ended and the results file is closed
    #[arg(long, value_name = "FILE", requires = "follow")]
    pub jmeter_log: Option<PathBuf>,
}

/// `--name-from`.
#[derive(Debug, Clone, Copy, Default, ValueEnum, PartialEq, Eq)]
pub(crate) enum NameFromArg {
    /// `build-12/results.jtl.gz` for `ci/**/*.jtl*` matching `ci/build-12/results.jtl.gz`
    #[default]
    Path,
    /// `results.jtl.gz`
    File,
    /// `results`
    Stem,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ImportOutput {
    Id,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct QuickstartArgs {
    /// Directory of sample files to import
    #[arg(long, default_value = "sample-data")]
    pub data: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CurveArgs {
    /// Run id, or `latest`
    pub run: String,
    /// Only this case (thread group)
    #[arg(long)]
    pub case: Option<String>,
    /// Only this request (sampler label)
    #[arg(long)]
    pub request: Option<String>,
    /// Width of one point: 500ms, 1s, 10s, 1m…
    #[arg(long, default_value = "1s", value_parser = parse_duration_ms)]
    pub interval: i64,
    /// At most this many points: adjacent intervals are merged exactly
    #[arg(long)]
    pub points: Option<usize>,
    #[arg(long, value_parser = percentile_method(), default_value = "nearest-rank")]
    pub percentile_method: PercentileMethod,
    /// Time unit of the response times: `ms`, or `us` (microseconds where the run measured
    /// them, ms × 1000 elsewhere); the interval stays in ms
    #[arg(long, value_enum, default_value_t = Resolution::Ms)]
    pub resolution: Resolution,
    /// `table`, `csv` (one row per point) or `json` (CodeArts brokens)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `500ms`, `1s`, `2m`, `1h` → milliseconds.
pub(crate) fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let d = loadlake_plan::parse_duration(s)?;
    i64::try_from(d.as_millis()).map_err(|_| format!("'{s}' is too long"))
}

#[derive(Debug, Args)]
pub(crate) struct CasesArgs {
    /// Run id, or `latest`
    pub run: String,
    /// `table` or `json`
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct DetailArgs {
    /// Run id, or `latest`
    pub run: String,
    /// Case name or id (see `loadlake cases`)
    #[arg(long)]
    pub case: String,
    #[arg(long, value_parser = percentile_method(), default_value = "nearest-rank")]
    pub percentile_method: PercentileMethod,
    /// Time unit of the response times: `ms`, or `us` (microseconds where the run measured
    /// them, ms × 1000 elsewhere)
    #[arg(long, value_enum, default_value_t = Resolution::Ms)]
    pub resolution: Resolution,
    /// `table`, `json` (CaseReportDetail; `timeUnit` when not ms) or `csv` (one row per detail)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--tag KEY=VALUE` pairs.
pub(crate) fn parse_tags(tags: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    tags.iter()
        .map(|t| loadlake_store::parse_tag(t).context("--tag"))
        .collect()
}

/// Reads the token file: its first line, trimmed; an empty token is refused.
pub(crate) fn read_token(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or_default().trim().to_string();
    if token.is_empty() {
        bail!("{}: the token is empty", path.display());
    }
    Ok(token)
}

/// The exact percentile method of an argument (the dashboard estimator is for --stats jmeter).
pub(crate) fn exact_method(method: PercentileMethod) -> anyhow::Result<PercentileMethod> {
    if method == PercentileMethod::Legacy {
        bail!("--percentile-method jmeter-dashboard applies to --stats jmeter only")
    }
    Ok(method)
}

/// APDEX thresholds of `--apdex-*`.
pub(crate) fn apdex_thresholds(args: &ReportArgs) -> anyhow::Result<ApdexThresholds> {
    Ok(ApdexThresholds {
        satisfied_ms: args.apdex_satisfied,
        tolerated_ms: args.apdex_tolerated,
        per_label: match &args.apdex_per_transaction {
            Some(spec) => ApdexThresholds::parse_overrides(spec)
                .map_err(|e| anyhow::anyhow!("--apdex-per-transaction {e}"))?,
            None => Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_method(args: &[&str]) -> Result<PercentileMethod, clap::Error> {
        let cli = Cli::try_parse_from(["loadlake", "report", "latest"].iter().chain(args))?;
        match cli.command {
            Command::Report(r) => Ok(r.percentile_method),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn percentile_methods_parse_once_with_clap_s_checks() {
        assert_eq!(report_method(&[]).unwrap(), PercentileMethod::NearestRank);
        for m in PercentileMethod::ALL {
            let parsed = report_method(&["--percentile-method", m.user_name()]).unwrap();
            assert_eq!(parsed, m);
        }
        // Only the command-line names (not SQL's `legacy`), spelled exactly, as before.
        for bad in ["legacy", "LINEAR", "linearr", ""] {
            let e = report_method(&["--percentile-method", bad]).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue, "{bad}");
            let text = e.to_string();
            assert!(
                text.contains(
                    "[possible values: nearest-rank, linear, jmeter-aggregate, jmeter-dashboard]"
                ),
                "{text}"
            );
        }
        let e = report_method(&["--percentile-method", "linearr"]).unwrap_err();
        assert!(e.to_string().contains("a similar value exists: 'linear'"));
    }
}
