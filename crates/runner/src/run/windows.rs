//! A thread group whose users each have their own start and end ([`ThreadWindow`]): the
//! jmeter-plugins Ultimate, Stepping and Concurrency Thread Groups. Each user starts at its
//! time and runs until its end (then it finishes its current sample and stops, as a JMeter
//! thread with an end time does), its loops run out, or the run stops.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::model::ThreadGroupPlan;
use crate::run::{UserStart, start_users};
use crate::sample::Sample;
use crate::vu::Shared;

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
    let mut starts: Vec<UserStart> = shared
        .split
        .users(u32::try_from(windows.len()).unwrap_or(u32::MAX))
        .map(|t| {
            let w = windows[t as usize];
            let end = start + w.end;
            UserStart {
                t,
                at: start + w.start,
                end: Some(deadline.map_or(end, |d| d.min(end))),
            }
        })
        .collect();
    starts.sort_by_key(|u| u.at);
    tracing::info!(group = %group.name, threads = starts.len(), "scheduled thread group starting");
    start_users(index, &group, &shared, tx, &variables, starts).await;
    tracing::info!(group = %group.name, "scheduled thread group finished");
}
