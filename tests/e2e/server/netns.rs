//! Agents on their own network stacks: each `loadlake agent` runs in a Linux network namespace
//! attached to a bridge that exists only on this machine (10.213.X.0/24), so agents, controller
//! and target talk over real (virtual) links instead of loopback, and a link can be cut. Needs
//! root (CAP_NET_ADMIN); without it the test says so and skips.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Served;
use crate::common::*;

/// A bridge on the host and network namespaces attached to it; all removed when dropped.
struct Lan {
    bridge: String,
    /// (namespace, host side of its veth pair).
    spaces: Vec<(String, String)>,
    subnet: String,
}

/// Runs `ip ARGS`; the error text when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Lan {
    /// A bridge with address `<subnet>.1` and `n` namespaces at `<subnet>.10`, `.11`, …
    fn new(n: usize) -> Result<Lan, String> {
        let pid = std::process::id();
        let mut lan = Lan {
            bridge: format!("llkb{pid}"),
            spaces: Vec::new(),
            subnet: format!("10.213.{}", pid % 250 + 1),
        };
        let (bridge, subnet) = (lan.bridge.clone(), lan.subnet.clone());
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{subnet}.1/24"), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        for i in 0..n {
            let ns = format!("llkn{pid}-{i}");
            let (host, peer) = (format!("llkh{pid}{i}"), format!("llkp{pid}{i}"));
            ip(&["netns", "add", &ns])?;
            lan.spaces.push((ns.clone(), host.clone()));
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer])?;
            ip(&["link", "set", &peer, "netns", &ns])?;
            ip(&["link", "set", &host, "master", &bridge, "up"])?;
            let addr = format!("{subnet}.{}/24", 10 + i);
            ip(&["-n", &ns, "addr", "add", &addr, "dev", &peer])?;
            ip(&["-n", &ns, "link", "set", &peer, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(lan)
    }

    /// The host's address on the bridge.
    fn host(&self) -> String {
        format!("{}.1", self.subnet)
    }

    /// A command run inside namespace `i`.
    fn command_in(&self, i: usize, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.spaces[i].0, program]);
        c
    }

    /// Cuts namespace `i` off: its link to the bridge goes down, and packets are dropped.
    fn cut(&self, i: usize) {
        ip(&["link", "set", &self.spaces[i].1, "down"]).expect("cut the link");
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for (ns, host) in &self.spaces {
            // Deleting the host end removes the pair at once, even while sockets still
            // retransmitting into a cut link keep the namespace itself alive a while.
            let _ = ip(&["link", "del", host]);
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}

/// Waits for `child` at most `limit`; kills it and returns `None` when it takes longer.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// What an ended child wrote on stderr.
fn stderr_of(child: &mut Child) -> String {
    use std::io::Read;
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    text
}

#[test]
fn agents_in_network_namespaces_run_and_one_cut_off_is_lost() {
    let lan = match Lan::new(2) {
        Ok(lan) => lan,
        Err(e) => {
            eprintln!("skipping: network namespaces need root (CAP_NET_ADMIN): {e}");
            return;
        }
    };
    let host = lan.host();
    let store = TestStore::new();
    let target = FixtureServer::start_on(&host, 60);
    let token = store.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let token = token.to_str().unwrap();
    // The controller notices a silent peer within 2 s (HTTP/2 pings every second).
    let served = Served::start_on(
        &store,
        &format!("{host}:0"),
        &["--token-file", token, "--peer-timeout", "2s"],
    );
    let url = served.url();
    let agents: Vec<Child> = (0..2)
        .map(|i| {
            lan.command_in(i, env!("CARGO_BIN_EXE_loadlake"))
                .args(["--store", store.path().to_str().unwrap()])
                .args(["agent", "--controller", &url, "--token-file", token])
                .args([
                    "--name",
                    &format!("ns{i}"),
                    "--once",
                    "--peer-timeout",
                    "2s",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start an agent in its namespace")
        })
        .collect();
    // tick.jmx against the target on the bridge: 2 users (one per agent), 50 ms apart, 8 s.
    let tick = std::fs::read_to_string(repo_root().join("tests/data/runner/tick.jmx")).unwrap();
    let plan = store.path().join("lan-tick.jmx");
    std::fs::write(
        &plan,
        tick.replace(
            "<stringProp name=\"Argument.value\">127.0.0.1</stringProp>",
            &format!("<stringProp name=\"Argument.value\">{host}</stringProp>"),
        ),
    )
    .unwrap();
    let stages = store.path().join("hold.yaml");
    std::fs::write(
        &stages,
        "stages:\n  - {mode: concurrency, users: 2, duration: 8s}\n",
    )
    .unwrap();
    let port = format!("-Jport={}", target.port);
    let (mut run, run_id) = start_run(
        &store,
        &[
            plan.to_str().unwrap(),
            &port,
            "-Jthink=50",
            "--stages",
            stages.to_str().unwrap(),
            "--agents",
            "2",
            "--controller",
            &url,
            "--token-file",
            token,
        ],
    );
    // Both agents' samples arrive over their links (live SQL on the run being written).
    let live = || {
        store.sql(&format!(
            "select agent, count(*) as n from live_samples where run_id = '{run_id}' \
             group by agent order by agent"
        ))
    };
    let seen = poll(100, live, |seen| seen.len() == 2);
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Cut ns1 off mid-run: no FIN, no RST, just silence.
    let cut_at = Instant::now();
    lan.cut(1);
    let status = wait_at_most(&mut run, Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "the run did not end within 30 s of the cut: {status:?}"
    );
    let ours = store.run_entry(&run_id);
    assert_eq!(ours["status"], "incomplete", "{ours}");
    assert_eq!(ours["tags"]["lost_agents"], "ns1", "{ours}");
    // ns0 ran the whole 8 s; ns1's samples up to the cut stay, nothing after it.
    let spans = store.sql(&format!(
        "select agent, count(*) as n, \
         cast(max(ts) as bigint) - cast(min(ts) as bigint) as span_ms \
         from samples where run_id = '{run_id}' group by agent order by agent"
    ));
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert!(spans[0]["span_ms"].as_i64().unwrap() >= 7000, "{spans:?}");
    assert!(spans[1]["n"].as_u64().unwrap() > 0, "{spans:?}");
    let cut_after_ms = spans[1]["span_ms"].as_i64().unwrap();
    assert!(cut_after_ms < 8000, "{spans:?}");
    // The cut-off agent gives up by itself once the controller stays silent.
    let mut agents = agents;
    let gone = wait_at_most(&mut agents[1], Duration::from_secs(30));
    assert!(
        gone.is_some_and(|s| !s.success()),
        "the cut-off agent ran on {:?} after the cut: {}",
        cut_at.elapsed(),
        stderr_of(&mut agents[1])
    );
    let done = wait_at_most(&mut agents[0], Duration::from_secs(10));
    assert!(done.is_some_and(|s| s.success()), "{done:?}");
}
