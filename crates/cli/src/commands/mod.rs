//! One module per command (or pair of commands), each entry point named for what the command
//! does. They build on the shared layer only (`args`, `run_ref`, `output`, `render`, `exit`);
//! the one edge between commands is `run --agents` handing its plan to a controller (`agent`),
//! and `quickstart`, which imports and reports.

pub mod agent;
pub mod cases;
pub mod compare;
pub mod curve;
pub mod import;
pub mod quickstart;
pub mod report;
pub mod run;
pub mod runs;
pub mod serve;
pub mod sql;
pub mod status;
pub mod trend;
