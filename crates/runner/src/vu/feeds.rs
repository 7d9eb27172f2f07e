//! A virtual user's iteration listeners and pre-processors: what fires when a controller (or
//! the thread group) begins an iteration — CSV Data Sets read their next line, Counters step,
//! per-iteration User Parameters store their values — and the User Parameters run before each
//! sampler in their scope; with the per-user state they keep.

use std::collections::HashMap;
use std::sync::Arc;

use crate::elements::counter::CounterState;
use crate::elements::csv_data_set::{CsvCursor, CsvNext};
use crate::elements::user_parameters::UserParameters;
use crate::model::Feed;
use crate::vu::{Flow, Vu};

/// Per-user state of the iteration listeners.
#[derive(Debug, Default)]
pub(crate) struct FeedState {
    /// Read positions of `shareMode.thread` CSV Data Sets, by data set id.
    csv_cursors: HashMap<usize, CsvCursor>,
    /// Per-user Counters, by counter id.
    counters: HashMap<usize, CounterState>,
    /// The thread group's iteration, from 1 (`JMeterVariables.getIteration()`).
    pub group_iteration: u64,
}

impl Vu {
    /// Fires the iteration listeners `feeds` in order; `Flow::Stop` when a CSV Data Set ends
    /// the thread.
    pub(crate) fn advance_feeds(&mut self, feeds: &[Feed]) -> Flow {
        for f in feeds {
            match f {
                Feed::Csv(f) => {
                    let cursor = match &f.shared {
                        Some(c) => c,
                        None => self.feed_state.csv_cursors.entry(f.id).or_default(),
                    };
                    if let CsvNext::StopThread = f.data.next_into(cursor, &mut self.user.vars) {
                        tracing::debug!(thread = %self.thread, file = %f.data.source, "end of CSV file: thread stops");
                        return Flow::Stop;
                    }
                }
                Feed::Counter(c) => {
                    let iteration = self.feed_state.group_iteration;
                    let state = self
                        .feed_state
                        .counters
                        .entry(c.id)
                        .or_insert_with(|| c.first_state());
                    let value = c.next(state, iteration);
                    self.user.vars.insert(c.var.clone(), value);
                }
                Feed::Parameters(p) => p.apply(&mut self.user),
            }
        }
        Flow::Next
    }

    /// Runs the pre-processors of a sampler, in order.
    pub(crate) fn pre_process(&mut self, pre: &[Arc<UserParameters>]) {
        for p in pre {
            p.apply(&mut self.user);
        }
    }
}
