//! Transaction Controllers: the totals of an open transaction ([`TxAcc`]), running one
//! ([`Vu::transaction`]) and the sample JMeter 2.13 writes for one none of whose children ran.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use loadlake_schema::SampleKind;
use loadlake_schema::sample::TRANSACTION_MESSAGE_PREFIX;

use super::{Flow, Vu};
use crate::elements::assertions::Check;
use crate::elements::response::Response;
use crate::http::client::now_ms;
use crate::model::{Feed, Step};
use crate::sample::Sample;

/// Totals of an open Transaction Controller.
#[derive(Debug, Default)]
pub(crate) struct TxAcc {
    /// Parent mode: the children are sub-results, not recorded on their own.
    pub parent: bool,
    /// Parent mode: each child's code until the first failing child, whose code stays.
    pub code: String,
    calls: u64,
    failing: u64,
    elapsed: i64,
    latency: i64,
    connect: i64,
    bytes_received: i64,
    bytes_sent: i64,
}

impl TxAcc {
    /// Counts a sampler that wrote no sample (a Flow Control Action): JMeter 2.13's non-parent
    /// transaction counts every sampler its children hand out.
    pub(super) fn add_silent(&mut self) {
        self.calls += 1;
    }

    /// Counts one sample of the transaction (JMeter's `addSubSamplerResult` totals).
    pub(super) fn add(&mut self, s: &Sample) {
        self.calls += 1;
        if self.parent && self.failing == 0 {
            self.code.clear();
            self.code.push_str(&s.code);
        }
        self.failing += u64::from(!s.success);
        self.elapsed += s.elapsed_ms;
        self.latency += s.latency_ms;
        self.connect += s.connect_ms;
        self.bytes_received += s.bytes_received;
        self.bytes_sent += s.bytes_sent;
    }
}

/// The message of a transaction none of whose children ran.
const EMPTY_TRANSACTION_MESSAGE: &str =
    "Number of samples in transaction : 0, number of failing samples : 0";

impl Vu {
    /// A Transaction Controller: its children, then its sample. A thread that stops inside it
    /// writes none (JMeter only ends a transaction when it looks for the next sampler), except
    /// in non-parent mode when the failed sample that stopped it was the last inside it.
    pub(crate) async fn transaction(
        &mut self,
        name: &str,
        parent: bool,
        include_timers: bool,
        assertions: &[Check],
        feeds: &[Feed],
        steps: &[Step],
    ) -> Flow {
        let ts_ms = now_ms();
        let start = Instant::now();
        // JMeter names the transaction's sample when it begins.
        let label = self.rendered_name(name);
        self.transactions.push(TxAcc {
            parent,
            ..TxAcc::default()
        });
        let flow = match self.iteration_start(feeds, steps, false) {
            Flow::Next => self.steps(steps).await,
            stop => stop,
        };
        let acc = self.transactions.pop().unwrap_or_default();
        if flow == Flow::Stop && (parent || !self.listeners.walk_on) {
            return flow;
        }
        if acc.calls == 0 {
            if !parent && !self.record(self.empty_transaction(ts_ms, label)).await {
                return Flow::Stop;
            }
            return flow;
        }
        let wall = i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (elapsed_ms, idle_ms) = if include_timers {
            (wall, 0)
        } else {
            (acc.elapsed, (wall - acc.elapsed).max(0))
        };
        let mut success = acc.failing == 0;
        let code = if parent {
            acc.code.clone()
        } else if flow.ends_loop() {
            // JMeter 2.13's `triggerEndOfLoop`: no code, and the last sample's outcome.
            success = self.last_ok;
            String::new()
        } else if success {
            "200".into()
        } else {
            String::new()
        };
        let message = format!(
            "{TRANSACTION_MESSAGE_PREFIX} : {}, number of failing samples : {}",
            acc.calls, acc.failing
        );
        let mut failure_message = None;
        if parent {
            // JMeter checks the assertions in scope against a parent-mode transaction sample
            // (no body: a Response Assertion on the text fails with "Response was null"), and
            // its outcome is the last sample's.
            let response = Response {
                code: &code,
                message: &message,
                elapsed_ms,
                body_bytes: acc.bytes_received,
                ..Response::default()
            };
            for a in assertions {
                if let Some(msg) = a.check(&response, &mut self.user) {
                    success = false;
                    failure_message.get_or_insert(msg);
                }
            }
            self.note_last_sample(success);
        }
        let sample = Sample {
            latency_ms: acc.latency,
            connect_ms: acc.connect,
            idle_ms,
            code: code.into(),
            message: Cow::Owned(message),
            failure_message,
            bytes_received: acc.bytes_received,
            bytes_sent: acc.bytes_sent,
            data_type: Some("text"),
            ..self.sample_of(ts_ms, elapsed_ms, label, SampleKind::Transaction, success)
        };
        if !self.record(sample).await {
            return Flow::Stop;
        }
        flow
    }

    /// JMeter 2.13 still writes a (non-parent) transaction sample when none of the children ran:
    /// success, code 200, no thread name (so no case) and thread counts 0.
    fn empty_transaction(&self, ts_ms: i64, label: Arc<str>) -> Sample {
        Sample {
            ts_ms,
            elapsed_ms: 0,
            latency_ms: 0,
            connect_ms: 0,
            idle_ms: 0,
            intended_elapsed_ms: self.late_ms,
            micros: None,
            label,
            case_name: Arc::from(""),
            thread: Arc::from(""),
            kind: SampleKind::Transaction,
            code: Cow::Borrowed("200"),
            message: Cow::Borrowed(EMPTY_TRANSACTION_MESSAGE),
            success: true,
            failure_message: None,
            bytes_received: 0,
            bytes_sent: 0,
            grp_threads: 0,
            all_threads: 0,
            url: None,
            data_type: None,
            encoding: None,
            subresults: Vec::new(),
        }
    }
}
