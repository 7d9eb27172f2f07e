//! A thread group whose users each have their own start and end ([`ThreadWindow`]): the
//! jmeter-plugins Ultimate, Stepping and Concurrency Thread Groups. Each user starts at its
//! time and runs until its end (then it finishes its current sample and stops, as a JMeter
//! thread with an end time does), its loops run out, or the run stops.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicI32;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::model::ThreadGroupPlan;
use crate::run::join;
use crate::sample::Sample;
use crate::vu::{Shared, Vu, sleep_until_unless_stopped};

/// Starts each user of `group` (this process's part of them) at its window's start, with its
/// window's end (or the earlier `deadline`) as its end, then waits for them.
pub(crate) async fn run_windows(
    index: usize,
    group: Arc<ThreadGroupPlan>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Sample>,
    variables: Arc<HashMap<String, String>>,
    start: Instant,
    deadline: Option<Instant>,
) {
    let Some(windows) = group.schedule.clone() else {
        return;
    };
    let grp_active = Arc::new(AtomicI32::new(0));
    let mut stop = shared.stop.subscribe();
    let mut order: Vec<u32> = shared
        .split
        .users(u32::try_from(windows.len()).unwrap_or(u32::MAX))
        .collect();
    order.sort_by_key(|t| windows[*t as usize].start);
    tracing::info!(group = %group.name, threads = order.len(), "scheduled thread group starting");
    let mut users = Vec::with_capacity(order.len());
    for t in order {
        let w = windows[t as usize];
        let end = start + w.end;
        let end = deadline.map_or(end, |d| d.min(end));
        let at = start + w.start;
        if at >= end {
            continue;
        }
        if !sleep_until_unless_stopped(&mut stop, at).await {
            break;
        }
        let vu = Vu::new(
            group.clone(),
            index,
            t + 1,
            (*variables).clone(),
            tx.clone(),
            shared.clone(),
            Some(end),
            grp_active.clone(),
        );
        users.push(tokio::spawn(vu.run()));
    }
    drop(tx);
    for u in users {
        join(u).await;
    }
    tracing::info!(group = %group.name, "scheduled thread group finished");
}
