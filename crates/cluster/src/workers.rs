//! [`Workers`]: a coordinator's query workers — where they are, the token they need, and which
//! of them answer.

use std::fmt;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_distributed::{
    ChannelResolver, DistributedExt, GetWorkerInfoRequest, SessionStateBuilderExt, WorkerResolver,
};
use loadlake_query::QueryCluster;
use url::Url;

use crate::channels::BearerChannels;
use crate::{CLUSTER_VERSION, ClusterError};

/// How often a coordinator asks every worker whether it is there: a worker that went away is
/// left out of the queries planned after the next probe, one that came back is used again.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// How long a probe waits for a worker's answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A coordinator's workers, as `--workers` and the token give them.
#[derive(Debug, Clone)]
pub struct WorkersConfig {
    /// The workers' gRPC addresses, `http://host:port` (or `https://`).
    pub urls: Vec<String>,
    /// The cluster's bearer token (the token of the workers' servers), sent on every call.
    pub token: Option<String>,
    /// A scan is spread over workers at about one partition per this many bytes of Parquet
    /// (datafusion-distributed's `file_scan_config_bytes_per_partition`): a query reading
    /// less stays on the coordinator.
    pub scan_bytes_per_partition: usize,
}

impl WorkersConfig {
    /// `urls` with `token`, spreading scans of more than 16 MiB per partition
    /// (datafusion-distributed's default).
    pub fn new(urls: Vec<String>, token: Option<String>) -> WorkersConfig {
        WorkersConfig {
            urls,
            token,
            scan_bytes_per_partition: 16 << 20,
        }
    }
}

/// The workers a coordinator spreads queries over: a [`QueryCluster`] for
/// [`loadlake_query::EngineOptions`]. A background task probes every worker each
/// [`PROBE_INTERVAL`] for as long as this value (or a clone) lives; queries are planned over
/// the workers that answered last.
#[derive(Clone)]
pub struct Workers {
    shared: Arc<Shared>,
}

struct Shared {
    all: Vec<Url>,
    live: RwLock<Vec<Url>>,
    channels: BearerChannels,
    scan_bytes_per_partition: usize,
}

/// Why a worker is left out.
enum ProbeFailure {
    /// It refused our token: a setup mistake.
    Refused(String),
    /// It did not answer, or is of another loadlake version.
    Away(String),
}

impl Workers {
    /// Asks every worker in `config` for its version. A worker refusing the token fails the
    /// setup; one that does not answer (or runs another version) is left out with a warning
    /// until it answers; if none answers, the setup fails naming each and why.
    pub async fn connect(config: WorkersConfig) -> Result<Workers, ClusterError> {
        let all = config
            .urls
            .iter()
            .map(|u| {
                Url::parse(u)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
                    .ok_or_else(|| ClusterError::BadUrl(u.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if all.is_empty() {
            return Err(ClusterError::NoWorkers);
        }
        let shared = Arc::new(Shared {
            all,
            live: RwLock::new(Vec::new()),
            channels: BearerChannels::new(config.token.as_deref())?,
            scan_bytes_per_partition: config.scan_bytes_per_partition.max(1),
        });
        let mut away = Vec::new();
        for (url, outcome) in shared.probe_all().await {
            match outcome {
                Ok(()) => {}
                Err(ProbeFailure::Refused(message)) => {
                    return Err(ClusterError::Refused {
                        url: url.to_string(),
                        message,
                    });
                }
                Err(ProbeFailure::Away(why)) => {
                    tracing::warn!("query worker {url} left out for now: {why}");
                    away.push(format!("{url} ({why})"));
                }
            }
        }
        if shared.live().is_empty() {
            return Err(ClusterError::NoneAnswer(away.join(", ")));
        }
        tokio::spawn(probe_periodically(Arc::downgrade(&shared)));
        Ok(Workers { shared })
    }

    /// The workers that answered the last probe.
    pub fn live(&self) -> Vec<Url> {
        self.shared.live()
    }
}

impl fmt::Debug for Workers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workers")
            .field("all", &self.shared.all)
            .field("live", &self.shared.live())
            .finish()
    }
}

impl Shared {
    fn live(&self) -> Vec<Url> {
        match self.live.read() {
            Ok(live) => live.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Probes every worker at once, records which answered, and returns each outcome.
    async fn probe_all(&self) -> Vec<(Url, Result<(), ProbeFailure>)> {
        let probes = self.all.iter().map(|url| async move {
            let outcome = probe(&self.channels, url).await;
            (url.clone(), outcome)
        });
        let outcomes = futures::future::join_all(probes).await;
        let live: Vec<Url> = outcomes
            .iter()
            .filter(|(_, o)| o.is_ok())
            .map(|(u, _)| u.clone())
            .collect();
        let before = self.live();
        for url in &self.all {
            match (before.contains(url), live.contains(url)) {
                (true, false) => tracing::warn!("query worker {url} stopped answering"),
                (false, true) if !before.is_empty() => {
                    tracing::info!("query worker {url} answers again")
                }
                _ => {}
            }
        }
        match self.live.write() {
            Ok(mut slot) => *slot = live,
            Err(poisoned) => *poisoned.into_inner() = live,
        }
        outcomes
    }
}

/// Asks `url` for its version through `channels` (so with the token).
async fn probe(channels: &BearerChannels, url: &Url) -> Result<(), ProbeFailure> {
    let asked = async {
        let mut client = channels.get_worker_client_for_url(url).await?;
        client.get_worker_info(GetWorkerInfoRequest {}).await
    };
    match tokio::time::timeout(PROBE_TIMEOUT, asked).await {
        Err(_) => Err(ProbeFailure::Away(format!(
            "no answer within {PROBE_TIMEOUT:?}"
        ))),
        Ok(Err(e)) => match unauthenticated(&e) {
            Some(message) => Err(ProbeFailure::Refused(message)),
            None => Err(ProbeFailure::Away(e.strip_backtrace())),
        },
        Ok(Ok(info)) if info.version != CLUSTER_VERSION => Err(ProbeFailure::Away(format!(
            "it runs loadlake {}, this coordinator {CLUSTER_VERSION}",
            if info.version.is_empty() {
                "of unknown version"
            } else {
                &info.version
            }
        ))),
        Ok(Ok(_)) => Ok(()),
    }
}

/// The message of an `UNAUTHENTICATED` answer inside `e`, if that is what it is.
fn unauthenticated(e: &DataFusionError) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(status) = err.downcast_ref::<tonic::Status>()
            && status.code() == tonic::Code::Unauthenticated
        {
            return Some(status.message().to_string());
        }
        current = err.source();
    }
    None
}

/// Probes every [`PROBE_INTERVAL`] until the [`Workers`] are dropped.
async fn probe_periodically(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(PROBE_INTERVAL).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        for (url, outcome) in shared.probe_all().await {
            if let Err(ProbeFailure::Refused(message)) = outcome {
                tracing::warn!("query worker {url} refuses this coordinator's token: {message}");
            }
        }
    }
}

/// The planner's view of the workers: those that answered last.
struct LiveWorkers(Arc<Shared>);

impl WorkerResolver for LiveWorkers {
    fn get_urls(&self) -> Result<Vec<Url>, DataFusionError> {
        Ok(self.0.live())
    }
}

#[async_trait::async_trait]
impl QueryCluster for Workers {
    fn coordinate(
        &self,
        state: SessionStateBuilder,
    ) -> Result<SessionStateBuilder, DataFusionError> {
        if self.shared.live().is_empty() {
            tracing::warn!(
                "no query worker answers ({} configured): the query runs on this node alone",
                self.shared.all.len()
            );
            return Ok(state);
        }
        state
            .with_distributed_worker_resolver(LiveWorkers(Arc::clone(&self.shared)))
            .with_distributed_channel_resolver(self.shared.channels.clone())
            .with_distributed_planner()
            .with_distributed_file_scan_config_bytes_per_partition(
                self.shared.scan_bytes_per_partition,
            )
    }

    fn display_plan(&self, plan: &dyn ExecutionPlan) -> String {
        datafusion_distributed::display_plan_ascii(plan, false)
    }

    async fn after_failure(&self, _error: &DataFusionError) -> Option<String> {
        let before = self.shared.live();
        self.shared.probe_all().await;
        let live = self.shared.live();
        let lost: Vec<String> = before
            .iter()
            .filter(|url| !live.contains(url))
            .map(Url::to_string)
            .collect();
        if lost.is_empty() {
            return None;
        }
        let next = if live.is_empty() {
            "no worker answers: the next query runs on the coordinator alone".to_string()
        } else {
            let live: Vec<String> = live.iter().map(Url::to_string).collect();
            format!("the next query runs on {}", live.join(", "))
        };
        Some(format!(
            "query worker {} stopped answering during the query; {next}",
            lost.join(", ")
        ))
    }
}
