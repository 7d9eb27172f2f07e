//! Judging a running test by its KPIs: samples counted into [`window::Window`]s (exact percentiles,
//! TPS, error rate), held against live stop rules ([`rules`], one-second windows) and peak-seeking
//! steps ([`peak`], one window per step). The collector in [`crate::run`](mod@crate::run) feeds
//! them every [`crate::sample::Sample`]; they depend on nothing else of the runner.

pub(crate) mod peak;
pub(crate) mod rules;
pub(crate) mod window;
