//! The stages file as written (YAML, serde) and its checks: each stage becomes a [`Stage`], or
//! an error naming the stage's mode, the field and what is wrong.

use std::time::Duration;

use serde::Deserialize;

use super::{COUNT_STAGE_CAP, Stage, StageShape};
use crate::StopRule;
use crate::duration::parse_duration;
use crate::rate::{check_rate, check_rate_range};

/// A duration as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub(super) struct Text(String);

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSpec {
    pub max_vus: Option<u32>,
    pub stages: Vec<StageSpec>,
}

/// One stage as written.
#[derive(Debug, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum StageSpec {
    Concurrency {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        users: u32,
        ramp_up: Option<Text>,
        /// The stage lasts this long, or until `count` iterations began (at most
        /// `max_duration`): one of the two.
        duration: Option<Text>,
        count: Option<u64>,
        max_duration: Option<Text>,
    },
    Step {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        start: u32,
        step: u32,
        step_duration: Text,
        max: u32,
        duration: Option<Text>,
    },
    Surge {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        min: u32,
        max: u32,
        base: Text,
        burst: Text,
        loops: Option<u32>,
        max_duration: Option<Text>,
    },
    Oscillation {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        min: u32,
        max: u32,
        period: Text,
        duration: Text,
    },
    Tps {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        tps: f64,
        ramp_up: Option<Text>,
        /// The stage lasts this long, or until `count` iterations arrived: one of the two.
        duration: Option<Text>,
        count: Option<u64>,
    },
    SurgeTps {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        min: f64,
        max: f64,
        base: Text,
        burst: Text,
        loops: Option<u32>,
        max_duration: Option<Text>,
    },
    OscillationTps {
        name: Option<String>,
        #[serde(default)]
        stop_when: Vec<String>,
        min: f64,
        max: f64,
        period: Text,
        duration: Text,
    },
}

/// A problem with one field: (mode, field, message).
pub(crate) type FieldError = (&'static str, &'static str, String);

fn duration_field(
    mode: &'static str,
    field: &'static str,
    text: &Text,
) -> Result<Duration, FieldError> {
    parse_duration(&text.0).map_err(|m| (mode, field, m))
}

pub(super) fn check_step(
    start: u32,
    step: u32,
    step_duration: Duration,
    max: u32,
) -> Result<(), (&'static str, String)> {
    if step == 0 {
        return Err(("step", "must be at least 1".into()));
    }
    if max < start.max(1) {
        return Err((
            "max",
            format!("must be ≥ start ({start}) and ≥ 1, not {max}"),
        ));
    }
    if step_duration.is_zero() {
        return Err(("step_duration", "must be positive".into()));
    }
    Ok(())
}

/// A step ramp's natural length: every level up to `max` held `step_duration`.
pub(super) fn step_length(start: u32, step: u32, step_duration: Duration, max: u32) -> Duration {
    let levels = (max - start).div_ceil(step) + 1;
    step_duration * levels
}

/// A surge's length: `loops` (default 1) cycles of `base` + `burst`, at most `max_duration`.
fn surge_length(
    mode: &'static str,
    base: Duration,
    burst: Duration,
    loops: Option<u32>,
    max_duration: Option<&Text>,
) -> Result<Duration, FieldError> {
    let loops = loops.unwrap_or(1);
    if loops == 0 {
        return Err((mode, "loops", "must be at least 1".into()));
    }
    let length = (base + burst) * loops;
    Ok(match max_duration {
        Some(t) => length.min(duration_field(mode, "max_duration", t)?),
        None => length,
    })
}

/// A stage's `ramp_up` (none: 0).
fn ramp_up_field(mode: &'static str, ramp_up: Option<&Text>) -> Result<Duration, FieldError> {
    match ramp_up {
        Some(t) => duration_field(mode, "ramp_up", t),
        None => Ok(Duration::ZERO),
    }
}

/// The ramp must fit in the stage.
fn check_ramp_fits(
    mode: &'static str,
    ramp_up: Duration,
    length: Duration,
) -> Result<(), FieldError> {
    if ramp_up > length {
        return Err((
            mode,
            "ramp_up",
            "is longer than the stage's duration".into(),
        ));
    }
    Ok(())
}

/// A stage given neither or both of `duration` and `count`.
fn duration_or_count(mode: &'static str) -> FieldError {
    (
        mode,
        "duration",
        "give the stage a `duration` or a `count` of iterations (one of them)".into(),
    )
}

fn stop_rules(mode: &'static str, texts: &[String]) -> Result<Vec<StopRule>, FieldError> {
    texts
        .iter()
        .map(|t| t.parse().map_err(|m| (mode, "stop_when", m)))
        .collect()
}

/// What a stage's mode-specific fields compile to.
struct Shaped {
    shape: StageShape,
    length: Duration,
    /// Iterations that end the stage (concurrency stages only).
    count: Option<u64>,
}

impl Shaped {
    fn new(shape: StageShape, length: Duration) -> Shaped {
        Shaped {
            shape,
            length,
            count: None,
        }
    }
}

/// Compiles one stage; `level` and `rate` are where the previous stage ended (users, arrivals
/// per second), the start of a ramp.
pub(super) fn compile_stage(
    s: StageSpec,
    index: usize,
    level: u32,
    rate: f64,
) -> Result<Stage, FieldError> {
    let Shaped {
        shape,
        length,
        count,
    } = s.shaped(level, rate)?;
    let (mode, name, stop_when) = s.header();
    Ok(Stage {
        name: name.map_or_else(|| format!("stage {index}"), str::to_string),
        shape,
        length,
        count,
        stop_when: stop_rules(mode, stop_when)?,
    })
}

impl StageSpec {
    /// The stage's mode, and its name and stop rules as written.
    fn header(&self) -> (&'static str, Option<&str>, &[String]) {
        let (mode, name, stop_when) = match self {
            Self::Concurrency {
                name, stop_when, ..
            } => ("concurrency", name, stop_when),
            Self::Step {
                name, stop_when, ..
            } => ("step", name, stop_when),
            Self::Surge {
                name, stop_when, ..
            } => ("surge", name, stop_when),
            Self::Oscillation {
                name, stop_when, ..
            } => ("oscillation", name, stop_when),
            Self::Tps {
                name, stop_when, ..
            } => ("tps", name, stop_when),
            Self::SurgeTps {
                name, stop_when, ..
            } => ("surge_tps", name, stop_when),
            Self::OscillationTps {
                name, stop_when, ..
            } => ("oscillation_tps", name, stop_when),
        };
        (mode, name.as_deref(), stop_when)
    }

    /// The shape and length of the stage, its fields checked.
    fn shaped(&self, level: u32, rate: f64) -> Result<Shaped, FieldError> {
        let (mode, _, _) = self.header();
        Ok(match self {
            Self::Concurrency {
                users,
                ramp_up,
                duration,
                count,
                max_duration,
                ..
            } => {
                let length =
                    count_or_duration(mode, duration.as_ref(), *count, max_duration.as_ref())?;
                let ramp_up = ramp_up_field(mode, ramp_up.as_ref())?;
                check_ramp_fits(mode, ramp_up, length)?;
                let shape = StageShape::Concurrency {
                    from: level,
                    users: *users,
                    ramp_up,
                };
                Shaped {
                    count: *count,
                    ..Shaped::new(shape, length)
                }
            }
            &Self::Step {
                start,
                step,
                ref step_duration,
                max,
                ref duration,
                ..
            } => {
                let step_duration = duration_field(mode, "step_duration", step_duration)?;
                check_step(start, step, step_duration, max).map_err(|(f, m)| (mode, f, m))?;
                let length = match duration {
                    Some(t) => duration_field(mode, "duration", t)?,
                    None => step_length(start, step, step_duration, max),
                };
                let shape = StageShape::Step {
                    start,
                    step,
                    step_duration,
                    max,
                };
                Shaped::new(shape, length)
            }
            &Self::Surge {
                min,
                max,
                ref base,
                ref burst,
                loops,
                ref max_duration,
                ..
            } => {
                check_min_max(mode, min, max)?;
                let (base, burst, length) =
                    surge_times(mode, base, burst, loops, max_duration.as_ref())?;
                let shape = StageShape::Surge {
                    min,
                    max,
                    base,
                    burst,
                };
                Shaped::new(shape, length)
            }
            &Self::Oscillation {
                min,
                max,
                ref period,
                ref duration,
                ..
            } => {
                check_min_max(mode, min, max)?;
                let period = duration_field(mode, "period", period)?;
                let shape = StageShape::Oscillation { min, max, period };
                Shaped::new(shape, duration_field(mode, "duration", duration)?)
            }
            &Self::Tps {
                tps,
                ref ramp_up,
                ref duration,
                count,
                ..
            } => {
                check_rate(mode, "tps", tps)?;
                let ramp_up = ramp_up_field(mode, ramp_up.as_ref())?;
                let shape = StageShape::Tps {
                    from: rate,
                    tps,
                    ramp_up,
                };
                let length = match (duration, count) {
                    (Some(d), None) => duration_field(mode, "duration", d)?,
                    (None, Some(count)) => shape
                        .time_of_count(count)
                        .map_err(|why| (mode, "count", why))?,
                    _ => return Err(duration_or_count(mode)),
                };
                check_ramp_fits(mode, ramp_up, length)?;
                Shaped::new(shape, length)
            }
            &Self::SurgeTps {
                min,
                max,
                ref base,
                ref burst,
                loops,
                ref max_duration,
                ..
            } => {
                check_rate_range(mode, min, max)?;
                let (base, burst, length) =
                    surge_times(mode, base, burst, loops, max_duration.as_ref())?;
                let shape = StageShape::SurgeTps {
                    min,
                    max,
                    base,
                    burst,
                };
                Shaped::new(shape, length)
            }
            &Self::OscillationTps {
                min,
                max,
                ref period,
                ref duration,
                ..
            } => {
                check_rate_range(mode, min, max)?;
                let period = duration_field(mode, "period", period)?;
                let shape = StageShape::OscillationTps { min, max, period };
                Shaped::new(shape, duration_field(mode, "duration", duration)?)
            }
        })
    }
}

/// A concurrency stage's length: its `duration`, or for a `count` of iterations its
/// `max_duration` (default [`COUNT_STAGE_CAP`]).
fn count_or_duration(
    mode: &'static str,
    duration: Option<&Text>,
    count: Option<u64>,
    max_duration: Option<&Text>,
) -> Result<Duration, FieldError> {
    match (duration, count, max_duration) {
        (Some(d), None, None) => duration_field(mode, "duration", d),
        (None, Some(0), _) => Err((mode, "count", "must be at least 1".into())),
        (None, Some(_), Some(t)) => duration_field(mode, "max_duration", t),
        (None, Some(_), None) => Ok(COUNT_STAGE_CAP),
        (Some(_), _, Some(_)) => Err((
            mode,
            "max_duration",
            "caps a stage with a `count`; this one has a `duration`".into(),
        )),
        _ => Err(duration_or_count(mode)),
    }
}

/// A surge's `base` and `burst`, and its length ([`surge_length`]).
fn surge_times(
    mode: &'static str,
    base: &Text,
    burst: &Text,
    loops: Option<u32>,
    max_duration: Option<&Text>,
) -> Result<(Duration, Duration, Duration), FieldError> {
    let base = duration_field(mode, "base", base)?;
    let burst = duration_field(mode, "burst", burst)?;
    let length = surge_length(mode, base, burst, loops, max_duration)?;
    Ok((base, burst, length))
}

/// A users range: `max` ≥ `min` and ≥ 1.
fn check_min_max(mode: &'static str, min: u32, max: u32) -> Result<(), FieldError> {
    if max < min || max == 0 {
        return Err((
            mode,
            "max",
            format!("must be ≥ min ({min}) and ≥ 1, not {max}"),
        ));
    }
    Ok(())
}
