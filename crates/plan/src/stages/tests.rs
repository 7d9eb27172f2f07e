//! Stage curves at hand-computed instants, and the errors of bad stages files.

use super::*;

fn s(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

#[test]
fn every_mode_follows_its_curve() {
    let yaml = "stages:
  - mode: concurrency
    users: 10
    ramp_up: 10s
    duration: 15s
  - mode: step
    start: 10
    step: 5
    step_duration: 2s
    max: 22
  - mode: surge
    min: 4
    max: 40
    base: 3s
    burst: 1s
    loops: 2
  - mode: oscillation
    min: 0
    max: 8
    period: 4s
    duration: 8s
";
    let p = LoadProfile::from_yaml(yaml, "t.yaml").unwrap();
    // Concurrency: 0 → 10 over 10 s (one user per second), then 10 until 15 s.
    let at = |t| p.users_at(s(t)).unwrap();
    assert_eq!(
        [at(0.0), at(2.0), at(5.0), at(9.9), at(12.0)],
        [0, 2, 5, 10, 10]
    );
    // Step from 15 s: 10, 15, 20, 22 (capped), each 2 s: 4 levels = 8 s.
    assert_eq!(p.stages[1].length, s(8.0));
    assert_eq!(
        [at(15.0), at(17.5), at(19.0), at(21.0), at(22.9)],
        [10, 15, 20, 22, 22]
    );
    // Surge from 23 s: 3 s at 4, 1 s at 40, twice = 8 s.
    assert_eq!(p.stages[2].length, s(8.0));
    assert_eq!(
        [at(23.0), at(25.9), at(26.0), at(26.9), at(27.0), at(30.5)],
        [4, 4, 40, 40, 4, 40]
    );
    // Oscillation from 31 s: 0 → 8 in 2 s, back to 0 in 2 s.
    assert_eq!(
        [at(31.0), at(32.0), at(33.0), at(34.0), at(35.0), at(37.5)],
        [0, 4, 8, 4, 0, 6]
    );
    assert_eq!(p.length(), s(39.0));
    assert_eq!(p.users_at(s(39.0)), None);
    assert_eq!(
        p.describe_at(s(24.5)).as_deref(),
        Some("stage 3 (surge, 4 users)")
    );
    assert_eq!(p.describe_at(s(39.0)), None);
    assert_eq!(p.max_users(), 40);
}

#[test]
fn a_ramp_starts_from_the_previous_stage_level() {
    let yaml = "stages:
  - {mode: concurrency, users: 30, duration: 5s}
  - {mode: concurrency, users: 10, ramp_up: 4s, duration: 6s, name: down}
";
    let p = LoadProfile::from_yaml(yaml, "t.yaml").unwrap();
    assert_eq!(p.stages[1].name, "down");
    assert!(p.stages[0].stop_when.is_empty());
    assert_eq!(p.users_at(s(5.0)), Some(30));
    assert_eq!(p.users_at(s(7.0)), Some(20));
    assert_eq!(p.users_at(s(9.5)), Some(10));
    assert_eq!(p.stages[0].name, "stage 1");
}

#[test]
fn bad_stages_name_the_stage_and_field() {
    let err = |yaml: &str| {
        LoadProfile::from_yaml(yaml, "s.yaml")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("stages:\n  - {mode: surge, min: 10, max: 5, base: 1s, burst: 1s}\n"),
        "s.yaml: stage 1 (surge): max: must be ≥ min (10) and ≥ 1, not 5"
    );
    assert_eq!(
        err(
            "stages:\n  - {mode: concurrency, users: 1, duration: 1s}\n  - {mode: step, start: 1, step: 1, step_duration: 10x, max: 3}\n"
        ),
        "s.yaml: stage 2 (step): step_duration: '10x': unknown unit 'x' (ms, s, m, h, d, w)"
    );
    assert_eq!(
        err("stages:\n  - {mode: concurrency, users: 1, ramp_up: 5s, duration: 2s}\n"),
        "s.yaml: stage 1 (concurrency): ramp_up: is longer than the stage's duration"
    );
    let unknown = err("stages:\n  - mode: concurrency\n    users: 1\n    duraton: 2s\n");
    assert!(unknown.starts_with("s.yaml: "), "{unknown}");
    assert!(
        unknown.contains("line 2 column 5: unknown field `duraton`"),
        "{unknown}"
    );
    let mode = err("stages:\n  - mode: zigzag\n");
    assert!(mode.contains("unknown variant `zigzag`"), "{mode}");
    assert!(err("stages: []\n").contains("`stages` is empty"));
    assert_eq!(
        err(
            "stages:\n  - {mode: concurrency, users: 1, duration: 2s, stop_when: [\"p95>1s for x\"]}\n"
        ),
        "s.yaml: stage 1 (concurrency): stop_when: stop rule 'p95>1s for x': 'x' is not a duration like 500ms, 1s, 1m"
    );
    assert_eq!(
        err(
            "stages:\n  - {mode: tps, tps: 5, duration: 2s}\n  - {mode: concurrency, users: 1, duration: 1s}\n"
        ),
        "s.yaml: stage 2 (concurrency): mode: stage 1 is tps, this one concurrency: a stages \
             file holds either arrival rates (tps) or users (the other modes), not both"
    );
    assert_eq!(
        err("stages:\n  - {mode: tps, tps: -1, duration: 2s}\n"),
        "s.yaml: stage 1 (tps): tps: must be a rate ≥ 0 per second, not -1"
    );
    assert!(
        err("max_vus: 3\nstages:\n  - {mode: concurrency, users: 1, duration: 1s}\n")
            .contains("`max_vus` is for arrival-rate (tps) stages")
    );
}

#[test]
fn the_last_stage_of_users_can_end_after_a_count_of_iterations() {
    let p = LoadProfile::from_yaml(
        "stages:
  - {mode: concurrency, users: 2, duration: 5s}
  - {mode: concurrency, users: 4, ramp_up: 2s, count: 300, max_duration: 1m}
",
        "t.yaml",
    )
    .unwrap();
    assert_eq!(p.stages[0].count, None);
    assert_eq!(p.stages[1].count, Some(300));
    // A count stage lasts at most its max_duration (1 h when it gives none).
    assert_eq!(p.stages[1].length, Duration::from_secs(60));
    let uncapped = LoadProfile::from_yaml(
        "stages:\n  - {mode: concurrency, users: 1, count: 5}\n",
        "t",
    )
    .unwrap();
    assert_eq!(uncapped.stages[0].length, COUNT_STAGE_CAP);
    // Its users follow the curve as any stage's: 2 → 4 over 2 s.
    assert_eq!(p.users_at(s(6.0)), Some(3));

    let err = |yaml: &str| {
        LoadProfile::from_yaml(yaml, "s.yaml")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(
            "stages:\n  - {mode: concurrency, users: 1, count: 5}\n  - {mode: concurrency, users: 1, duration: 1s}\n"
        ),
        "s.yaml: stage 1 (concurrency): count: only the last stage can end after a count of \
         iterations (when it ends cannot be known ahead, so no stage can follow it)"
    );
    assert_eq!(
        err("stages:\n  - {mode: concurrency, users: 1, duration: 1s, count: 5}\n"),
        "s.yaml: stage 1 (concurrency): duration: give the stage a `duration` or a `count` of \
         iterations (one of them)"
    );
    assert_eq!(
        err("stages:\n  - {mode: concurrency, users: 1, duration: 1s, max_duration: 5s}\n"),
        "s.yaml: stage 1 (concurrency): max_duration: caps a stage with a `count`; this one has \
         a `duration`"
    );
    assert_eq!(
        err("stages:\n  - {mode: concurrency, users: 1, count: 0}\n"),
        "s.yaml: stage 1 (concurrency): count: must be at least 1"
    );
}
