//! Load stages: how many virtual users a run keeps busy over time, in the pressure modes of
//! CodeArts PerfTest's `TestCaseStage` — concurrency (ramp to a level and hold), step ramp,
//! surge (浪涌: bursts from a base level to a peak) and oscillation (震荡: up and down between two
//! levels). A stages file (`loadlake run --stages stages.yaml`) lists them in order; the runner
//! asks [`LoadProfile::users_at`] how many users to keep at each moment.
//!
//! A file of `tps` stages is an open-model profile instead: arrival rates, ramped linearly from
//! the previous stage's rate, and an optional `max_vus` per thread group; the runner asks
//! [`LoadProfile::arrival_time`] when each iteration is due (`rate.rs`).
//!
//! ```yaml
//! stages:
//!   - mode: concurrency     # ramp from the previous level (0 at first) to `users`, then hold
//!     users: 20
//!     ramp_up: 10s
//!     duration: 1m          # the whole stage, ramp included (the last stage may instead end
//!                           # after `count: N` iterations, at most `max_duration`)
//!   - mode: step            # start, +step every step_duration, up to max (then one more step)
//!     start: 20
//!     step: 10
//!     step_duration: 30s
//!     max: 60
//!   - mode: surge           # `base` at min, then `burst` at max; `loops` times
//!     min: 10
//!     max: 80
//!     base: 20s
//!     burst: 5s
//!     loops: 3
//!   - mode: oscillation     # min → max → min along a triangle, one `period` each
//!     min: 10
//!     max: 50
//!     period: 20s
//!     duration: 1m
//! ```
//!
//! ```yaml
//! max_vus: 200              # most users per thread group (default: the group's threads)
//! stages:
//!   - mode: tps             # ramp from the previous rate (0 at first) to `tps`, then hold,
//!     tps: 100              # for `duration` or until `count` iterations arrived
//!     ramp_up: 10s
//!     duration: 1m
//!   - mode: surge_tps       # 浪涌 TPS: `base` at min per second, then `burst` at max; `loops`
//!     min: 50
//!     max: 400
//!     base: 20s
//!     burst: 5s
//!     loops: 3
//!   - mode: oscillation_tps # 震荡 TPS: a triangle min → max → min per second, one `period` each
//!     min: 50
//!     max: 200
//!     period: 20s
//!     duration: 1m
//! ```
//!
//! Durations are written `500ms`, `30s`, `5m`, `1h`. Errors name the file, the stage (1-based)
//! and the field.

use std::path::Path;
use std::time::Duration;

use crate::StopRule;

/// A stages file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StagesError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not parse or does not have the stages' shape (the message has the line and
    /// column).
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    /// A stage's values do not make sense together.
    #[error("{path}: stage {stage} ({mode}): {field}: {message}")]
    Invalid {
        path: String,
        /// 1-based.
        stage: usize,
        mode: &'static str,
        field: &'static str,
        message: String,
    },
}

/// How a stage sets the number of users.
#[derive(Debug, Clone, PartialEq)]
pub enum StageShape {
    /// From the previous stage's level to `users` over `ramp_up`, then hold.
    Concurrency {
        from: u32,
        users: u32,
        ramp_up: Duration,
    },
    /// `start`, plus `step` every `step_duration`, at most `max`.
    Step {
        start: u32,
        step: u32,
        step_duration: Duration,
        max: u32,
    },
    /// `base` long at `min`, then `burst` long at `max`, repeated.
    Surge {
        min: u32,
        max: u32,
        base: Duration,
        burst: Duration,
    },
    /// A triangle between `min` and `max`, `period` long.
    Oscillation {
        min: u32,
        max: u32,
        period: Duration,
    },
    /// Open model: iterations arrive at a rate that goes linearly from the previous stage's rate
    /// (`from`) to `tps` per second over `ramp_up`, then holds. Sets no number of users.
    Tps {
        from: f64,
        tps: f64,
        ramp_up: Duration,
    },
    /// Open model, 浪涌 TPS: `base` long at `min` iterations per second, then `burst` long at
    /// `max`, repeated.
    SurgeTps {
        min: f64,
        max: f64,
        base: Duration,
        burst: Duration,
    },
    /// Open model, 震荡 TPS: the rate follows a triangle between `min` and `max`, `period` long.
    OscillationTps {
        min: f64,
        max: f64,
        period: Duration,
    },
}

impl StageShape {
    /// The mode's name, as written in the file.
    pub fn mode(&self) -> &'static str {
        match self {
            StageShape::Concurrency { .. } => "concurrency",
            StageShape::Step { .. } => "step",
            StageShape::Surge { .. } => "surge",
            StageShape::Oscillation { .. } => "oscillation",
            StageShape::Tps { .. } => "tps",
            StageShape::SurgeTps { .. } => "surge_tps",
            StageShape::OscillationTps { .. } => "oscillation_tps",
        }
    }

    /// Users `t` after the stage started; 0 for an arrival-rate stage (users there follow the
    /// iterations due, see [`StageShape::rate_at`]).
    pub fn users_at(&self, t: Duration) -> u32 {
        let lerp = |a: u32, b: u32, f: f64| {
            (f64::from(a) + (f64::from(b) - f64::from(a)) * f.clamp(0.0, 1.0)).round() as u32
        };
        match *self {
            StageShape::Concurrency {
                from,
                users,
                ramp_up,
            } => {
                if t >= ramp_up {
                    users
                } else {
                    lerp(from, users, t.as_secs_f64() / ramp_up.as_secs_f64())
                }
            }
            StageShape::Step {
                start,
                step,
                step_duration,
                max,
            } => {
                let steps = t.as_nanos() / step_duration.as_nanos().max(1);
                let added = u128::from(step) * steps;
                (u128::from(start) + added).min(u128::from(max)) as u32
            }
            StageShape::Surge {
                min,
                max,
                base,
                burst,
            } => {
                let cycle = (base + burst).as_nanos().max(1);
                if t.as_nanos() % cycle < base.as_nanos() {
                    min
                } else {
                    max
                }
            }
            StageShape::Oscillation { min, max, period } => {
                let p = period.as_nanos().max(1);
                let phase = (t.as_nanos() % p) as f64 / p as f64;
                let up = if phase < 0.5 {
                    phase * 2.0
                } else {
                    (1.0 - phase) * 2.0
                };
                lerp(min, max, up)
            }
            StageShape::Tps { .. }
            | StageShape::SurgeTps { .. }
            | StageShape::OscillationTps { .. } => 0,
        }
    }
}

/// One stage of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The stage's name (`stage N` when the file gives none).
    pub name: String,
    pub shape: StageShape,
    /// How long the stage lasts (a stage with a `count`: at most).
    pub length: Duration,
    /// The stage ends once this many iterations began (in all, over every thread group and
    /// agent): CodeArts' count mode (按次数) for a stage of users. Only the last stage has one.
    pub count: Option<u64>,
    /// Live rules that stop the run while this stage runs (`stop_when: ["p95>500ms for 10s"]`).
    pub stop_when: Vec<StopRule>,
}

/// A run's stages, one after another.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadProfile {
    pub stages: Vec<Stage>,
    /// Arrival-rate profiles: most virtual users per thread group (`None`: the group's threads).
    pub max_vus: Option<u32>,
}

impl LoadProfile {
    /// Reads a stages file; returns the profile and the file's text (for a caller that hands
    /// the very stages it checked on, e.g. to agents).
    pub fn read(path: &Path) -> Result<(LoadProfile, String), StagesError> {
        let text = std::fs::read_to_string(path).map_err(|source| StagesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let profile = LoadProfile::from_yaml(&text, &path.display().to_string())?;
        Ok((profile, text))
    }

    /// Reads stages from YAML text; `origin` names the text in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<LoadProfile, StagesError> {
        let spec: FileSpec = serde_saphyr::from_str(text).map_err(|e| StagesError::Syntax {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        if spec.stages.is_empty() {
            return Err(StagesError::Syntax {
                path: origin.to_string(),
                message: "`stages` is empty: list at least one stage".into(),
            });
        }
        let mut stages: Vec<Stage> = Vec::with_capacity(spec.stages.len());
        let invalid = |stage: usize, (mode, field, message): FieldError| StagesError::Invalid {
            path: origin.to_string(),
            stage,
            mode,
            field,
            message,
        };
        for (i, s) in spec.stages.into_iter().enumerate() {
            let end = |stage: &Stage| stage.length.saturating_sub(Duration::from_nanos(1));
            let level = stages.last().map_or(0, |p| p.shape.users_at(end(p)));
            let rate = stages
                .last()
                .and_then(|p| p.shape.rate_at(end(p)))
                .unwrap_or(0.0);
            let stage = compile_stage(s, i + 1, level, rate).map_err(|e| invalid(i + 1, e))?;
            if let Some(first) = stages.first()
                && first.shape.is_arrival_rate() != stage.shape.is_arrival_rate()
            {
                return Err(invalid(
                    i + 1,
                    (
                        stage.shape.mode(),
                        "mode",
                        format!(
                            "stage 1 is {}, this one {}: a stages file holds either arrival \
                             rates (tps) or users (the other modes), not both",
                            first.shape.mode(),
                            stage.shape.mode()
                        ),
                    ),
                ));
            }
            stages.push(stage);
        }
        let before_last = stages.split_last().map_or(&[][..], |(_, before)| before);
        if let Some(i) = before_last.iter().position(|s| s.count.is_some()) {
            return Err(invalid(
                i + 1,
                (
                    stages[i].shape.mode(),
                    "count",
                    "only the last stage can end after a count of iterations (when it ends \
                     cannot be known ahead, so no stage can follow it)"
                        .into(),
                ),
            ));
        }
        let arrival_rate = stages.iter().any(|s| s.shape.is_arrival_rate());
        if spec.max_vus.is_some() && !arrival_rate {
            return Err(StagesError::Syntax {
                path: origin.to_string(),
                message: "`max_vus` is for arrival-rate (tps) stages; the other modes set the \
                          users themselves"
                    .into(),
            });
        }
        if spec.max_vus == Some(0) {
            return Err(StagesError::Syntax {
                path: origin.to_string(),
                message: "`max_vus` must be at least 1".into(),
            });
        }
        Ok(LoadProfile {
            stages,
            max_vus: spec.max_vus,
        })
    }

    /// A step ramp (the peak-seeking modes): `start` users, `step` more every `step_duration`,
    /// up to `max`, the last level held for one step.
    pub fn step_ramp(
        start: u32,
        step: u32,
        step_duration: Duration,
        max: u32,
    ) -> Result<LoadProfile, String> {
        let shape = StageShape::Step {
            start,
            step,
            step_duration,
            max,
        };
        check_step(start, step, step_duration, max).map_err(|(f, m)| format!("{f}: {m}"))?;
        Ok(LoadProfile {
            stages: vec![Stage {
                count: None,
                stop_when: Vec::new(),
                name: "peak-seeking".into(),
                length: step_length(start, step, step_duration, max),
                shape,
            }],
            max_vus: None,
        })
    }

    /// The whole profile's length.
    pub fn length(&self) -> Duration {
        self.stages.iter().map(|s| s.length).sum()
    }

    /// The stage running `t` after the start and the time since it began; `None` after the end.
    pub fn stage_at(&self, t: Duration) -> Option<(usize, Duration)> {
        let mut begin = Duration::ZERO;
        for (i, s) in self.stages.iter().enumerate() {
            if t < begin + s.length {
                return Some((i, t - begin));
            }
            begin += s.length;
        }
        None
    }

    /// The stage running `t` after the start, as live status shows it:
    /// `name (mode, N users)` or `name (tps, R/s)`; `None` once every stage is over.
    pub fn describe_at(&self, t: Duration) -> Option<String> {
        let (i, since) = self.stage_at(t)?;
        let stage = &self.stages[i];
        let load = match stage.shape.rate_at(since) {
            Some(rate) => format!("{rate:.1}/s"),
            None => format!("{} users", stage.shape.users_at(since)),
        };
        Some(format!("{} ({}, {load})", stage.name, stage.shape.mode()))
    }

    /// Users `t` after the start; `None` once every stage is over.
    pub fn users_at(&self, t: Duration) -> Option<u32> {
        self.stage_at(t)
            .map(|(i, since)| self.stages[i].shape.users_at(since))
    }

    /// The most users any stage asks for.
    pub fn max_users(&self) -> u32 {
        self.stages
            .iter()
            .map(|s| match s.shape {
                StageShape::Concurrency { from, users, .. } => from.max(users),
                StageShape::Step { max, .. }
                | StageShape::Surge { max, .. }
                | StageShape::Oscillation { max, .. } => max,
                StageShape::Tps { .. }
                | StageShape::SurgeTps { .. }
                | StageShape::OscillationTps { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }
}

/// How long a stage with a `count` may last when it gives no `max_duration`.
pub const COUNT_STAGE_CAP: Duration = Duration::from_secs(3600);

mod spec;

pub(crate) use spec::FieldError;
use spec::{FileSpec, check_step, compile_stage, step_length};

#[cfg(test)]
mod tests;
