//! The arguments of the commands that put load on a system or serve the store: `run`,
//! `agent` and `serve`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::parse_duration_ms;

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The JMX plan
    pub plan: PathBuf,
    /// A property for ${__P(name)} / ${__property(name)}, JMeter's -Jname=value (repeatable)
    #[arg(short = 'J', value_name = "NAME=VALUE")]
    pub props: Vec<String>,
    /// Run name [default: the plan's file name]
    #[arg(long)]
    pub name: Option<String>,
    /// Tag the run, KEY=VALUE (repeatable)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Stop every thread group after this long (30s, 5m…), whatever the plan says
    #[arg(long, value_parser = parse_duration_ms)]
    pub duration: Option<i64>,
    /// Safety limit: stop after this many samples
    #[arg(long)]
    pub max_samples: Option<u64>,
    /// Also write the samples as a JMeter CSV results file (JMeter 5 default columns)
    #[arg(long, value_name = "FILE")]
    pub jtl: Option<PathBuf>,
    /// Parse and explain the plan; send nothing
    #[arg(long)]
    pub validate: bool,
    /// Load model: `closed` runs the plan's threads and loops; `tps` starts iterations at a fixed
    /// rate (open model, needs --tps and --duration)
    #[arg(long, value_enum, default_value_t = LoadMode::Closed)]
    pub mode: LoadMode,
    /// Open model: iterations per second over all regular thread groups (shared in proportion to
    /// their thread counts)
    #[arg(long, value_name = "PER_SECOND")]
    pub tps: Option<f64>,
    /// Open model: most virtual users per thread group [default: the group's thread count]
    #[arg(long, value_name = "N")]
    pub max_vus: Option<u32>,
    /// Run on N agents joined to --controller (each runs a block of every group's users, a 1/N
    /// share of a rate) and stream into one run there
    #[arg(long, value_name = "N", help_heading = "Agents")]
    pub agents: Option<u32>,
    /// The controller (`loadlake serve`) the agents joined
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:50051",
        help_heading = "Agents"
    )]
    pub controller: String,
    /// File holding the controller's bearer token
    #[arg(long, value_name = "FILE", help_heading = "Agents")]
    pub token_file: Option<PathBuf>,
    /// When an agent is lost: `continue` with the others, or `stop` them (its acknowledged
    /// samples stay either way; the run is incomplete, tagged lost_agents)
    #[arg(long, value_enum, default_value_t = AgentLoss::Continue, help_heading = "Agents")]
    pub on_agent_loss: AgentLoss,
    /// A live stop rule, e.g. "p95>500ms for 10s", "error_rate>5% for 5s" (repeatable): the run
    /// stops when it holds every second for that long
    #[arg(long = "stop-when", value_name = "RULE")]
    pub stop_when: Vec<String>,
    /// Load stages the regular thread groups follow instead of their threads and loops: users
    /// (concurrency, step, surge, oscillation) or arrival rates (tps, with the file's max_vus);
    /// see docs/load-shapes.md
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tps", "max_vus"])]
    pub stages: Option<PathBuf>,
    /// Peak-seeking: users of the first step
    #[arg(
        long,
        value_name = "N",
        help_heading = "Peak-seeking (--mode peak | smart-peak)"
    )]
    pub start: Option<u32>,
    /// Peak-seeking: users added each step
    #[arg(
        long,
        value_name = "N",
        help_heading = "Peak-seeking (--mode peak | smart-peak)"
    )]
    pub step: Option<u32>,
    /// Peak-seeking: how long each step lasts (30s, 1m…)
    #[arg(long, value_parser = parse_duration_ms, help_heading = "Peak-seeking (--mode peak | smart-peak)")]
    pub step_duration: Option<i64>,
    /// Peak-seeking: most users
    #[arg(
        long,
        value_name = "N",
        help_heading = "Peak-seeking (--mode peak | smart-peak)"
    )]
    pub max: Option<u32>,
    /// Peak-seeking: a rule every step must meet, e.g. avg_rt<=200ms, p95<500ms,
    /// success_rate>=99.5%, error_rate<=1%, tps>=100 (repeatable)
    #[arg(
        long = "kpi",
        value_name = "RULE",
        help_heading = "Peak-seeking (--mode peak | smart-peak)"
    )]
    pub kpis: Vec<String>,
}

/// How `loadlake run` drives the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LoadMode {
    /// The plan's threads loop (JMeter's model).
    Closed,
    /// Iterations arrive at `--tps` per second, whatever the server's speed.
    Tps,
    /// A step ramp (--start, --step, --step-duration, --max) that stops at the first step
    /// breaking a --kpi rule; the last good step is the peak.
    Peak,
    /// Peak-seeking that also stops at the knee, where more users stop adding throughput.
    SmartPeak,
}

/// What a distributed run does when an agent is lost.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum AgentLoss {
    /// The other agents go on
    Continue,
    /// The other agents are told to stop
    Stop,
}

#[derive(Debug, Args)]
pub(crate) struct AgentArgs {
    /// The controller, e.g. http://10.0.0.5:50051
    #[arg(long, value_name = "URL")]
    pub controller: String,
    /// File holding the controller's bearer token
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// This agent's id in the run's `agent` column [default: $HOSTNAME-pid]
    #[arg(long)]
    pub name: Option<String>,
    /// Leave after one run
    #[arg(long)]
    pub once: bool,
    /// Give up when the controller's connection stays silent this long (HTTP/2 pings every
    /// half of it)
    #[arg(long, default_value = "20s", value_parser = parse_duration_ms)]
    pub peer_timeout: i64,
}

/// What `loadlake serve` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ServeRole {
    /// Every service of loadlake's API.
    Server,
    /// A query worker (distributed SQL) only.
    Worker,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// `server`: every service (reports, runs, imports, agents, Flight SQL); `worker`: a query
    /// worker only, for coordinators' `--workers`
    #[arg(long, value_enum, default_value_t = ServeRole::Server)]
    pub role: ServeRole,
    /// Address to listen on (port 0: any free port, printed on stderr)
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub listen: std::net::SocketAddr,
    /// Also serve the JSON API (`/api/v1/…`, HTTP/1.1) on this address (port 0: any free
    /// port, printed on stderr); the token applies as for gRPC
    #[arg(long, value_name = "ADDR")]
    pub http: Option<std::net::SocketAddr>,
    /// File holding the bearer token every call must carry (required off loopback)
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain for TLS (with --tls-key)
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Longest a query may run: 30s, 5m…
    #[arg(long, default_value = "60s", value_parser = parse_duration_ms)]
    pub query_timeout: i64,
    /// Memory one query may use, MiB
    #[arg(long, default_value_t = 1024)]
    pub query_memory_mib: usize,
    /// A client or agent whose connection stays silent this long is dropped (HTTP/2 pings
    /// every half of it): an agent cut off by the network is then lost
    #[arg(long, default_value = "20s", value_parser = parse_duration_ms)]
    pub peer_timeout: i64,
    /// A connection that sends no HTTP/2 preface (or TLS handshake) this long is closed
    #[arg(long, default_value = "10s", value_parser = parse_duration_ms)]
    pub handshake_timeout: i64,
    /// Connections held at most; at the limit a new one evicts the oldest still silent
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// SLA rule file (as `report --sla`) the console's run pages check each run against
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,
}
