//! The samplers a virtual user runs without the network: the Flow Control Action
//! (`TestAction`), which pauses, stops the thread or the test, or steers the loops, and writes no
//! sample (JMeter's `TestAction.sample` returns none).

use std::time::Duration;

use crate::model::{ActionStep, FlowAction, Timers};
use crate::vu::{Flow, STOP_GRACEFUL, STOP_NOW, Vu};

impl Vu {
    /// Runs a sampler's pre-processors and waits for its timers; false when the run stops
    /// first.
    pub(crate) async fn before_sampler(&mut self, t: &Timers) -> bool {
        self.pre_process(&t.pre_processors);
        let delay = self.timer_delay(t.delay, &t.random_delays, &t.throughput_timers);
        !(self.stopping() || (!delay.is_zero() && !self.pause(delay).await))
    }

    /// A Flow Control Action.
    pub(crate) async fn action(&mut self, a: &ActionStep) -> Flow {
        if !self.before_sampler(&a.timers).await {
            return Flow::Stop;
        }
        self.count_silent_sampler();
        match &a.action {
            FlowAction::Pause(duration) => {
                let text = duration.render(&mut self.user, &|v: &str| v.to_string());
                let ms = match text.trim().parse::<i32>() {
                    Ok(ms) => ms.max(0),
                    Err(_) => {
                        tracing::warn!(element = %a.name, duration = %text,
                            "Flow Control Action: the duration is not a number; no pause");
                        0
                    }
                };
                // Like a timer, the pause is idle time of an enclosing transaction.
                if ms > 0 && !self.pause(Duration::from_millis(ms as u64)).await {
                    return Flow::Stop;
                }
                Flow::Next
            }
            // JMeter stops the thread, which still looks for its next sampler once (a
            // transaction whose last child this was ends and writes its sample).
            FlowAction::StopThread => {
                self.listeners.walk_on = true;
                Flow::Stop
            }
            FlowAction::StopTest => {
                self.shared.stop_at(STOP_GRACEFUL);
                self.listeners.walk_on = true;
                Flow::Stop
            }
            FlowAction::StopTestNow => {
                self.shared.stop_at(STOP_NOW);
                Flow::Stop
            }
            FlowAction::NextThreadLoop => Flow::NextLoop,
            FlowAction::NextCurrentLoop => Flow::ContinueLoop,
            FlowAction::BreakCurrentLoop => Flow::BreakLoop,
        }
    }
}
