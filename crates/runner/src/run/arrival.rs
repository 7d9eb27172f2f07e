//! Open-model runs (`loadlake run --mode tps`, or a stages file of `tps` stages): iterations of a
//! thread group arrive on a schedule — at a constant rate iteration k is due at `start + k / rate`,
//! along ramps where the profile's arrivals reach k ([`LoadProfile::arrival_time`]) — whatever the
//! server's speed, as in k6's arrival-rate executors and wrk2. Virtual users are started on demand, up to a
//! cap; an iteration that finds every user busy waits in a queue of about 5 s of schedule (it
//! starts late, and that lateness is measured), and one that finds the queue full is dropped and
//! counted.
//!
//! Every sample of an open-model iteration carries, besides its service time (`elapsed_ms`), the
//! time from its **intended** send time to its end (`intended_elapsed_ms`): the iteration's delay
//! past its due time plus the elapsed time. That is the coordinated-omission correction: a
//! server stall delays the samples queued behind it, and the corrected latency shows it where the
//! service time hides it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::Instant;

use loadlake_plan::LoadProfile;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::model::ThreadGroupPlan;
use crate::sample::Sample;
use crate::vu::{Flow, Shared, Vu, sleep_until_unless_stopped, unless_stopped_now};

/// Seconds of schedule that may queue for a free virtual user before iterations are dropped.
const BACKLOG_SECONDS: f64 = 5.0;
/// Most due times queued per thread group.
const MAX_BACKLOG: usize = 1_000_000;

/// An open-model load: a rate of iterations per second and a cap on virtual users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrivalRate {
    /// Iterations started per second, over all regular thread groups (each group gets a share
    /// in proportion to its thread count).
    pub per_second: f64,
    /// Most virtual users per thread group; `None`: the group's thread count.
    pub max_vus: Option<u32>,
}

/// One thread group driven by an arrival rate.
pub(crate) struct ArrivalGroup {
    pub index: usize,
    pub group: Arc<ThreadGroupPlan>,
    /// The rates of the whole run (all groups, all agents).
    pub schedule: Arc<LoadProfile>,
    /// This group's part of them (its threads' share, over the agents), in (0, 1].
    pub share: f64,
    pub max_vus: u32,
    pub shared: Arc<Shared>,
    pub tx: mpsc::Sender<Sample>,
    pub variables: Arc<HashMap<String, String>>,
    pub start: Instant,
    pub deadline: Instant,
}

/// Runs the schedule until the deadline or a stop, then waits for the users.
pub(crate) async fn run_arrivals(a: ArrivalGroup) {
    // Iterations wait for a free user up to about 5 s of schedule (at least the user cap, at
    // most a million due times), so a stall shows as lateness before anything is dropped.
    let top_rate = a.schedule.max_rate() * a.share;
    let backlog =
        ((top_rate * BACKLOG_SECONDS) as usize).clamp(a.max_vus.max(1) as usize, MAX_BACKLOG);
    let (work_tx, work_rx) = mpsc::channel::<Instant>(backlog);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let idle = Arc::new(AtomicUsize::new(0));
    let grp_active = Arc::new(AtomicI32::new(0));
    let mut users: Vec<JoinHandle<()>> = Vec::new();
    let mut stop = a.shared.stop.subscribe();
    tracing::info!(group = %a.group.name, top_rate, max_vus = a.max_vus, "open-model group starting");
    for k in 0u64.. {
        // This group's k-th arrival is the run's (k / share)-th.
        let Some(offset) = a.schedule.arrival_time(k as f64 / a.share) else {
            break;
        };
        let due = a.start + offset;
        if due >= a.deadline {
            break;
        }
        if !sleep_until_unless_stopped(&mut stop, due).await {
            break;
        }
        if idle.load(Ordering::SeqCst) == 0 && users.len() < a.max_vus as usize {
            let vu = Vu::new(
                a.group.clone(),
                a.index,
                // Unique across agents: agent i of n numbers its users i+1, i+1+n, …
                a.shared.split.index + 1 + users.len() as u32 * a.shared.split.count.max(1),
                (*a.variables).clone(),
                a.tx.clone(),
                a.shared.clone(),
                Some(a.deadline),
                grp_active.clone(),
            );
            users.push(tokio::spawn(user(vu, work_rx.clone(), idle.clone())));
        }
        match work_tx.try_send(due) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if a.shared.dropped_iterations.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::warn!(
                        group = %a.group.name,
                        max_vus = a.max_vus,
                        "every virtual user is busy and the queue is full: iterations are \
                         dropped (raise --max-vus)"
                    );
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => break,
        }
    }
    drop(work_tx);
    for u in users {
        if let Err(e) = u.await {
            tracing::error!(error = %e, "a virtual user task failed");
        }
    }
    tracing::info!(group = %a.group.name, "open-model group finished");
}

/// A virtual user of an open-model group: takes due iterations from the queue until it closes.
async fn user(mut vu: Vu, queue: Arc<Mutex<mpsc::Receiver<Instant>>>, idle: Arc<AtomicUsize>) {
    vu.begin();
    let stop = vu.stop.clone();
    unless_stopped_now(stop, take_iterations(&mut vu, queue, idle)).await;
    vu.end();
}

/// Runs the due iterations from the queue until it closes or the run stops.
async fn take_iterations(
    vu: &mut Vu,
    queue: Arc<Mutex<mpsc::Receiver<Instant>>>,
    idle: Arc<AtomicUsize>,
) {
    let mut first = true;
    loop {
        idle.fetch_add(1, Ordering::SeqCst);
        let due = { queue.lock().await.recv().await };
        idle.fetch_sub(1, Ordering::SeqCst);
        let Some(due) = due else { break };
        if vu.stopping() {
            break;
        }
        let late = Instant::now().saturating_duration_since(due);
        if vu.open_iteration(first, late).await == Flow::Stop {
            break;
        }
        first = false;
    }
}
