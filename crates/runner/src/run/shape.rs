//! Closed-model runs that follow a [`LoadProfile`] (`loadlake run --stages`, the peak-seeking
//! modes): a controller per thread group compares, every [`TICK`], the users the profile asks
//! for (times the group's share) with the users it has, starts new ones and retires the newest
//! ones. A retired user finishes its current iteration and stops — CodeArts and JMeter both lower
//! concurrency that way, so no request is cut off. Users loop until the profile ends (the group's
//! loop count does not apply, as in the open model). A last stage with a `count` ends the group
//! once its share of that many iterations began ([`Quota`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use loadlake_plan::LoadProfile;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::model::{Loops, ThreadGroupPlan};
use crate::sample::Sample;
use crate::vu::{Quota, Shared, Vu, sleep_until_unless_stopped};

/// How often the controller compares the users with the profile.
pub(crate) const TICK: Duration = Duration::from_millis(50);

/// One thread group driven by a profile.
pub(crate) struct ShapedGroup {
    pub index: usize,
    pub group: Arc<ThreadGroupPlan>,
    pub profile: Arc<LoadProfile>,
    /// This group's share of the profile's users (its threads over all regular groups').
    pub share: f64,
    pub shared: Arc<Shared>,
    pub tx: mpsc::Sender<Sample>,
    pub variables: Arc<HashMap<String, String>>,
    /// When the profile's time 0 is.
    pub start: Instant,
    /// An earlier end (`--duration`), if any.
    pub deadline: Option<Instant>,
    /// The iterations this group may begin in the profile's last stage when it has a `count`.
    pub count_share: Option<u64>,
}

/// A started user and the flag that retires it.
struct Running {
    retire: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

/// Follows the profile until it ends, the deadline passes or the run stops; then waits for the
/// users.
pub(crate) async fn run_shaped(g: ShapedGroup) {
    let end = g.start + g.profile.length();
    let deadline = g.deadline.map_or(end, |d| d.min(end));
    // Users loop until the profile retires them or it ends.
    let group = Arc::new(ThreadGroupPlan {
        loops: Loops::Forever,
        ..(*g.group).clone()
    });
    let grp_active = Arc::new(AtomicI32::new(0));
    let mut stop = g.shared.stop.subscribe();
    let mut users: Vec<Running> = Vec::new();
    let mut retired: Vec<JoinHandle<()>> = Vec::new();
    // Thread numbers interleave across agents (agent i of n: i+1, i+1+n, …), so they are unique
    // in the run.
    let split = g.shared.split;
    let mut next_thread = split.index + 1;
    tracing::info!(group = %group.name, stages = g.profile.stages.len(), "thread group follows the load profile");
    let quota = g.count_share.map(|limit| {
        let last = g.profile.stages.last().map_or(Duration::ZERO, |s| s.length);
        Arc::new(Quota::new(end - last, limit))
    });
    let mut tick = Instant::now().max(g.start);
    while sleep_until_unless_stopped(&mut stop, tick).await && tick < deadline {
        if quota.as_ref().is_some_and(|q| q.exhausted()) {
            tracing::info!(group = %group.name, "the count stage's iterations have all begun");
            break;
        }
        let Some(total) = g.profile.users_at(tick - g.start) else {
            break;
        };
        let target = g
            .shared
            .split
            .users((f64::from(total) * g.share).round() as u32)
            .len();
        // Users that stopped on their own (stop-thread on error, end of a CSV file) are gone.
        users.retain(|u| !u.handle.is_finished());
        while users.len() < target {
            let retire = Arc::new(AtomicBool::new(false));
            let vu = Vu::new(
                group.clone(),
                g.index,
                next_thread,
                (*g.variables).clone(),
                g.tx.clone(),
                g.shared.clone(),
                Some(deadline),
                grp_active.clone(),
            )
            .retired_by(retire.clone())
            .admitted_by(quota.clone());
            next_thread += split.count.max(1);
            users.push(Running {
                retire,
                handle: tokio::spawn(vu.run()),
            });
        }
        while users.len() > target {
            if let Some(u) = users.pop() {
                u.retire.store(true, Ordering::Relaxed);
                retired.push(u.handle);
            }
        }
        retired.retain(|h| !h.is_finished());
        tick += TICK;
    }
    for u in users {
        u.retire.store(true, Ordering::Relaxed);
        retired.push(u.handle);
    }
    for h in retired {
        if let Err(e) = h.await {
            tracing::error!(error = %e, "a virtual user failed");
        }
    }
    tracing::info!(group = %group.name, "thread group finished its load profile");
}
