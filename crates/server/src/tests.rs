//! The server on a real loopback socket, in process: which services need the token, and what
//! happens to connections that never start talking (issue 14, defects 8 and 12).

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use super::*;
use crate::pb::run_service_client::RunServiceClient;

/// A server on 127.0.0.1 with a free port over an empty store, stopped when dropped.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _store: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Running {
    /// The store it serves.
    pub(crate) fn store_dir(&self) -> &std::path::Path {
        self._store.path()
    }
}

pub(crate) async fn start(configure: impl FnOnce(&mut ServerConfig)) -> Running {
    let store = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(store.path().to_path_buf());
    configure(&mut config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = serve_on(listener, config, shutdown).await {
            panic!("server failed: {e}");
        }
    });
    Running {
        addr,
        stop: Some(stop),
        _store: store,
    }
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap()
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// The services reflection lists (v1), or the call's status.
async fn list_services(
    addr: SocketAddr,
    token: Option<&str>,
) -> Result<Vec<String>, tonic::Status> {
    let mut client = ServerReflectionClient::new(channel(addr).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let requests = tokio_stream::iter([request]);
    let call = match token {
        Some(t) => client.server_reflection_info(with_token(requests, t)).await,
        None => client.server_reflection_info(requests).await,
    };
    let mut responses = call?.into_inner();
    let first = responses.message().await?.expect("a reflection response");
    match first.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            Ok(list.service.into_iter().map(|s| s.name).collect())
        }
        other => panic!("unexpected reflection response {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_open_reflection_and_services_need_the_token() {
    let server = start(|c| c.token = Some("s3cret".into())).await;
    // Health answers without a token (orchestrators' probes carry none)…
    let mut health = HealthClient::new(channel(server.addr).await);
    for service in ["", "loadlake.v1.RunService"] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health of '{service}' without a token: {e}"))
            .into_inner();
        assert_eq!(reply.status, ServingStatus::Serving as i32, "'{service}'");
    }
    // …reflection does not: it describes the whole API.
    let e = list_services(server.addr, None).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e}");
    let e = list_services(server.addr, Some("wrong")).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e}");
    let services = list_services(server.addr, Some("s3cret")).await.unwrap();
    for s in ["loadlake.v1.RunService", "grpc.health.v1.Health"] {
        assert!(services.iter().any(|x| x == s), "{s} in {services:?}");
    }
    // The v1alpha service is guarded the same way.
    let mut alpha =
        tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient::new(
            channel(server.addr).await,
        );
    let request = tonic_reflection::pb::v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            ),
        ),
    };
    let e = alpha
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated, "{e}");
    // And loadlake's own services, as before.
    let mut runs = RunServiceClient::new(channel(server.addr).await);
    let e = runs
        .list_runs(pb::ListRunsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    let page = runs
        .list_runs(with_token(pb::ListRunsRequest::default(), "s3cret"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.total, 0);

    // Without a token configured, reflection answers anyone.
    let open = start(|_| {}).await;
    assert!(
        list_services(open.addr, None)
            .await
            .unwrap()
            .iter()
            .any(|s| s == "loadlake.v1.RunService")
    );
}

/// Reads `socket` until the server closes it (EOF or reset); how long that took, or `None` if
/// it stayed open for `within`.
fn closed_within(mut socket: TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while start.elapsed() < within {
        match socket.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {} // the server's own SETTINGS frame
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// Runs blocking socket work off the runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_after_the_handshake_timeout() {
    let server = start(|c| c.handshake_timeout = Duration::from_millis(500)).await;
    let addr = server.addr;
    let (silent, partial) = blocking(move || {
        let silent: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
        // 20 bytes of the 24-byte HTTP/2 preface, then nothing (a slow-loris start).
        let mut partial = TcpStream::connect(addr).unwrap();
        std::io::Write::write_all(&mut partial, &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"[..20])
            .unwrap();
        (silent, partial)
    })
    .await;
    // A real client that connects, stays idle past the timeout, then calls: it has sent its
    // preface, so it is not a silent connection.
    let mut runs = RunServiceClient::new(channel(addr).await);
    let closed = blocking(move || {
        let mut all: Vec<Option<Duration>> = silent
            .into_iter()
            .map(|s| closed_within(s, Duration::from_secs(10)))
            .collect();
        all.push(closed_within(partial, Duration::from_secs(10)));
        all
    })
    .await;
    for (i, c) in closed.iter().enumerate() {
        assert!(
            c.is_some(),
            "socket {i} still open 10 s after a 0.5 s handshake timeout"
        );
    }
    let page = runs
        .list_runs(pb::ListRunsRequest::default())
        .await
        .expect("an idle but live client is served")
        .into_inner();
    assert_eq!((page.total, page.runs.len()), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_silent_connections_make_room_for_clients() {
    // A handshake timeout far longer than the test: only eviction can free a slot.
    let server = start(|c| {
        c.max_connections = 4;
        c.handshake_timeout = Duration::from_secs(600);
    })
    .await;
    let addr = server.addr;
    let silent = blocking(move || {
        (0..4)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect::<Vec<_>>()
    })
    .await;
    // Give the accept loop time to take all four (they hold every slot now).
    tokio::time::sleep(Duration::from_millis(300)).await;
    for round in 0..3 {
        let mut runs = RunServiceClient::new(channel(addr).await);
        let page = tokio::time::timeout(
            Duration::from_secs(10),
            runs.list_runs(pb::ListRunsRequest::default()),
        )
        .await
        .unwrap_or_else(|_| panic!("round {round}: a client is locked out by silent sockets"))
        .unwrap_or_else(|e| panic!("round {round}: {e}"))
        .into_inner();
        assert_eq!(page.total, 0);
    }
    // Evicted oldest first: the first silent socket is closed, long before its 600 s timeout.
    let closed = blocking(move || {
        silent
            .into_iter()
            .map(|s| closed_within(s, Duration::from_secs(3)).is_some())
            .collect::<Vec<bool>>()
    })
    .await;
    assert!(
        closed[0],
        "the oldest silent connection was evicted: {closed:?}"
    );
}

/// ImportFile's framing, now that its bytes go through `ingest::import_upload` (shared with
/// `POST /api/v1/runs`): options first and once, bytes in the first message counted too.
#[tokio::test]
async fn import_file_wants_options_first_and_once_and_keeps_every_byte() {
    use crate::pb::ImportFileChunk;
    use crate::pb::ingest_service_client::IngestServiceClient;
    let server = start(|_| {}).await;
    let mut ingest = IngestServiceClient::new(channel(server.addr).await);
    let options = || {
        Some(crate::pb::ImportOptions {
            file_name: "three.csv".into(),
            ..Default::default()
        })
    };
    // Three rows written by hand; the header and the first row ride with the options.
    let head = b"timeStamp,elapsed,label,responseCode,success\n1764000000000,10,a,200,true\n";
    let tail = b"1764000001000,20,a,200,true\n1764000002000,30,b,500,false\n";
    let chunk = |options, data: &[u8]| ImportFileChunk {
        options,
        data: data.to_vec(),
    };
    let cases = [
        (vec![], "empty upload"),
        (
            vec![chunk(None, head)],
            "the first message must carry options",
        ),
        (
            vec![chunk(options(), head), chunk(options(), tail)],
            "options may only come once",
        ),
    ];
    for (chunks, want) in cases {
        let e = ingest
            .import_file(futures::stream::iter(chunks))
            .await
            .expect_err(want);
        assert_eq!(e.code(), Code::InvalidArgument, "{e}");
        assert!(e.message().contains(want), "{e}");
    }
    let done = ingest
        .import_file(futures::stream::iter(vec![
            chunk(options(), head),
            chunk(None, tail),
        ]))
        .await
        .map(tonic::Response::into_inner);
    let done = done.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((done.samples, done.errors, done.rejected), (3, 1, 0));
}
