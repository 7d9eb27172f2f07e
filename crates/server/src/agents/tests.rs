//! A distributed run in one process: the real server on 127.0.0.1 as the controller, two agents
//! of [`super::client`], and a loopback HTTP server the plan requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use loadlake_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::client::{Controller, PartDone};
use crate::pb;

/// One GET /ok per iteration of each user; users, loops and port are properties.
const TICK_JMX: &str = include_str!("../../../../tests/data/runner/tick.jmx");

/// An HTTP/1.1 server on 127.0.0.1 answering every request `200 ok` (keep-alive), counting them.
struct LoopbackHttp {
    port: u16,
    requests: Arc<AtomicU64>,
    accept: tokio::task::JoinHandle<()>,
}

impl LoopbackHttp {
    async fn start() -> LoopbackHttp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicU64::new(0));
        let counted = requests.clone();
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(answer(socket, counted.clone()));
            }
        });
        LoopbackHttp {
            port,
            requests,
            accept,
        }
    }
}

impl Drop for LoopbackHttp {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Answers the requests (heads without bodies) of one connection until it closes.
async fn answer(mut socket: TcpStream, requests: Arc<AtomicU64>) {
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok";
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = socket.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            requests.fetch_add(1, Ordering::SeqCst);
            if socket.write_all(OK).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_in_process_stream_a_plans_samples_into_one_run() {
    let http = LoopbackHttp::start().await;
    let server = crate::tests::start(|_| {}).await;
    let url = format!("http://{}", server.addr);
    let peer_timeout = Duration::from_secs(20);
    let mut agents = Vec::new();
    for name in ["a1", "a2"] {
        let controller = Controller::connect(&url, None, peer_timeout).await.unwrap();
        let mut joined = controller.join(name).await.unwrap();
        assert_eq!(joined.id(), name);
        agents.push(tokio::spawn(async move { joined.run_next_part().await }));
    }
    // 4 users × 3 loops, split across 2 agents: 2 users, 6 requests each.
    let (users, loops) = (4u64, 3u64);
    let props = [
        ("users", users.to_string()),
        ("loops", loops.to_string()),
        ("port", http.port.to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .into();
    let controller = Controller::connect(&url, None, peer_timeout).await.unwrap();
    let events = controller
        .start_distributed_run(pb::DistributedRunRequest {
            plan_jmx: TICK_JMX.to_string(),
            props,
            load: Some(pb::LoadSpec::default()),
            agents: 2,
            run_name: "in process".into(),
            ..pb::DistributedRunRequest::default()
        })
        .await
        .unwrap();
    let mut states = Vec::new();
    let finished = tokio::time::timeout(
        Duration::from_secs(60),
        events.follow(|e| states.push(e.state.clone())),
    )
    .await
    .expect("the run finishes within a minute")
    .unwrap();
    assert_eq!(states, ["started"]);
    assert_eq!(finished.run_status, "complete", "{finished:?}");
    assert_eq!(finished.samples, users * loops);
    assert_eq!(finished.agents, ["a1", "a2"]);

    let mut parts: Vec<PartDone> = Vec::new();
    for agent in agents {
        parts.push(agent.await.unwrap().unwrap().expect("a part of the run"));
    }
    parts.sort_by_key(|p| p.index);
    let expected: Vec<PartDone> = (0..2)
        .map(|index| PartDone {
            run_id: finished.run_id.clone(),
            index,
            count: 2,
            samples: users * loops / 2,
        })
        .collect();
    assert_eq!(parts, expected);
    assert_eq!(http.requests.load(Ordering::SeqCst), users * loops);

    let store = Store::open(server.store_dir()).unwrap();
    let manifest = store.run(&finished.run_id).unwrap();
    assert_eq!(manifest.samples, users * loops);
}
