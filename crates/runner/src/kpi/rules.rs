//! Live stop rules (`--stop-when "p95>500ms for 10s"`, and a stage's `stop_when`): the
//! collector counts every sample in the second it ended in, and once a second is over (plus a
//! moment for late samples) holds it against the rules that apply then — the run's, and those of
//! the stage running in that second. A rule whose condition holds for its sustained number of
//! consecutive seconds stops the run gracefully; the rule and what was measured are reported.
//! A second without samples breaks no rule on response times or rates (there is nothing to
//! judge), and it does count for `tps` rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use loadlake_plan::{KpiMetric, LoadProfile, StopRule};

use crate::kpi::window::Window;
use crate::sample::Sample;

/// Samples may reach the collector this long after the end of their second.
const LATE_MS: i64 = 250;

/// Which rule a streak belongs to: the run's (`None`) or a stage's.
type RuleKey = (Option<usize>, usize);

/// Follows the stop rules: samples in, a stop decision out (the runner's collector feeds it;
/// a controller feeds it the merged samples of its agents).
pub struct RuleWatch {
    run_rules: Vec<StopRule>,
    profile: Option<Arc<LoadProfile>>,
    /// The run's start, epoch ms.
    start_ms: i64,
    /// Second since the start → its samples.
    seconds: BTreeMap<i64, Window>,
    /// The next second to evaluate.
    next: i64,
    /// Consecutive seconds each rule has held.
    streaks: HashMap<RuleKey, u32>,
}

impl RuleWatch {
    /// `None` when neither the run nor any stage has a rule. `start_ms`: the run's start (epoch
    /// ms); the profile's stages count from it.
    pub fn new(
        run_rules: Vec<StopRule>,
        profile: Option<Arc<LoadProfile>>,
        start_ms: i64,
    ) -> Option<RuleWatch> {
        let staged = profile
            .as_ref()
            .is_some_and(|p| p.stages.iter().any(|s| !s.stop_when.is_empty()));
        (!run_rules.is_empty() || staged).then(|| RuleWatch {
            run_rules,
            profile,
            start_ms,
            seconds: BTreeMap::new(),
            next: 0,
            streaks: HashMap::new(),
        })
    }

    /// Counts a request sample in the second it ended in.
    pub(crate) fn add(&mut self, s: &Sample) {
        if s.kind == loadlake_schema::SampleKind::Sample {
            self.add_request(s.ts_ms, s.elapsed_ms, s.success);
        }
    }

    /// Counts a request (not a transaction) that started at `ts_ms` (epoch) and took
    /// `elapsed_ms`, in the second it ended in.
    pub fn add_request(&mut self, ts_ms: i64, elapsed_ms: i64, success: bool) {
        let second = (ts_ms + elapsed_ms - self.start_ms).div_euclid(1000);
        if second >= self.next {
            self.seconds
                .entry(second)
                .or_default()
                .add(elapsed_ms, success);
        }
    }

    /// Evaluates the seconds over at `now_ms` (epoch); the rule that stops the run, with what
    /// it measured, if one does.
    pub fn check(&mut self, now_ms: i64) -> Option<String> {
        while now_ms >= self.start_ms + (self.next + 1) * 1000 + LATE_MS {
            let second = self.next;
            self.next += 1;
            let window = self.seconds.remove(&second).unwrap_or_default();
            if let Some(stop) = self.evaluate(second, &window) {
                return Some(stop);
            }
        }
        None
    }

    fn evaluate(&mut self, second: i64, w: &Window) -> Option<String> {
        let mid = Duration::from_millis(second.max(0) as u64 * 1000 + 500);
        let stage = self
            .profile
            .as_ref()
            .and_then(|p| p.stage_at(mid).map(|(i, _)| (i, &p.stages[i].stop_when)));
        let run_rules = self
            .run_rules
            .iter()
            .enumerate()
            .map(|(i, r)| ((None, i), r));
        let stage_rules = stage.into_iter().flat_map(|(s, rules)| {
            rules
                .iter()
                .enumerate()
                .map(move |(i, r)| ((Some(s), i), r))
        });
        let mut active: Vec<RuleKey> = Vec::new();
        let mut fired = None;
        for (key, rule) in run_rules.chain(stage_rules) {
            active.push(key);
            let c = &rule.condition;
            let judged = w.samples > 0 || c.metric == KpiMetric::Tps;
            let measured = w.value(c.metric, 1.0);
            let streak = self.streaks.entry(key).or_default();
            *streak = if judged && c.comparison.holds(measured, c.limit) {
                *streak + 1
            } else {
                0
            };
            if fired.is_none() && *streak >= rule.sustained_secs {
                fired = Some(format!(
                    "stop rule {rule} (measured {measured:.1} in second {})",
                    second + 1
                ));
            }
        }
        // Rules of stages that are over start from zero if their stage comes back.
        self.streaks.retain(|k, _| active.contains(k));
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> StopRule {
        text.parse().unwrap()
    }

    /// Feeds `per_second` (elapsed ms, success) lists, one list per second, and returns the
    /// first stop and the second it was decided after.
    fn watch(
        rules: &[&str],
        profile: Option<LoadProfile>,
        per_second: &[Vec<(i64, bool)>],
    ) -> Option<(String, usize)> {
        let mut w = RuleWatch::new(
            rules.iter().map(|r| rule(r)).collect(),
            profile.map(Arc::new),
            0,
        )
        .expect("rules");
        for (sec, samples) in per_second.iter().enumerate() {
            for (elapsed, ok) in samples {
                w.seconds.entry(sec as i64).or_default().add(*elapsed, *ok);
            }
            if let Some(stop) = w.check((sec as i64 + 1) * 1000 + LATE_MS) {
                return Some((stop, sec + 1));
            }
        }
        None
    }

    #[test]
    fn a_rule_fires_after_its_sustained_seconds_only() {
        let slow = vec![(600, true); 20];
        let fast = vec![(100, true); 20];
        // 2 slow seconds, a fast one (the streak restarts), then 3 slow: fires after second 6.
        let seconds = [
            slow.clone(),
            slow.clone(),
            fast,
            slow.clone(),
            slow.clone(),
            slow,
        ];
        let (why, at) = watch(&["p95>500ms for 3s"], None, &seconds).unwrap();
        assert_eq!(at, 6);
        assert_eq!(
            why,
            "stop rule p95>500ms for 3s (measured 600.0 in second 6)"
        );
        // Empty seconds judge no response-time rule, and fire a TPS floor.
        assert_eq!(watch(&["avg_rt>1ms"], None, &[vec![], vec![]]), None);
        assert_eq!(watch(&["tps<1"], None, &[vec![]]).unwrap().1, 1);
        // 2 of 10 failed: error_rate 20 %.
        let mixed: Vec<(i64, bool)> = (0..10).map(|i| (5, i >= 2)).collect();
        let (why, _) = watch(&["error_rate>=20%"], None, &[mixed]).unwrap();
        assert!(why.contains("measured 20.0"), "{why}");
    }

    #[test]
    fn stage_rules_apply_during_their_stage() {
        let profile = LoadProfile::from_yaml(
            "stages:
  - {mode: concurrency, users: 1, duration: 2s}
  - {mode: concurrency, users: 1, duration: 2s, stop_when: [\"avg_rt>100ms for 2s\"]}
",
            "t",
        )
        .unwrap();
        let slow = vec![(300, true); 5];
        // Slow from the start: the rule only counts from second 3 (the second stage).
        let (_, at) = watch(&[], Some(profile), &vec![slow; 4]).unwrap();
        assert_eq!(at, 4);
    }
}
