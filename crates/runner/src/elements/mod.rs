//! The test elements a virtual user applies around each sample, one module per kind, each following
//! its JMeter class: assertions, extractors (post-processors), throughput timers and CSV Data Sets,
//! with the [`response::Response`] view that assertions and extractors read and the JSONPath
//! dialect they share ([`jsonpath`]). They are compiled in [`crate::compile`](mod@crate::compile)
//! and called from [`crate::vu`]; they depend on nothing of the runner but [`crate::text`] and
//! [`crate::error`].

pub(crate) mod assertions;
pub(crate) mod counter;
pub(crate) mod csv_data_set;
pub(crate) mod embedded;
pub(crate) mod extractors;
pub(crate) mod jsonpath;
pub(crate) mod regex_user_parameters;
pub(crate) mod response;
pub(crate) mod scripts;
pub(crate) mod shaping_timer;
pub(crate) mod system_command;
pub(crate) mod throughput_timers;
pub(crate) mod user_parameters;
