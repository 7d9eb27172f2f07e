//! One module per command (or pair of commands), each entry point named for what the command
//! does. They build on the shared layer only (`args`, `run_ref`, `output`, `render`, `exit`);
//! the one edge between commands is `run --agents` handing its plan to a controller (`agent`),
//! and `quickstart`, which imports and reports.

pub(crate) mod agent;
pub(crate) mod cases;
pub(crate) mod compare;
pub(crate) mod curve;
pub(crate) mod delete;
pub(crate) mod import;
pub(crate) mod quickstart;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod runs;
pub(crate) mod serve;
pub(crate) mod sql;
pub(crate) mod status;
pub(crate) mod trend;
