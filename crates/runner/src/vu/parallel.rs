//! The bzm Parallel Controller & Sampler run as the plugin's `ParallelSampler.sample` runs it:
//! after its timers, each child (a sampler or a controller, in a loop of one) runs as a branch
//! of its own, all at once (at most `MAX_THREAD_NUMBER` with `LIMIT_MAX_THREAD_NUMBER`), and the
//! sampler returns when the last branch is done.
//!
//! A branch is a user of its own for that while (the plugin starts a `JMeterThread` per child):
//! its own connections, a copy of the user's variables and cookies (the plugin shares one
//! variables map and a thread-safe Cookie Manager; here what a branch sets is given back to the
//! user when the branches are done, in the children's order, so branches do not see each
//! other's values while they run), the thread group's `on_sample_error` not applied inside it
//! (the plugin's branch threads belong to a dummy thread group: continue). A branch that stops
//! its thread stops the user after the sampler (`JMeterThreadParallel.run`: `parentThread.stop()`),
//! one that starts the next loop makes the user start its next loop (`triggerEndOfLoop` sets the
//! user's `restartNextLoop`).
//!
//! With `PARENT_SAMPLE`, the children's samples are the sub-results of one sample labelled with
//! the sampler's name (code 200, message `OK`, success when every child succeeded, elapsed from
//! the start to the end of the last child, bytes summed; `ParallelListenerNotifier` restores
//! each child's own label), checked by the assertions in scope; without it, the children's
//! samples are recorded as they are and the sampler writes none.

use std::borrow::Cow;
use std::collections::HashMap;

use loadlake_schema::SampleKind;
use tokio::sync::mpsc;

use crate::elements::response::Response;
use crate::http::client::now_ms;
use crate::http::cookies::CookieJar;
use crate::model::{ParallelStep, Step};
use crate::sample::Sample;
use crate::vu::{Flow, Vu};

/// What a branch leaves when it is done.
struct BranchEnd {
    flow: Flow,
    vars: HashMap<String, String>,
    counters: HashMap<u64, u64>,
    cookies: CookieJar,
}

impl Vu {
    /// A user of its own for one branch of a Parallel Sampler, sending its samples to `tx`.
    fn branch(&self, tx: mpsc::Sender<Sample>) -> Vu {
        let mut b = Vu::new(
            self.group.clone(),
            0,
            self.user.thread_num,
            self.user.vars.clone(),
            tx,
            self.shared.clone(),
            self.deadline,
            self.grp_active.clone(),
        );
        b.thread = self.thread.clone();
        b.case_name = self.case_name.clone();
        b.user.counters = self.user.counters.clone();
        b.user.thread_name = self.user.thread_name.clone();
        b.user.clock = self.user.clock;
        b.late_ms = self.late_ms;
        b.client.cookies = self.client.cookies.clone();
        b.in_branch = true;
        b
    }

    /// Runs `step` as a branch and gives back what it changed.
    async fn run_branch(mut self, step: &Step) -> BranchEnd {
        let flow = self.steps(std::slice::from_ref(step)).await;
        BranchEnd {
            flow,
            vars: std::mem::take(&mut self.user.vars),
            counters: std::mem::take(&mut self.user.counters),
            cookies: std::mem::take(&mut self.client.cookies),
        }
    }

    /// A Parallel Sampler.
    pub(crate) async fn parallel(&mut self, p: &ParallelStep) -> Flow {
        if !self.before_sampler(&p.timers).await {
            return Flow::Stop;
        }
        let label = self.rendered_name(&p.name);
        let ts_ms = now_ms();
        let before = self.user.vars.clone();
        let (tx, mut rx) = mpsc::channel::<Sample>(64);
        let branches: Vec<Vu> = p.steps.iter().map(|_| self.branch(tx.clone())).collect();
        drop(tx);
        let limit = p
            .limit
            .unwrap_or(p.steps.len())
            .clamp(1, p.steps.len().max(1));
        // Branches wait in line for one of `limit` runners (the plugin's thread pool).
        let waiting: Vec<(usize, Vu, &Step)> = branches
            .into_iter()
            .zip(&p.steps)
            .enumerate()
            .map(|(i, (vu, step))| (i, vu, step))
            .rev()
            .collect();
        let line = std::sync::Mutex::new(waiting);
        let runner = || async {
            let mut done = Vec::new();
            loop {
                let next = line.lock().ok().and_then(|mut l| l.pop());
                let Some((i, vu, step)) = next else {
                    break done;
                };
                done.push((i, vu.run_branch(step).await));
            }
        };
        let run = futures::future::join_all((0..limit).map(|_| runner()));
        // The samples in the order they end (the channel closes when the last branch is gone).
        let gather = async {
            let mut samples = Vec::new();
            while let Some(s) = rx.recv().await {
                samples.push(s);
            }
            samples
        };
        let (ends, samples) = tokio::join!(run, gather);
        let mut ends: Vec<(usize, BranchEnd)> = ends.into_iter().flatten().collect();
        ends.sort_by_key(|(i, _)| *i);
        let mut flow = Flow::Next;
        for (_, end) in ends {
            self.take_branch(&before, end, &mut flow);
        }
        if p.parent_sample {
            let record = self.parallel_sample(p, label, ts_ms, samples).await;
            if flow == Flow::Next || record == Flow::Stop {
                flow = record;
            }
        } else {
            for s in samples {
                if !self.record(s).await {
                    return Flow::Stop;
                }
            }
        }
        if self.stopping() { Flow::Stop } else { flow }
    }

    /// Gives the user what a branch changed: its variables (those it set or removed), counters
    /// and cookies; a stop or a next loop of the branch becomes the user's.
    fn take_branch(&mut self, before: &HashMap<String, String>, end: BranchEnd, flow: &mut Flow) {
        for (k, v) in &end.vars {
            if before.get(k) != Some(v) {
                self.user.vars.insert(k.clone(), v.clone());
            }
        }
        for k in before.keys() {
            if !end.vars.contains_key(k) {
                self.user.vars.remove(k);
            }
        }
        for (k, n) in end.counters {
            let c = self.user.counters.entry(k).or_insert(n);
            *c = (*c).max(n);
        }
        self.client.cookies.absorb(&end.cookies);
        match end.flow {
            Flow::Stop => *flow = Flow::Stop,
            Flow::NextLoop if *flow != Flow::Stop => *flow = Flow::NextLoop,
            _ => {}
        }
    }

    /// The parent sample of `samples`, checked and recorded; the flow after it.
    async fn parallel_sample(
        &mut self,
        p: &ParallelStep,
        label: std::sync::Arc<str>,
        ts_ms: i64,
        samples: Vec<Sample>,
    ) -> Flow {
        let end = samples
            .iter()
            .map(|s| s.ts_ms + s.elapsed_ms)
            .max()
            .unwrap_or_else(now_ms);
        let elapsed_ms = (end - ts_ms).max(0);
        let mut success = samples.iter().all(|s| s.success);
        let bytes_received = samples.iter().map(|s| s.bytes_received).sum();
        let bytes_sent = samples.iter().map(|s| s.bytes_sent).sum();
        let mut failure_message = None;
        let response = Response {
            code: "200",
            message: "OK",
            elapsed_ms,
            body_bytes: 0,
            ..Response::default()
        };
        let edited = self.judge(
            &p.extractors,
            &p.assertions,
            &response,
            &label,
            &mut success,
            &mut failure_message,
        );
        let (code, message) = match edited {
            // `prev.setIgnore()`: no sample is recorded.
            Some(e) if e.ignore => return self.after_sample(success),
            Some(e) => (Cow::Owned(e.code), Cow::Owned(e.message)),
            None => (Cow::Borrowed("200"), Cow::Borrowed("OK")),
        };
        let sample = Sample {
            code,
            message,
            failure_message,
            bytes_received,
            bytes_sent,
            data_type: Some("text"),
            subresults: samples,
            ..self.sample_of(ts_ms, elapsed_ms, label, SampleKind::Sample, success)
        };
        if !self.record(sample).await {
            return Flow::Stop;
        }
        self.after_sample(success)
    }
}
