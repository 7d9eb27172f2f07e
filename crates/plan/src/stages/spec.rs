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

/// Compiles one stage; `level` and `rate` are where the previous stage ended (users, arrivals
/// per second), the start of a ramp.
pub(super) fn compile_stage(
    s: StageSpec,
    index: usize,
    level: u32,
    rate: f64,
) -> Result<Stage, FieldError> {
    // A stage of `shape` lasting `length`, named as written or `stage N`.
    let stage = |mode: &'static str,
                 stop_when: &[String],
                 name: Option<String>,
                 shape: StageShape,
                 length: Duration|
     -> Result<Stage, FieldError> {
        Ok(Stage {
            name: name.unwrap_or_else(|| format!("stage {index}")),
            shape,
            length,
            count: None,
            stop_when: stop_rules(mode, stop_when)?,
        })
    };
    let min_max = |mode, min: u32, max: u32| {
        if max < min || max == 0 {
            Err((
                mode,
                "max",
                format!("must be ≥ min ({min}) and ≥ 1, not {max}"),
            ))
        } else {
            Ok(())
        }
    };
    Ok(match s {
        StageSpec::Concurrency {
            name: n,
            stop_when,
            users,
            ramp_up,
            duration,
            count,
            max_duration,
        } => {
            const M: &str = "concurrency";
            let length = match (duration, count, max_duration) {
                (Some(d), None, None) => duration_field(M, "duration", &d)?,
                (None, Some(0), _) => return Err((M, "count", "must be at least 1".into())),
                (None, Some(_), cap) => match cap {
                    Some(t) => duration_field(M, "max_duration", &t)?,
                    None => COUNT_STAGE_CAP,
                },
                (Some(_), _, Some(_)) => {
                    return Err((
                        M,
                        "max_duration",
                        "caps a stage with a `count`; this one has a `duration`".into(),
                    ));
                }
                _ => return Err(duration_or_count(M)),
            };
            let ramp_up = ramp_up_field(M, ramp_up.as_ref())?;
            check_ramp_fits(M, ramp_up, length)?;
            let shape = StageShape::Concurrency {
                from: level,
                users,
                ramp_up,
            };
            Stage {
                count,
                ..stage(M, &stop_when, n, shape, length)?
            }
        }
        StageSpec::Step {
            name: n,
            stop_when,
            start,
            step,
            step_duration,
            max,
            duration,
        } => {
            const M: &str = "step";
            let step_duration = duration_field(M, "step_duration", &step_duration)?;
            check_step(start, step, step_duration, max).map_err(|(f, m)| (M, f, m))?;
            let length = match duration {
                Some(t) => duration_field(M, "duration", &t)?,
                None => step_length(start, step, step_duration, max),
            };
            stage(
                M,
                &stop_when,
                n,
                StageShape::Step {
                    start,
                    step,
                    step_duration,
                    max,
                },
                length,
            )?
        }
        StageSpec::Surge {
            name: n,
            stop_when,
            min,
            max,
            base,
            burst,
            loops,
            max_duration,
        } => {
            const M: &str = "surge";
            min_max(M, min, max)?;
            let base = duration_field(M, "base", &base)?;
            let burst = duration_field(M, "burst", &burst)?;
            let length = surge_length(M, base, burst, loops, max_duration.as_ref())?;
            stage(
                M,
                &stop_when,
                n,
                StageShape::Surge {
                    min,
                    max,
                    base,
                    burst,
                },
                length,
            )?
        }
        StageSpec::Oscillation {
            name: n,
            stop_when,
            min,
            max,
            period,
            duration,
        } => {
            const M: &str = "oscillation";
            min_max(M, min, max)?;
            stage(
                M,
                &stop_when,
                n,
                StageShape::Oscillation {
                    min,
                    max,
                    period: duration_field(M, "period", &period)?,
                },
                duration_field(M, "duration", &duration)?,
            )?
        }
        StageSpec::Tps {
            name: n,
            stop_when,
            tps,
            ramp_up,
            duration,
            count,
        } => {
            const M: &str = "tps";
            check_rate(M, "tps", tps)?;
            let ramp_up = ramp_up_field(M, ramp_up.as_ref())?;
            let shape = StageShape::Tps {
                from: rate,
                tps,
                ramp_up,
            };
            let length = match (duration, count) {
                (Some(d), None) => duration_field(M, "duration", &d)?,
                (None, Some(count)) => shape
                    .time_of_count(count)
                    .map_err(|why| (M, "count", why))?,
                _ => return Err(duration_or_count(M)),
            };
            check_ramp_fits(M, ramp_up, length)?;
            stage(M, &stop_when, n, shape, length)?
        }
        StageSpec::SurgeTps {
            name: n,
            stop_when,
            min,
            max,
            base,
            burst,
            loops,
            max_duration,
        } => {
            const M: &str = "surge_tps";
            check_rate_range(M, min, max)?;
            let base = duration_field(M, "base", &base)?;
            let burst = duration_field(M, "burst", &burst)?;
            stage(
                M,
                &stop_when,
                n,
                StageShape::SurgeTps {
                    min,
                    max,
                    base,
                    burst,
                },
                surge_length(M, base, burst, loops, max_duration.as_ref())?,
            )?
        }
        StageSpec::OscillationTps {
            name: n,
            stop_when,
            min,
            max,
            period,
            duration,
        } => {
            const M: &str = "oscillation_tps";
            check_rate_range(M, min, max)?;
            stage(
                M,
                &stop_when,
                n,
                StageShape::OscillationTps {
                    min,
                    max,
                    period: duration_field(M, "period", &period)?,
                },
                duration_field(M, "duration", &duration)?,
            )?
        }
    })
}
