//! [`query_worker`]: the query worker of `loadlake serve --role worker`.

use std::sync::Arc;

use datafusion::execution::context::SessionContext;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion_distributed::{DistributedExt, Worker, WorkerQueryContext};
use loadlake_store::Store;

use crate::channels::BearerChannels;
use crate::{CLUSTER_VERSION, ClusterError};

/// How a worker runs the fragments it is sent.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// Memory the fragments running at once may hold, bytes (none: no limit); with a limit the
    /// built-ins that can blow up their input are guarded, as on a server's own sessions.
    pub memory_bytes: Option<usize>,
    /// The token this worker sends to the other workers whose stages it reads (the cluster's
    /// one token; the server checks the token of calls to the worker itself).
    pub token: Option<String>,
}

/// A worker over `store`'s objects: every fragment runs in a session with loadlake's functions
/// (by name, as the coordinator planned them) and reads the Parquet parts the coordinator
/// listed, from the bucket or the directory of the store.
pub fn query_worker(store: &Store, options: &WorkerOptions) -> Result<Worker, ClusterError> {
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(bytes) = options.memory_bytes {
        runtime = runtime.with_memory_limit(bytes, 1.0);
    }
    let runtime = runtime.build_arc()?;
    // A local store's parts are `file://` paths, which every runtime reads.
    if let Some(objects) = store.object_storage()? {
        // The same objects under the URL of parts of runs still being written.
        for url in [&objects.url, &objects.live_url()] {
            runtime.register_object_store(
                ObjectStoreUrl::parse(url)?.as_ref(),
                Arc::clone(&objects.objects),
            );
        }
    }
    let channels = BearerChannels::new(options.token.as_deref())?;
    let memory_bytes = options.memory_bytes;
    let worker = Worker::from_session_builder(move |ctx: WorkerQueryContext| {
        let channels = channels.clone();
        async move {
            let state = ctx
                .builder
                .with_distributed_channel_resolver(channels)
                .build();
            let session = SessionContext::new_with_state(state);
            loadlake_query::functions::register_session_functions(&session, memory_bytes);
            Ok(session.state())
        }
    });
    Ok(worker
        .with_runtime_env(runtime)
        .with_version(CLUSTER_VERSION))
}
